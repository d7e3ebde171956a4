"""The document cache (charter/documents.py): the PROMISE Global and site PDFs, signature
certificates and the bulk ZIP are built once and served from the database until their data
change; a rebuild waits for DOCUMENT_CACHE_MIN_AGE, and only one request builds at a time;
responses answer If-None-Match with 304; anonymous requests are rate-limited.

Builds are counted by wrapping the renderers (`render_pdf`, `bulk.stream_zip`), and time is
moved by the cache's own clock (`documents._now`), never by waiting.
"""

from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

import charter.pdf
from charter import audit, documents
from charter.api import bulk
from charter.catalogue.domains import DomainValues, create_domain
from charter.commitments import services as commitment_services
from charter.dashboards import public_routes
from charter.extensions import db
from charter.models import AuditEvent, CachedDocument, CharterStatus, CommitmentStatus
from charter.models.base import utcnow
from tests import factories as f
from tests.support import text_of
from tests.test_dashboard_public_site import pdf_text, squashed

MIN_AGE = 300  # DOCUMENT_CACHE_MIN_AGE of the test configuration (the default)


@dataclass
class Builds:
    """What the routes built: each PDF template rendered, each bulk ZIP written."""

    made: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str) -> None:
        with self.lock:
            self.made.append(what)

    def count(self, what: str | None = None) -> int:
        return len([m for m in self.made if what is None or m == what])


@pytest.fixture
def builds(monkeypatch) -> Builds:
    counted = Builds()
    real_pdf, real_zip = charter.pdf.render_pdf, bulk.stream_zip

    def render_pdf(template, **context):
        counted.add(template)
        return real_pdf(template, **context)

    def stream_zip():
        counted.add("bulk.zip")
        return real_zip()

    monkeypatch.setattr(public_routes, "render_pdf", render_pdf)
    monkeypatch.setattr(charter.pdf, "render_pdf", render_pdf)  # the certificate's, at call time
    monkeypatch.setattr(bulk, "stream_zip", stream_zip)
    return counted


class Clock:
    """A clock that stands still until it is moved (so that ages are exact, however slow the
    machine)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The cache's clock, to be moved on past the minimum age."""
    frozen = Clock()
    monkeypatch.setattr(documents, "_now", lambda: frozen.now)
    return frozen


@pytest.fixture
def signature(world):
    version = f.charter_version(world.site, 1, CharterStatus.OPEN, title="Cambridge charter")
    sig = f.signature(world.org, version, world.user("lead"))
    db.session.commit()
    return sig


def _documents(signature) -> list[tuple[str, str]]:
    """(url, what its build counts as) of the four documents."""
    return [("/global.pdf", "global_view.html"), ("/sites/cambridge/overview.pdf", "site_view.html"),
            (f"/signatures/{signature.id}/certificate.pdf", "certificate.html"),
            ("/api/v1/bulk.zip", "bulk.zip")]


def _zip_text(data: bytes, name: str) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read(name).decode("utf-8")


# --- built once, rebuilt when the data change ------------------------------------------------

@pytest.mark.parametrize("which", range(4), ids=["global", "site", "certificate", "bulk"])
def test_each_document_is_built_once_for_two_requests(client, world, signature, builds, which):
    url, what = _documents(signature)[which]
    first = client.get(url)
    second = client.get(url)
    assert first.status_code == second.status_code == 200
    assert builds.count(what) == 1
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    stored = db.session.scalar(select(CachedDocument).where(CachedDocument.key.startswith(
        {0: "global.pdf:", 1: "site:cambridge:overview.pdf:", 2: f"certificate:{signature.id}:",
         3: "bulk.zip:"}[which])))
    assert stored.content == first.data and stored.building_since is None


@pytest.mark.pdf
def test_global_pdf_is_served_stale_within_the_min_age_and_rebuilt_after(client, world, builds, clock):
    first = client.get("/global.pdf")
    assert "Healingenvironments" not in squashed(pdf_text(first.data))
    create_domain(world.user("admin"), DomainValues(name="Healing environments"))
    db.session.commit()

    clock.advance(MIN_AGE - 1)
    stale = client.get("/global.pdf")
    assert builds.count("global_view.html") == 1
    assert stale.data == first.data  # the copy built before the change, which says when
    assert stale.headers["Last-Modified"] == first.headers["Last-Modified"]

    clock.advance(1)
    fresh = client.get("/global.pdf")
    assert builds.count("global_view.html") == 2
    assert "Healingenvironments" in squashed(pdf_text(fresh.data))
    assert fresh.headers["ETag"] != first.headers["ETag"]
    clock.advance(MIN_AGE * 10)  # without another change, age alone does not rebuild it
    assert client.get("/global.pdf").data == fresh.data
    assert builds.count("global_view.html") == 2


