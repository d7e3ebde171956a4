"""Access table: the site coordinator dashboard, the lists behind its numbers and the exports."""

from __future__ import annotations

from tests.access.rules import Route, only

SITE_MANAGERS = ["coordinator", "admin"]

ACCESS = {
    ("dashboards.coordinator", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/dashboard", only(SITE_MANAGERS)),
    ("dashboards.coordinator_organisations", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/dashboard/organisations?step=approved",
        only(SITE_MANAGERS)),
    ("dashboards.coordinator_commitments", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/dashboard/commitments?lead_sector=statutory",
        only(SITE_MANAGERS)),
    ("dashboards.export_page", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/export", only(SITE_MANAGERS)),
    ("dashboards.export", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/export/organisations.csv", only(SITE_MANAGERS)),
    ("dashboards.export_all", "GET"): Route(
        lambda w: "/manage/export/commitments.xlsx", only(["admin"])),
}
