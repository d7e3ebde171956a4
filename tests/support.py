"""Test helpers: a CSRF-aware client, signing in, counting queries, reading pages."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from html import unescape

from flask import g, has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event

from charter.extensions import db


def _clear_g() -> None:
    if has_app_context():
        g.__dict__.clear()


class CSRFClient(FlaskClient):
    """A test client for an app with CSRF protection switched on.

    `client.post(url, data={...})` adds a valid token (taken from the session, as the
    browser's form would carry it) unless the data already has one or `csrf=False`.
    """

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            if "csrf_token" not in sess:
                sess["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324
            raw = sess["csrf_token"]
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def open(self, *args, **kwargs):
        # The request runs in its own database session: hand it what the test has set
        # up, and let the test see afterwards what the request committed.
        # In production every request has its own app context; here the test's context is
        # shared, so clear what a request leaves in `g` (Flask-Login's cached user).
        db.session.commit()
        _clear_g()
        response = super().open(*args, **kwargs)
        _clear_g()
        db.session.expire_all()
        return response

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)):
            data = dict(data or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)

    def login(self, user) -> None:
        """Sign in as `user` without the sign-in form (which is rate-limited): a new
        server-side session (no audit event) whose token goes into the session cookie."""
        from charter.auth.sessions import new_session

        _row, token = new_session(user, user_agent="test client")
        with self.session_transaction() as sess:
            sess["_user_id"] = token
            sess["_fresh"] = True

    def logout(self) -> None:
        """Forget the session cookie's user (the server-side session stays, unused)."""
        with self.session_transaction() as sess:
            sess.pop("_user_id", None)


def form_csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "the page has no CSRF token in its form"
    return match.group(1)


def text_of(response) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __repr__(self) -> str:
        return f"<{self.count} queries>\n" + "\n".join(self.statements)


# Statements the document cache (charter/documents.py) adds to a document's first build:
# the data version (newest audit event, recent count), reading the row, the claim, the store;
# for a document built by the task queue (run at once in the tests), the task's own data
# version and reading of the row, and the request's reading of the stored copy.
DOCUMENT_CACHE_QUERIES = 9


@contextlib.contextmanager
def count_queries():
    """Count the SQL statements sent to the database inside the block."""
    counter = QueryCounter()
    engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA")):
            counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)
