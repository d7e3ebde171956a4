"""Issue 12, point 4: publishing, and building the Global and site PDFs and the bulk ZIP,
run in the task queue.

The tests run tasks eagerly (TestConfig.TASK_QUEUE_IMMEDIATE): a task runs when the request
that asked for it commits. `held` keeps them instead, to see the page before the worker has
run, and runs them when the test says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from charter import audit, documents, tasks
from charter.extensions import db
from charter.models import (
    AuditEvent,
    CachedDocument,
    CommitmentStatus,
    CorrectionStatus,
    ProgressReport,
    PublicationRequest,
    PublicationState,
    ReportCorrection,
    ReportRevision,
    ReportStatus,
)
from charter.pdf import PdfRenderError
from charter.reports import publishing, services
from tests import factories as f
from tests.support import text_of


@pytest.fixture
def setup(world):
    version = f.charter_version(world.site)
    past = datetime(2025, 6, 1, tzinfo=UTC)
    f.signature(world.org, version, world.user("lead"), signed_at=past)
    domain = f.domain("Least restrictive practice", slug="lrp")
    f.commitment(world.org, domain, title="Halve prone restraint",
                 status=CommitmentStatus.PUBLISHED, published_at=past)
    world.cycle = f.cycle(world.site, "2026 Q1", period_start=date(2026, 1, 1),
                          period_end=date(2026, 3, 31), due_date=date(2026, 4, 30))
    db.session.commit()
    return world


class Held(list):
    """The tasks sent while the fixture holds them, as (task, args)."""

    def run(self) -> None:
        db.session.commit()
        while self:
            task, args = self.pop(0)
            task.call_local(*args)
        db.session.commit()  # the test's session reads what the task committed


@pytest.fixture
def held(monkeypatch) -> Held:
    sent = Held()

    def hold(task, *args, tell=True):
        sent.append((task, args))
        return True

    monkeypatch.setattr(tasks, "send", hold)
    return sent


def _submitted(setup, **kw) -> ProgressReport:
    report = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED, **kw)
    db.session.commit()
    return report


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _public_status(app, report_id: int) -> int:
    return app.test_client().get(f"/reports/{report_id}").status_code


# --- publishing through the pages ---------------------------------------------------------------

def test_approve_and_publish_returns_at_once_and_the_worker_publishes(client, app, setup):
    report = _submitted(setup)
    client.login(setup.user("coordinator"))
    response = client.post(f"/reports/{report.id}/publish", data={"version": report.version})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "The report is being published" in page  # the message; the task has run since
    assert "Publishing…" not in page and "Download the PDF" in page
    report = db.session.get(ProgressReport, report.id)
    assert report.status == ReportStatus.PUBLISHED and len(report.revisions) == 1
    assert _count(PublicationRequest) == 0
    assert _actions()[-2:] == ["report.publication_requested", "report.published"]
    assert _public_status(app, report.id) == 200


def test_the_page_says_publishing_until_the_pdf_exists(client, app, setup, held):
    report = _submitted(setup)
    client.login(setup.user("coordinator"))
    client.post(f"/reports/{report.id}/publish", data={"version": report.version})
    assert [task.name for task, _args in held] == ["publish_report"]
    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    page = text_of(client.get(f"/reports/{report.id}"))
    assert "Publishing…" in page and "It is queued" in page
    assert f'href="/reports/{report.id}">Check again</a>' in html  # no script, no refresh
    assert "Approve and publish" not in page and "Return with comments" not in page
    queue = text_of(client.get(f"/manage/sites/{setup.site.slug}/reporting"))
    assert "Fenland Trust · 2026 Q1" in queue and "publishing…" in queue
    assert "http-equiv" not in html
    assert _public_status(app, report.id) == 404  # nothing public before the PDF exists
    assert app.test_client().get(f"/reports/{report.id}.pdf").status_code == 404
    client.login(setup.user("lead"))
    assert "Publishing…" in text_of(client.get(f"/reports/{report.id}"))
    held.run()
    client.login(setup.user("coordinator"))
    page = text_of(client.get(f"/reports/{report.id}"))
    assert "Publishing…" not in page and "Download the PDF" in page
    assert _public_status(app, report.id) == 200


def test_a_second_publish_while_one_is_queued_is_refused(client, setup, held):
    report = _submitted(setup)
    client.login(setup.user("coordinator"))
    client.post(f"/reports/{report.id}/publish", data={"version": report.version})
    client.login(setup.user("admin"))
    again = client.post(f"/reports/{report.id}/publish", data={"version": report.version},
                        follow_redirects=True)
    assert "being published now" in text_of(again)
    refused = client.post(f"/reports/{report.id}/return", data={"comment": "Wait."},
                          follow_redirects=True)
    assert "being published now" in text_of(refused)
    assert len(held) == 1 and _count(PublicationRequest) == 1
    held.run()
    assert _count(ReportRevision) == 1


def test_submitting_without_review_publishes_through_the_queue(client, app, setup, held):
    setup.cycle.review_required = False
    report = f.report(setup.org, setup.cycle)
    db.session.commit()
    client.login(setup.user("lead"))
    page = text_of(client.post(f"/reports/{report.id}/submit", data={"version": report.version},
                               follow_redirects=True))
    assert "submitted and is being published" in page and "Publishing…" in page
    assert db.session.get(ProgressReport, report.id).status == ReportStatus.SUBMITTED
    held.run()
    report = db.session.get(ProgressReport, report.id)
    assert report.status == ReportStatus.PUBLISHED and len(report.revisions) == 1
    assert [a for a in _actions() if a.startswith("report.")] == [
        "report.submitted", "report.publication_requested", "report.published"]


def test_a_coordinators_correction_is_published_by_the_queue(client, app, setup, held):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"),
                                summary="Original.")
    db.session.commit()
    client.login(setup.user("coordinator"))
    response = client.post(f"/reports/{report.id}/correct",
                           data={"summary": "Corrected.", "change_note": "A figure was wrong."})
    assert response.status_code == 302
    page = text_of(client.get(f"/reports/{report.id}"))
    assert "Publishing…" in page and "readers see the current revision" in page
    assert "Original." in text_of(app.test_client().get(f"/reports/{report.id}"))
    held.run()
    report = db.session.get(ProgressReport, report.id)
    assert [r.number for r in report.revisions] == [1, 2] and report.summary == "Corrected."
    assert "Corrected." in text_of(app.test_client().get(f"/reports/{report.id}"))


def test_a_leads_reviewed_correction_is_published_by_the_queue(client, setup, held):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"))
    correction = services.submit_correction(
        setup.user("lead"), report, services.ReportText("Corrected.", "", ""), "Fixed.")
    db.session.commit()
    client.login(setup.user("coordinator"))
    client.post(f"/reports/{report.id}/corrections/{correction.id}/publish",
                data={"version": correction.version})
    assert db.session.get(ReportCorrection, correction.id).status == CorrectionStatus.SUBMITTED
    page = text_of(client.get(f"/reports/{report.id}/corrections/{correction.id}"))
    assert "Publishing…" in page and "Publish as revision 2" not in page
    returned = client.post(f"/reports/{report.id}/corrections/{correction.id}/return",
                           data={"comment": "No.", "version": correction.version},
                           follow_redirects=True)
    assert "being published now" in text_of(returned)
    held.run()
    correction = db.session.get(ReportCorrection, correction.id)
    assert correction.status == CorrectionStatus.PUBLISHED and correction.revision_number == 2


# --- failures, retries and "Try again" -------------------------------------------------------------

@pytest.fixture
def failing_render(monkeypatch):
    calls = []

    def fail(publication):
        calls.append(publication.report_id)
        raise PdfRenderError("the renderer crashed")

    monkeypatch.setattr(services, "render", fail)
    return calls


def test_a_failing_publication_is_retried_then_shown_with_try_again(
        client, app, setup, failing_render, monkeypatch):
    report = _submitted(setup)
    client.login(setup.user("coordinator"))
    client.post(f"/reports/{report.id}/publish", data={"version": report.version})
    assert len(failing_render) == 1 + app.config["TASK_RETRIES"]  # tried, then tried again
    request = db.session.scalar(select(PublicationRequest))
    assert request.state == PublicationState.FAILED and request.attempts == 3
    page = text_of(client.get(f"/reports/{report.id}"))
    assert "Publishing failed" in page and "Tried 3 times." in page
    assert "The PDF could not be made" in page and "Try again" in page
    assert _actions()[-1] == "report.publication_failed"
    assert _public_status(app, report.id) == 404
    # The lead sees it too, without the button.
    client.login(setup.user("lead"))
    lead_page = text_of(client.get(f"/reports/{report.id}"))
    assert "Publishing failed" in lead_page and "Try again" not in lead_page
    assert client.post(f"/reports/{report.id}/publishing/retry").status_code == 403
    # Fixed: the coordinator tries again.
    monkeypatch.undo()
    client.login(setup.user("coordinator"))
    assert client.post(f"/reports/{report.id}/publishing/retry", csrf=False).status_code == 400
    response = client.post(f"/reports/{report.id}/publishing/retry")
    assert response.status_code == 303
    assert "Publishing is being tried again." in text_of(client.get(response.headers["Location"]))
    report = db.session.get(ProgressReport, report.id)
    assert report.status == ReportStatus.PUBLISHED and len(report.revisions) == 1
    assert _count(PublicationRequest) == 0
    assert _actions()[-2:] == ["report.publication_retried", "report.published"]


def test_try_again_with_nothing_failed_is_refused(client, setup, held):
    report = _submitted(setup)
    client.login(setup.user("coordinator"))
    client.post(f"/reports/{report.id}/publish", data={"version": report.version})
    page = client.post(f"/reports/{report.id}/publishing/retry", follow_redirects=True)
    assert "no failed publication" in text_of(page)
    assert len(held) == 1


def test_text_that_cannot_print_fails_at_once_and_a_return_clears_it(client, setup):
    report = _submitted(setup, summary="*_" * 60_000)  # saved before the limits existed
    client.login(setup.user("coordinator"))
    client.post(f"/reports/{report.id}/publish", data={"version": report.version})
    request = db.session.scalar(select(PublicationRequest))
    assert request.state == PublicationState.FAILED and request.attempts == 1  # no retry
    assert "too much formatting" in text_of(client.get(f"/reports/{report.id}"))
    returned = client.post(f"/reports/{report.id}/return", data={"comment": "Simplify it."})
    assert returned.status_code == 302
    assert _count(PublicationRequest) == 0
    assert db.session.get(ProgressReport, report.id).status == ReportStatus.RETURNED


# --- the queue is down; two workers take the same task -------------------------------------------

def test_a_queue_that_is_down_leaves_the_request_queued_and_says_so(client, app, setup,
                                                                    monkeypatch):
    def down(task):
        raise OSError("the queue's storage is unavailable")

    monkeypatch.setattr(tasks.huey, "enqueue", down)
    report = _submitted(setup)
    client.login(setup.user("coordinator"))
    response = client.post(f"/reports/{report.id}/publish", data={"version": report.version})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "The task queue is not answering just now" in page and "queued" in page
    assert "Publishing…" in page
    assert app.test_client().get("/reports").status_code == 200  # the app still serves
    request = db.session.scalar(select(PublicationRequest))
    assert request.state == PublicationState.QUEUED
    # The queue runs again: the worker sends what was left when it starts.
    monkeypatch.undo()
    publishing.resume(everything=True)
    assert db.session.get(ProgressReport, report.id).status == ReportStatus.PUBLISHED
    assert _count(PublicationRequest) == 0


def test_the_same_task_run_twice_publishes_once(setup, held):
    report = _submitted(setup)
    services.publish(setup.user("coordinator"), report)
    db.session.commit()
    (task, args), = held
    task.call_local(*args)
    task.call_local(*args)
    assert _count(ReportRevision) == 1
    assert _actions().count("report.published") == 1


def test_a_second_worker_does_not_take_a_task_that_is_running(setup, held, monkeypatch):
    report = _submitted(setup)
    services.publish(setup.user("coordinator"), report)
    db.session.commit()
    (task, args), = held
    render = services.render

    def render_while_another_worker_tries(publication):
        task.call_local(*args)  # the second worker finds it running and leaves it
        return render(publication)

    monkeypatch.setattr(services, "render", render_while_another_worker_tries)
    task.call_local(*args)
    assert _count(ReportRevision) == 1 and _count(PublicationRequest) == 0


def test_a_worker_taken_for_dead_cannot_publish_a_second_time(setup, held, monkeypatch):
    """The first worker stalls past the time limit; a second one takes the request over and
    publishes; the first then finds the report changed and stores nothing."""
    report = _submitted(setup)
    services.publish(setup.user("coordinator"), report)
    db.session.commit()
    (task, args), = held
    render = services.render
    taken_over = []

    def stall(publication):
        if not taken_over:
            taken_over.append(True)
            with db.engine.begin() as conn:  # as if it had been running for an hour
                conn.execute(update(PublicationRequest).values(
                    started_at=datetime(2000, 1, 1, tzinfo=UTC)))
            task.call_local(*args)  # the second worker publishes
        return render(publication)

    monkeypatch.setattr(services, "render", stall)
    task.call_local(*args)
    assert _count(ReportRevision) == 1 and _count(PublicationRequest) == 0
    assert _actions().count("report.published") == 1


# --- sent after commit only ------------------------------------------------------------------------

def test_a_task_is_sent_only_when_the_transaction_commits(setup, held):
    report = _submitted(setup)
    services.publish(setup.user("coordinator"), report)
    assert held == []  # not before the commit
    db.session.rollback()
    db.session.commit()
    assert held == [] and _count(PublicationRequest) == 0  # never for a rolled-back one
    services.publish(setup.user("coordinator"), db.session.get(ProgressReport, report.id))
    db.session.commit()  # a command's own commit sends it too (no request here)
    assert len(held) == 1


def test_a_refused_request_sends_nothing(client, setup, held):
    report = _submitted(setup)
    client.login(setup.user("coordinator"))
    stale = client.post(f"/reports/{report.id}/publish", data={"version": report.version + 5})
    assert stale.status_code == 303
    assert held == [] and _count(PublicationRequest) == 0


# --- documents built by the task queue --------------------------------------------------------

DOCUMENTS = ["/global.pdf", "/sites/cambridge/overview.pdf", "/api/v1/bulk.zip"]


@pytest.mark.parametrize("url", DOCUMENTS, ids=["global", "site", "bulk"])
def test_a_document_not_built_yet_is_asked_for_once_and_503_meanwhile(client, setup, held, url):
    first, second = client.get(url), client.get(url)
    for busy in (first, second):
        assert busy.status_code == 503 and 0 < int(busy.headers["Retry-After"]) <= 60
    assert "being prepared" in (text_of(first) if not url.startswith("/api/")
                                else first.get_json()["error"]["message"])
    assert [task.name for task, _args in held] == ["build_document"]  # one build asked for
    held.run()
    built = client.get(url)
    assert built.status_code == 200 and built.data[:4] in (b"%PDF", b"PK\x03\x04")
    assert client.get(url, headers={"If-None-Match": built.headers["ETag"]}).status_code == 304
    row = db.session.scalar(select(CachedDocument))
    assert row.content == built.data and row.building_since is None


def test_a_stale_document_is_served_while_the_queue_rebuilds_it(client, setup, held,
                                                                 monkeypatch, app):
    now = [datetime.now(UTC)]
    monkeypatch.setattr(documents, "_now", lambda: now[0])
    client.get("/global.pdf")
    held.run()
    first = client.get("/global.pdf")
    assert first.status_code == 200
    audit.record(setup.user("admin"), "site.updated", setup.site)
    db.session.commit()
    now[0] += timedelta(seconds=app.config["DOCUMENT_CACHE_MIN_AGE"] + 1)
    stale = client.get("/global.pdf")
    assert stale.status_code == 200 and stale.data == first.data
    assert client.get("/global.pdf").data == first.data
    assert len(held) == 1  # one rebuild asked for, however many requests
    built_before = db.session.scalar(select(CachedDocument.built_at))
    held.run()
    assert db.session.scalar(select(CachedDocument.built_at)) > built_before
    assert client.get("/global.pdf").status_code == 200


def test_documents_with_the_queue_down_answer_503_and_ask_again_later(client, setup,
                                                                       monkeypatch):
    def down(task):
        raise OSError("the queue's storage is unavailable")

    monkeypatch.setattr(tasks.huey, "enqueue", down)
    response = client.get("/global.pdf")
    assert response.status_code == 503 and "Set-Cookie" not in response.headers
    row = db.session.scalar(select(CachedDocument))
    assert row.building_since is None  # the claim is freed: the next request asks again
    monkeypatch.undo()
    assert client.get("/global.pdf").status_code == 200


# --- where the queue lives --------------------------------------------------------------------

def test_the_queue_url_chooses_the_storage(tmp_path):
    from huey.storage import RedisStorage, SqliteStorage

    default = tasks._storage_for("", tmp_path / "tasks.sqlite3")
    assert isinstance(default, SqliteStorage) and default.filename == str(tmp_path / "tasks.sqlite3")
    assert isinstance(tasks._storage_for(f"sqlite:///{tmp_path}/q.db", tmp_path), SqliteStorage)
    assert isinstance(tasks._storage_for("redis://localhost:6379/1", tmp_path), RedisStorage)


def test_a_savepoint_neither_sends_nor_drops_the_tasks_of_its_transaction(setup, held):
    """A savepoint released or rolled back (a service's `begin_nested`) is not the
    transaction's commit or rollback: the task waits for the real commit, once."""
    report = _submitted(setup)
    services.publish(setup.user("coordinator"), report)
    with db.session.begin_nested():
        db.session.flush()
    assert held == []  # released, not committed
    db.session.begin_nested().rollback()
    assert held == []
    db.session.commit()
    assert len(held) == 1


def test_a_savepoint_does_not_refresh_the_rollups_before_the_commit(setup, monkeypatch):
    from charter import tasks

    sent = []
    monkeypatch.setattr(tasks.refresh_rollups, "s", lambda refs: sent.append(refs))
    monkeypatch.setattr(tasks.huey, "enqueue", lambda signature: None)
    f.commitment(setup.org, f.domain("Accepting communities"))
    with db.session.begin_nested():
        db.session.flush()
    db.session.begin_nested().rollback()
    assert sent == []
    db.session.commit()
    assert len(sent) == 1


def test_the_worker_restarts_itself_after_its_last_task(monkeypatch):
    """TASK_WORKER_MAX_TASKS: after that many tasks (done or failed) the worker sends itself
    SIGHUP once, on which Huey's consumer ends gracefully and runs the same command again."""
    import os
    import signal
    import sys

    from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR

    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.setattr(sys, "argv", ["/somewhere/flask/__main__.py", "charter", "worker"])
    monkeypatch.setattr(sys, "orig_argv", ["python", "-m", "flask", "charter", "worker"])
    handler = tasks._restart_after(3)
    try:
        tasks.huey._emit(SIGNAL_COMPLETE, None)
        tasks.huey._emit(SIGNAL_ERROR, None)
        assert sent == []
        for _ in range(3):
            tasks.huey._emit(SIGNAL_COMPLETE, None)
    finally:
        tasks.huey.disconnect_signal(handler)
    assert sent == [(os.getpid(), signal.SIGHUP)]
    assert sys.argv == ["-m", "flask", "charter", "worker"]  # what Huey runs again
    assert tasks._restart_after(0) is None
