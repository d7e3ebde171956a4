"""Issue 10, point 1: a PDF render cannot take the service down.

Text that is printed is bounded in structure (refused beside the field, and by the services);
every render has a hard time limit after which nothing is half published; no render runs while
the request holds a database write transaction, so others can sign in meanwhile; a lead's
correction is reviewed like a first submission when the cycle reviews reports."""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import threading
from datetime import UTC, date, datetime
from html import unescape

import pytest
from sqlalchemy import event, func, select

from charter.extensions import db
from charter.models import (
    RAG,
    AuditEvent,
    CommitmentStatus,
    Completion,
    MemberRole,
    OutboxMessage,
    ProgressReport,
    ReportRevision,
    ReportStatus,
    ReviewAction,
    User,
)
from tests import factories as f
from tests.support import text_of

MESSAGE = "This text has too much formatting to print; simplify it."
LIMIT = 100_000  # characters in a report's summary


def _exactly(text: str, length: int = LIMIT) -> str:
    return (text * (length // len(text) + 1))[:length]


def _hostile() -> dict[str, str]:
    nested_list = "".join("  " * (i % 40) + "- item\n" for i in range(2_000))
    return {
        "emphasis run": _exactly("*_"),
        "deep quotes": _exactly(">"),
        "quotes with text": _exactly("> " * 30 + "deep\n"),
        "list indentation": _exactly(nested_list),
        "links and emphasis": _exactly("[a](https://example.org/x) *b* **c** `d` _e_ "),
    }


HOSTILE = _hostile()

SENTENCES = [
    "We met every ward team to go through each restrictive intervention with the people it was "
    "used on, their families and the staff involved.",
    "Prone restraint fell on four of our six acute wards, and every use was reviewed within "
    "seventy-two hours with the person concerned.",
    "Two wards did not improve: both had long vacancies and relied on agency staff who had not "
    "been trained in the Safewards interventions.",
    "The service user forum read this section before it was published and asked us to say "
    "plainly what did not work.",
]


def ordinary_prose(length: int = LIMIT) -> str:
    paragraphs = []
    i = 0
    while sum(len(p) + 2 for p in paragraphs) < length:
        paragraphs.append(" ".join(SENTENCES[(i + k) % 4] for k in range(5)))
        i += 1
    return "\n\n".join(paragraphs)[:length].rstrip()


def forty_page_report() -> str:
    """What a long real report looks like: headings, prose with some emphasis and links,
    lists (nested three deep), tables and quotes, 100,000 characters."""
    part = [
        "## Prevention and early detection\n",
        ordinary_prose(2_400),
        "What changed this period, in the words of the people who use the service:\n",
        "> Staff asked before stepping in. **Fewer alarms** at night, and someone explained "
        "what was happening. See the [forum notes](https://example.org/forum).\n",
        "- Safewards on every acute ward\n  - *calm-down* boxes\n    - reviewed monthly\n"
        "  - mutual help meetings\n- Post-incident reviews with the patient: 78%\n"
        "- Two wards behind: [action plan](https://example.org/plan)\n",
        "| Ward | Q1 | Q2 | Change |\n|---|---:|---:|---|\n"
        + "".join(f"| Ward {w} | {10 + w} | {8 + w} | fewer, *reviewed* |\n" for w in range(12)),
        "1. Train the remaining night staff.\n2. Publish the figures monthly.\n"
        "3. Review the `MHS96` coding with the data team.\n",
    ]
    return _exactly("\n\n".join(part) + "\n\n").rstrip()


# --- the structure checker ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_markdown_is_refused(kind):
    from charter.text import too_much_formatting

    assert len(HOSTILE[kind]) == LIMIT
    assert too_much_formatting(HOSTILE[kind])


@pytest.mark.parametrize("text", [ordinary_prose(), forty_page_report()],
                         ids=["prose", "report with lists and tables"])
def test_ordinary_long_writing_passes(text):
    from charter.text import measure, too_much_formatting

    assert len(text) >= LIMIT - 10
    assert not too_much_formatting(text), measure(text)


def test_the_demo_texts_pass():
    from pathlib import Path

    from charter.demo import reports as demo_reports
    from charter.text import too_much_formatting

    charters = [p.read_text() for p in (Path(demo_reports.__file__).parent / "content").glob("*.md")]
    assert charters
    for text in [*demo_reports.SUMMARIES, demo_reports.REFLECTION, *charters]:
        assert not too_much_formatting(text)


# --- refused at input, beside the field ----------------------------------------------------------

@pytest.fixture
def setup(world):
    """Cambridge with a signed organisation, a published commitment and a cycle (Q1 2026)."""
    version = f.charter_version(world.site)
    past = datetime(2025, 6, 1, tzinfo=UTC)
    f.signature(world.org, version, world.user("lead"), signed_at=past)
    domain = f.domain("Least restrictive practice", slug="lrp")
    world.commitment = f.commitment(world.org, domain, title="Halve prone restraint",
                                    status=CommitmentStatus.PUBLISHED, published_at=past)
    world.cycle = f.cycle(world.site, "2026 Q1", period_start=date(2026, 1, 1),
                          period_end=date(2026, 3, 31), due_date=date(2026, 4, 30))
    world.domain = domain
    db.session.commit()
    return world


def _field_error(response, field_id: str) -> str:
    html = response.get_data(as_text=True)
    match = re.search(rf'id="{field_id}-error"[^>]*>(.*?)</div>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split()) if match else ""


@pytest.mark.parametrize("kind", HOSTILE)
def test_the_report_form_refuses_hostile_text_beside_the_field(client, setup, kind):
    report = f.report(setup.org, setup.cycle, summary="Before.")
    db.session.commit()
    client.login(setup.user("lead"))
    response = client.post(f"/reports/{report.id}/edit",
                           data={"summary": HOSTILE[kind], "version": str(report.version)})
    assert response.status_code == 400
    assert MESSAGE in _field_error(response, "summary")
    assert db.session.get(ProgressReport, report.id).summary == "Before."


def test_the_report_form_takes_100000_characters_of_ordinary_prose(client, setup):
    report = f.report(setup.org, setup.cycle, summary="Before.")
    db.session.commit()
    client.login(setup.user("lead"))
    prose = ordinary_prose()
    response = client.post(f"/reports/{report.id}/edit",
                           data={"summary": prose, "version": str(report.version)})
    assert response.status_code == 302
    assert db.session.get(ProgressReport, report.id).summary == prose


@pytest.mark.parametrize("field", ["summary", "change_note"])
def test_the_correction_form_refuses_hostile_text_beside_the_field(client, setup, field):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"))
    db.session.commit()
    client.login(setup.user("lead"))
    data = {"summary": "Corrected.", "change_note": "A figure was wrong.",
            field: HOSTILE["emphasis run"][:2000 if field == "change_note" else LIMIT]}
    response = client.post(f"/reports/{report.id}/correct", data=data)
    assert response.status_code == 400
    assert MESSAGE in _field_error(response, field)
    assert db.session.scalar(select(func.count()).select_from(ReportRevision)) == 1
    assert not db.session.get(ProgressReport, report.id).corrections


def test_the_services_refuse_hostile_text_too(setup):
    """Spreadsheets and other paths skip the forms: the services check the same."""
    from charter.commitments import services as commitments
    from charter.commitments import spreadsheets, updates
    from charter.reports import services
    from tests.test_spreadsheets_data import csv_file, new_row

    hostile = HOSTILE["emphasis run"]
    report = f.report(setup.org, setup.cycle)
    with pytest.raises(services.ReportError) as refused:
        services.save_report(setup.user("lead"), report, services.ReportText(hostile, "", ""),
                             None)
    assert (refused.value.field, refused.value.message) == ("summary", MESSAGE)

    published = f.published_report(setup.org, f.cycle(
        setup.site, "2026 Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
        due_date=date(2026, 7, 31)), setup.user("coordinator"))
    for attempt in (services.correct, services.submit_correction):
        user = setup.user("coordinator" if attempt is services.correct else "lead")
        with pytest.raises(services.ReportError) as refused:
            attempt(user, published, services.ReportText("Fine.", hostile, ""), "A note.")
        assert refused.value.field == "lived_experience_reflection"

    values = commitments.CommitmentValues(title="A promise", domain_id=setup.domain.id,
                                          description=hostile[:20_000])
    with pytest.raises(commitments.CommitmentError) as refused:
        commitments.create(setup.user("lead"), setup.org, values)
    assert refused.value.field == "description"
    with pytest.raises(commitments.CommitmentError):
        updates.add_update(setup.user("lead"), setup.commitment, updates.UpdateValues(
            update_date=date(2026, 2, 1), report=hostile[:10_000], completion=Completion.LIMITED,
            rag=RAG.ON_TRACK))

    plan = spreadsheets.plan_import(setup.user("lead"), setup.org, csv_file(
        [new_row(**{"Change domain": "lrp", "Description": hostile[:20_000]})]))
    assert [e.sentence for e in plan.errors if MESSAGE in e.sentence]


def test_text_saved_before_the_limits_is_refused_before_rendering(client, setup, monkeypatch):
    report = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED,
                      summary=HOSTILE["emphasis run"])
    db.session.commit()

    def no_render(*args, **kwargs):
        raise AssertionError("rendered text that is refused")

    monkeypatch.setattr("charter.reports.rendering.render_report_pdf", no_render)
    client.login(setup.user("coordinator"))
    page = client.post(f"/reports/{report.id}/publish", data={}, follow_redirects=True)
    assert MESSAGE in text_of(page)
    assert db.session.scalar(select(func.count()).select_from(ReportRevision)) == 0


# --- a hard time limit on every render ---------------------------------------------------------

TIMEOUT_MESSAGE = "Making the PDF took too long, so it was stopped and nothing was saved."


def _published_events() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.in_(["report.published", "report.revision_published",
                               "report.corrected"]))))


