"""Expensive public documents, built once and served from the database until their data change.

The PROMISE Global and site PDFs, signature certificates and the bulk ZIP take seconds to
build. Each is kept in `cached_document` under a key ("global.pdf:en",
"site:cambridge:overview.pdf:en", "certificate:12:en", "bulk.zip:en": the name its route
gives, then the language), with the *fingerprint* of the data it was built from: a hash
that a route computes cheaply and that changes whenever the document's content would.
The table lives in the database, so every worker and host shares one copy.

    documents.serve("global.pdf", documents.fingerprint(documents.data_version(), days),
                    build, content_type="application/pdf")

The policy (`get`):

- the fingerprint matches and the copy is younger than DOCUMENT_CACHE_MAX_AGE: serve it;
- it does not match, but the copy was built less than DOCUMENT_CACHE_MIN_AGE ago: serve it
  anyway (it says when it was built), so that a busy site rebuilds each document at most
  once per MIN_AGE however often its data change;
- otherwise rebuild, and only one request at a time: it claims the row with a conditional
  UPDATE (or the INSERT of the row); while it builds, other requests serve the stale copy,
  or, when there is none yet, wait for it (up to DOCUMENT_BUILD_WAIT seconds, then 503).
  A claim older than DOCUMENT_BUILD_TIMEOUT is taken to be abandoned (a killed worker).

The Global and site PDFs and the bulk ZIP are not built by requests at all: the same claim
sends the build to the task queue, and requests serve the stale copy meanwhile, or 503 with
Retry-After while there is none ("built by the task queue" below). Certificates, which take
a fraction of a second, are built by the request that finds them missing.

Nothing is rendered inside a write transaction: the claim is committed in a short
transaction of its own, the document is built with the request's (read-only) session,
then stored in another short transaction. These are the only writes of such a GET, and
they are not audit events (a derived copy, and the audit log is what the fingerprints read).

`data_version()` is the usual fingerprint: every write of the app records an audit event in
its own transaction (charter/audit.py, including bulk imports through `record_many`, the
demo data and the generated data set), so the newest audit event changes with every
committed write. Documents that depend on the date (a "generated on" date, which cycles are
past due) add the date they are built for to their fingerprint.

Responses carry ETag (the SHA-256 of the bytes), Last-Modified (when the copy was built) and
`Cache-Control: public, max-age=DOCUMENT_HTTP_MAX_AGE`, and answer If-None-Match (or
If-Modified-Since) with 304. `rate_limited` limits anonymous requests for these documents
(DOCUMENT_RATE_LIMIT per client address, shared by the four routes); signed-in people are
not limited.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response, current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from charter.extensions import db, limiter
from charter.models import AuditEvent, CachedDocument
from charter.models.base import utcnow

TABLE = CachedDocument.__table__
POLL_SECONDS = 0.2  # between looks at the row while another request builds it
RECENT_EVENTS = 1000  # see data_version()


@dataclass(frozen=True)
class Built:
    """What a builder returns: the document's bytes and the file name to offer."""

    content: bytes
    filename: str


@dataclass(frozen=True)
class Document:
    key: str
    content_type: str
    filename: str
    sha256: str
    fingerprint: str
    built_at: datetime
    content: bytes | None = None  # None when only the description was read

    @property
    def etag(self) -> str:
        return self.sha256


class Busy(Exception):  # noqa: N818 - reads better where it is raised
    """Another request has been building the document for longer than a request waits."""


# --- fingerprints ------------------------------------------------------------------------

def data_version() -> str:
    """Changes whenever a write of the app commits: the newest audit event id, and how many
    of the RECENT_EVENTS ids below it exist. (On PostgreSQL an id is drawn when a
    transaction inserts, not when it commits, so a transaction can commit an id below the
    newest one; the count sees it.) Two queries on the primary key index."""
    newest = db.session.scalar(select(func.max(AuditEvent.id)))
    if newest is None:
        return "0"
    recent = db.session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.id > newest - RECENT_EVENTS))
    return f"{newest}.{recent}"


