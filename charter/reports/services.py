"""Reporting cycles and the progress-report workflow:
draft → submitted (by a lead) → published, with review on: a coordinator returns it with
comments or publishes it; publishing freezes a revision (snapshot + PDF + SHA-256s);
corrections add revisions (a lead's correction is reviewed like a first submission when the
cycle reviews reports). Every step is audited and notified through the outbox. No PDF is
rendered while a write transaction is open (see "publishing" below)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from charter import audit, mail, permissions, transaction
from charter.extensions import db
from charter.models import (
    CorrectionStatus,
    Organisation,
    ProgressReport,
    PublicationKind,
    PublicationRequest,
    ReportCorrection,
    ReportingCycle,
    ReportReview,
    ReportRevision,
    ReportStatus,
    ReviewAction,
    Site,
)
from charter.models.base import utcnow
from charter.organisations.services import organisation_leads, site_coordinators
from charter.reports import publishing
from charter.reports.snapshot import build_snapshot, canonical_json, sha256_of
from charter.rules import EditConflict, RuleError
from charter.text import check_printable, too_much_formatting
from charter.urls import external_url

TEXT_LIMIT = 100_000  # characters per narrative field: a 40-page report fits


class ReportError(RuleError):
    """A rule of this feature refused the request."""


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


def _notify(users, subject: str, template: str, report: ProgressReport, kind: str,
            link: str | None = None, **extra):
    link = link or external_url("reports.view", report_id=report.id)
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
        transaction.undo()
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

    @classmethod
    def of(cls, record) -> ReportText:
        """The text of a report or of a correction."""
        return cls(record.summary or "", record.lived_experience_reflection or "",
                   record.co_produced_by or "")


def _check_text(text: ReportText, change_note: str | None = None) -> None:
    values = text.as_dict()
    for field, value in values.items():
        if len(value) > TEXT_LIMIT:
            raise ReportError(_("Use %(max)d characters or fewer.", max=TEXT_LIMIT), field)
    if change_note is not None:
        values["change_note"] = change_note
    check_printable(values, ReportError)


def save_report(actor, report: ProgressReport, text: ReportText,
                expected_version: int | None) -> ProgressReport:
    permissions.require(permissions.can_edit_report(actor, report),
                        _("This report cannot be edited now."))
    if expected_version is not None and expected_version != report.version:
        raise EditConflict(report)
    _check_text(text)
    changes = audit.apply_changes(report, text.as_dict())
    if changes:
        db.session.flush()
        _record(actor, "report.saved", report, dict.fromkeys(changes, "changed"))
    return report


# --- publishing: freeze, render, then one short write ----------------------------------------
#
# Rendering a report's PDF takes seconds. It never runs while this request holds a database
# write transaction (on SQLite that would lock every other writer out: sign-in, joining…):
# freeze() reads the records and builds the snapshot without writing or flushing anything,
# render() turns it into a PDF (in a child process with a time limit, charter.pdf), and only
# then _store() checks that nobody acted on the report meanwhile and writes the revision, the
# status, the review trail, the audit events and the mail in one short step. If the render
# fails or times out nothing has been written.
#
# People publishing through the app do not wait for this: the services below record the
# request and the task queue runs these three steps (charter/reports/publishing.py). The demo
# loader and the tests' factories publish `at_once`, in their own transaction.

@dataclass(frozen=True)
class Publication:
    """A revision frozen and ready to render and store."""

    report_id: int
    report_version: int  # the report's row version when it was frozen
    number: int
    published_at: datetime
    change_note: str
    snapshot: dict[str, Any]
    snapshot_text: str


def freeze(report: ProgressReport, text: ReportText | None = None, change_note: str = "",
           at: datetime | None = None) -> Publication:
    """The snapshot the next revision of `report` stores, with `text` in place of the report's
    own (a correction). Reads only: no flush, nothing written."""
    with db.session.no_autoflush:
        number = (db.session.scalar(select(func.max(ReportRevision.number)).where(
            ReportRevision.report_id == report.id)) or 0) + 1
        now = at or utcnow()
        snapshot = build_snapshot(report, text.as_dict() if text is not None else None)
    _check_snapshot(snapshot)
    snapshot["revision"] = {"number": number, "published_at": now.isoformat(),
                            "change_note": change_note}
    return Publication(report.id, report.version, number, now, change_note, snapshot,
                       canonical_json(snapshot))


def _check_snapshot(snapshot: dict[str, Any]) -> None:
    """Refuse, before rendering, a snapshot with text too heavily formatted to print: text
    saved before the limits existed, or a commitment's text that reached us another way."""
    check_printable({key: snapshot[key] for key in ("summary", "lived_experience_reflection",
                                                     "co_produced_by")}, ReportError)
    for group in snapshot["domains"]:
        for c in group["commitments"]:
            parts = [c["title"], c["description"], *(m["title"] for m in c["milestones"])]
            for u in c["updates"]:
                parts += [u["report"], u["reflect"], u["rethink"], u["refresh"]]
            for ind in c["indicators"]:
                parts += [m["note"] for m in ind["measurements"]]
            if any(too_much_formatting(part) for part in parts):
                raise ReportError(
                    _("“%(title)s” has text with too much formatting to print (in its "
                      "description, milestones, progress updates or measurement notes); "
                      "simplify it, then publish.", title=c["title"][:200]), status=409)


