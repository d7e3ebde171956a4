"""Writing, submitting, reviewing and correcting reports; a site's cycles, settings and
reporting status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from charter import permissions, readers
from charter.extensions import db, limiter
from charter.forms_common import VersionForm
from charter.lookups import organisation_or_404, site_or_404, visible_or_404
from charter.models import (
    CorrectionStatus,
    ProgressReport,
    ReportCorrection,
    ReportingCycle,
    ReportStatus,
)
from charter.reports import bp, publishing, services, status
from charter.reports.forms import (
    CorrectionForm,
    CorrectionReturnForm,
    CycleForm,
    ReportForm,
    ReturnForm,
    SettingsForm,
)
from charter.reports.snapshot import build_snapshot, load_report
from charter.rules import RuleError
from charter.transaction import abandon, perform, submit

T = TypeVar("T")


def _report_for(report_id: int, may_act: Callable[[Any, ProgressReport], bool] | None = None
                ) -> ProgressReport:
    """The report if this person may see it (404 otherwise); with may_act, 403 when they
    see it but may not do this."""
    return visible_or_404(load_report(report_id), permissions.can_view_report, may_act)


def _text(form) -> services.ReportText:
    return services.ReportText(form.summary.data or "", form.lived_experience_reflection.data or "",
                               form.co_produced_by.data or "")


def _button(action: Callable[[int | None], Any]) -> str | None:
    """Run the service call behind a VersionForm button, given the row version the page was
    shown: None when it was done; the message (flashed) when a rule refused it, with nothing
    of the request kept."""
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    _result, refused = perform(lambda: action(form.version.data))
    if refused:
        flash(refused, "warning")
    return refused


# --- an organisation's reports ------------------------------------------------------------------

@bp.route("/organisations/<slug>/reports")
@login_required
def organisation_reports(slug: str):
    org = visible_or_404(organisation_or_404(slug), permissions.can_view_organisation,
                         permissions.can_view_organisation_private)
    reporting = status.site_reporting(org.site, [org])
    reports = {r.cycle_id: r for r in db.session.scalars(
        select(ProgressReport).where(ProgressReport.organisation_id == org.id))}
    return render_template("reports/organisation.html", org=org, reporting=reporting,
                           reports=reports, can_start=permissions.can_start_report(current_user, org),
                           form=VersionForm())


@bp.route("/organisations/<slug>/reports/<int:cycle_id>/start", methods=["POST"])
@login_required
def start(slug: str, cycle_id: int):
    org = visible_or_404(organisation_or_404(slug), permissions.can_view_organisation,
                         permissions.can_start_report)
    cycle = db.session.get(ReportingCycle, cycle_id)
    if cycle is None or cycle.site_id != org.site_id:
        abort(404)
    if not VersionForm().validate_on_submit():
        abort(400)
    report = services.start_report(current_user, org, cycle)
    return redirect(url_for("reports.edit", report_id=report.id))


def _not_editable(report: ProgressReport):
    """A report this person may not edit now: a submitted or published one is shown to read,
    with a word why; anything else is 403."""
    if report.status not in (ReportStatus.SUBMITTED, ReportStatus.PUBLISHED):
        abort(403)
    flash(_("This report is %(status)s and cannot be edited.",
            status=report.status.label.lower()), "info")
    return redirect(url_for("reports.view", report_id=report.id))


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
@login_required
def edit(report_id: int):
    report = _report_for(report_id)
    if not permissions.can_edit_report(current_user, report):
        return _not_editable(report)
    form = ReportForm(obj=None if request.method == "POST" else report)
    if request.method == "GET":
        form.version.data = report.version
    outcome = submit(form, lambda: services.save_report(current_user, report, _text(form),
                                                        form.version.data))
    if outcome:
        flash(_("Your report is saved."), "success")
        if request.form.get("then") == "submit":
            return redirect(url_for("reports.view", report_id=report.id) + "#submit")
        return redirect(url_for("reports.edit", report_id=report.id))
    if outcome.conflict:
        current = load_report(report_id)
        form.version.data = current.version
        return render_template("reports/conflict.html", form=form, current=current), 409
    return render_template("reports/edit.html", form=form, report=report, snap=build_snapshot(report),
                           extra_errors=outcome.errors), outcome.status


def _submittable(user, report: ProgressReport) -> bool:
    """A lead submits; a report already submitted or published is answered with its status."""
    return (permissions.can_submit_report(user, report)
            or report.status in (ReportStatus.SUBMITTED, ReportStatus.PUBLISHED))


def _attempt(action: Callable[[], Any]) -> RuleError | None:
    """Like transaction.perform, but give back the whole RuleError that refused the call (its
    field says where to send the person), with nothing of the request kept."""
    try:
        action()
    except RuleError as error:
        abandon()
        return error
    return None


@bp.route("/reports/<int:report_id>/submit", methods=["POST"], endpoint="submit")
@login_required
def submit_report(report_id: int):
    report = _report_for(report_id, _submittable)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    refused = _attempt(lambda: services.submit(current_user, report, form.version.data))
    if refused is not None:  # nothing was written: the report stays as it was
        flash(refused.message, "warning")
        to_text = refused.field in ReportForm.TEXT_FIELDS
        return redirect(url_for("reports.edit" if to_text else "reports.view",
                                report_id=report_id)), 303
    if report.status == ReportStatus.PUBLISHED:
        flash(_("Your report is published."), "success")
    elif not report.cycle.review_required:
        flash(_("Your report is submitted and is being published: the report and its PDF "
                "become public together in a moment."), "success")
    else:
        flash(_("Your report is submitted. The site's coordinators will review it."), "success")
    return redirect(url_for("reports.view", report_id=report.id))


@bp.route("/reports/<int:report_id>/return", methods=["POST"])
@login_required
def return_report(report_id: int):
    report = _report_for(report_id, permissions.can_review_report)
    form = ReturnForm()
    outcome = submit(form, lambda: services.return_report(current_user, report, form.comment.data))
    if outcome:
        flash(_("The report is returned to %(org)s with your comments.",
                org=report.organisation.name), "success")
        return redirect(url_for("reports.site_reporting", slug=report.organisation.site.slug))
    if outcome.errors:  # refused as a whole, not for its comments
        flash(outcome.errors[0], "warning")
        return redirect(url_for("reports.view", report_id=report_id)), 303
    snapshot = build_snapshot(report)
    snapshot["revision"] = None
    return render_template("reports/view.html", report=report, snap=snapshot, revision=None,
                           revisions=[], latest=None, charts={}, live=True, return_form=form,
                           publishing=publishing.pending(report),
                           decision_form=VersionForm(formdata=None, version=report.version)), 400


@bp.route("/reports/<int:report_id>/publish", methods=["POST"])
@login_required
def publish(report_id: int):
    report = _report_for(report_id, permissions.can_review_report)
    refused = _button(lambda version: services.publish(current_user, report, version))
    if refused:
        return redirect(url_for("reports.view", report_id=report_id)), 303
    flash(_("The report is being published: the report and its PDF become public together in "
            "a moment, and its PDF will not change."), "success")
    return redirect(url_for("reports.view", report_id=report.id))


@bp.route("/reports/<int:report_id>/publishing/retry", methods=["POST"])
@login_required
def retry_publication(report_id: int):
    """Try again a publication whose every try failed."""
    report = _report_for(report_id, permissions.can_retry_publication)
    refused = _button(lambda _version: publishing.retry(current_user, report))
    if not refused:
        flash(_("Publishing is being tried again."), "success")
    return redirect(url_for("reports.view", report_id=report_id)), 303


def _correction_limit() -> str:
    return current_app.config["REPORT_CORRECTION_RATE_LIMIT"]


def _correction_limit_key() -> str:
    return f"report-correction:{current_user.get_id()}"


def _not_a_leads_direct_correction() -> bool:
    """The correction rate limit counts only corrections a lead publishes at once (the cycle
    does not review reports); reviewed ones and coordinators' are not limited."""
    report = db.session.get(ProgressReport, (request.view_args or {}).get("report_id", 0))
    if report is None or not current_user.is_authenticated:
        return True
    return (not permissions.can_correct_report(current_user, report)
            or permissions.correction_needs_review(current_user, report)
            or permissions.can_manage_site(current_user, report.organisation.site_id))