@pytest.fixture
def tiny_time_limit(app, monkeypatch):
    """A limit no render of a long report meets (an ordinary one takes a second or more)."""
    monkeypatch.setitem(app.config, "PDF_RENDER_TIMEOUT", 0.01)


@pytest.mark.pdf
def test_a_publish_past_the_time_limit_publishes_nothing(client, setup, tiny_time_limit):
    report = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED,
                      summary=forty_page_report())
    db.session.commit()
    client.login(setup.user("coordinator"))
    response = client.post(f"/reports/{report.id}/publish", data={"version": report.version})
    assert response.status_code == 302  # queued: the task renders, fails, is tried again
    page = text_of(client.get(response.headers["Location"]))
    assert "Publishing failed" in page and TIMEOUT_MESSAGE in page and "Try again" in page
    report = db.session.get(ProgressReport, report.id)
    assert report.status == ReportStatus.SUBMITTED
    assert report.revisions == [] and report.published_at is None
    assert ReviewAction.APPROVED not in [r.action for r in report.reviews]
    assert _published_events() == []
    assert not db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "report_published"))
    assert not [p for p in multiprocessing.active_children() if p.name == "charter-pdf-render"]


@pytest.mark.pdf
def test_a_submission_that_publishes_at_once_past_the_limit_publishes_nothing(
        client, setup, tiny_time_limit):
    setup.cycle.review_required = False
    report = f.report(setup.org, setup.cycle, summary=forty_page_report())
    db.session.commit()
    client.login(setup.user("lead"))
    page = client.post(f"/reports/{report.id}/submit", data={"version": report.version},
                       follow_redirects=True)
    assert TIMEOUT_MESSAGE in text_of(page)  # the lead sees why; coordinators may try again
    report = db.session.get(ProgressReport, report.id)
    assert report.status == ReportStatus.SUBMITTED and report.revisions == []
    assert [r.action for r in report.reviews] == [ReviewAction.SUBMITTED]
    assert _published_events() == []


