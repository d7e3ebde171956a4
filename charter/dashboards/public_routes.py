"""Dashboards: public views. PROMISE Global (/global) and the printable PDFs of it and of a
site's view (the site's page itself is sites.site, which shows the same figures).

Public data only, no sign-in; the figures come from charter.dashboards.metrics as plain
values, so a page and its PDF show the same numbers and the same charts. The PDFs are kept in
the document cache (charter/documents.py), built by the task queue and rebuilt when the
records or the date change."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import render_template
from sqlalchemy import select

from charter import documents
from charter.dashboards import bp, metrics, rollups
from charter.extensions import db
from charter.lookups import site_or_404
from charter.models import Site
from charter.models.base import utcnow
from charter.pdf import render_pdf
from charter.reports.status import site_today


@bp.route("/global")
def global_view():
    return render_template("dashboards/public/global.html", v=metrics.global_view())


def _days(now: datetime) -> list:
    """The dates the views depend on: today in UTC (the "generated on" date) and at each site
    (which cycles are past due there, which quarters the indicators show)."""
    sites = db.session.execute(select(Site.id, Site.timezone).order_by(Site.id))
    return [now.astimezone(UTC).date(), *[(s.id, site_today(s, now)) for s in sites]]


@documents.kind("global.pdf")
def _global_pdf() -> documents.Spec:
    now = utcnow()

    def build() -> documents.Built:
        view = metrics.global_view(now)
        return documents.Built(render_pdf("global_view.html", v=view),
                               f"promise-global-{view['generated_on'].isoformat()}.pdf")

    return documents.Spec("global.pdf", documents.fingerprint(documents.data_version(),
                                                               rollups.version(), _days(now)),
                          build, "application/pdf")


@bp.route("/global.pdf")
@documents.rate_limited
def global_pdf():
    return documents.serve_from_task("global.pdf")  # built by the task queue


@documents.kind("site-overview.pdf")
def _site_pdf(slug: str) -> documents.Spec:
    site = site_or_404(slug)
    now = utcnow()

    def build() -> documents.Built:
        view = metrics.site_view(site, now=now)
        return documents.Built(render_pdf("site_view.html", v=view),
                               f"{view['site']['slug']}-overview-{view['generated_on'].isoformat()}.pdf")

    print_ = documents.fingerprint(documents.data_version(), rollups.version(site.id), site.id,
                                   site_today(site, now))
    return documents.Spec(f"site:{site.slug}:overview.pdf", print_, build, "application/pdf")


@bp.route("/sites/<slug>/overview.pdf")
@documents.rate_limited
def site_pdf(slug: str):
    return documents.serve_from_task("site-overview.pdf", site_or_404(slug).slug)