def _published(response) -> bool:
    return response.status_code in (302, 303)


def _returned_correction(report: ProgressReport) -> ReportCorrection | None:
    """The organisation's last correction, if a coordinator returned it: its text comes back
    into the form, with the comments beside it."""
    last = services.last_correction_by_organisation(report)
    return last if last is not None and last.status == CorrectionStatus.RETURNED else None


@bp.route("/reports/<int:report_id>/correct", methods=["GET", "POST"])
@login_required
@limiter.limit(_correction_limit, methods=["POST"], key_func=_correction_limit_key,
               exempt_when=_not_a_leads_direct_correction, deduct_when=_published)
def correct(report_id: int):
    """A correction: published at once by coordinators (and by leads when the cycle does not
    review reports), submitted for review by leads when it does."""
    report = _report_for(report_id, permissions.can_correct_report)
    review = permissions.correction_needs_review(current_user, report)
    waiting = services.pending_correction(report)
    returned = _returned_correction(report) if review and waiting is None else None
    form = CorrectionForm(obj=None if request.method == "POST" else (returned or report))
    service = services.submit_correction if review else services.correct
    outcome = submit(form, lambda: service(current_user, report, _text(form),
                                           form.change_note.data))
    if outcome and review:
        flash(_("Your correction is submitted. The site's coordinators will review it; "
                "readers see the current revision until it is published."), "success")
        return redirect(url_for("reports.correction", report_id=report.id,
                                correction_id=outcome.result.id))
    if outcome:
        flash(_("Your correction is being published as the next revision; the earlier "
                "revisions stay readable."), "success")
        return redirect(url_for("reports.view", report_id=report.id))
    return render_template("reports/correct.html", form=form, report=report, review=review,
                           waiting=waiting, returned=returned,
                           extra_errors=outcome.errors), outcome.status


