"""Request glue for server-side sessions (charter.auth.sessions): signing a browser in
and out through Flask-Login. Routes call `sign_in(user)` / `sign_out()`; the request layer
commits with a success or redirect answer (charter.transaction).
"""

from __future__ import annotations

import logging

from flask import g, request
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from charter.auth import sessions
from charter.models import User, UserSession

log = logging.getLogger(__name__)


def load_user(token: str) -> User | None:
    """Flask-Login's user loader: the id in the session or remember cookie is a session
    token; it signs in only while its row is live."""
    row = sessions.find_active(token)
    if row is None:
        return None
    user = row.user
    user.session_token = token
    g.charter_user_session = row
    if sessions.needs_touch(row):
        g.charter_touch_session = row.id
    return user


def current_session() -> UserSession | None:
    """The session row the signed-in browser of this request uses."""
    if not current_user.is_authenticated:
        return None
    return g.get("charter_user_session")


def sign_in(user: User, *, remember: bool = False) -> UserSession:
    """Start a server-side session for `user` and sign this browser in with it (ending
    the session it was signed in with before, if any). Saved when the request commits."""
    if current_session() is not None:
        sign_out()
    row, token = sessions.start_session(
        user, remember=remember, user_agent=request.headers.get("User-Agent", "")
    )
    user.session_token = token
    login_user(user, remember=remember,
               duration=sessions.lifetime(True) if remember else None)
    g.charter_user_session = row
    return row


def sign_out() -> None:
    """End this browser's session server-side and clear its cookies. Saved when the
    request commits."""
    row = current_session()
    if row is not None:
        sessions.sign_out(current_user, row)
    logout_user()
    g.pop("charter_user_session", None)
    g.pop("charter_touch_session", None)


def touch_after_request() -> None:
    """Write last_seen_at (at most every few minutes) once the request's own database
    session has ended; a failure here costs only that timestamp."""
    session_id = g.pop("charter_touch_session", None)
    if session_id is None:
        return
    try:
        sessions.touch(session_id)
    except SQLAlchemyError:
        log.warning("could not record the last use of session %s", session_id, exc_info=True)
