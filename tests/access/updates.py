"""Access table: progress updates."""

from __future__ import annotations

from tests.access.indicators import commitment
from tests.access.rules import Route, only

MEMBERS = ["editor", "lead"]

ACCESS = {
    ("commitments.new_update", "GET"): Route(
        lambda w: f"/commitments/{commitment(w).id}/updates/new", only(MEMBERS)),
    ("commitments.new_update", "POST"): Route(
        lambda w: f"/commitments/{commitment(w).id}/updates/new", only(MEMBERS, ok=400)),
}