def fingerprint(*parts) -> str:
    """A short hash of plain values (with the site's public address, which documents print)."""
    text = json.dumps([current_app.config["SITE_URL"], *parts], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# --- the table, through short transactions of their own ------------------------------------

_DESCRIPTION = (TABLE.c.key, TABLE.c.content_type, TABLE.c.filename, TABLE.c.sha256,
                TABLE.c.fingerprint, TABLE.c.built_at, TABLE.c.building_since)


def _now() -> datetime:
    return utcnow()


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=int(current_app.config[name]))


def _read(key: str, *, content: bool = False) -> Row | None:
    columns = (*_DESCRIPTION, TABLE.c.content) if content else _DESCRIPTION
    with db.engine.connect() as conn:
        return conn.execute(select(*columns).where(TABLE.c.key == key)).one_or_none()


def _document(row: Row, content: bytes | None = None) -> Document:
    return Document(key=row.key, content_type=row.content_type, filename=row.filename,
                    sha256=row.sha256, fingerprint=row.fingerprint, built_at=row.built_at,
                    content=content)


def _claim(key: str, seen_sha256: str | None, exists: bool) -> str | None:
    """Claim the (re)build of `key`; the claim's token, or None if another request has it.

    An existing row is claimed only if nobody is building it (or their claim is older than
    DOCUMENT_BUILD_TIMEOUT) and it still holds the copy this request saw, so that a copy
    stored meanwhile is not built again."""
    token = secrets.token_hex(16)
    now = _now()
    try:
        with db.engine.begin() as conn:
            if not exists:
                conn.execute(insert(TABLE).values(key=key, content_type="", filename="",
                                                  building_since=now, build_token=token))
                return token
            same_copy = (TABLE.c.sha256.is_(None) if seen_sha256 is None
                         else TABLE.c.sha256 == seen_sha256)
            claimed = conn.execute(
                update(TABLE)
                .where(TABLE.c.key == key, same_copy,
                       or_(TABLE.c.building_since.is_(None),
                           TABLE.c.building_since < now - _seconds("DOCUMENT_BUILD_TIMEOUT")))
                .values(building_since=now, build_token=token)
            ).rowcount
    except IntegrityError:  # another request inserted the row first: theirs is the claim
        return None
    return token if claimed == 1 else None


def _store(key: str, token: str, built: Built, content_type: str, print_: str) -> Document:
    now = _now()
    digest = hashlib.sha256(built.content).hexdigest()
    with db.engine.begin() as conn:
        conn.execute(
            update(TABLE).where(TABLE.c.key == key, TABLE.c.build_token == token)
            .values(content=built.content, content_type=content_type, filename=built.filename,
                    sha256=digest, fingerprint=print_, built_at=now, building_since=None,
                    build_token=None))
    # Stored unless our claim was taken over meanwhile; either way these bytes are served.
    return Document(key=key, content_type=content_type, filename=built.filename, sha256=digest,
                    fingerprint=print_, built_at=now, content=built.content)


def _release(key: str, token: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(TABLE).where(TABLE.c.key == key, TABLE.c.build_token == token)
                     .values(building_since=None, build_token=None))


def forget(key: str | None = None) -> None:
    """Drop a cached document (or every one): it is built again when next asked for."""
    with db.engine.begin() as conn:
        conn.execute(TABLE.delete() if key is None else TABLE.delete().where(TABLE.c.key == key))


# --- the policy ------------------------------------------------------------------------------

def _build(key: str, token: str, print_: str, build: Callable[[], Built], content_type: str,
           stale: Row | None) -> Document:
    try:
        built = build()
    except Exception:
        _release(key, token)
        if stale is None:
            raise
        current_app.logger.exception("Rebuilding %s failed; serving the copy built %s",
                                     key, stale.built_at.isoformat())
        return _document(stale)
    return _store(key, token, built, content_type, print_)


