"""Public reading of progress reports: the list, each report and its revisions, the stored
PDFs and the Atom feeds. Drafts are shown at the same address only to the organisation
and its site's coordinators (404 for everyone else)."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from charter import blobs, permissions, readers
from charter import forms_common as fc
from charter.extensions import db
from charter.forms_common import VersionForm
from charter.lookups import site_or_404, visible_or_404
from charter.models import ChangeDomain, ReportingCycle, ReportStatus, Sector, Site
from charter.pagination import cursor_args, keyset_paginate
from charter.reports import bp, publishing, queries
from charter.reports.forms import ReturnForm
from charter.reports.rendering import indicator_charts
from charter.reports.snapshot import build_snapshot, load_report

PAGE_SIZE = 25


def _filter_form():
    from charter.reports.forms import ReportFilterForm

    sites = list(db.session.scalars(select(Site).order_by(Site.name)))
    cycles = list(db.session.scalars(
        select(ReportingCycle).order_by(ReportingCycle.due_date.desc(), ReportingCycle.id)))
    domains = list(db.session.scalars(ChangeDomain.ordered()))
    form = ReportFilterForm(request.args)
    sites_by_id = {s.id: s for s in sites}
    form.site.choices = fc.choices(((s.slug, s.name) for s in sites), empty=_("All sites"))
    form.cycle.choices = fc.choices(
        ((str(c.id), f"{c.name} ({sites_by_id[c.site_id].name})") for c in cycles), empty=_("All cycles"))
    form.sector.choices = fc.enum_choices(Sector, empty=_("All sectors"))
    form.domain.choices = fc.choices(((d.slug, d.name) for d in domains), empty=_("All change domains"))
    return form, sites, cycles, domains


@bp.route("/reports")
def index():
    form, sites, cycles, domains = _filter_form()
    valid = form.validate()
    filters = {}
    if valid:
        filters = {
            "site_id": next((s.id for s in sites if s.slug == form.site.data), None),
            "cycle_id": readers.id_or_none(form.cycle.data),
            "sector": Sector(form.sector.data) if form.sector.data else None,
            "domain_id": next((d.id for d in domains if d.slug == form.domain.data), None),
            "search": form.q.data or None,
        }
    after, before = cursor_args(request.args)
    page = keyset_paginate(queries.published_reports_query(**filters), queries.LIST_KEYS,
                           lambda r: (r.published_at, r.id), PAGE_SIZE,
                           page=readers.page_arg(), after=after, before=before)
    revisions = queries.latest_revisions([r.id for r in page.items])
    return render_template("reports/index.html", form=form, page=page, revisions=revisions,
                           filters_valid=valid), (200 if valid else 400)


def _visible_report(report_id: int):
    return visible_or_404(load_report(report_id), permissions.can_view_report)


def _publishing(report):
    """The report's publication in progress, for those who may see it (no query for the
    public, whose pages are cached)."""
    if not current_user.is_authenticated or not permissions.can_see_publishing(current_user, report):
        return None
    return publishing.pending(report)


def _render_published(report, number: int | None):
    revision = queries.revision(report.id, number, with_snapshot=True)
    if revision is None:
        abort(404)
    snapshot = revision.snapshot
    return render_template(
        "reports/view.html", report=report, snap=snapshot, revision=revision,
        revisions=report.revisions, latest=report.revisions[-1] if report.revisions else None,
        charts=indicator_charts(snapshot), live=False, publishing=_publishing(report),
        # No forms on a published report for the public: making one would set a session
        # cookie (a failed publication's "Try again" is for signed-in coordinators).
        return_form=None, decision_form=None,
    )


@bp.route("/reports/<int:report_id>")
def view(report_id: int):
    report = _visible_report(report_id)
    if report.status == ReportStatus.PUBLISHED:
        return _render_published(report, None)
    # Not published: a live preview for the organisation and its coordinators.
    snapshot = build_snapshot(report)
    snapshot["revision"] = None
    return render_template(
        "reports/view.html", report=report, snap=snapshot, revision=None, revisions=[],
        latest=None, charts=indicator_charts(snapshot), live=True, publishing=_publishing(report),
        return_form=ReturnForm(formdata=None, version=report.version),
        decision_form=VersionForm(formdata=None, version=report.version),
    )


@bp.route("/reports/<int:report_id>/revisions/<int:number>")
def revision(report_id: int, number: int):
    report = _visible_report(report_id)
    if report.status != ReportStatus.PUBLISHED:
        abort(404)
    return _render_published(report, number)


def _pdf_response(report_id: int, number: int | None):
    """A stored PDF, as published, streamed from disk (charter/blobs.py). One small query:
    the revision's SHA-256 (the ETag) and names, 404 unless the report is published; a
    matching If-None-Match is 304; the first request after publication files the bytes."""
    stored = queries.stored_pdf(report_id, number)
    if stored is None:
        abort(404)
    filename = f"{stored.organisation_slug}-{stored.cycle_name}-r{stored.number}.pdf"
    filename = "".join(c if c.isalnum() or c in "-._" else "-" for c in filename)
    max_age = 86400 if number else 300
    if request.if_none_match.contains_weak(stored.sha256):
        response = Response(status=304)
    elif queries.pdf_on_disk(stored):
        response = blobs.send(stored.sha256, ".pdf", "application/pdf", download_name=filename,
                              immutable=False, max_age=max_age)
    else:
        response = Response(queries.pdf_bytes(stored.revision_id), mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["ETag"] = f'"{stored.sha256}"'
    response.headers["X-Content-SHA256"] = stored.sha256
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.route("/reports/<int:report_id>.pdf")
def pdf(report_id: int):
    """The stored PDF of the latest revision: bytes as published, never re-rendered."""
    return _pdf_response(report_id, None)


@bp.route("/reports/<int:report_id>/revisions/<int:number>.pdf")
def revision_pdf(report_id: int, number: int):
    return _pdf_response(report_id, number)


def _feed(entries, title: str, self_url: str):
    from charter.reports.feeds import build_feed

    return Response(build_feed(entries, title, self_url),
                    content_type="application/atom+xml; charset=utf-8")


@bp.route("/reports/feed.atom")
def feed():
    from charter.urls import external_url

    return _feed(queries.feed_entries(), "PROMISE Charter: progress reports",
                 external_url("reports.feed"))


@bp.route("/sites/<slug>/reports/feed.atom")
def site_feed(slug: str):
    from charter.urls import external_url

    site = site_or_404(slug)
    return _feed(queries.feed_entries(site.id), f"PROMISE Charter {site.name}: progress reports",
                 external_url("reports.site_feed", slug=site.slug))


