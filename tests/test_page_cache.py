"""The shared page cache (issue 12 point 2): anonymous GETs of public pages are answered
from the cache, keyed by the data version; signed-in requests never read or fill it; every
write that the public can see shows at once."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest

from charter import cache as page_cache
from charter.extensions import cache as backend
from charter.extensions import db
from tests.access import ACCESS
from tests.support import count_queries
from tests.test_public_reads import PUBLIC_FORMS, PUBLIC_GETS


@pytest.fixture(autouse=True)
def page_cache_on(app):
    app.config["PAGE_CACHE"] = True
    yield
    app.config["PAGE_CACHE"] = False


@pytest.fixture
def anon(app):
    return app.test_client()


def _get(client, url, **headers):
    return client.get(url, headers=headers)


def _state(response) -> str | None:
    return response.headers.get("X-Page-Cache")


def _commitment(world, *, published=True, title="Halve prone restraint by 2027"):
    from tests.access.indicators import commitment

    c = commitment(world, published=published, title=title)
    db.session.commit()
    return c


# --- what may be cached -----------------------------------------------------------------

def test_the_allowlist_is_the_public_gets_of_the_access_tables_less_forms_and_files():
    public = {endpoint for endpoint, _method in PUBLIC_GETS}
    not_cached = PUBLIC_FORMS | {"static", "charts.chart_file", "main.healthz", "reports.pdf",
                                 "reports.revision_pdf"}
    # A report's page answers the public 404 in the access tables (a draft), 200 published.
    assert (public - not_cached) | {"reports.view"} == page_cache.PUBLIC_ENDPOINTS


def test_a_published_report_page_is_cached_and_a_draft_never(anon, world):
    from tests.access.reports import _report

    published, draft = _report(world, "published"), _report(world)
    db.session.commit()
    first = anon.get(f"/reports/{published.id}")
    assert first.status_code == 200 and _state(first) == "miss"
    second = anon.get(f"/reports/{published.id}")
    assert _state(second) == "hit" and second.data == first.data
    assert "Set-Cookie" not in second.headers
    for _ in range(2):
        answer = anon.get(f"/reports/{draft.id}")
        assert answer.status_code == 404 and _state(answer) != "hit"
        assert draft.summary.encode() not in answer.data


def test_a_second_anonymous_get_is_served_from_the_cache_in_at_most_three_queries(anon, world):
    c = _commitment(world)
    first = anon.get(f"/commitments/{c.id}")
    assert first.status_code == 200 and _state(first) == "miss"
    with count_queries() as counter:
        second = anon.get(f"/commitments/{c.id}")
    assert _state(second) == "hit"
    assert second.data == first.data
    assert len(counter.statements) <= 3, counter.statements
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Security-Policy"):
        assert second.headers[name] == first.headers[name]
    assert "public" in second.headers["Cache-Control"]
    assert "max-age=10" in second.headers["Cache-Control"]
    assert "Set-Cookie" not in second.headers


def test_the_view_is_not_called_on_a_hit(app, anon, world, monkeypatch):
    anon.get("/")
    calls = []
    view = app.view_functions["main.index"]
    monkeypatch.setitem(app.view_functions, "main.index",
                        lambda *a, **kw: calls.append(1) or view(*a, **kw))
    assert _state(anon.get("/")) == "hit"
    assert calls == []


def test_query_strings_are_part_of_the_key(anon, world):
    assert _state(anon.get("/reports")) == "miss"
    assert _state(anon.get("/reports?page=2")) == "miss"
    assert _state(anon.get("/reports?page=2")) == "hit"
    assert _state(anon.get("/reports")) == "hit"


def test_a_head_request_is_answered_from_the_cache_without_a_body(anon, world):
    first = anon.get("/reports")
    head = anon.head("/reports")
    assert head.status_code == 200 and _state(head) == "hit"
    assert head.data == b"" and head.headers["ETag"] == first.headers["ETag"]
    # and a HEAD that misses fills the cache for the GET
    assert _state(anon.head("/signatories")) == "miss"
    get = anon.get("/signatories")
    assert _state(get) == "hit" and b"<html" in get.data


# --- conditional requests ------------------------------------------------------------------

def test_if_none_match_gets_304_on_a_miss_and_on_a_hit(anon, world):
    first = anon.get("/reports")
    etag = first.headers["ETag"]
    backend.clear()
    miss = _get(anon, "/reports", If_None_Match=etag)
    assert miss.status_code == 304 and miss.data == b"" and _state(miss) == "miss"
    with count_queries() as counter:
        hit = _get(anon, "/reports", If_None_Match=etag)
    assert hit.status_code == 304 and hit.data == b"" and _state(hit) == "hit"
    assert hit.headers["ETag"] == etag and "public" in hit.headers["Cache-Control"]
    assert len(counter.statements) <= 3
    other = _get(anon, "/reports", If_None_Match='"something-else"')
    assert other.status_code == 200 and other.data == first.data


def test_a_304_on_a_hit_does_not_read_the_body(anon, world, monkeypatch):
    first = anon.get("/reports")
    read = []
    get = backend.get
    monkeypatch.setattr(backend, "get", lambda key: read.append(key) or get(key))
    response = _get(anon, "/reports", If_None_Match=first.headers["ETag"])
    assert response.status_code == 304
    assert not any(key.startswith("page:body:") for key in read), read


def test_if_modified_since_gets_304_until_the_data_change(anon, world):
    c = _commitment(world)
    first = anon.get(f"/commitments/{c.id}")
    since = first.headers["Last-Modified"]
    assert _get(anon, f"/commitments/{c.id}", If_Modified_Since=since).status_code == 304
    assert _get(anon, f"/commitments/{c.id}",
                If_Modified_Since="Mon, 01 Jan 2001 00:00:00 GMT").status_code == 200
    _retire(world, c)
    changed = _get(anon, f"/commitments/{c.id}", If_Modified_Since=since)
    assert changed.status_code == 200 and "Retired" in changed.get_data(as_text=True)
    assert changed.headers["Last-Modified"] != since


# --- never for a signed-in person, never with a cookie -----------------------------------

def _draft_shown_to_its_editor(client, world):
    _commitment(world, published=False, title="A draft only the editor sees")
    client.login(world.user("editor"))
    page = client.get("/organisations/fenland-trust")
    assert "A draft only the editor sees" in page.get_data(as_text=True)
    return page


def test_a_signed_in_page_is_never_stored(app, client, anon, world):
    page = _draft_shown_to_its_editor(client, world)
    assert _state(page) is None and "private" in page.headers["Cache-Control"]
    public = anon.get("/organisations/fenland-trust")
    assert _state(public) == "miss"
    assert "A draft only the editor sees" not in public.get_data(as_text=True)


def test_a_signed_in_request_never_reads_the_cache(app, client, anon, world):
    public = anon.get("/organisations/fenland-trust")
    assert _state(anon.get("/organisations/fenland-trust")) == "hit"
    page = _draft_shown_to_its_editor(client, world)
    assert _state(page) is None
    assert page.data != public.data


@pytest.mark.parametrize("header", ["Authorization", "Cookie"])
def test_a_request_with_credentials_or_a_session_cookie_is_not_served_from_the_cache(anon, world, header):
    anon.get("/reports")
    if header == "Cookie":
        anon.set_cookie("session", "anything")
        response = anon.get("/reports")
    else:
        response = _get(anon, "/reports", Authorization="Bearer abc")
    assert _state(response) is None and response.status_code == 200


def test_a_response_that_sets_a_cookie_is_not_stored(app, anon, world, monkeypatch):
    from flask import session

    view = app.view_functions["main.index"]

    def writes_the_session(*args, **kwargs):
        session["seen"] = True
        return view(*args, **kwargs)

    monkeypatch.setitem(app.view_functions, "main.index", writes_the_session)
    first = anon.get("/")
    assert "Set-Cookie" in first.headers and "public" not in first.headers["Cache-Control"]
    anon.delete_cookie("session")
    monkeypatch.setitem(app.view_functions, "main.index", view)
    assert _state(anon.get("/")) == "miss"


def test_a_response_marked_private_is_not_stored(app, anon, world, monkeypatch):
    view = app.view_functions["main.index"]

    def private(*args, **kwargs):
        response = app.make_response(view(*args, **kwargs))
        response.cache_control.private = True
        return response

    monkeypatch.setitem(app.view_functions, "main.index", private)
    anon.get("/")
    monkeypatch.setitem(app.view_functions, "main.index", view)
    assert _state(anon.get("/")) == "miss"


def test_a_404_is_not_stored(anon, world):
    assert anon.get("/commitments/999").status_code == 404
    assert anon.get("/commitments/999").headers.get("X-Page-Cache") is None


def test_a_page_off_the_allowlist_is_not_cached(anon, world):
    assert _state(anon.get("/healthz")) is None
    assert _state(anon.get("/login")) is None


# --- a broken cache ------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["get", "get_many", "set", "add"])
def test_a_failing_cache_still_serves_the_page(anon, world, monkeypatch, method):
    c = _commitment(world)
    anon.get(f"/commitments/{c.id}")

    def broken(*args, **kwargs):
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(backend, method, broken)
    for _attempt in range(2):
        response = anon.get(f"/commitments/{c.id}")
        assert response.status_code == 200
        assert "Halve prone restraint by 2027" in response.get_data(as_text=True)


# --- invalidation ------------------------------------------------------------------------

def test_invalidate_forgets_every_page(anon, world):
    anon.get("/")
    assert _state(anon.get("/")) == "hit"
    page_cache.invalidate()
    assert _state(anon.get("/")) == "miss"
    assert _state(anon.get("/")) == "hit"


def test_an_emptied_cache_never_brings_back_an_invalidated_page(anon, world):
    anon.get("/")
    page_cache.invalidate()
    backend.delete(page_cache.GENERATION_KEY)  # evicted
    assert _state(anon.get("/")) == "miss"


def _retire(world, c):
    from charter.commitments import services

    services.retire(world.user("lead"), db.session.merge(c), "Merged into another commitment")
    db.session.commit()


PAGES = ["/", "/commitments/{c}", "/organisations/fenland-trust", "/sites/cambridge", "/global",
         "/reports", "/reports/feed.atom", "/api/v1/commitments",
         "/domains/least-restrictive-practice"]


@pytest.fixture
def public_world(world):
    """A signed charter, a published commitment with an indicator, a reporting cycle."""
    from charter.commitments import indicators as ind
    from tests import factories as f
    from tests.access.indicators import catalogue_indicator

    version = f.charter_version(world.site)
    signature = f.signature(world.org, version, world.user("lead"))
    c = _commitment(world)
    ci = ind.attach_indicator(world.user("lead"), c, catalogue_id=catalogue_indicator().id,
                              own=None, targets=ind.Targets())
    draft = _commitment(world, published=False, title="Train every ward in safewards")
    cycle = f.cycle(world.site, "2026 Q1")
    report = f.report(world.org, cycle, status=_submitted())
    db.session.commit()
    return {"c": c, "ci": ci, "draft": draft, "signature": signature, "report": report}


def _submitted():
    from charter.models import ReportStatus

    return ReportStatus.SUBMITTED


def _warm(anon, urls):
    for url in urls:
        assert anon.get(url).status_code == 200, url
        assert _state(anon.get(url)) == "hit", url


def _publish_draft(world, w):
    from charter.commitments import services

    services.publish(world.user("lead"), w["draft"])
    return {"/organisations/fenland-trust": "Train every ward",
            "/api/v1/commitments": "Train every ward",
            "/domains/least-restrictive-practice": "Train every ward"}


def _edit(world, w):
    from charter.commitments import services

    c = w["c"]
    services.update(world.user("lead"), c, services.CommitmentValues(
        title="End prone restraint by 2027", domain_id=c.domain_id,
        description=c.description), c.version)
    return {"/commitments/{c}": "End prone restraint", "/organisations/fenland-trust":
            "End prone restraint", "/api/v1/commitments": "End prone restraint",
            "/domains/least-restrictive-practice": "End prone restraint"}


def _retire_it(world, w):
    from charter.commitments import services

    services.retire(world.user("lead"), w["c"], "Merged into another commitment")
    return {"/commitments/{c}": "Merged into another commitment"}


def _withdraw(world, w):
    from charter.signing import services

    services.withdraw(world.user("lead"), w["signature"], "We are leaving the charter")
    return {"/organisations/fenland-trust": "Withdrawn"}


def _publish_report(world, w):
    from charter.reports import services

    services.publish(world.user("coordinator"), w["report"])
    return {"/reports": "Fenland Trust", "/reports/feed.atom": "Fenland Trust"}


def _measure(world, w):
    from charter.commitments import indicators as ind

    ind.add_measurement(world.user("lead"), w["c"], w["ci"].id, ind.MeasurementValues(
        date(2026, 1, 1), date(2026, 3, 31), Decimal("41.7")))
    return {"/commitments/{c}": "41.7"}


@pytest.mark.parametrize("write", [_publish_draft, _edit, _retire_it, _withdraw, _publish_report,
                                   _measure])
def test_every_public_write_shows_at_once_on_every_cached_page(anon, world, public_world, write):
    urls = [url.format(c=public_world["c"].id) for url in PAGES]
    _warm(anon, urls)
    before = {url: anon.get(url).data for url in urls}
    shows = write(world, public_world)
    db.session.commit()
    for url in urls:
        response = anon.get(url)
        assert response.status_code == 200 and _state(response) == "miss", url
    for url, text in shows.items():
        url = url.format(c=public_world["c"].id)
        page = anon.get(url)
        assert _state(page) == "hit", url
        assert text in page.get_data(as_text=True), url
        assert text.encode() not in before[url], url


def test_a_write_that_is_rolled_back_keeps_the_cache(anon, world, public_world):
    from charter.commitments import services

    url = f"/commitments/{public_world['c'].id}"
    _warm(anon, [url])
    services.retire(world.user("lead"), public_world["c"], "never saved")
    db.session.rollback()
    assert _state(anon.get(url)) == "hit"


CACHED_GETS = [(e, m) for e, m in PUBLIC_GETS if e in page_cache.PUBLIC_ENDPOINTS]


@pytest.mark.parametrize(("endpoint", "method"), CACHED_GETS)
def test_every_cached_endpoint_answers_its_second_get_from_the_cache(anon, world, endpoint,
                                                                     method):
    """Its public URL in the access table: the same body and headers, and no cookie."""
    url = ACCESS[(endpoint, method)].url(world)
    first = anon.get(url)
    assert first.status_code == 200 and _state(first) == "miss", url
    second = anon.get(url)
    assert _state(second) == "hit", url
    assert second.data == first.data, url
    for name in ("Content-Type", "Content-Disposition", "ETag", "Last-Modified"):
        assert second.headers.get(name) == first.headers.get(name), (url, name)
    assert "Set-Cookie" not in second.headers, url


@pytest.mark.parametrize(("age", "kept"), [(None, 86400), (10, 290), (280, 60), (4000, 60)])
def test_a_stored_document_is_kept_no_longer_than_documents_would_serve_a_stale_copy(app, age, kept):
    """A public document may be a copy served after its data changed, until it is
    DOCUMENT_CACHE_MIN_AGE (300 s) old: the page cache keeps it until then, a minute at least."""
    import time

    from flask import Response

    response = Response(b"%PDF")
    if age is not None:
        response.last_modified = time.time() - age
    assert abs(page_cache._entry_timeout(response) - kept) <= 1


def test_a_public_document_keeps_its_own_validators(anon, world):
    from tests import factories as f

    f.charter_version(world.site)
    db.session.commit()
    first = anon.get("/global.pdf")
    assert first.status_code == 200 and _state(first) == "miss"
    hit = anon.get("/global.pdf")
    assert _state(hit) == "hit" and hit.data == first.data
    assert hit.headers["ETag"] == first.headers["ETag"]
    assert hit.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert "max-age=300" in hit.headers["Cache-Control"]


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"),
                    reason="set TEST_REDIS_URL=redis://127.0.0.1:6379/15 to run on Redis")
def test_the_page_cache_on_redis(app, world):
    from charter import create_app

    redis_app = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "BLOB_DIR": app.config["BLOB_DIR"], "PAGE_CACHE": True, "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": os.environ["TEST_REDIS_URL"], "CACHE_KEY_PREFIX": "charter-test:"})
    c = _commitment(world)
    client = redis_app.test_client()
    url = f"/commitments/{c.id}"
    with redis_app.app_context():
        backend.clear()
    try:
        first = client.get(url)
        assert _state(first) == "miss"
        hit = client.get(url)
        assert _state(hit) == "hit" and hit.data == first.data
        assert client.get(url, headers={"If-None-Match": hit.headers["ETag"]}).status_code == 304
        with redis_app.app_context():
            page_cache.invalidate()
        assert _state(client.get(url)) == "miss"
        _retire(world, c)
        retired = client.get(url)
        assert _state(retired) == "miss" and "Merged into another" in retired.get_data(as_text=True)
    finally:
        with redis_app.app_context():
            backend.clear()
            db.session.remove()
            db.engine.dispose()


# --- a hit before Flask (HitMiddleware) ---------------------------------------------------

def test_a_hit_is_answered_before_flask_with_one_query(app, anon, world, monkeypatch):
    url = f"/commitments/{_commitment(world).id}"
    first = anon.get(url)
    hooks = []
    monkeypatch.setitem(app.before_request_funcs, None,
                        [lambda: hooks.append(1), *app.before_request_funcs[None]])
    with count_queries() as counter:
        second = anon.get(url)
    assert _state(second) == "hit" and second.data == first.data
    assert hooks == []  # no request hook ran: no user, limiter, Babel or session
    assert len(counter.statements) == 1, counter.statements
    assert "audit_event" in counter.statements[0]


def test_the_version_of_a_hit_is_the_documents_data_version(world):
    from charter import documents
    from charter.models import AuditEvent

    assert page_cache.version() == documents.data_version() == "0"
    for n in range(3):
        db.session.add(AuditEvent(action="test", object_type="test", object_label=str(n)))
        db.session.commit()
        assert page_cache.version() == documents.data_version() != "0"


def test_a_write_committed_by_another_process_shows_at_once(anon, world):
    """The task worker (another process) writes through its own connection: the next
    anonymous GET renders afresh, though this process did not write."""
    from sqlalchemy import text

    c = _commitment(world)
    anon.get(f"/commitments/{c.id}")
    assert _state(anon.get(f"/commitments/{c.id}")) == "hit"
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE commitment SET title = 'End prone restraint' WHERE id = :id"),
                     {"id": c.id})
        conn.execute(text("INSERT INTO audit_event (occurred_at, actor_label, action, object_type, "
                          "object_label, changes) VALUES (CURRENT_TIMESTAMP, 'worker', 'edit', "
                          "'commitment', '', '{}')"))
    response = anon.get(f"/commitments/{c.id}")
    assert _state(response) == "miss"
    assert "End prone restraint" in response.get_data(as_text=True)
    assert _state(anon.get(f"/commitments/{c.id}")) == "hit"