def get(key: str, print_: str, build: Callable[[], Built], *, content_type: str,
        min_age: int | None = None) -> Document:
    """The document under `key`: the stored copy, or a new one from `build()` (see the module's
    docstring for when). `min_age` (seconds) overrides DOCUMENT_CACHE_MIN_AGE for documents
    whose fingerprint changes only when they do (a certificate), which need no such limit."""
    minimum = _seconds("DOCUMENT_CACHE_MIN_AGE") if min_age is None else timedelta(seconds=min_age)
    row = _read(key)
    if row is not None and row.sha256 is not None:
        age = _now() - row.built_at
        if row.fingerprint == print_ and age < _seconds("DOCUMENT_CACHE_MAX_AGE"):
            return _document(row)
        if age < minimum:
            return _document(row)  # stale, but recent: rebuilt once MIN_AGE has passed
        token = _claim(key, row.sha256, exists=True)
        if token is None:
            return _document(row)  # another request is rebuilding it: the stale copy meanwhile
        return _build(key, token, print_, build, content_type, stale=row)
    # Nothing stored yet: build it, or wait for the request that does.
    deadline = time.monotonic() + int(current_app.config["DOCUMENT_BUILD_WAIT"])
    while True:
        token = _claim(key, None, exists=row is not None)
        if token is not None:
            return _build(key, token, print_, build, content_type, stale=None)
        if time.monotonic() >= deadline:
            raise Busy(key)
        _pause(POLL_SECONDS)
        row = _read(key)
        if row is not None and row.sha256 is not None:
            return _document(row)


# --- built by the task queue ------------------------------------------------------------------
#
# The Global and site PDFs and the bulk ZIP take seconds, so no request builds them: a request
# that finds no fresh copy claims the rebuild (as above, so at most one is asked for), sends
# the `build_document` task (charter/tasks.py) and answers with the stale copy, or with 503
# and Retry-After while there is none yet. The task builds the document from its *kind*: a
# function registered with `@documents.kind(name)` that, given plain arguments (a site's
# slug), says what to build and its fingerprint; the worker calls it again, so the
# fingerprint stored is the one of the data it read.

@dataclass(frozen=True)
class Spec:
    """What a kind of document is, for given arguments: its name (the key without the
    language), the fingerprint of its data, how to build it and how to serve it."""

    name: str
    fingerprint: str
    build: Callable[[], Built]
    content_type: str
    disposition: str = "inline"


_KINDS: dict[str, Callable[..., Spec]] = {}


def kind(name: str) -> Callable[[Callable[..., Spec]], Callable[..., Spec]]:
    """Register the function that describes a kind of document (see above)."""

    def register(describe: Callable[..., Spec]) -> Callable[..., Spec]:
        _KINDS[name] = describe
        return describe

    return register


def _usable(row: Row | None) -> bool:
    return row is not None and row.sha256 is not None


def _ask_for_build(key: str, token: str, kind_name: str, args: tuple, locale: str) -> None:
    from charter import tasks

    if not tasks.send(tasks.build_document, kind_name, list(args), locale, token, tell=False):
        _release(key, token)  # the queue is down: a later request asks again


def get_or_ask(kind_name: str, spec: Spec, args: tuple, locale: str) -> Document:
    """The stored copy of a document built by the task queue, asking for a (re)build when
    it is missing or stale (see `get` for "stale"); Busy while there is no copy yet."""
    key = f"{spec.name}:{locale}"
    row = _read(key)
    if _usable(row):
        age = _now() - row.built_at
        if (row.fingerprint == spec.fingerprint and age < _seconds("DOCUMENT_CACHE_MAX_AGE")) or (
                age < _seconds("DOCUMENT_CACHE_MIN_AGE")):
            return _document(row)
    token = _claim(key, row.sha256 if _usable(row) else None, exists=row is not None)
    if token is not None:
        _ask_for_build(key, token, kind_name, args, locale)
        newer = _read(key)  # a task run at once (TASK_QUEUE_IMMEDIATE) has built it already
        row = newer if _usable(newer) else row
    if _usable(row):
        return _document(row)
    raise Busy(key)


