"""Server-side sessions: every signed-in browser has a UserSession row, so that signing
out, "sign out of all devices" and a password change or reset really end sessions.

The browser holds a random token (`secrets.token_urlsafe`) as Flask-Login's user id, in
the signed session cookie and, with "keep me signed in", in the remember cookie. Only
the token's SHA-256 is stored. A session works while its row is neither revoked nor
expired: 12 hours after signing in (PERMANENT_SESSION_LIFETIME), or at most 30 days
with "keep me signed in" (REMEMBER_COOKIE_DURATION, the remember cookie's lifetime).

Services here take plain values and model objects, write the audit event and flush;
the request glue (cookies, Flask-Login) is in charter.auth.login.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import joinedload

from charter import audit, permissions
from charter.extensions import db
from charter.models import User, UserSession
from charter.models.base import utcnow
from charter.permissions import PermissionDenied

# last_seen_at is written at most this often per session, not on every request.
TOUCH_INTERVAL = timedelta(minutes=5)
MAX_REMEMBER = timedelta(days=30)
USER_AGENT_LENGTH = 200


class SessionNotFound(Exception):  # noqa: N818 - reads better where it is raised
    pass


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _seconds(value) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def lifetime(remember: bool) -> timedelta:
    config = current_app.config
    if remember:
        return min(_seconds(config["REMEMBER_COOKIE_DURATION"]), MAX_REMEMBER)
    return _seconds(config["PERMANENT_SESSION_LIFETIME"])


def new_session(user: User, *, remember: bool = False, user_agent: str = "",
                now: datetime | None = None) -> tuple[UserSession, str]:
    """A new session row for `user` and the token the browser will hold (no audit event:
    `start_session` is the sign-in; tests use this to sign in without the form)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user=user,
        token_hash=hash_token(token),
        remember=bool(remember),
        user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime(remember),
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def start_session(user: User, *, remember: bool, user_agent: str) -> tuple[UserSession, str]:
    """Sign `user` in: a new session, the time of signing in and an audit event. The
    user's sessions that ended before are tidied away."""
    now = utcnow()
    db.session.execute(
        delete(UserSession)
        .where(UserSession.user_id == user.id, _ended(now))
        .execution_options(synchronize_session=False)
    )
    row, token = new_session(user, remember=remember, user_agent=user_agent, now=now)
    user.last_login_at = now
    audit.record(user, "user.signed_in", user, {
        "session": row.id, "remember": row.remember, "device": describe_device(row.user_agent),
    })
    return row, token


def find_active(token: str, now: datetime | None = None) -> UserSession | None:
    """The live session for a token (with its user), or None: unknown, ended, expired or
    the account is deactivated."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = db.session.scalar(
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.token_hash == hash_token(token))
    )
    if row is None or not row.is_active_at(now) or not row.user.active:
        return None
    return row


def needs_touch(row: UserSession, now: datetime | None = None) -> bool:
    return (now or utcnow()) - row.last_seen_at >= TOUCH_INTERVAL


def touch(session_id: int, now: datetime | None = None) -> None:
    """Record that the session was used. Runs in its own short transaction after the
    request (see charter.auth.login), so no request's work is committed with it."""
    now = now or utcnow()
    with db.engine.begin() as conn:
        conn.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.last_seen_at < now - TOUCH_INTERVAL)
            .values(last_seen_at=now)
        )


def active_sessions(user: User, now: datetime | None = None) -> list[UserSession]:
    now = now or utcnow()
    return list(db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
               UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ))


def _revoke(rows: list[UserSession], reason: str, now: datetime) -> list[int]:
    ended = []
    for row in rows:
        if row.revoked_at is None:
            row.revoked_at = now
            row.end_reason = reason
            ended.append(row.id)
    return ended


def sign_out(user: User, row: UserSession) -> None:
    """End the session this browser is signed in with."""
    now = utcnow()
    if _revoke([row], "signed_out", now):
        audit.record(user, "user.signed_out", user, {"session": row.id})
    db.session.flush()


def end_session(actor: User, session_id: int) -> UserSession:
    """End one of the actor's own sessions (from the list on the account page)."""
    row = db.session.get(UserSession, session_id)
    if row is None or not permissions.can_end_session(actor, row):
        raise SessionNotFound(session_id)
    if _revoke([row], "ended", utcnow()):
        audit.record(actor, "user.session_ended", row.user, {
            "session": row.id, "device": describe_device(row.user_agent),
        })
    db.session.flush()
    return row


def end_all_sessions(actor: User | None, user: User, *, reason: str,
                     keep: UserSession | None = None) -> list[int]:
    """End every live session of `user` except `keep`; one audit event lists them.

    `reason`: all_devices (the user asked), password_changed, password_reset or
    admin_changed (the CLI set a new password)."""
    if actor is not None and not permissions.can_end_sessions_of(actor, user):
        raise PermissionDenied(_("You do not have permission to do that."))
    now = utcnow()
    rows = [row for row in active_sessions(user, now) if keep is None or row.id != keep.id]
    ended = _revoke(rows, reason, now)
    if ended or reason == "all_devices":
        audit.record(actor, "user.sessions_ended", user, {
            "reason": reason, "count": len(ended), "sessions": ", ".join(map(str, ended)),
        })
    db.session.flush()
    return ended


def _ended(now: datetime):
    return or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now)


def delete_ended_sessions(older_than: timedelta = timedelta(0), now: datetime | None = None) -> int:
    """Delete the rows of sessions that ended (signed out, revoked or expired) more than
    `older_than` ago. Their sign-ins and sign-outs stay in the audit log."""
    cutoff = (now or utcnow()) - older_than
    result = db.session.execute(
        delete(UserSession)
        .where(or_(UserSession.revoked_at <= cutoff, UserSession.expires_at <= cutoff))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --- how a session is shown -----------------------------------------------------------

_BROWSERS = [  # order matters: Edge and Opera also say "Chrome", Chrome also says "Safari"
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\b(OPR|Opera)/")),
    ("Firefox", re.compile(r"\b(Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(Chrome|CriOS|Chromium)/")),
    ("Safari", re.compile(r"\bSafari/")),
]
_PLATFORMS = [
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("ChromeOS", re.compile(r"\bCrOS\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMacintosh\b|\bMac OS X\b")),
    ("Linux", re.compile(r"\bLinux\b")),
]


def describe_device(user_agent: str | None) -> str:
    """A short label such as "Firefox on Linux" from a User-Agent header."""
    text = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(text)), None)
    platform = next((name for name, pattern in _PLATFORMS if pattern.search(text)), None)
    if browser and platform:
        return _("%(browser)s on %(platform)s", browser=browser, platform=platform)
    if browser or platform:
        return browser or platform
    return _("Unknown browser")
