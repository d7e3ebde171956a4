"""Who may reach the public dashboards (blueprint `dashboards`, public views): everyone,
signed in or not. The site's own page (sites.site) is in tests/access/sites.py."""

from __future__ import annotations

from tests.access.rules import Route, everyone

ACCESS = {
    ("dashboards.global_view", "GET"): Route(lambda w: "/global", everyone(200)),
    ("dashboards.global_pdf", "GET"): Route(lambda w: "/global.pdf", everyone(200)),
    ("dashboards.site_pdf", "GET"): Route(lambda w: f"/sites/{w.site.slug}/overview.pdf", everyone(200)),
}
