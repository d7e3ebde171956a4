"""Reporting cycles and the progress-report workflow:
draft → submitted (by a lead) → published, with review on: a coordinator returns it with
comments or publishes it; publishing freezes a revision (snapshot + PDF + SHA-256s);
corrections add revisions. Every step is audited and notified through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from charter import audit, mail, permissions
from charter.extensions import db
from charter.models import (
    Organisation,
    ProgressReport,
    ReportingCycle,
    ReportReview,
    ReportRevision,
    ReportStatus,
    ReviewAction,
    Site,
)
from charter.models.base import utcnow
from charter.organisations.services import organisation_leads, site_coordinators
from charter.reports.snapshot import build_snapshot, canonical_json, sha256_of
from charter.rules import RuleError
from charter.urls import external_url

TEXT_LIMIT = 100_000  # characters per narrative field: a 40-page report fits


class ReportError(RuleError):
    """A rule of this feature refused the request."""


class ReportConflict(Exception):  # noqa: N818
    def __init__(self, current: ProgressReport):
        super().__init__("report changed")
        self.current = current


# --- cycles ---------------------------------------------------------------------------------

@dataclass
class CycleValues:
    name: str
    period_start: date
    period_end: date
    due_date: date
    reminder_days_before: int = 14
    reminder_days_after: int = 7
    review_required: bool = True

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _check_cycle(site: Site, values: CycleValues, cycle_id: int | None = None) -> None:
    if values.period_end < values.period_start:
        raise ReportError(_("The period must end on or after its start."), "period_end")
    if values.due_date < values.period_end:
        raise ReportError(_("The due date must be on or after the end of the period: "
                            "organisations report on a period once it is over."), "due_date")
    for days, field in ((values.reminder_days_before, "reminder_days_before"),
                        (values.reminder_days_after, "reminder_days_after")):
        if days < 0 or days > 365:
            raise ReportError(_("Use a number of days from 0 to 365."), field)
    others = db.session.scalars(
        select(ReportingCycle).where(ReportingCycle.site_id == site.id,
                                     ReportingCycle.id != (cycle_id or 0))
    ).all()
    for other in others:
        if other.name.casefold() == values.name.strip().casefold():
            raise ReportError(_("%(site)s already has a cycle called “%(name)s”.",
                                site=site.name, name=other.name), "name")
        if values.period_start <= other.period_end and other.period_start <= values.period_end:
            raise ReportError(
                _("This period overlaps “%(name)s” (%(start)s to %(end)s). Cycles of a site "
                  "must not overlap.", name=other.name, start=other.period_start.isoformat(),
                  end=other.period_end.isoformat()), "period_start")


def create_cycle(actor, site: Site, values: CycleValues) -> ReportingCycle:
    permissions.require(permissions.can_manage_reporting(actor, site))
    values.name = values.name.strip()
    _check_cycle(site, values)
    cycle = ReportingCycle(site=site, created_by_id=actor.id, **values.as_dict())
    db.session.add(cycle)
    db.session.flush()
    audit.record(actor, "cycle.created", cycle, {k: [None, v] for k, v in values.as_dict().items()},
                 site_id=site.id)
    return cycle


def update_cycle(actor, cycle: ReportingCycle, values: CycleValues) -> ReportingCycle:
    permissions.require(permissions.can_manage_reporting(actor, cycle.site_id))
    values.name = values.name.strip()
    _check_cycle(cycle.site, values, cycle.id)
    changes = audit.apply_changes(cycle, values.as_dict())
    if changes:
        db.session.flush()
        audit.record(actor, "cycle.updated", cycle, changes, site_id=cycle.site_id)
    return cycle


def delete_cycle(actor, cycle: ReportingCycle) -> None:
    permissions.require(permissions.can_manage_reporting(actor, cycle.site_id))
    used = db.session.scalar(select(func.count()).select_from(ProgressReport).where(
        ProgressReport.cycle_id == cycle.id))
    if used:
        raise ReportError(_("Reports have been started for this cycle, so it cannot be deleted."),
                          status=409)
    audit.record(actor, "cycle.deleted", cycle, {"name": [cycle.name, None]}, site_id=cycle.site_id)
    db.session.delete(cycle)
    db.session.flush()


def update_site_settings(actor, site: Site, supporters_exempt: bool, missed_cycles_threshold: int):
    permissions.require(permissions.can_manage_reporting(actor, site))
    if not 1 <= missed_cycles_threshold <= 20:
        raise ReportError(_("Use a number from 1 to 20."), "missed_cycles_threshold")
    changes = audit.apply_changes(site, {"supporters_exempt": supporters_exempt,
                                         "missed_cycles_threshold": missed_cycles_threshold})
    if changes:
        audit.record(actor, "site.reporting_settings_changed", site, changes)
    return site


# --- the report workflow ----------------------------------------------------------------------

def _record(actor, action: str, report: ProgressReport, changes=None):
    return audit.record(actor, action, report, changes, organisation_id=report.organisation_id)


def _review(actor, report: ProgressReport, action: ReviewAction, comment: str = "") -> None:
    db.session.add(ReportReview(report=report, author_id=getattr(actor, "id", None),
                                action=action, comment=comment))


def _notify(users, subject: str, template: str, report: ProgressReport, kind: str, **extra):
    link = external_url("reports.view", report_id=report.id)
    for user in users:
        mail.queue(user.email, subject,
                   render_template(template, report=report, user=user, link=link, **extra),
                   kind=kind, user=user)


def start_report(actor, organisation: Organisation, cycle: ReportingCycle) -> ProgressReport:
    """The organisation's report for the cycle, created as a draft if it has none."""
    permissions.require(permissions.can_start_report(actor, organisation),
                        _("Only members of an approved organisation write its reports."))
    if cycle.site_id != organisation.site_id:
        raise ReportError(_("That cycle belongs to another site."), status=404)
    existing = db.session.scalar(select(ProgressReport).where(
        ProgressReport.organisation_id == organisation.id, ProgressReport.cycle_id == cycle.id))
    if existing is not None:
        return existing
    report = ProgressReport(organisation=organisation, cycle=cycle, created_by_id=actor.id,
                            status=ReportStatus.DRAFT)
    db.session.add(report)
    try:
        db.session.flush()
    except IntegrityError:  # someone started it at the same moment: use theirs
        db.session.rollback()
        return db.session.scalar(select(ProgressReport).where(
            ProgressReport.organisation_id == organisation.id,
            ProgressReport.cycle_id == cycle.id))
    _record(actor, "report.started", report, {"cycle": [None, cycle.name]})
    return report


