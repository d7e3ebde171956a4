"""Access table: reporting cycles and progress reports."""

from __future__ import annotations

from tests.access.rules import Route, everyone, only

MEMBERS = ["editor", "lead"]
INSIDE = ["editor", "lead", "coordinator", "admin"]


def _fresh_cycle(w):
    from datetime import date, timedelta

    from tests import factories as f

    i = f.n()
    start = date(2021, 1, 1) + timedelta(days=i * 10)
    return f.cycle(w.site, f"Cycle {i}", period_start=start, period_end=start + timedelta(days=2),
                   due_date=start + timedelta(days=5))


def _report(w, status="draft"):
    from charter.models import ReportStatus
    from tests import factories as f
    from tests.access.rules import signature_of

    signature_of(w)
    cycle = _fresh_cycle(w)
    if status == "published":
        return f.published_report(w.org, cycle, w.user("coordinator"))
    return f.report(w.org, cycle, status=ReportStatus(status))


def _correction(w):
    """A lead's correction of a published report, waiting for review."""
    from charter.reports import services

    report = _report(w, "published")
    correction = services.submit_correction(
        w.user("lead"), report, services.ReportText("Corrected summary.", "", ""),
        "A figure was wrong.")
    return f"/reports/{report.id}/corrections/{correction.id}"


def _failed_publication(w):
    """A submitted report whose publication failed on every try."""
    from charter.extensions import db
    from charter.models import PublicationKind, PublicationRequest, PublicationState

    report = _report(w, "submitted")
    db.session.add(PublicationRequest(report_id=report.id, kind=PublicationKind.APPROVED,
                                      state=PublicationState.FAILED, attempts=3,
                                      last_error="The PDF could not be made."))
    db.session.flush()
    return f"/reports/{report.id}/publishing/retry"


ACCESS = {
    ("reports.index", "GET"): Route(lambda w: "/reports", everyone(200)),
    ("reports.feed", "GET"): Route(lambda w: "/reports/feed.atom", everyone(200)),
    ("reports.site_feed", "GET"): Route(lambda w: f"/sites/{w.site.slug}/reports/feed.atom",
                                        everyone(200)),
    ("reports.view", "GET"): Route(
        lambda w: f"/reports/{_report(w).id}",
        {**only(INSIDE, denied=404, public=404)}),
    ("reports.revision", "GET"): Route(
        lambda w: f"/reports/{_report(w, 'published').id}/revisions/1", everyone(200)),
    ("reports.pdf", "GET"): Route(lambda w: f"/reports/{_report(w, 'published').id}.pdf",
                                  everyone(200)),
    ("reports.revision_pdf", "GET"): Route(
        lambda w: f"/reports/{_report(w, 'published').id}/revisions/1.pdf", everyone(200)),
    ("reports.organisation_reports", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/reports", only(INSIDE)),
    ("reports.start", "POST"): Route(
        lambda w: f"/organisations/{w.org.slug}/reports/{_fresh_cycle(w).id}/start",
        only(MEMBERS, ok=302)),
    ("reports.edit", "GET"): Route(
        lambda w: f"/reports/{_report(w).id}/edit",
        {**only(MEMBERS, denied=404), "coordinator": 403, "admin": 403}),
    ("reports.edit", "POST"): Route(
        lambda w: f"/reports/{_report(w).id}/edit",
        {**only(MEMBERS, ok={302, 400}, denied=404), "coordinator": 403, "admin": 403}),
    ("reports.submit", "POST"): Route(
        lambda w: f"/reports/{_report(w).id}/submit",
        {**only(["lead"], ok=302, denied=404), "editor": 403, "coordinator": 403, "admin": 403}),
    ("reports.return_report", "POST"): Route(
        lambda w: f"/reports/{_report(w, 'submitted').id}/return",
        {**only(["coordinator", "admin"], ok=400, denied=404), "editor": 403, "lead": 403}),
    ("reports.publish", "POST"): Route(
        lambda w: f"/reports/{_report(w, 'submitted').id}/publish",
        {**only(["coordinator", "admin"], ok=302, denied=404), "editor": 403, "lead": 403}),
    ("reports.retry_publication", "POST"): Route(
        _failed_publication,
        {**only(["coordinator", "admin"], ok=303, denied=404), "editor": 403, "lead": 403}),
    ("reports.correct", "GET"): Route(
        lambda w: f"/reports/{_report(w, 'published').id}/correct",
        only(["lead", "coordinator", "admin"])),
    ("reports.correct", "POST"): Route(
        lambda w: f"/reports/{_report(w, 'published').id}/correct",
        only(["lead", "coordinator", "admin"], ok=400)),
    ("reports.correction", "GET"): Route(
        lambda w: _correction(w), only(INSIDE, denied=404)),
    ("reports.publish_correction", "POST"): Route(
        lambda w: _correction(w) + "/publish",
        {**only(["coordinator", "admin"], ok=302, denied=404), "editor": 403, "lead": 403}),
    ("reports.return_correction", "POST"): Route(
        lambda w: _correction(w) + "/return",
        {**only(["coordinator", "admin"], ok=400, denied=404), "editor": 403, "lead": 403}),
    ("reports.site_reporting", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/reporting", only(["coordinator", "admin"])),
    ("reports.cycles", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/cycles", only(["coordinator", "admin"])),
    ("reports.cycles", "POST"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/cycles", only(["coordinator", "admin"], ok=400)),
    ("reports.edit_cycle", "GET"): Route(
        lambda w: f"/manage/cycles/{_fresh_cycle(w).id}/edit", only(["coordinator", "admin"])),
    ("reports.edit_cycle", "POST"): Route(
        lambda w: f"/manage/cycles/{_fresh_cycle(w).id}/edit",
        only(["coordinator", "admin"], ok=400)),
    ("reports.delete_cycle", "POST"): Route(
        lambda w: f"/manage/cycles/{_fresh_cycle(w).id}/delete",
        only(["coordinator", "admin"], ok=302)),
    ("reports.settings", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/reporting-settings",
        only(["coordinator", "admin"])),
    ("reports.settings", "POST"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/reporting-settings",
        only(["coordinator", "admin"], ok=400)),
}