def _correction_for(report_id: int, correction_id: int,
                    may_act: Callable[[Any, ReportCorrection], bool] | None = None
                    ) -> ReportCorrection:
    correction = db.session.get(ReportCorrection, correction_id)
    if correction is not None and correction.report_id != report_id:
        correction = None
    return visible_or_404(correction, permissions.can_view_correction, may_act)


def _show_correction(correction: ReportCorrection, return_form=None, status_code: int = 200):
    report = correction.report
    latest = max((r.number for r in report.revisions), default=0)
    return render_template(
        "reports/correction.html", correction=correction, report=report, latest=latest,
        publishing=publishing.pending(report),
        return_form=return_form or CorrectionReturnForm(formdata=None, version=correction.version),
        decision_form=VersionForm(formdata=None, version=correction.version)), status_code


@bp.route("/reports/<int:report_id>/corrections/<int:correction_id>")
@login_required
def correction(report_id: int, correction_id: int):
    return _show_correction(_correction_for(report_id, correction_id))


@bp.route("/reports/<int:report_id>/corrections/<int:correction_id>/publish", methods=["POST"])
@login_required
def publish_correction(report_id: int, correction_id: int):
    correction = _correction_for(report_id, correction_id, permissions.can_review_correction)
    refused = _button(
        lambda version: services.publish_correction(current_user, correction, version))
    if refused:
        return redirect(url_for("reports.correction", report_id=report_id,
                                correction_id=correction_id)), 303
    flash(_("The correction is being published as the next revision; the earlier revisions "
            "stay readable."), "success")
    return redirect(url_for("reports.view", report_id=report_id))


@bp.route("/reports/<int:report_id>/corrections/<int:correction_id>/return", methods=["POST"])
@login_required
def return_correction(report_id: int, correction_id: int):
    correction = _correction_for(report_id, correction_id, permissions.can_review_correction)
    form = CorrectionReturnForm()
    outcome = submit(form, lambda: services.return_correction(
        current_user, correction, form.comment.data, form.version.data))
    if outcome:
        flash(_("The correction is returned to %(org)s with your comments.",
                org=correction.report.organisation.name), "success")
        return redirect(url_for("reports.site_reporting",
                                slug=correction.report.organisation.site.slug))
    if outcome.errors:  # refused as a whole, not for its comments
        flash(outcome.errors[0], "warning")
        return redirect(url_for("reports.correction", report_id=report_id,
                                correction_id=correction_id)), 303
    return _show_correction(correction, return_form=form, status_code=400)


# --- a site's reporting: status, cycles, settings -------------------------------------------------

def _managed_site(slug: str):
    site = site_or_404(slug)
    if not permissions.can_manage_reporting(current_user, site):
        abort(403)
    return site