@pytest.mark.pdf
def test_a_correction_past_the_limit_keeps_the_text_and_publishes_nothing(
        client, setup, app, monkeypatch):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"),
                                summary="Original.")
    db.session.commit()
    monkeypatch.setitem(app.config, "PDF_RENDER_TIMEOUT", 0.01)
    client.login(setup.user("coordinator"))
    long_text = forty_page_report()
    response = client.post(f"/reports/{report.id}/correct",
                           data={"summary": long_text, "change_note": "Figures added."})
    assert response.status_code == 302  # queued: the task renders, fails, is tried again
    assert TIMEOUT_MESSAGE in text_of(client.get(response.headers["Location"]))
    from charter.models import PublicationRequest, PublicationState

    kept = db.session.scalar(select(PublicationRequest))
    assert kept.state == PublicationState.FAILED
    assert "Ward 11" in kept.summary  # what they typed is kept, for "Try again"
    report = db.session.get(ProgressReport, report.id)
    assert [r.number for r in report.revisions] == [1] and report.summary == "Original."
    assert _published_events() == ["report.published"]


@pytest.mark.pdf
def test_publishing_a_leads_correction_past_the_limit_leaves_it_waiting(
        client, setup, app, monkeypatch):
    from charter.models import CorrectionStatus
    from charter.reports import services

    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"))
    correction = services.submit_correction(
        setup.user("lead"), report, services.ReportText(forty_page_report(), "", ""), "Longer.")
    db.session.commit()
    monkeypatch.setitem(app.config, "PDF_RENDER_TIMEOUT", 0.01)
    client.login(setup.user("coordinator"))
    page = client.post(f"/reports/{report.id}/corrections/{correction.id}/publish",
                       data={"version": correction.version}, follow_redirects=True)
    assert TIMEOUT_MESSAGE in text_of(page)
    db.session.refresh(correction)
    assert correction.status == CorrectionStatus.SUBMITTED
    assert len(db.session.get(ProgressReport, report.id).revisions) == 1