@pytest.mark.pdf
def test_global_pdf_is_rebuilt_on_a_new_day_for_its_date(client, world, builds, clock, monkeypatch):
    first = client.get("/global.pdf")
    clock.advance(MIN_AGE)
    assert client.get("/global.pdf").data == first.data  # same day, same data: kept
    tomorrow = utcnow() + timedelta(days=1)
    monkeypatch.setattr(public_routes, "utcnow", lambda: tomorrow, raising=False)
    later = client.get("/global.pdf")
    assert builds.count("global_view.html") == 2
    from charter.formatting import display_date

    assert "Generatedon" + squashed(display_date(tomorrow.date())) in squashed(pdf_text(later.data))


@pytest.mark.pdf
def test_the_certificate_changes_as_soon_as_the_signature_is_withdrawn(client, world, signature,
                                                                         builds):
    url = f"/signatures/{signature.id}/certificate.pdf"
    before = client.get(url)
    assert client.get(url).data == before.data
    assert builds.count("certificate.html") == 1
    assert "WITHDRAWN" not in pdf_text(before.data)

    client.login(world.user("lead"))
    response = client.post(f"/signatures/{signature.id}/withdraw", data={"reason": "We merged."})
    assert response.status_code == 302
    client.logout()

    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # not the old copy, not even within the minimum age
    assert "WITHDRAWN" in pdf_text(after.data)
    assert builds.count("certificate.html") == 2


def test_the_bulk_zip_shows_a_newly_published_commitment_after_the_min_age(client, world, builds,
                                                                            clock):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    draft = f.commitment(world.org, f.domain("Integrated pathways"), title="Crisis cafe for carers",
                         status=CommitmentStatus.DRAFT)
    db.session.commit()
    first = client.get("/api/v1/bulk.zip")
    assert "Crisis cafe for carers" not in _zip_text(first.data, "commitments.csv")

    commitment_services.publish(world.user("lead"), draft)
    db.session.commit()
    clock.advance(MIN_AGE - 1)
    assert client.get("/api/v1/bulk.zip").data == first.data
    clock.advance(1)
    after = client.get("/api/v1/bulk.zip")
    assert "Crisis cafe for carers" in _zip_text(after.data, "commitments.csv")
    assert builds.count("bulk.zip") == 2


@pytest.mark.pdf
def test_a_generated_data_set_outdates_the_copies_of_an_empty_database(app, client, builds, clock):
    empty = client.get("/global.pdf")
    assert "TherearenoPROMISEsitesyet." in squashed(pdf_text(empty.data))
    clock.advance(MIN_AGE)
    assert client.get("/global.pdf").data == empty.data
    result = app.test_cli_runner().invoke(args=["charter", "generate", "--organisations", "10",
                                                "--commitments", "20", "--measurements", "40"])
    assert result.exit_code == 0, result.output
    clock.advance(MIN_AGE)
    text = squashed(pdf_text(client.get("/global.pdf").data))
    assert "TherearenoPROMISEsitesyet." not in text and "Cambridge" in text
    assert builds.count("global_view.html") == 2


# --- the data version --------------------------------------------------------------------------

def _event(event_id: int | None = None) -> None:
    values = {"action": "test.event", "object_type": "Test", "actor_label": "system",
              "object_label": "", "changes": {}, "occurred_at": utcnow()}
    if event_id is not None:
        values["id"] = event_id
    db.session.execute(insert(AuditEvent), [values])
    db.session.commit()


def test_the_data_version_changes_with_every_audited_write(world):
    versions = [documents.data_version()]
    audit.record(world.user("admin"), "site.updated", world.site)
    db.session.commit()
    versions.append(documents.data_version())
    audit.record_many(world.user("lead"), "commitment.imported",
                      [(world.org, {"title": [None, "x"]}), (world.other_org, None)],
                      site_id=world.site.id)  # a bulk import's events, one INSERT
    db.session.commit()
    versions.append(documents.data_version())
    assert len(set(versions)) == 3


def test_the_data_version_sees_an_event_committed_below_the_newest(app):
    """On PostgreSQL a slow transaction can commit an id lower than one already committed."""
    _event(10)
    _event(12)
    before = documents.data_version()
    _event(11)
    assert documents.data_version() != before


# --- one build at a time ---------------------------------------------------------------------