def render(publication: Publication) -> bytes:
    """The PDF of a frozen publication. Slow: call it with no write transaction open."""
    from charter.reports.rendering import render_report_pdf

    return render_report_pdf(publication.snapshot)


def _version_now(model, obj) -> int | None:
    """The row version as stored now (not as this session last saw it)."""
    with db.session.no_autoflush:
        return db.session.scalar(select(model.version).where(model.id == obj.id))


def _recheck(report: ProgressReport, publication: Publication) -> None:
    """If anyone acted on the report while its PDF was being made, refuse. (A change between
    this check and the write fails the write's own version check, the same way.)"""
    if _version_now(ProgressReport, report) != publication.report_version:
        raise ReportError(_("Someone else acted on this report while its PDF was being made, "
                            "so nothing was published. See its status now."), status=409)


def _decided(actor, correction: ReportCorrection, status: CorrectionStatus, at: datetime) -> None:
    correction.status = status
    correction.decided_by_id = getattr(actor, "id", None)
    correction.decided_at = at


def _store(actor, report: ProgressReport, publication: Publication, pdf: bytes, *,
           submitted: bool = False, approved: bool = False, text: ReportText | None = None,
           correction: ReportCorrection | None = None) -> ReportRevision:
    """The short write step of a publication (see above)."""
    _recheck(report, publication)
    if correction is not None and _version_now(ReportCorrection, correction) != correction.version:
        raise ReportError(_("Someone else decided on this correction a moment ago; see it "
                            "now."), status=409)
    number, now = publication.number, publication.published_at
    previous = report.status
    if submitted:
        report.status = ReportStatus.SUBMITTED
        report.submitted_at = utcnow()
        report.submitted_by_id = actor.id
        _review(actor, report, ReviewAction.SUBMITTED)
    if approved:
        _review(actor, report, ReviewAction.APPROVED)
    changes: dict = {}
    if text is not None:
        changes = audit.apply_changes(report, text.as_dict())
        _review(actor, report, ReviewAction.CORRECTED, publication.change_note)
    revision = ReportRevision(
        report=report, number=number, snapshot=publication.snapshot,
        snapshot_sha256=sha256_of(publication.snapshot_text), pdf=pdf, pdf_sha256=sha256_of(pdf),
        pdf_size=len(pdf), change_note=publication.change_note, published_at=now,
        published_by_id=getattr(actor, "id", None),
    )
    db.session.add(revision)
    report.status = ReportStatus.PUBLISHED
    if report.published_at is None:
        report.published_at = now
    report.updated_at = utcnow()  # always an UPDATE, so its version check guards every revision
    if number == 1:
        _review(actor, report, ReviewAction.PUBLISHED)
    if correction is not None:
        _decided(actor, correction, CorrectionStatus.PUBLISHED, now)
        correction.revision_number = number
    try:
        db.session.flush()
    except (IntegrityError, StaleDataError) as exc:  # another publisher won the race
        transaction.undo()
        raise ReportError(_("This report has just been published by someone else."),
                          status=409) from exc
    _announce(actor, report, revision, previous, submitted=submitted, changes=changes,
              corrected=text is not None, correction=correction)
    return revision


def _announce(actor, report: ProgressReport, revision: ReportRevision, previous: ReportStatus,
              *, submitted: bool, corrected: bool, changes: dict,
              correction: ReportCorrection | None) -> None:
    """The audit trail and the leads' email of a publication, once it is flushed."""
    number = revision.number
    if submitted:
        _record(actor, "report.submitted", report, {"status": [previous, ReportStatus.SUBMITTED]})
        previous = ReportStatus.SUBMITTED
    if corrected:
        details = dict.fromkeys(changes, "changed")
        if correction is not None:
            details["correction"] = correction.id
        _record(actor, "report.corrected", report, details)
    _record(actor, "report.published" if number == 1 else "report.revision_published", report,
            {"status": [previous, ReportStatus.PUBLISHED], "revision": [number - 1 or None, number],
             "pdf_sha256": revision.pdf_sha256})
    _notify(organisation_leads(report.organisation),
            _("Your %(cycle)s report is published", cycle=report.cycle.name)
            if number == 1 else _("A corrected revision of your %(cycle)s report is published",
                                  cycle=report.cycle.name),
            "email/report_published.txt", report, "report_published", revision=revision)