@pytest.mark.pdf
def test_a_render_past_the_limit_is_stopped(app):
    from charter import pdf

    job = pdf.render_job("<p>" + ordinary_prose() + "</p>")
    with pytest.raises(pdf.PdfTimeout):
        pdf.run_job(job, timeout=0.01)
    assert not [p for p in multiprocessing.active_children() if p.name == "charter-pdf-render"]
    assert pdf.run_job(pdf.render_job("<p>Hello</p>"), timeout=60).startswith(b"%PDF")


@pytest.mark.pdf
def test_a_certificate_past_the_limit_gets_a_clear_page(client, world, app, monkeypatch):
    version = f.charter_version(world.site)
    signature = f.signature(world.org, version, world.user("lead"))
    db.session.commit()
    monkeypatch.setitem(app.config, "PDF_RENDER_TIMEOUT", 0.001)
    response = client.get(f"/signatures/{signature.id}/certificate.pdf")
    assert response.status_code == 503
    assert "The PDF could not be made" in text_of(response)
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_demo_command_says_clearly_when_a_pdf_cannot_be_made(app, monkeypatch):
    from charter.pdf import PdfTimeout
    from charter.reports import services

    def timeout(publication):
        raise PdfTimeout("render stopped after 60 s")

    monkeypatch.setattr(services, "render", timeout)
    result = app.test_cli_runner().invoke(args=["charter", "demo"])
    assert result.exit_code == 1
    assert "PDF could not be made (render stopped after 60 s)" in result.output
    assert "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


# --- no render inside a write transaction --------------------------------------------------------

def test_nothing_renders_while_the_request_has_written(app, world):
    from charter import pdf

    with app.test_request_context():
        world_user = db.session.get(User, world.user("lead").id)
        world_user.job_title = "Changed"
        with pytest.raises(pdf.RenderInsideWrite):
            pdf.html_to_pdf("<p>Hello</p>")  # about to write (autoflush would)
        db.session.flush()
        with pytest.raises(pdf.RenderInsideWrite):
            pdf.html_to_pdf("<p>Hello</p>")  # has written: holds the write lock
        db.session.rollback()
        assert pdf.html_to_pdf("<p>Hello</p>").startswith(b"%PDF")