def serve_from_task(kind_name: str, *args) -> Response:
    """Answer a request for a document that the task queue builds (in the request's
    language): the stored copy, or 503 with Retry-After until the first is built."""
    spec = _KINDS[kind_name](*args)
    try:
        document = get_or_ask(kind_name, spec, args, str(get_locale()))
        return respond(document, disposition=spec.disposition)
    except Busy:
        return busy_response()


def build_claimed(kind_name: str, args: list, locale: str, token: str) -> None:
    """The `build_document` task: build what a request claimed, and store it under that
    claim (a claim taken over meanwhile stores nothing). A failed build frees the claim."""
    from flask_babel import force_locale

    with force_locale(locale):
        spec = _KINDS[kind_name](*args)
        key = f"{spec.name}:{locale}"
        stale = _read(key)
        _build(key, token, spec.fingerprint, spec.build, spec.content_type,
               stale=stale if _usable(stale) else None)


# --- HTTP ------------------------------------------------------------------------------------

def _http_headers(response: Response, document: Document) -> None:
    response.set_etag(document.etag)
    response.last_modified = document.built_at
    response.cache_control.public = True
    response.cache_control.max_age = int(current_app.config["DOCUMENT_HTTP_MAX_AGE"])
    if len(current_app.config.get("LANGUAGES", [])) > 1:
        response.vary.add("Accept-Language")


def _not_modified(document: Document) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(document.etag)
    since = request.if_modified_since
    return since is not None and document.built_at.replace(microsecond=0) <= since


def respond(document: Document, *, disposition: str = "inline") -> Response:
    """The document as an HTTP response (304 when the client's copy is current)."""
    if _not_modified(document):
        response = Response(status=304)
        _http_headers(response, document)
        return response
    if document.content is None:
        row = _read(document.key, content=True)
        if row is None or row.content is None:  # dropped meanwhile (`forget`)
            raise Busy(document.key)
        document = _document(row, row.content)
    response = Response(document.content, mimetype=document.content_type)
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", document.filename) or "document"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{safe}"'
    _http_headers(response, document)
    return response


def busy_response() -> Response:
    """503 with Retry-After: the document's first build is taking longer than a request waits."""
    message = _("This document is being prepared. Please try again in a minute.")
    if request.path.startswith("/api/"):
        from charter.api.extension import error_body

        response = current_app.make_response((error_body(503, message), 503))
    else:
        from charter.errors import render_error

        response = current_app.make_response(render_error(503, message))
    response.retry_after = 60
    return response


def serve(name: str, print_: str, build: Callable[[], Built], *, content_type: str,
          disposition: str = "inline", min_age: int | None = None) -> Response:
    """Answer a request for the document `name` (in the request's language)."""
    try:
        document = get(f"{name}:{get_locale()}", print_, build, content_type=content_type,
                       min_age=min_age)
        return respond(document, disposition=disposition)
    except Busy:
        return busy_response()


# --- rate limit ------------------------------------------------------------------------------

def _rate_limit() -> str:
    return current_app.config["DOCUMENT_RATE_LIMIT"]


def _signed_in() -> bool:
    return bool(current_user.is_authenticated)


def _limited_message() -> str:
    return _("Too many documents asked for from your connection. Please wait a minute before "
             "trying again.")


# One budget for the four documents together, per client address; signed-in people are exempt.
rate_limited = limiter.shared_limit(_rate_limit, scope="public-documents", exempt_when=_signed_in,
                                    error_message=_limited_message)
