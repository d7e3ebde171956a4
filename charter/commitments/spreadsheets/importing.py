"""Importing a checked file: saving a valid plan through the commitment services, after
its uploader has seen the preview and confirmed it, once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy import update as sql_update

from charter import audit, permissions, transaction
from charter.commitments import services
from charter.commitments.spreadsheets.cells import same_text
from charter.commitments.spreadsheets.checking import plan_import
from charter.commitments.spreadsheets.plan import ImportPlan, MeasurementChange
from charter.extensions import db
from charter.models import Commitment, Measurement, Organisation, PendingImport
from charter.models.base import utcnow
from charter.rules import RuleError
from charter.tabular import decimal_text

# --- applying -------------------------------------------------------------------------------


def apply_import(actor, organisation: Organisation, plan: ImportPlan) -> ImportPlan:
    """Save a valid plan: commitments are created and changed by the commitment services,
    measurements added or changed, all in one flush, and one "commitment.imported" audit
    event is written per new or changed commitment. Flushes, never commits."""
    permissions.require(permissions.can_import_commitments(actor, organisation),
                        _("Only the members of an approved organisation can upload its commitments."))
    if not plan.is_valid or plan.organisation.id != organisation.id:
        raise ValueError("only a valid plan for this organisation can be applied")
    updated: services.Events = []
    for update in plan.updates:
        services.update(actor, update.commitment, update.all_values, update.version, events=updated)
    created: services.Events = []
    for new in plan.creates:
        services.create(actor, organisation, new.values, events=created)
    with transaction.refusing_duplicates(_measurements_clashed):
        measured = _apply_measurements(actor, plan.measurement_creates + plan.measurement_updates)
        db.session.flush()  # one flush for every insert and update
    events = []
    for commitment, changes in updated:
        extra = measured.pop(commitment.id, (commitment, {}))[1]
        events.append((commitment, {**changes, **extra}))
    events += [*measured.values(), *created]
    _record_imported(actor, organisation, events)
    plan.applied = True
    return plan


def _apply_measurements(actor, changes: list[MeasurementChange]) -> dict[int, tuple[Commitment, dict]]:
    """Add and change the measurements; what changed, by commitment, for its audit event."""
    measured: dict[int, tuple[Commitment, dict[str, Any]]] = {}
    for change in changes:
        permissions.require(permissions.can_manage_commitment_indicators(actor, change.commitment))
        audited = measured.setdefault(change.commitment.id, (change.commitment, {}))[1]
        # Audit keys are data, like field names: not translated when they are written.
        label = (f"measurement {change.indicator_name} {change.period_start.isoformat()} to "
                 f"{change.period_end.isoformat()}")
        if change.measurement is None:
            db.session.add(Measurement(
                commitment_indicator_id=change.link.id, period_start=change.period_start,
                period_end=change.period_end, value=change.value, note=change.note,
                recorded_by_id=actor.id,
            ))
            audited[label] = [None, decimal_text(change.value)]
            continue
        m = change.measurement
        if change.value_changed:
            audited[label] = [decimal_text(m.value), decimal_text(change.value)]
            m.value = change.value
        if not same_text(m.note, change.note):
            audited[label + " note"] = [m.note or None, change.note or None]
            m.note = change.note
        m.recorded_by_id = actor.id
    return measured


def _measurements_clashed() -> ConfirmationRefused:
    # Another upload or edit saved a measurement of the same period at the same moment.
    return ConfirmationRefused(_("Someone saved measurements for the same periods at the same "
                                 "moment, so nothing was saved. Upload the file again."), status=409)


def _record_imported(actor, organisation: Organisation, events: services.Events) -> None:
    """One "commitment.imported" event per commitment, as services.record writes it, in
    one INSERT however large the upload (services.record flushes after every event)."""
    audit.record_many(actor, "commitment.imported", events, site_id=organisation.site_id,
                      organisation_id=organisation.id)


# --- preview and confirmation ---------------------------------------------------------------
#
# A checked upload is kept on the server (PendingImport) until its uploader confirms it, so the
# confirmation form carries a random token and nothing else, whatever the size of the file.

PENDING_PER_PERSON = 5  # unconfirmed uploads kept per person; older ones are dropped
PENDING_KEPT_AFTER_EXPIRY = timedelta(days=1)  # so that a late replay still gets a clear answer


class ConfirmationRefused(RuleError):  # noqa: N818 - it is a situation, not a failure
    """The confirmation cannot be saved (nothing of it is kept); `message` says why."""


class AlreadyConfirmed(ConfirmationRefused):
    """The upload was saved by an earlier confirmation (a double click, a replay)."""


@dataclass
class Preview:
    plan: ImportPlan
    filename: str
    token: str | None = None  # names the PendingImport that holds the file


def _max_age() -> int:
    return int(current_app.config.get("SPREADSHEET_CONFIRM_MAX_AGE", 2 * 60 * 60))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _token_hash(token: str) -> str:
    return _digest(token.encode("utf-8", "surrogatepass"))


def _clean_up_pending(actor, now: datetime) -> None:
    """Delete pending uploads a day past their expiry, and this person's unconfirmed ones
    beyond the newest few (each may hold a file of up to MAX_UPLOAD_BYTES)."""
    db.session.execute(delete(PendingImport).where(
        PendingImport.expires_at < now - PENDING_KEPT_AFTER_EXPIRY
    ).execution_options(synchronize_session=False))
    older = (select(PendingImport.id)
             .where(PendingImport.user_id == actor.id, PendingImport.used_at.is_(None))
             .order_by(PendingImport.created_at.desc(), PendingImport.id.desc())
             .offset(PENDING_PER_PERSON - 1))
    db.session.execute(delete(PendingImport).where(
        PendingImport.id.in_(older.scalar_subquery())
    ).execution_options(synchronize_session=False))


def preview_import(actor, organisation: Organisation, filename: str, content: bytes) -> Preview:
    """Validate an upload and, when it is valid and changes something, keep the file for its
    confirmation and give the token that names it. Flushes, never commits."""
    plan = plan_import(actor, organisation, content)
    filename = " ".join((filename or "").split())[:200]
    preview = Preview(plan, filename)
    if plan.is_valid and plan.has_changes:
        now = utcnow()
        _clean_up_pending(actor, now)
        preview.token = secrets.token_urlsafe(32)
        db.session.add(PendingImport(
            token_hash=_token_hash(preview.token), user_id=actor.id, organisation_id=organisation.id,
            filename=filename, content=content, content_sha256=_digest(content), size=len(content),
            created_at=now, expires_at=now + timedelta(seconds=_max_age()),
        ))
        db.session.flush()
    return preview


def _not_checked() -> ConfirmationRefused:
    return ConfirmationRefused(_("This confirmation could not be checked, so nothing was saved. "
                                 "Upload the file again."))


def _already_saved() -> AlreadyConfirmed:
    return AlreadyConfirmed(_("This upload has already been saved; nothing was saved a second time."))


def _claim(pending: PendingImport, now: datetime) -> None:
    """Mark the upload used, once: of two confirmations at the same moment, the second waits
    for the first to commit and then finds it used (rowcount 0)."""
    result = db.session.execute(
        sql_update(PendingImport)
        .where(PendingImport.id == pending.id, PendingImport.used_at.is_(None),
               PendingImport.expires_at > now)
        .values(used_at=now, content=None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        used_at = db.session.scalar(select(PendingImport.used_at).where(PendingImport.id == pending.id))
        if used_at is not None:
            raise _already_saved()
        raise ConfirmationRefused(_("This confirmation has expired. Upload the file again."))


def confirm_import(actor, organisation: Organisation, token: str) -> Preview:
    """Check the confirmation, validate the kept file again (things may have changed since
    the preview) and, when it is still valid, apply it, once. Flushes, never commits; when
    the request's work is rolled back, the confirmation stays unused too."""
    permissions.require(permissions.can_import_commitments(actor, organisation),
                        _("Only the members of an approved organisation can upload its commitments."))
    pending = db.session.scalar(select(PendingImport).where(
        PendingImport.token_hash == _token_hash(token or "")))
    # Only the person who uploaded the file confirms it, for the organisation it was for.
    if pending is None or pending.user_id != actor.id or pending.organisation_id != organisation.id:
        raise _not_checked()
    if pending.used_at is not None:
        raise _already_saved()
    now = utcnow()
    if pending.expires_at <= now:
        raise ConfirmationRefused(_("This confirmation has expired. Upload the file again."))
    content = pending.content
    if content is None or not hmac.compare_digest(_digest(content), pending.content_sha256):
        raise _not_checked()
    plan = plan_import(actor, organisation, content)
    preview = Preview(plan, pending.filename)
    if plan.is_valid:
        _claim(pending, now)
        apply_import(actor, organisation, plan)
    return preview

