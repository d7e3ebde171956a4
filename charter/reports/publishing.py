"""Publishing through the task queue: a request records that a report is to be published,
a worker does it.

The request (approve and publish; submit when the cycle has no review; publish a correction)
checks the rules, records a `PublicationRequest` (queued) and an audit event, and asks for
the `publish_report` task once its transaction commits: it answers in milliseconds. The task
(`run`) then works in short transactions of its own, with none open while the PDF renders:

1. claim the request (queued → running, one conditional UPDATE): a second worker given the
   same task finds it running, or gone, and does nothing;
2. freeze the snapshot (reads only), render its PDF (charter/pdf.py: a child process, a time
   limit);
3. store the revision, its PDF, the status, the review trail, the audit events and the mail
   and delete the request, in one transaction (services._store rechecks the report's row
   version; a request already deleted means another worker published it): the snapshot
   and its PDF become public together, or not at all.

A try that fails goes back to the queue (TASK_RETRIES more tries, TASK_RETRY_DELAY apart);
after the last, or at once when a rule refuses (text too heavily formatted to print), the
request is `failed` with its error, and the report page shows it to the site's coordinators
with a "Try again" button (`retry`). While a request exists the report is not published,
returned or corrected by anyone else; a failed one is replaced by a new publication and
dropped when the report (or the correction) is returned.

`resume` sends again what is queued but was never taken (the queue was down when it was
asked for) and what a dead worker left running: the worker runs it when it starts and every
minute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, or_, select, update

from charter import audit, permissions, tasks, transaction
from charter.extensions import db
from charter.models import (
    CorrectionStatus,
    ProgressReport,
    PublicationKind,
    PublicationRequest,
    PublicationState,
    ReportCorrection,
    ReportRevision,
    ReportStatus,
    User,
)
from charter.models.base import utcnow
from charter.pdf import PdfRenderError
from charter.rules import RuleError

STALE_QUEUED = timedelta(minutes=2)  # queued this long and not taken: send it again
ERROR_LIMIT = 2000


class PublishingError(RuleError):
    """A publication is already under way, or there is nothing to try again."""


def pending(report: ProgressReport) -> PublicationRequest | None:
    """The report's publication in progress (queued, running or failed), if any."""
    return db.session.scalar(select(PublicationRequest).where(
        PublicationRequest.report_id == report.id))


def states(report_ids: list[int]) -> dict[int, str]:
    """The state of each of these reports' publication in progress, by report id."""
    if not report_ids:
        return {}
    return {report_id: state.value for report_id, state in db.session.execute(
        select(PublicationRequest.report_id, PublicationRequest.state)
        .where(PublicationRequest.report_id.in_(report_ids)))}


def _record(actor, action: str, report: ProgressReport, changes=None) -> None:
    audit.record(actor, action, report, changes, organisation_id=report.organisation_id)


def _busy() -> PublishingError:
    return PublishingError(_("This report is being published now; see its page in a moment."),
                           status=409)


def refuse_while_publishing(report: ProgressReport,
                            correction: ReportCorrection | None = None) -> None:
    """Refuse to act on a report (or a correction) that a worker is publishing; drop a
    failed publication of it, which the action makes moot."""
    existing = pending(report)
    if existing is None or (correction is not None and existing.correction_id != correction.id):
        return
    if existing.state != PublicationState.FAILED:
        raise _busy()
    db.session.delete(existing)
    db.session.flush()


def request(actor, report: ProgressReport, kind: PublicationKind, *,
            correction: ReportCorrection | None = None, text: dict | None = None,
            change_note: str = "", at: datetime | None = None) -> PublicationRequest:
    """Record that `report` is to be published and ask the queue for it (after commit). The
    caller has checked the rules. A failed publication of the report is replaced."""
    existing = pending(report)
    if existing is not None:
        if existing.state != PublicationState.FAILED:
            raise _busy()
        db.session.delete(existing)
        db.session.flush()
    publication = PublicationRequest(
        report_id=report.id, kind=kind, state=PublicationState.QUEUED,
        correction_id=getattr(correction, "id", None), change_note=change_note, publish_at=at,
        requested_by_id=getattr(actor, "id", None), **(text or {}))
    db.session.add(publication)
    with transaction.refusing_duplicates(_busy):
        db.session.flush()
    _record(actor, "report.publication_requested", report,
            {"publication": [None, kind.value]} | ({"correction": correction.id} if correction else {}))
    tasks.enqueue_after_commit(tasks.publish_report, publication.id)
    return publication


def retry(actor, report: ProgressReport) -> PublicationRequest:
    """Try a failed publication again (the "Try again" button)."""
    permissions.require(permissions.can_retry_publication(actor, report))
    publication = pending(report)
    if publication is None or publication.state != PublicationState.FAILED:
        raise PublishingError(_("There is no failed publication of this report to try again."),
                              status=409)
    publication.state = PublicationState.QUEUED
    publication.attempts = 0
    publication.queued_at = utcnow()
    db.session.flush()
    _record(actor, "report.publication_retried", report,
            {"state": [PublicationState.FAILED.value, PublicationState.QUEUED.value]})
    tasks.enqueue_after_commit(tasks.publish_report, publication.id)
    return publication


# --- the task --------------------------------------------------------------------------------

