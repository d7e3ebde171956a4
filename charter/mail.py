"""The mail outbox: every email is stored first, then delivered.

With `MAIL_SERVER` set, messages are queued and delivered over SMTP (right after the
request that queued them, and again by `flask charter send-mail` for any that failed).
Without it, messages are *held*: admins read them at the outbox page, so a demo machine
without mail still works end to end (password resets, invitations, reminders).
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, g, has_request_context
from sqlalchemy import select

from charter.extensions import db
from charter.models import OutboxMessage, OutboxStatus
from charter.models.base import utcnow

MAX_ATTEMPTS = 5


def mail_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def queue(
    to_address: str,
    subject: str,
    body_text: str,
    *,
    kind: str,
    user=None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Store a message in the outbox (flush only). With a dedupe key already used,
    nothing is queued and None is returned."""
    if dedupe_key is not None:
        exists = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        )
        if exists is not None:
            return None
    message = OutboxMessage(
        to_address=to_address,
        subject=subject[:300],
        body_text=body_text,
        kind=kind,
        user_id=getattr(user, "id", None),
        dedupe_key=dedupe_key,
        status=OutboxStatus.QUEUED if mail_configured() else OutboxStatus.HELD,
    )
    db.session.add(message)
    db.session.flush()
    if has_request_context() and message.status == OutboxStatus.QUEUED:
        g.setdefault("outbox_new_ids", []).append(message.id)
    return message


def _smtp_send(message: OutboxMessage) -> None:
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="promise-charter")
    email.set_content(message.body_text)
    smtp_cls = smtplib.SMTP_SSL if cfg["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_cls(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg["MAIL_TIMEOUT"]) as smtp:
        if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
            smtp.starttls()
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.send_message(email)


def deliver(ids: list[int] | None = None) -> tuple[int, int]:
    """Send queued messages (all, or those with the given ids). Commits each result.

    Returns (sent, failed). Held messages are left alone: there is no server.
    """
    if not mail_configured():
        return (0, 0)
    query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    sent = failed = 0
    for message in db.session.scalars(query.order_by(OutboxMessage.id)).all():
        message.attempts += 1
        try:
            _smtp_send(message)
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
            failed += 1
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            message.last_error = None
            sent += 1
        db.session.commit()
    return (sent, failed)


def deliver_after_request(response):
    """after_request hook: try at once to send what this request queued (and committed)."""
    ids = g.pop("outbox_new_ids", None)
    if ids and response.status_code < 400:
        try:
            deliver(ids)
        except Exception:  # pragma: no cover - never fail a request over mail
            current_app.logger.exception("outbox delivery failed; `flask charter send-mail` retries")
            db.session.rollback()
    return response