def _publish_now(actor, report: ProgressReport, *, text: ReportText | None = None,
                 change_note: str = "", at: datetime | None = None, **steps) -> ReportRevision:
    publication = freeze(report, text, change_note, at)
    pdf = render(publication)
    return _store(actor, report, publication, pdf, text=text, **steps)


def _queue(actor, report: ProgressReport, kind: PublicationKind, *, text: ReportText | None = None,
           change_note: str = "", at: datetime | None = None,
           correction: ReportCorrection | None = None) -> PublicationRequest:
    """Ask the task queue to publish (charter/reports/publishing.py): returns at once."""
    return publishing.request(actor, report, kind, correction=correction,
                              text=text.as_dict() if text is not None else None,
                              change_note=change_note, at=at)


# --- the workflow -------------------------------------------------------------------------------

def submit(actor, report: ProgressReport, expected_version: int | None = None, *,
           at_once: bool = False) -> ProgressReport:
    """Submit a report: for review, or, when its cycle has no review, for publishing (queued;
    `at_once` publishes it in this transaction)."""
    if report.status == ReportStatus.SUBMITTED:
        raise ReportError(_("This report has already been submitted."), status=409)
    if report.status == ReportStatus.PUBLISHED:
        raise ReportError(_("This report is already published."), status=409)
    permissions.require(permissions.can_submit_report(actor, report),
                        _("Only a lead of the organisation can submit its report."))
    if expected_version is not None and expected_version != report.version:
        raise EditConflict(report, _("The report changed since you opened it. Check it and "
                                     "submit again."))
    if not report.summary.strip():
        raise ReportError(_("Write a summary before submitting: an empty report cannot be "
                            "submitted."), "summary")
    _check_text(ReportText.of(report))
    if not report.cycle.review_required and at_once:  # render before writing anything
        _publish_now(actor, report, submitted=True)
        return report
    previous = report.status
    report.status = ReportStatus.SUBMITTED
    report.submitted_at = utcnow()
    report.submitted_by_id = actor.id
    _review(actor, report, ReviewAction.SUBMITTED)
    db.session.flush()
    _record(actor, "report.submitted", report, {"status": [previous, ReportStatus.SUBMITTED]})
    if not report.cycle.review_required:  # no review: published by the task queue
        _queue(actor, report, PublicationKind.SUBMITTED)
        return report
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
    publishing.refuse_while_publishing(report)
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
            at: datetime | None = None, *, at_once: bool = False) -> ProgressReport:
    """Publish a submitted report: queued for the task queue, or `at_once` in this
    transaction. `at` backdates the publication (demo data and imports of historical
    reports); people publishing through the app always publish now."""
    permissions.require(permissions.can_review_report(actor, report))
    if report.status == ReportStatus.PUBLISHED:
        raise ReportError(_("This report is already published."), status=409)
    if report.status != ReportStatus.SUBMITTED:
        raise ReportError(_("Only a submitted report can be published (this one is %(status)s).",
                            status=report.status.label.lower()), status=409)
    if expected_version is not None and expected_version != report.version:
        raise ReportError(_("Someone else acted on this report a moment ago; see its status "
                            "now."), status=409)
    if at_once:
        _publish_now(actor, report, approved=True, at=at)
    else:
        _queue(actor, report, PublicationKind.APPROVED, at=at)
    return report


def _require_change_note(change_note: str | None) -> str:
    if not (change_note or "").strip():
        raise ReportError(_("Say what the correction changes: readers see this note."),
                          "change_note")
    return change_note.strip()


def correct(actor, report: ProgressReport, text: ReportText, change_note: str,
            at: datetime | None = None, *, at_once: bool = False
            ) -> ReportRevision | PublicationRequest:
    """Publish a corrected revision without review (queued, or `at_once`): a coordinator's
    or admin's correction, or a lead's when the cycle does not review reports. The earlier
    revisions stay readable."""
    permissions.require(permissions.can_correct_report(actor, report))
    if permissions.correction_needs_review(actor, report):
        raise ReportError(_("Corrections of this report are reviewed by the site's "
                            "coordinators: submit it for review."), status=409)
    note = _require_change_note(change_note)
    _check_text(text, note)
    if at_once:
        return _publish_now(actor, report, text=text, change_note=note, at=at)
    return _queue(actor, report, PublicationKind.CORRECTED, text=text, change_note=note, at=at)


# --- a lead's correction, when the cycle reviews reports ----------------------------------------

