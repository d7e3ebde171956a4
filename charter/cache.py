"""The shared page cache: anonymous GETs of public pages, feeds, PDFs and API responses.

A hit is answered by a WSGI middleware in front of Flask (`HitMiddleware`), before a
request context, a session, a user, the rate limiter or Babel: one query on the primary key
index of audit_event (`version()`: the same value as `documents.data_version()`) and one or
two reads of the cache (Flask-Caching: files under instance/cache by default, Redis in
production). What a hit needs (the URL, the language, the conditional headers) is read from
the WSGI environment with the same functions the before-request hook uses on a miss, so
both compute the same key. A miss goes on to Flask, where the before-request hook
(registered before anything loads a user or checks a limit) notes what to store.

What is kept, and when
- Only for the public: a request that carries the session cookie, the remember cookie or
  an Authorization header never reads the cache and is never stored (it may see drafts).
- Only GET and HEAD of the endpoints in PUBLIC_ENDPOINTS (the public GETs of the access
  tables, tests/access/, minus the pages whose form the public fills in, the health check
  and the files that are already served from disk with their own ETag).
- Only a 200 that sets no cookie, is not marked private or no-store, is not streamed from
  a file, and is at most PAGE_CACHE_MAX_BYTES long.

The key
`data_version()` (which changes with every committed write, since every write records an
audit event), the full URL with its query string and host, the response language, and a
time bucket of PAGE_CACHE_LIFETIME seconds (pages that show "overdue" or "due in 3 days"
change with the date, not with the data). A generation stored in the cache is part of
every entry: `invalidate()` bumps it, for derived data that change without an audit event
(summary tables refreshed by a task).

An entry is two values: the headers and validators under the key, and the body under its
own SHA-256, so a conditional request is answered 304 without reading the body, and pages
that come out the same under a new data version share one copy.

Validators: ETag is the body's SHA-256 (or the view's own ETag, as PDFs have);
Last-Modified is the time the cache first saw this data version and generation (never
earlier than the change; a later version always gets a later second, so If-Modified-Since
never mistakes one for another). A cache that fails (Redis down, a full disk) is logged and
the page is served uncached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, request_finished
from sqlalchemy import text
from werkzeug.http import http_date
from werkzeug.wrappers import Request

from charter.extensions import cache as backend

log = logging.getLogger(__name__)

# Public GETs (tests/access/) that the cache may keep. Not here: the seven pages with a form
# the public fills in (they set the session cookie for its CSRF token), /healthz (it must
# be live), /static (Flask serves it from disk with its own ETag) and the stored report PDFs
# (streamed from disk under their SHA-256, charter/blobs.py). tests/test_page_cache.py
# checks this list against the access tables. A report's page is here although the access
# tables show the public a draft's (a 404): only a 200 is stored, and only a published
# report's page answers the public 200.
PUBLIC_ENDPOINTS = frozenset({
    "main.index", "main.security_txt",
    "sites.site", "sites.charter", "sites.current_charter", "sites.version",
    "sites.version_markdown", "sites.diff",
    "organisations.signatories", "organisations.profile",
    "signing.signed", "signing.certificate", "signing.verify", "signing.verify_form",
    "catalogue.catalogue", "catalogue.domains", "catalogue.domain",
    "commitments.view", "commitments.partnerships",
    "reports.index", "reports.view", "reports.revision", "reports.feed", "reports.site_feed",
    "dashboards.global_view", "dashboards.global_pdf", "dashboards.site_pdf",
    "open_data.index", "api-docs.openapi_json",
    "api.sites", "api.site", "api.organisations", "api.organisation", "api.signatures",
    "api.commitments", "api.commitment", "api.domains", "api.indicators",
    "api.measurements", "api.reports", "api.report", "api.bulk_zip",
})

GENERATION_KEY = "page:generation"
LAST_SEEN_KEY = "page:last-seen"
# Headers a stored response does not keep: those written afresh for each answer, and the
# rate limiter's (they count one client's requests).
_NOT_STORED = {"set-cookie", "date", "content-length", "x-page-cache", "retry-after",
               "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}


@dataclass
class Pending:
    """What the before-request hook learnt on a miss, for the after-request hook."""

    key: str
    version: str
    generation: str


def init_app(app: Flask) -> None:
    """Register the hooks. Call before anything else registers a before-request hook that
    loads a user or checks a rate limit; the after-request hook, registered this early,
    runs after the others (the commit, the security headers)."""
    app.before_request(serve_from_cache)
    app.after_request(prepare_to_store)
    request_finished.connect(store, app)
    app.wsgi_app = HitMiddleware(app, app.wsgi_app)


def invalidate() -> None:
    """Forget every cached page now: for data that change without an audit event."""
    try:
        backend.set(GENERATION_KEY, uuid.uuid4().hex, timeout=0)
    except Exception:
        log.warning("the page cache could not be invalidated", exc_info=True)


def _new_generation() -> str:
    """A generation for a cache that has none (new, emptied, or evicted it): a new random
    one, so that entries kept under an older generation are never valid again."""
    generation = uuid.uuid4().hex
    try:
        if not backend.add(GENERATION_KEY, generation, timeout=0):
            generation = backend.get(GENERATION_KEY) or generation
    except Exception:
        log.warning("the page cache could not be written", exc_info=True)
    return generation


# --- who and what ---------------------------------------------------------------------------

def is_anonymous_request() -> bool:
    """No session cookie, no remember cookie, no Authorization header: the public."""
    return _anonymous(request, current_app.config)


def _anonymous(req: Request, config) -> bool:
    cookies = req.cookies
    return not ("Authorization" in req.headers
                or config.get("SESSION_COOKIE_NAME", "session") in cookies
                or config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies)


def _eligible() -> bool:
    return (bool(current_app.config.get("PAGE_CACHE"))
            and request.method in ("GET", "HEAD")
            and request.endpoint in PUBLIC_ENDPOINTS
            and is_anonymous_request())


def _language(req: Request, config) -> str:
    """The response's language, as charter.views_support.select_locale() chooses it."""
    return req.accept_languages.best_match(config["LANGUAGES"]) or "en"