def _run_timeout() -> timedelta:
    """How long a try may run before it is taken to be dead (its worker killed)."""
    return timedelta(seconds=2 * float(current_app.config["PDF_RENDER_TIMEOUT"]) + 60)


def _claim(request_id: int) -> PublicationRequest | None:
    now = utcnow()
    claimed = db.session.execute(
        update(PublicationRequest)
        .where(PublicationRequest.id == request_id,
               or_(PublicationRequest.state == PublicationState.QUEUED,
                   and_(PublicationRequest.state == PublicationState.RUNNING,
                        PublicationRequest.started_at < now - _run_timeout())))
        .values(state=PublicationState.RUNNING, started_at=now,
                attempts=PublicationRequest.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return db.session.get(PublicationRequest, request_id) if claimed == 1 else None


def _attempts_allowed() -> int:
    return 1 + int(current_app.config["TASK_RETRIES"])


def run(request_id: int) -> None:
    """The `publish_report` task: claim, freeze, render, store (see the module's docstring)."""
    from charter.reports import services

    publication = _claim(request_id)
    if publication is None:
        return  # done already, taken by another worker, or failed for good
    attempts = publication.attempts
    try:
        _publish(publication, services)
    except RuleError as error:  # trying again will not help
        transaction.undo()
        _failed(request_id, str(error.message), final=True)
    except Exception as error:
        transaction.undo()
        final = attempts >= _attempts_allowed()
        _failed(request_id, _describe(error), final=final)
        if not final:
            raise  # the queue tries again after TASK_RETRY_DELAY


def _describe(error: Exception) -> str:
    """What the coordinators read about a failed try."""
    if isinstance(error, PdfRenderError):
        return str(error.message)
    return _("The PDF could not be made (%(error)s).", error=f"{type(error).__name__}: {error}")


def _publish(publication: PublicationRequest, services) -> ReportRevision:
    report = db.session.get(ProgressReport, publication.report_id)
    actor = db.session.get(User, publication.requested_by_id) if publication.requested_by_id else None
    correction = (db.session.get(ReportCorrection, publication.correction_id)
                  if publication.correction_id else None)
    _still_due(publication, report, correction)
    text = None
    if publication.kind == PublicationKind.CORRECTED:
        text = services.ReportText(publication.summary or "",
                                   publication.lived_experience_reflection or "",
                                   publication.co_produced_by or "")
    elif correction is not None:
        text = services.ReportText.of(correction)
    request_id, approved = publication.id, publication.kind == PublicationKind.APPROVED
    frozen = services.freeze(report, text, publication.change_note, publication.publish_at)
    db.session.commit()  # ends the read: nothing is held while the PDF renders
    pdf = services.render(frozen)
    revision = services._store(actor, report, frozen, pdf, approved=approved, text=text,
                               correction=correction)
    # The request goes in the same transaction as the revision; if it is gone, another worker
    # has published it meanwhile, and nothing of this one is kept.
    if db.session.execute(delete(PublicationRequest).where(
            PublicationRequest.id == request_id)).rowcount != 1:
        transaction.undo()
        raise PublishingError(_("This report has just been published by someone else."))
    tasks.commit()
    return revision


def _still_due(publication: PublicationRequest, report: ProgressReport,
               correction: ReportCorrection | None) -> None:
    """The rules the request checked, as they stand when the worker takes it."""
    if publication.kind in (PublicationKind.APPROVED, PublicationKind.SUBMITTED):
        if report.status != ReportStatus.SUBMITTED:
            raise PublishingError(_("The report is no longer waiting to be published (it is "
                                    "%(status)s).", status=report.status.label.lower()))
    elif report.status != ReportStatus.PUBLISHED:
        raise PublishingError(_("Only a published report can be corrected."))
    if correction is not None and correction.status != CorrectionStatus.SUBMITTED:
        raise PublishingError(_("This correction has already been %(status)s.",
                                status=correction.status.label.lower()))


def _failed(request_id: int, message: str, *, final: bool) -> None:
    """Put a failed try back in the queue, or, after the last, mark the request failed (and
    audit it). Nothing when the request is gone (another worker published it)."""
    publication = db.session.get(PublicationRequest, request_id)
    if publication is None or publication.state != PublicationState.RUNNING:
        return
    publication.state = PublicationState.FAILED if final else PublicationState.QUEUED
    publication.last_error = message[:ERROR_LIMIT]
    publication.queued_at = utcnow()
    db.session.flush()
    if final:
        report = db.session.get(ProgressReport, publication.report_id)
        _record(None, "report.publication_failed", report,
                {"state": [PublicationState.RUNNING.value, PublicationState.FAILED.value],
                 "attempts": publication.attempts, "error": publication.last_error[:300]})
    tasks.commit()


def resume(everything: bool = False) -> int:
    """Send again the requests nobody is working on: queued and not taken for a while (or
    all queued ones, when the worker starts), and running ones whose worker died."""
    now = utcnow()
    queued_before = now if everything else now - STALE_QUEUED
    ids = list(db.session.scalars(select(PublicationRequest.id).where(or_(
        and_(PublicationRequest.state == PublicationState.QUEUED,
             PublicationRequest.queued_at <= queued_before),
        and_(PublicationRequest.state == PublicationState.RUNNING,
             PublicationRequest.started_at < now - _run_timeout())))))
    for request_id in ids:
        tasks.send(tasks.publish_report, request_id)
    return len(ids)