@dataclass
class ReportText:
    summary: str
    lived_experience_reflection: str
    co_produced_by: str

    def as_dict(self) -> dict:
        return {"summary": self.summary.strip(),
                "lived_experience_reflection": self.lived_experience_reflection.strip(),
                "co_produced_by": self.co_produced_by.strip()}


def _check_text(text: ReportText) -> None:
    for field, value in text.as_dict().items():
        if len(value) > TEXT_LIMIT:
            raise ReportError(_("Use %(max)d characters or fewer.", max=TEXT_LIMIT), field)


def save_report(actor, report: ProgressReport, text: ReportText,
                expected_version: int | None) -> ProgressReport:
    permissions.require(permissions.can_edit_report(actor, report),
                        _("This report cannot be edited now."))
    if expected_version is not None and expected_version != report.version:
        raise ReportConflict(report)
    _check_text(text)
    changes = audit.apply_changes(report, text.as_dict())
    if changes:
        db.session.flush()
        _record(actor, "report.saved", report, dict.fromkeys(changes, "changed"))
    return report


def submit(actor, report: ProgressReport, expected_version: int | None = None) -> ProgressReport:
    if report.status == ReportStatus.SUBMITTED:
        raise ReportError(_("This report has already been submitted."), status=409)
    if report.status == ReportStatus.PUBLISHED:
        raise ReportError(_("This report is already published."), status=409)
    permissions.require(permissions.can_submit_report(actor, report),
                        _("Only a lead of the organisation can submit its report."))
    if expected_version is not None and expected_version != report.version:
        raise ReportConflict(report)
    if not report.summary.strip():
        raise ReportError(_("Write a summary before submitting: an empty report cannot be "
                            "submitted."), "summary")
    previous = report.status
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = utcnow()
    report.submitted_by_id = actor.id
    _review(actor, report, ReviewAction.SUBMITTED)
    db.session.flush()
    _record(actor, "report.submitted", report, {"status": [previous, ReportStatus.SUBMITTED]})
    if not report.cycle.review_required:
        return _publish(actor, report, change_note="")
    _notify(site_coordinators(report.organisation.site),
            _("%(org)s submitted its %(cycle)s report for review", org=report.organisation.name,
              cycle=report.cycle.name),
            "email/report_submitted.txt", report, "report_submitted")
    return report


