"""Access table: the spreadsheet round trip (downloads and the upload)."""

from __future__ import annotations

from tests.access.rules import Route, only

MEMBERS = ["editor", "lead"]
# The organisation's members and its site's coordinators (admins everywhere) download;
# only members upload. Everyone else signed in sees the organisation, so gets 403.
EXPORTERS = ["editor", "lead", "coordinator", "admin"]

ACCESS = {
    ("commitments.export_xlsx", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/commitments.xlsx", only(EXPORTERS)),
    ("commitments.export_csv", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/commitments.csv", only(EXPORTERS)),
    ("commitments.export_measurements_csv", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/measurements.csv", only(EXPORTERS)),
    ("commitments.import_commitments", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/commitments/import", only(MEMBERS)),
    # Without a file the form is shown again with its message (400).
    ("commitments.import_commitments", "POST"): Route(
        lambda w: f"/organisations/{w.org.slug}/commitments/import", only(MEMBERS, ok=400)),
}