@contextlib.contextmanager
def short_busy_timeout(milliseconds: int = 1000):
    """On SQLite, wait at most this long for another writer (the app waits 15 s), so that a
    sign-in blocked by a publish fails in a second instead of fifteen."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def short(dbapi_connection, record, proxy):
        dbapi_connection.execute(f"PRAGMA busy_timeout = {milliseconds}")

    def usual(dbapi_connection, record):
        dbapi_connection.execute("PRAGMA busy_timeout = 15000")

    event.listen(engine, "checkout", short)
    event.listen(engine, "checkin", usual)
    try:
        yield
    finally:
        event.remove(engine, "checkout", short)
        event.remove(engine, "checkin", usual)


def _publishing(path: str, setup):
    """(actor, URL, form data, revisions expected after) for each way a report is published."""
    if path == "publish":  # a coordinator approves a submitted report
        report = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED,
                          summary="We reduced restraint on two wards.")
        db.session.commit()
        return "coordinator", f"/reports/{report.id}/publish", {"version": report.version}, 1, report.id
    if path == "submit":  # a lead submits in a cycle without review: published at once
        setup.cycle.review_required = False
        report = f.report(setup.org, setup.cycle, summary="We reduced restraint on two wards.")
        db.session.commit()
        return "lead", f"/reports/{report.id}/submit", {"version": report.version}, 1, report.id
    # a coordinator corrects a published report: a new revision
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"),
                                summary="Original summary.")
    db.session.commit()
    return ("coordinator", f"/reports/{report.id}/correct",
            {"summary": "Corrected summary.", "change_note": "The March figure was 22."}, 2, report.id)


@pytest.mark.parametrize("path", ["publish", "submit", "correct"])
def test_someone_signs_in_while_a_report_is_publishing(app, setup, monkeypatch, path):
    """Two threads: someone publishes through the app (a coordinator's approval, a lead's
    submission without review, a coordinator's correction) while the render is held; a lead
    signs in with a real password meanwhile, and that sign-in is committed before the render
    is let go. Before the render moved out of the write transaction, SQLite answered the
    sign-in "database is locked"."""
    from charter.reports import rendering

    actor, url, data, revisions, report_id = _publishing(path, setup)
    actor_id = setup.user(actor).id
    lead_id, lead_email = setup.user("lead").id, setup.user("lead").email
    rendering_started, release = threading.Event(), threading.Event()
    real_render = rendering.render_report_pdf

    def held_render(snapshot):
        rendering_started.set()
        assert release.wait(120), "the test never let the render go"
        return real_render(snapshot)

    monkeypatch.setattr(rendering, "render_report_pdf", held_render)
    outcome: dict[str, object] = {}

    def in_thread(name, work):
        def run():
            try:
                with app.app_context():
                    outcome[name] = work()
            except BaseException as exc:  # noqa: BLE001 - reported by the test below
                outcome[name] = exc
        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        return thread

    def publish():
        client = app.test_client()
        client.login(db.session.get(User, actor_id))  # this thread's own session
        return client.post(url, data=data).status_code

    def sign_in():
        client = app.test_client()
        response = client.post("/login", data={"email": lead_email, "password": f.PASSWORD})
        return response.status_code

    with short_busy_timeout():
        publisher = in_thread("publisher", publish)
        try:
            assert rendering_started.wait(120), outcome.get("publisher")
            signer = in_thread("signer", sign_in)
            signer.join(120)
            # Still rendering: the publisher has not been let go yet.
            assert publisher.is_alive() and not release.is_set()
            assert outcome.get("signer") == 302, f"sign-in failed: {outcome.get('signer')!r}"
            db.session.expire_all()
            assert db.session.get(User, lead_id).last_login_at is not None
            assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "user.signed_in")) == 1
        finally:
            release.set()
            publisher.join(120)
    assert outcome.get("publisher") == 302, outcome.get("publisher")
    db.session.expire_all()
    report = db.session.get(ProgressReport, report_id)
    assert report.status == ReportStatus.PUBLISHED
    assert [r.number for r in report.revisions] == list(range(1, revisions + 1))


def test_a_report_changed_while_its_pdf_renders_is_not_published(client, setup, monkeypatch):
    """The short write step checks the report again: someone returned it meanwhile."""
    from sqlalchemy import update

    from charter.reports import rendering

    report = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED)
    db.session.commit()
    real_render = rendering.render_report_pdf

    def render_while_someone_returns_it(snapshot):
        with db.engine.begin() as connection:
            connection.execute(update(ProgressReport).where(ProgressReport.id == report.id)
                               .values(status=ReportStatus.RETURNED,
                                       version=ProgressReport.version + 1))
        return real_render(snapshot)

    monkeypatch.setattr(rendering, "render_report_pdf", render_while_someone_returns_it)
    client.login(setup.user("coordinator"))
    page = client.post(f"/reports/{report.id}/publish", data={"version": report.version},
                       follow_redirects=True)
    assert "Someone else acted on this report while its PDF was being made" in text_of(page)
    db.session.expire_all()
    report = db.session.get(ProgressReport, report.id)
    assert report.status == ReportStatus.RETURNED and report.revisions == []
    assert _published_events() == []


# --- a lead's correction follows the review rule -------------------------------------------------

def _public_text(app, report_id: int) -> str:
    return text_of(app.test_client().get(f"/reports/{report_id}"))


def test_a_leads_correction_is_reviewed_and_not_public_until_published(client, app, setup):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"),
                                summary="Original summary.")
    db.session.commit()
    first_pdf = app.test_client().get(f"/reports/{report.id}.pdf").data
    client.login(setup.user("lead"))
    response = client.post(f"/reports/{report.id}/correct", data={
        "summary": "Corrected summary.", "change_note": "The March figure was 22, not 12."})
    assert response.status_code == 302
    # The public still reads revision 1, text and PDF.
    assert "Original summary." in _public_text(app, report.id)
    assert "Corrected summary." not in _public_text(app, report.id)
    assert app.test_client().get(f"/reports/{report.id}.pdf").data == first_pdf

    from charter.models import CorrectionStatus, ReportCorrection

    correction = db.session.scalar(select(ReportCorrection))
    assert correction.status == CorrectionStatus.SUBMITTED
    assert response.headers["Location"].endswith(
        f"/reports/{report.id}/corrections/{correction.id}")
    assert "A correction is waiting for review." in text_of(
        client.get(f"/reports/{report.id}/correct"))
    waiting = "A correction of this report is waiting for review"
    assert waiting in text_of(client.get(f"/reports/{report.id}"))
    assert waiting not in _public_text(app, report.id)
    # The correction's page is not public.
    assert app.test_client().get(
        f"/reports/{report.id}/corrections/{correction.id}").status_code == 302
    assert [r.number for r in db.session.get(ProgressReport, report.id).revisions] == [1]
    # Coordinators are told, and find it in their review queue.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "report_correction_submitted")) == 1
    reviewer = app.test_client()
    reviewer.login(setup.user("coordinator"))
    queue = text_of(reviewer.get(f"/manage/sites/{setup.site.slug}/reporting"))
    assert "Corrections waiting for your review" in queue and "Fenland Trust · 2026 Q1" in queue
    # A second one waits for the first.
    again = client.post(f"/reports/{report.id}/correct", data={
        "summary": "Another.", "change_note": "Another change."})
    assert again.status_code == 409 and "already waiting for review" in text_of(again)
    # The coordinator publishes it as revision 2.
    published = reviewer.post(f"/reports/{report.id}/corrections/{correction.id}/publish",
                              data={"version": correction.version})
    assert published.status_code == 302
    assert "Corrected summary." in _public_text(app, report.id)
    assert "The March figure was 22, not 12." in _public_text(app, report.id)
    db.session.expire_all()
    assert db.session.get(ReportCorrection, correction.id).revision_number == 2
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-4:] == ["report.correction_submitted", "report.publication_requested",
                            "report.corrected", "report.revision_published"]


def test_a_returned_correction_comes_back_with_the_comments_and_nothing_public(client, app,
                                                                               setup):
    from charter.models import CorrectionStatus, ReportCorrection
    from charter.reports import services

    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"),
                                summary="Original summary.")
    correction = services.submit_correction(
        setup.user("lead"), report, services.ReportText("Corrected summary.", "", ""),
        "The March figure was wrong.")
    db.session.commit()
    reviewer = app.test_client()
    reviewer.login(setup.user("coordinator"))
    response = reviewer.post(f"/reports/{report.id}/corrections/{correction.id}/return",
                             data={"comment": "Give the right figure too.",
                                   "version": correction.version})
    assert response.status_code == 302
    assert db.session.get(ReportCorrection, correction.id).status == CorrectionStatus.RETURNED
    client.login(setup.user("lead"))
    page = client.get(f"/reports/{report.id}/correct")
    assert "Give the right figure too." in text_of(page)
    assert "Corrected summary." in page.get_data(as_text=True)  # their text, back in the form
    assert "Corrected summary." not in _public_text(app, report.id)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "report_correction_returned")) == 1


def test_without_review_a_leads_correction_publishes_at_once_and_is_rate_limited(
        client, app, setup, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_CORRECTION_RATE_LIMIT", "2 per hour")
    setup.cycle.review_required = False
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"))
    db.session.commit()
    client.login(setup.user("lead"))
    # A refused form does not count against the limit.
    assert client.post(f"/reports/{report.id}/correct",
                       data={"summary": "No note."}).status_code == 400
    for n in (2, 3):
        response = client.post(f"/reports/{report.id}/correct", data={
            "summary": f"Corrected {n}.", "change_note": f"Correction {n}."})
        assert response.status_code == 302
        assert f"Corrected {n}." in _public_text(app, report.id)
    refused = client.post(f"/reports/{report.id}/correct", data={
        "summary": "Corrected 4.", "change_note": "Correction 4."})
    assert refused.status_code == 429
    assert "Too many attempts" in text_of(refused)
    assert [r.number for r in db.session.get(ProgressReport, report.id).revisions] == [1, 2, 3]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "report.corrected")) == 2
    # Coordinators are not limited.
    coordinator = app.test_client()
    coordinator.login(setup.user("coordinator"))
    assert coordinator.post(f"/reports/{report.id}/correct", data={
        "summary": "Corrected 5.", "change_note": "Correction 5."}).status_code == 302


# --- whoever reports does not also approve -----------------------------------------------------

def test_a_coordinator_who_is_a_member_does_not_review_that_organisations_report(client, app,
                                                                                 setup):
    """A coordinator who became a lead (through someone else's invitation) may submit the
    organisation's report, but another coordinator or an admin publishes it; their own
    correction waits for review like any lead's."""
    from charter.models import CorrectionStatus, ReportCorrection

    coordinator = setup.user("coordinator")
    f.member(coordinator, setup.org, MemberRole.LEAD)
    submitted = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED)
    db.session.commit()
    client.login(coordinator)
    response = client.post(f"/reports/{submitted.id}/publish", data={"version": submitted.version})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(ProgressReport, submitted.id).status == ReportStatus.SUBMITTED
    assert not db.session.get(ProgressReport, submitted.id).revisions
    # An admin who is no member publishes it; the coordinator's correction then waits.
    admin = app.test_client()
    admin.login(setup.user("admin"))
    assert admin.post(f"/reports/{submitted.id}/publish",
                      data={"version": submitted.version}).status_code == 302
    response = client.post(f"/reports/{submitted.id}/correct", data={
        "summary": "Corrected by the coordinator who leads it.", "change_note": "Figures."})
    assert response.status_code == 302
    correction = db.session.scalar(select(ReportCorrection))
    assert correction.status == CorrectionStatus.SUBMITTED
    assert client.post(f"/reports/{submitted.id}/corrections/{correction.id}/publish",
                       data={"version": correction.version}).status_code == 403
    assert "Corrected by the coordinator" not in _public_text(app, submitted.id)