def return_report(actor, report: ProgressReport, comment: str) -> ProgressReport:
    permissions.require(permissions.can_review_report(actor, report))
    if report.status != ReportStatus.SUBMITTED:
        raise ReportError(_("Only a submitted report can be returned (this one is %(status)s).",
                            status=report.status.label.lower()), status=409)
    if not (comment or "").strip():
        raise ReportError(_("Say what needs to change: the organisation sees your comments "
                            "beside its text."), "comment")
    report.status = ReportStatus.RETURNED
    _review(actor, report, ReviewAction.RETURNED, comment.strip())
    db.session.flush()
    _record(actor, "report.returned", report, {"status": [ReportStatus.SUBMITTED,
                                                          ReportStatus.RETURNED]})
    _notify(organisation_leads(report.organisation),
            _("Your %(cycle)s report was returned with comments", cycle=report.cycle.name),
            "email/report_returned.txt", report, "report_returned", comment=comment.strip())
    return report


def publish(actor, report: ProgressReport, expected_version: int | None = None,
            at: datetime | None = None) -> ProgressReport:
    """Publish a submitted report. `at` backdates the publication (demo data and imports
    of historical reports); people publishing through the app always publish now."""
    permissions.require(permissions.can_review_report(actor, report))
    if report.status == ReportStatus.PUBLISHED:
        raise ReportError(_("This report is already published."), status=409)
    if report.status != ReportStatus.SUBMITTED:
        raise ReportError(_("Only a submitted report can be published (this one is %(status)s).",
                            status=report.status.label.lower()), status=409)
    if expected_version is not None and expected_version != report.version:
        raise ReportError(_("Someone else acted on this report a moment ago; see its status "
                            "now."), status=409)
    _review(actor, report, ReviewAction.APPROVED)
    return _publish(actor, report, change_note="", at=at)


def correct(actor, report: ProgressReport, text: ReportText, change_note: str,
            at: datetime | None = None) -> ReportRevision:
    """Publish a corrected revision: the earlier ones stay readable at their own URLs."""
    permissions.require(permissions.can_correct_report(actor, report))
    if not (change_note or "").strip():
        raise ReportError(_("Say what the correction changes: readers see this note."),
                          "change_note")
    _check_text(text)
    changes = audit.apply_changes(report, text.as_dict())
    _review(actor, report, ReviewAction.CORRECTED, change_note.strip())
    db.session.flush()
    _record(actor, "report.corrected", report, dict.fromkeys(changes, "changed"))
    _publish(actor, report, change_note=change_note.strip(), at=at)
    return report.revisions[-1]


def _publish(actor, report: ProgressReport, change_note: str,
             at: datetime | None = None) -> ProgressReport:
    from charter.reports.rendering import render_report_pdf

    number = (db.session.scalar(select(func.max(ReportRevision.number)).where(
        ReportRevision.report_id == report.id)) or 0) + 1
    now = at or utcnow()
    snapshot = build_snapshot(report)
    snapshot["revision"] = {"number": number, "published_at": now.isoformat(),
                            "change_note": change_note}
    snapshot_text = canonical_json(snapshot)
    pdf = render_report_pdf(snapshot)
    revision = ReportRevision(
        report=report, number=number, snapshot=snapshot, snapshot_sha256=sha256_of(snapshot_text),
        pdf=pdf, pdf_sha256=sha256_of(pdf), pdf_size=len(pdf), change_note=change_note,
        published_at=now, published_by_id=getattr(actor, "id", None),
    )
    db.session.add(revision)
    previous = report.status
    report.status = ReportStatus.PUBLISHED
    if report.published_at is None:
        report.published_at = now
    if number == 1:
        _review(actor, report, ReviewAction.PUBLISHED)
    try:
        db.session.flush()
    except IntegrityError as exc:  # another publisher won the race for this revision number
        db.session.rollback()
        raise ReportError(_("This report has just been published by someone else."),
                          status=409) from exc
    _record(actor, "report.published" if number == 1 else "report.revision_published", report,
            {"status": [previous, ReportStatus.PUBLISHED], "revision": [number - 1 or None, number],
             "pdf_sha256": revision.pdf_sha256})
    _notify(organisation_leads(report.organisation),
            _("Your %(cycle)s report is published", cycle=report.cycle.name)
            if number == 1 else _("A corrected revision of your %(cycle)s report is published",
                                  cycle=report.cycle.name),
            "email/report_published.txt", report, "report_published", revision=revision)
    return report