def _key(version: str, req: Request | None = None, config=None) -> str:
    req = request if req is None else req
    config = current_app.config if config is None else config
    bucket = int(time.time() // _lifetime(config))
    parts = json.dumps([version, req.url, _language(req, config), bucket])
    return "page:" + hashlib.sha256(parts.encode()).hexdigest()


def _lifetime(config=None) -> int:
    config = current_app.config if config is None else config
    return max(1, int(config.get("PAGE_CACHE_LIFETIME", 3600)))


# One statement, on the primary key index: the newest audit event id and how many of the
# RECENT_EVENTS ids below it exist (documents.data_version() explains why both).
_VERSION = text(
    "SELECT newest, (SELECT count(*) FROM audit_event WHERE id > newest - :recent) "
    "FROM (SELECT max(id) AS newest FROM audit_event) AS latest")


def version() -> str:
    """documents.data_version(), in one query on a connection of its own (no ORM session,
    no transaction left open): read before a page is rendered, so a page stored under a
    version shows at least the data of that version."""
    from charter.documents import RECENT_EVENTS
    from charter.extensions import db

    with db.engine.connect() as conn:
        newest, recent = conn.execute(_VERSION, {"recent": RECENT_EVENTS}).one()
    return "0" if newest is None else f"{newest}.{recent}"


class HitMiddleware:
    """Answers a hit before Flask: no request context, session, user, limiter or Babel.
    Anything else (a miss, a POST, a signed-in request, a cache that fails) goes to Flask."""

    def __init__(self, app: Flask, wsgi_app) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        config = self.app.config
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") and config.get("PAGE_CACHE"):
            try:
                response = self._hit(Request(environ), config)
            except Exception:
                log.warning("the page cache could not be read", exc_info=True)
                response = None
            if response is not None:
                return response(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _hit(self, req: Request, config) -> Response | None:
        if not _anonymous(req, config):
            return None
        with self.app.app_context():  # (the cache and the engine of this app; no request)
            key = _key(version(), req, config)
            meta, generation = backend.get_many(key, GENERATION_KEY)
            if not meta or not generation or meta.get("generation") != generation:
                return None
            return _answer(meta, req, backend.get)


# --- a hit ----------------------------------------------------------------------------------

def serve_from_cache() -> Response | None:
    """The before-request hook: answer from the cache, or note what to store afterwards."""
    for name in ("page_cache", "page_cache_hit", "page_cache_entry"):
        g.pop(name, None)  # (a context shared with an earlier request, as in tests)
    if not _eligible():
        return None
    data_version = version()
    key = _key(data_version)
    try:
        meta, generation = backend.get_many(key, GENERATION_KEY)
    except Exception:
        log.warning("the page cache could not be read", exc_info=True)
        return None
    generation = generation or _new_generation()
    g.page_cache = Pending(key, data_version, generation)
    if not meta or meta.get("generation") != generation:
        return None
    response = _answer(meta, request, backend.get)
    if response is not None:
        g.page_cache_hit = True
    return response


def _not_modified(meta: dict, req: Request | None = None) -> bool:
    req = request if req is None else req
    if req.if_none_match:
        return req.if_none_match.contains_weak(meta["etag"])
    since = req.if_modified_since
    return since is not None and since.timestamp() >= meta["last_modified"]


def _answer(meta: dict, req: Request, get) -> Response | None:
    headers = [(name, value) for name, value in meta["headers"]]
    if _not_modified(meta, req):
        response = Response(status=304, headers=_validators_only(headers))
    else:
        try:
            body = get("page:body:" + meta["body"])
        except Exception:
            log.warning("the page cache could not be read", exc_info=True)
            body = None
        if body is None:
            return None  # the body was evicted: render again (and store again)
        response = Response(body, status=200, headers=headers)
    response.headers["X-Page-Cache"] = "hit"
    return response


def _validators_only(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    keep = {"etag", "last-modified", "cache-control", "vary", "expires", "content-location"}
    return [(name, value) for name, value in headers if name.lower() in keep]


# --- a miss ---------------------------------------------------------------------------------

def _storable(response: Response) -> bool:
    cache_control = response.cache_control
    return (response.status_code == 200
            and not response.direct_passthrough and not response.is_streamed
            and not cache_control.private and not cache_control.no_store
            and not getattr(g, "no_store", False)
            and "Set-Cookie" not in response.headers)


def prepare_to_store(response: Response) -> Response:
    """The after-request hook of a miss: give the response its validators and public
    Cache-Control, answer 304 if the client's copy is current, and keep what to store
    until the response is final (the session cookie is written after this hook)."""
    pending: Pending | None = g.pop("page_cache", None)
    if pending is None or g.get("page_cache_hit") or not _storable(response):
        return response
    body = response.get_data()
    if len(body) > current_app.config.get("PAGE_CACHE_MAX_BYTES", 5 * 1024 * 1024):
        return response
    timeout = _entry_timeout(response)
    meta = _validators(response, pending, body)
    g.page_cache_entry = (pending.key, meta, body, timeout)
    if _not_modified(meta):
        response = Response(status=304, headers=_validators_only(meta["headers"]))
    response.headers["X-Page-Cache"] = "miss"  # not stored: a hit says "hit"
    return response


def _validators(response: Response, pending: Pending, body: bytes) -> dict:
    """ETag (the view's, or the body's SHA-256), Last-Modified (the view's, or when the
    data version was first seen), Cache-Control; and the entry that keeps them."""
    digest = hashlib.sha256(body).hexdigest()
    if not response.headers.get("ETag"):
        response.set_etag(digest)
    if response.last_modified is not None:
        last_modified = response.last_modified.timestamp()
    else:
        last_modified = _last_modified(pending)
        if last_modified is not None:
            response.headers["Last-Modified"] = http_date(last_modified)
    if not response.cache_control.max_age:
        response.cache_control.max_age = int(current_app.config.get("PAGE_CACHE_MAX_AGE", 10))
    response.cache_control.public = True
    if len(current_app.config.get("LANGUAGES") or ()) > 1:
        response.vary.add("Accept-Language")
    return {
        "generation": pending.generation, "body": digest,
        "etag": response.get_etag()[0],
        "last_modified": math.inf if last_modified is None else last_modified,
        "headers": [(n, v) for n, v in response.headers.items() if n.lower() not in _NOT_STORED],
    }


def _entry_timeout(response: Response) -> int:
    """How long to keep the entry. A response with its own Last-Modified is a stored public
    document (charter/documents.py), which may be a copy served after its data changed,
    until it is DOCUMENT_CACHE_MIN_AGE old: kept only until then (a minute at least)."""
    timeout = _timeout()
    if response.last_modified is None:
        return timeout
    age = time.time() - response.last_modified.timestamp()
    left = int(current_app.config.get("DOCUMENT_CACHE_MIN_AGE", 300) - age)
    return max(1, min(timeout, max(60, left)))


def _last_modified(pending: Pending) -> int | None:
    """The whole second at which the cache first saw this data version and generation,
    later than that of any version seen before (so two versions never share a second)."""
    seen_key = f"page:seen:{pending.version}:{pending.generation}"
    try:
        seen = backend.get(seen_key)
        if seen is None:
            last = backend.get(LAST_SEEN_KEY) or 0
            seen = max(math.ceil(time.time()), int(last) + 1)
            backend.set(LAST_SEEN_KEY, seen, timeout=0)
            if not backend.add(seen_key, seen, timeout=_timeout()):
                seen = backend.get(seen_key) or seen
    except Exception:
        log.warning("the page cache could not be read", exc_info=True)
        return None
    bucket_start = int(time.time() // _lifetime()) * _lifetime()
    return max(int(seen), bucket_start)


def _timeout() -> int:
    return int(current_app.config.get("PAGE_CACHE_TIMEOUT", 24 * 60 * 60))


def store(sender: Flask, response: Response, **_extra) -> None:
    """request_finished: store the entry once the response is final. A response that sets
    a cookie after all (the session was written) is not stored, and not public either."""
    entry = g.pop("page_cache_entry", None)
    if entry is None:
        return
    if "Set-Cookie" in response.headers:
        response.cache_control.public = False
        response.cache_control.private = True
        response.cache_control.no_cache = True
        return
    key, meta, body, timeout = entry
    try:
        backend.set("page:body:" + meta["body"], body, timeout=timeout)
        backend.set(key, meta, timeout=timeout)
    except Exception:
        log.warning("the page cache could not be written", exc_info=True)