@bp.route("/manage/sites/<slug>/reporting")
@login_required
def site_reporting(slug: str):
    site = _managed_site(slug)
    reporting = status.site_reporting(site)
    cycle = reporting.current_cycle()
    wanted = readers.id_arg("cycle")
    if wanted is not None:
        cycle = next((c for c in reporting.cycles if c.id == wanted), cycle)
    submitted = list(db.session.scalars(
        select(ProgressReport).join(ReportingCycle)
        .where(ReportingCycle.site_id == site.id, ProgressReport.status == ReportStatus.SUBMITTED)
        .order_by(ProgressReport.submitted_at)))
    corrections = list(db.session.scalars(
        select(ReportCorrection).join(ProgressReport).join(ReportingCycle)
        .where(ReportingCycle.site_id == site.id,
               ReportCorrection.status == CorrectionStatus.SUBMITTED)
        .order_by(ReportCorrection.created_at)))
    return render_template("reports/site_reporting.html", site=site, reporting=reporting,
                           cycle=cycle, rows=_status_rows(reporting, cycle), submitted=submitted,
                           corrections=corrections,
                           publishing=publishing.states([r.id for r in submitted]))


_STATUS_ORDER = {"overdue": 0, "returned": 1, "submitted": 2, "draft": 3, "not_started": 4,
                 "published": 5, "exempt": 6}


def _status_rows(reporting, cycle: ReportingCycle | None) -> list[tuple]:
    """(organisation, status, report, not reporting) for the cycle, the most urgent first."""
    if cycle is None:
        return []
    rows = [(org, reporting.status(org, cycle), reporting.reports.get((org.id, cycle.id)),
             reporting.not_reporting(org)) for org in reporting.organisations]
    rows.sort(key=lambda r: (_STATUS_ORDER[r[1].value], r[0].name_key))
    return rows


@bp.route("/manage/sites/<slug>/cycles", methods=["GET", "POST"])
@login_required
def cycles(slug: str):
    site = _managed_site(slug)
    form = CycleForm()
    outcome = submit(form, lambda: services.create_cycle(current_user, site, _cycle_values(form)))
    if outcome:
        flash(_("Cycle %(name)s is created.", name=outcome.result.name), "success")
        return redirect(url_for("reports.cycles", slug=site.slug))
    existing = list(db.session.scalars(select(ReportingCycle).where(
        ReportingCycle.site_id == site.id).order_by(ReportingCycle.period_start.desc())))
    return render_template("reports/cycles.html", site=site, cycles=existing, form=form,
                           extra_errors=outcome.errors,
                           delete_form=VersionForm(formdata=None)), outcome.status


def _cycle_values(form) -> services.CycleValues:
    return services.CycleValues(
        name=form.name.data, period_start=form.period_start.data, period_end=form.period_end.data,
        due_date=form.due_date.data, reminder_days_before=form.reminder_days_before.data,
        reminder_days_after=form.reminder_days_after.data,
        review_required=bool(form.review_required.data),
    )


def _cycle_or_404(cycle_id: int) -> ReportingCycle:
    cycle = db.session.get(ReportingCycle, cycle_id)
    if cycle is None:
        abort(404)
    if not permissions.can_manage_reporting(current_user, cycle.site_id):
        abort(403)
    return cycle


@bp.route("/manage/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
@login_required
def edit_cycle(cycle_id: int):
    cycle = _cycle_or_404(cycle_id)
    form = CycleForm(obj=None if request.method == "POST" else cycle)
    outcome = submit(form, lambda: services.update_cycle(current_user, cycle, _cycle_values(form)))
    if outcome:
        flash(_("Cycle %(name)s is saved.", name=cycle.name), "success")
        return redirect(url_for("reports.cycles", slug=cycle.site.slug))
    return render_template("reports/cycle_edit.html", cycle=cycle, form=form,
                           extra_errors=outcome.errors), outcome.status


@bp.route("/manage/cycles/<int:cycle_id>/delete", methods=["POST"])
@login_required
def delete_cycle(cycle_id: int):
    cycle = _cycle_or_404(cycle_id)
    slug = cycle.site.slug
    refused = _button(lambda _version: services.delete_cycle(current_user, cycle))
    if refused:
        return redirect(url_for("reports.cycles", slug=slug)), 303
    flash(_("The cycle is deleted."), "success")
    return redirect(url_for("reports.cycles", slug=slug))


@bp.route("/manage/sites/<slug>/reporting-settings", methods=["GET", "POST"])
@login_required
def settings(slug: str):
    site = _managed_site(slug)
    form = SettingsForm(obj=None if request.method == "POST" else site)
    outcome = submit(form, lambda: services.update_site_settings(
        current_user, site, bool(form.supporters_exempt.data), form.missed_cycles_threshold.data))
    if outcome:
        flash(_("Reporting settings saved."), "success")
        return redirect(url_for("reports.site_reporting", slug=site.slug))
    return render_template("reports/settings.html", site=site, form=form,
                           extra_errors=outcome.errors), outcome.status