def test_concurrent_requests_with_nothing_cached_build_once(app, world, monkeypatch):
    """The first request asks the task queue for the build (run at once here, so it waits
    for it); the others, while it builds, are told at once to come back (503, Retry-After)
    rather than build it again or wait."""
    building, release = threading.Event(), threading.Event()
    renders = Builds()

    def held_render(template, **context):
        renders.add(template)
        building.set()
        release.wait(30)
        return b"%PDF-1.4 the one build"

    monkeypatch.setattr(public_routes, "render_pdf", held_render)
    answers: list = []

    def fetch():
        with app.app_context():  # each thread is a visitor of its own
            response = app.test_client().get("/global.pdf")
        answers.append((response.status_code, response.data, response.headers.get("Retry-After")))

    first = threading.Thread(target=fetch)
    first.start()
    assert building.wait(30)
    others = [threading.Thread(target=fetch) for _ in range(5)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(30)
    release.set()
    first.join(30)
    assert renders.count() == 1
    assert [status for status, _body, _retry in answers[:5]] == [503] * 5
    assert all(0 < int(retry) <= 60 for _status, _body, retry in answers[:5])  # Retry-After
    assert answers[5][:2] == (200, b"%PDF-1.4 the one build")
    assert app.test_client().get("/global.pdf").data == b"%PDF-1.4 the one build"


def test_while_one_request_rebuilds_the_others_get_the_stale_copy(client, world, builds, clock):
    first = client.get("/global.pdf")
    audit.record(world.user("admin"), "site.updated", world.site)
    db.session.commit()
    clock.advance(MIN_AGE)
    # Another request has claimed the rebuild (a minute ago) and not finished yet.
    db.session.execute(CachedDocument.__table__.update().values(
        building_since=utcnow(), build_token="another-request"))
    db.session.commit()
    stale = client.get("/global.pdf")
    assert stale.data == first.data
    assert builds.count("global_view.html") == 1


def test_a_first_build_that_takes_too_long_answers_503_and_an_abandoned_one_is_taken_over(
        app, client, world, builds, monkeypatch):
    db.session.add(CachedDocument(key="global.pdf:en", building_since=utcnow(),
                                  build_token="another-request"))
    db.session.commit()
    monkeypatch.setitem(app.config, "DOCUMENT_BUILD_WAIT", 0)
    busy = client.get("/global.pdf")
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "60"
    assert "This document is being prepared. Please try again in a minute." in text_of(busy)
    assert builds.count() == 0

    db.session.execute(CachedDocument.__table__.update().values(
        building_since=utcnow() - timedelta(seconds=app.config["DOCUMENT_BUILD_TIMEOUT"] + 1)))
    db.session.commit()
    taken_over = client.get("/global.pdf")
    assert taken_over.status_code == 200 and taken_over.mimetype == "application/pdf"
    assert builds.count() == 1


def test_a_failed_rebuild_serves_the_copy_it_had_and_frees_the_claim(client, world, clock,
                                                                     monkeypatch):
    first = client.get("/global.pdf")
    audit.record(world.user("admin"), "site.updated", world.site)
    db.session.commit()
    clock.advance(MIN_AGE)

    def broken(template, **context):
        raise RuntimeError("the renderer fell over")

    monkeypatch.setattr(public_routes, "render_pdf", broken)
    again = client.get("/global.pdf")
    assert again.status_code == 200 and again.data == first.data
    row = db.session.scalar(select(CachedDocument))
    assert row.building_since is None and row.build_token is None


# --- HTTP: validators, cache headers ---------------------------------------------------------

@pytest.mark.parametrize("which", range(4), ids=["global", "site", "certificate", "bulk"])
def test_if_none_match_gets_304_without_the_document(client, world, signature, builds, which):
    url, what = _documents(signature)[which]
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, max-age=300"
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).data == first.data
    assert builds.count(what) == 1


# --- rate limit --------------------------------------------------------------------------------

def test_anonymous_requests_for_documents_are_rate_limited_together(app, client, world, signature,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_RATE_LIMIT", "3 per minute")
    for url in ("/global.pdf", "/global.pdf", "/sites/cambridge/overview.pdf"):
        assert client.get(url).status_code == 200
    refused = client.get(f"/signatures/{signature.id}/certificate.pdf")
    assert refused.status_code == 429
    assert "Please wait a minute before trying again." in text_of(refused)
    assert refused.headers["Retry-After"]
    api = client.get("/api/v1/bulk.zip")
    assert api.status_code == 429
    assert "Too many documents asked for from your connection" in api.get_json()["error"]["message"]

    # Another address has its own allowance.
    elsewhere = app.test_client()
    assert elsewhere.get("/global.pdf", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200


def test_signed_in_people_are_not_rate_limited(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_RATE_LIMIT", "3 per minute")
    answers = [client.get("/global.pdf").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    client.login(world.user("lead"))  # from the same address
    answers = [client.get("/global.pdf").status_code for _ in range(5)]
    assert answers == [200] * 5


def test_forget_documents_drops_every_kept_copy(app, client, world, builds):
    client.get("/global.pdf")
    result = app.test_cli_runner().invoke(args=["charter", "forget-documents"])
    assert result.exit_code == 0 and "built again" in result.output
    assert db.session.scalar(select(func.count()).select_from(CachedDocument)) == 0
    client.get("/global.pdf")
    assert builds.count("global_view.html") == 2


def test_reading_documents_writes_only_the_cache(client, world, signature):
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for url, _what in _documents(signature):
        assert client.get(url).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert db.session.scalar(select(func.count()).select_from(CachedDocument)) == 4