def pending_correction(report: ProgressReport) -> ReportCorrection | None:
    return db.session.scalar(select(ReportCorrection).where(
        ReportCorrection.report_id == report.id,
        ReportCorrection.status == CorrectionStatus.SUBMITTED).order_by(ReportCorrection.id))


def last_correction_by_organisation(report: ProgressReport) -> ReportCorrection | None:
    return db.session.scalar(select(ReportCorrection).where(
        ReportCorrection.report_id == report.id).order_by(ReportCorrection.id.desc()).limit(1))


def _latest_revision_number(report: ProgressReport) -> int:
    return db.session.scalar(select(func.max(ReportRevision.number)).where(
        ReportRevision.report_id == report.id)) or 0


def submit_correction(actor, report: ProgressReport, text: ReportText, change_note: str,
                      at: datetime | None = None) -> ReportCorrection:
    """A lead's correction, when the cycle reviews reports: it waits for a coordinator, and
    readers keep reading the current revision meanwhile."""
    permissions.require(permissions.can_correct_report(actor, report))
    if not permissions.correction_needs_review(actor, report):
        raise ReportError(_("You publish corrections of this report yourself."), status=409)
    waiting = pending_correction(report)
    if waiting is not None:
        raise ReportError(_("A correction of this report is already waiting for review; a "
                            "coordinator publishes or returns it first."), status=409)
    note = _require_change_note(change_note)
    _check_text(text, note)
    correction = ReportCorrection(
        report=report, status=CorrectionStatus.SUBMITTED, change_note=note,
        based_on_revision=_latest_revision_number(report), submitted_by_id=actor.id,
        created_at=at or utcnow(), **text.as_dict())
    db.session.add(correction)
    report.updated_at = utcnow()  # a second correction submitted at the same moment conflicts
    db.session.flush()
    _record(actor, "report.correction_submitted", report,
            {"correction": [None, correction.id], "change_note": note})
    _notify(site_coordinators(report.organisation.site),
            _("%(org)s submitted a correction of its %(cycle)s report for review",
              org=report.organisation.name, cycle=report.cycle.name),
            "email/report_correction_submitted.txt", report, "report_correction_submitted",
            link=external_url("reports.correction", report_id=report.id,
                              correction_id=correction.id),
            correction=correction)
    return correction


def _decidable(actor, correction: ReportCorrection, expected_version: int | None) -> None:
    permissions.require(permissions.can_review_correction(actor, correction))
    if correction.status != CorrectionStatus.SUBMITTED:
        raise ReportError(_("This correction has already been %(status)s.",
                            status=correction.status.label.lower()), status=409)
    if expected_version is not None and expected_version != correction.version:
        raise ReportError(_("Someone else decided on this correction a moment ago; see it "
                            "now."), status=409)


def return_correction(actor, correction: ReportCorrection, comment: str,
                      expected_version: int | None = None) -> ReportCorrection:
    _decidable(actor, correction, expected_version)
    if not (comment or "").strip():
        raise ReportError(_("Say what needs to change: the organisation sees your comments "
                            "beside its correction."), "comment")
    report = correction.report
    publishing.refuse_while_publishing(report, correction)
    _decided(actor, correction, CorrectionStatus.RETURNED, utcnow())
    correction.comment = comment.strip()
    db.session.flush()
    _record(actor, "report.correction_returned", report,
            {"correction": correction.id,
             "status": [CorrectionStatus.SUBMITTED, CorrectionStatus.RETURNED]})
    _notify(organisation_leads(report.organisation),
            _("Your correction of the %(cycle)s report was returned with comments",
              cycle=report.cycle.name),
            "email/report_correction_returned.txt", report, "report_correction_returned",
            link=external_url("reports.correct", report_id=report.id),
            comment=correction.comment)
    return correction


def publish_correction(actor, correction: ReportCorrection, expected_version: int | None = None,
                       at: datetime | None = None, *, at_once: bool = False
                       ) -> ReportRevision | PublicationRequest:
    """A coordinator publishes a lead's correction as the report's next revision (queued, or
    `at_once`)."""
    _decidable(actor, correction, expected_version)
    report = correction.report
    if _latest_revision_number(report) != correction.based_on_revision:
        raise ReportError(_("The report has been corrected since this correction was written; "
                            "return it so that the organisation can check it against the "
                            "current revision."), status=409)
    text = ReportText.of(correction)
    _check_text(text, correction.change_note)
    if not at_once:
        return _queue(actor, report, PublicationKind.CORRECTION, change_note=correction.change_note,
                      at=at, correction=correction)
    return _publish_now(actor, report, text=text, change_note=correction.change_note, at=at,
                        correction=correction)
