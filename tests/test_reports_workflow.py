"""Reporting cycles, reporting status, the report workflow, publishing that freezes,
corrections, reminders and the public pages."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from charter.extensions import db
from charter.models import (
    CommitmentStatus,
    OutboxMessage,
    ProgressReport,
    ReportingStatus,
    ReportRevision,
    ReportStatus,
    Tier,
)
from charter.models.base import utcnow
from charter.permissions import PermissionDenied
from charter.reports import reminders, services, status
from tests import factories as f
from tests.support import text_of


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def setup(world):
    """Cambridge with a signed organisation, a commitment and one cycle (Q1 2026)."""
    version = f.charter_version(world.site)
    past = datetime(2025, 6, 1, tzinfo=UTC)
    f.signature(world.org, version, world.user("lead"), signed_at=past)
    f.signature(world.other_org, version, world.user("other_lead"), signed_at=past)
    domain = f.domain("Least restrictive practice", slug="lrp")
    commitment = f.commitment(world.org, domain, title="Halve prone restraint",
                              status=CommitmentStatus.PUBLISHED, published_at=past)
    cycle = f.cycle(world.site, "2026 Q1", period_start=date(2026, 1, 1),
                    period_end=date(2026, 3, 31), due_date=date(2026, 4, 30))
    db.session.commit()
    world.cycle = cycle
    world.commitment = commitment
    world.domain = domain
    return world


def _values(**kw):
    base = {"name": "2026 Q2", "period_start": date(2026, 4, 1), "period_end": date(2026, 6, 30),
            "due_date": date(2026, 7, 31)}
    base.update(kw)
    return services.CycleValues(**base)


# --- cycles ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("kw", "field"), [
    ({"due_date": date(2026, 6, 1)}, "due_date"),
    ({"period_end": date(2026, 3, 1)}, "period_end"),
    ({"period_start": date(2026, 3, 15)}, "period_start"),   # overlaps 2026 Q1
    ({"name": "2026 q1"}, "name"),                          # same name, other case
    ({"reminder_days_before": -1}, "reminder_days_before"),
])
def test_bad_cycles_are_refused(setup, kw, field):
    with pytest.raises(services.ReportError) as exc:
        services.create_cycle(setup.user("coordinator"), setup.site, _values(**kw))
    assert exc.value.field == field


def test_only_the_sites_coordinators_create_cycles(setup):
    with pytest.raises(PermissionDenied):
        services.create_cycle(setup.user("other_coordinator"), setup.site, _values())
    cycle = services.create_cycle(setup.user("admin"), setup.site, _values())
    assert cycle.name == "2026 Q2"


def test_a_cycle_with_reports_cannot_be_deleted(setup):
    f.report(setup.org, setup.cycle)
    with pytest.raises(services.ReportError):
        services.delete_cycle(setup.user("coordinator"), setup.cycle)


# --- reporting status -----------------------------------------------------------------------------

def _status(site, org, cycle, on: date):
    now = datetime(on.year, on.month, on.day, 12, tzinfo=UTC)
    return status.site_reporting(site, now=now).status(org, cycle)


def test_status_follows_the_records_and_the_date(setup):
    site, org, cycle = setup.site, setup.org, setup.cycle
    assert _status(site, org, cycle, date(2026, 4, 1)) == ReportingStatus.NOT_STARTED
    report = f.report(org, cycle)
    assert _status(site, org, cycle, date(2026, 4, 1)) == ReportingStatus.DRAFT
    report.status = ReportStatus.SUBMITTED
    assert _status(site, org, cycle, date(2026, 4, 1)) == ReportingStatus.SUBMITTED
    report.status = ReportStatus.RETURNED
    assert _status(site, org, cycle, date(2026, 4, 30)) == ReportingStatus.RETURNED
    assert _status(site, org, cycle, date(2026, 5, 1)) == ReportingStatus.OVERDUE
    report.status = ReportStatus.PUBLISHED
    assert _status(site, org, cycle, date(2026, 5, 1)) == ReportingStatus.PUBLISHED


def test_supporters_are_exempt_when_the_site_says_so(setup):
    setup.other_org.tier = Tier.SUPPORTER
    assert _status(setup.site, setup.other_org, setup.cycle, date(2026, 5, 2)) == ReportingStatus.EXEMPT
    setup.site.supporters_exempt = False
    assert _status(setup.site, setup.other_org, setup.cycle, date(2026, 5, 2)) == ReportingStatus.OVERDUE


def test_organisations_that_signed_after_the_due_date_owe_nothing(setup):
    late = f.organisation(setup.site, "Late Joiner")
    version = db.session.scalar(select(f.CharterVersion))
    f.signature(late, version, setup.user("lead"), signed_at=datetime(2026, 6, 1, tzinfo=UTC))
    assert _status(setup.site, late, setup.cycle, date(2026, 6, 2)) == ReportingStatus.EXEMPT


def test_not_reporting_after_the_threshold_and_back_with_the_next_report(setup):
    site, org = setup.site, setup.org
    q2 = f.cycle(site, "2026 Q2", period_start=date(2026, 4, 1), period_end=date(2026, 6, 30),
                 due_date=date(2026, 7, 31))
    q3 = f.cycle(site, "2026 Q3", period_start=date(2026, 7, 1), period_end=date(2026, 9, 30),
                 due_date=date(2026, 10, 31))
    site.missed_cycles_threshold = 2
    on = datetime(2026, 8, 15, tzinfo=UTC)
    reporting = status.site_reporting(site, now=on)
    assert reporting.missed_in_a_row(org) == 2 and reporting.not_reporting(org)
    # A late report for Q2 ends the run.
    f.report(org, q2, status=ReportStatus.PUBLISHED)
    reporting = status.site_reporting(site, now=on)
    assert reporting.missed_in_a_row(org) == 0 and not reporting.not_reporting(org)
    # An early report for the next cycle also ends a run.
    later = datetime(2026, 11, 15, tzinfo=UTC)
    assert status.site_reporting(site, now=later).missed_in_a_row(org) == 1
    f.report(org, q3, status=ReportStatus.PUBLISHED)
    assert status.site_reporting(site, now=later).missed_in_a_row(org) == 0


# --- workflow -----------------------------------------------------------------------------

def test_empty_report_cannot_be_submitted(setup):
    report = services.start_report(setup.user("editor"), setup.org, setup.cycle)
    with pytest.raises(services.ReportError) as exc:
        services.submit(setup.user("lead"), report)
    assert exc.value.field == "summary"
    assert report.status == ReportStatus.DRAFT


def test_only_a_lead_submits_and_only_coordinators_review(setup):
    report = f.report(setup.org, setup.cycle)
    with pytest.raises(PermissionDenied):
        services.submit(setup.user("editor"), report)
    services.submit(setup.user("lead"), report)
    with pytest.raises(PermissionDenied):
        services.publish(setup.user("lead"), report)
    with pytest.raises(PermissionDenied):
        services.publish(setup.user("other_coordinator"), report)
    with pytest.raises(services.ReportError):
        services.return_report(setup.user("coordinator"), report, "   ")
    services.return_report(setup.user("coordinator"), report, "Add your seclusion figures.")
    assert report.status == ReportStatus.RETURNED
    mail_body = db.session.scalar(select(OutboxMessage.body_text).where(
        OutboxMessage.kind == "report_returned"))
    assert "Add your seclusion figures." in mail_body


def test_publishing_twice_makes_one_revision(setup):
    report = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED)
    services.publish(setup.user("coordinator"), report, report.version)
    db.session.commit()
    with pytest.raises(services.ReportError) as exc:
        services.publish(setup.user("admin"), report)
    assert exc.value.status == 409
    assert db.session.scalar(select(func.count()).select_from(ReportRevision)) == 1


def test_a_published_report_cannot_be_edited(setup):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"))
    with pytest.raises(PermissionDenied):
        services.save_report(setup.user("lead"), report,
                             services.ReportText("changed", "", ""), report.version)


def test_without_review_the_leads_submission_publishes(setup):
    setup.cycle.review_required = False
    report = f.report(setup.org, setup.cycle)
    services.submit(setup.user("lead"), report)
    assert report.status == ReportStatus.SUBMITTED  # published by the task queue after commit
    assert not report.revisions
    db.session.commit()
    assert report.status == ReportStatus.PUBLISHED
    assert len(report.revisions) == 1


@pytest.mark.pdf
def test_published_report_and_pdf_do_not_change_when_commitments_do(client, setup):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"))
    db.session.commit()
    pdf_before = client.get(f"/reports/{report.id}.pdf").data
    page_before = text_of(client.get(f"/reports/{report.id}"))
    assert "Halve prone restraint" in page_before
    text = _pdf_text(pdf_before)
    for expected in ["Fenland Trust", "2026 Q1", "Halve prone restraint"]:
        assert expected in text
    setup.commitment.title = "A completely different title"
    f.commitment(setup.org, setup.domain, title="A new commitment",
                 status=CommitmentStatus.PUBLISHED, published_at=utcnow())
    db.session.commit()
    assert client.get(f"/reports/{report.id}.pdf").data == pdf_before
    page_after = text_of(client.get(f"/reports/{report.id}"))
    assert "Halve prone restraint" in page_after
    assert "A completely different title" not in page_after and "A new commitment" not in page_after
    revision = db.session.scalar(select(ReportRevision))
    import hashlib

    assert hashlib.sha256(pdf_before).hexdigest() == revision.pdf_sha256


def test_the_stored_pdf_is_served_not_a_fresh_render(client, setup, monkeypatch):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"))
    db.session.commit()

    def no_rendering(*args, **kwargs):
        raise AssertionError("the PDF was rendered again")

    monkeypatch.setattr("charter.reports.rendering.render_pdf", no_rendering)
    response = client.get(f"/reports/{report.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["ETag"].strip('"') == db.session.scalar(select(ReportRevision.pdf_sha256))


@pytest.mark.pdf
def test_a_correction_adds_a_revision_and_keeps_the_first(client, setup):
    report = f.published_report(setup.org, setup.cycle, setup.user("coordinator"),
                                summary="Original summary.")
    db.session.commit()
    first_pdf = client.get(f"/reports/{report.id}.pdf").data
    with pytest.raises(services.ReportError):
        services.correct(setup.user("coordinator"), report, services.ReportText("Fixed", "", ""),
                         "")
    services.correct(setup.user("coordinator"), report,
                     services.ReportText("Corrected summary.", "", ""),
                     "The restraint figure for March was wrong.")
    db.session.commit()
    latest = text_of(client.get(f"/reports/{report.id}"))
    assert "Corrected summary." in latest and "The restraint figure for March was wrong." in latest
    first = text_of(client.get(f"/reports/{report.id}/revisions/1"))
    assert "Original summary." in first and "This is an earlier revision." in first
    assert client.get(f"/reports/{report.id}/revisions/1.pdf").data == first_pdf
    assert client.get(f"/reports/{report.id}.pdf").data != first_pdf
    assert client.get(f"/reports/{report.id}/revisions/3").status_code == 404


@pytest.mark.pdf
def test_a_forty_page_report_renders(setup):
    paragraph = ("We met every ward team to go through each restrictive intervention with the "
                 "people it was used on, their families and the staff involved. ") * 6
    long_text = "\n\n".join(f"{i}. {paragraph}" for i in range(200))
    report = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED, summary=long_text,
                      lived_experience_reflection=long_text[: len(long_text) // 2])
    services.publish(setup.user("coordinator"), report)
    db.session.commit()
    pdf = db.session.scalar(select(ReportRevision)).pdf
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 40


# --- pages ----------------------------------------------------------------------------------

def test_a_lead_of_another_organisation_gets_404_on_a_draft(client, setup):
    report = f.report(setup.org, setup.cycle)
    db.session.commit()
    client.login(setup.user("other_lead"))
    assert client.get(f"/reports/{report.id}").status_code == 404
    assert client.get(f"/reports/{report.id}/edit").status_code == 404
    assert client.get(f"/reports/{report.id}.pdf").status_code == 404
    client.login(setup.user("editor"))
    assert "Not published." in text_of(client.get(f"/reports/{report.id}"))


def test_returned_comments_show_beside_the_text(client, setup):
    report = f.report(setup.org, setup.cycle, status=ReportStatus.SUBMITTED)
    services.return_report(setup.user("coordinator"), report, "Please add the **March** figures.")
    db.session.commit()
    client.login(setup.user("editor"))
    page = client.get(f"/reports/{report.id}/edit")
    assert "Comments from the coordinator" in text_of(page)
    assert "<strong>March</strong>" in page.get_data(as_text=True)


def test_report_list_filters_and_feed(client, setup):
    f.published_report(setup.org, setup.cycle, setup.user("coordinator"))
    brisbane_cycle = f.cycle(setup.other_site, "2026 Q1")
    qas = f.organisation(setup.other_site, "Queensland Ambulance")
    f.published_report(qas, brisbane_cycle, setup.user("admin"), summary="Ambulance summary")
    db.session.commit()
    everything = text_of(client.get("/reports"))
    assert "Fenland Trust" in everything and "Queensland Ambulance" in everything
    only_brisbane = text_of(client.get("/reports?site=brisbane"))
    assert "Queensland Ambulance" in only_brisbane and "Fenland Trust" not in only_brisbane
    assert "Fenland Trust" in text_of(client.get("/reports?domain=lrp"))
    assert "Queensland Ambulance" not in text_of(client.get("/reports?domain=lrp"))
    assert "Queensland Ambulance" in text_of(client.get("/reports?q=ambulance+summary"))
    assert client.get("/reports?site=atlantis").status_code == 400
    feed = client.get("/reports/feed.atom")
    root = ET.fromstring(feed.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(root.findall("a:entry", ns)) == 2
    site_feed = ET.fromstring(client.get("/sites/brisbane/reports/feed.atom").data)
    titles = [e.find("a:title", ns).text for e in site_feed.findall("a:entry", ns)]
    assert titles == ["Queensland Ambulance: 2026 Q1"]
    assert client.get("/sites/atlantis/reports/feed.atom").status_code == 404


def test_coordinator_status_table_lists_overdue_first(client, setup):
    f.report(setup.org, setup.cycle, status=ReportStatus.PUBLISHED)
    db.session.commit()
    client.login(setup.user("coordinator"))
    page = client.get(f"/manage/sites/{setup.site.slug}/reporting?cycle={setup.cycle.id}")
    html = page.get_data(as_text=True)
    order = re.findall(r'data-org="([^"]+)"', html)
    assert order == ["mind-in-the-fens", "fenland-trust"]
    assert "Overdue" in text_of(page)


# --- reminders ------------------------------------------------------------------------------

def test_reminders_are_queued_once_per_organisation_cycle_and_kind(app, setup):
    run = reminders.queue_reminders(date(2026, 4, 20))
    assert run.queued == 2  # one lead in each of the two organisations
    again = reminders.queue_reminders(date(2026, 4, 21))
    assert again.queued == 0 and again.skipped_already_sent == 2
    overdue = reminders.queue_reminders(date(2026, 5, 3))
    assert overdue.queued == 2
    assert reminders.queue_reminders(date(2026, 5, 30)).queued == 0  # outside the window
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert sorted(kinds) == ["report_reminder_due"] * 2 + ["report_reminder_overdue"] * 2


def test_published_organisations_get_no_reminder(setup):
    f.report(setup.org, setup.cycle, status=ReportStatus.PUBLISHED)
    run = reminders.queue_reminders(date(2026, 4, 20))
    assert run.queued == 1
    assert db.session.scalar(select(OutboxMessage.to_address)) == "other.lead@example.org"


def test_remind_command_twice_sends_nothing_twice(app, setup):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["charter", "remind", "--date", "2026-04-20"])
    assert "Queued 2 reminder(s)" in first.output
    second = runner.invoke(args=["charter", "remind", "--date", "2026-04-20"])
    assert "Queued 0 reminder(s); 2 already sent before." in second.output
    bad = runner.invoke(args=["charter", "remind", "--date", "20/04/2026"])
    assert bad.exit_code != 0


def test_report_builder_counts_updates_in_the_period(setup):
    from charter.models import Completion, ProgressUpdate
    from charter.models.enums import RAG
    from charter.reports.snapshot import build_snapshot

    for d in (date(2025, 12, 31), date(2026, 2, 1), date(2026, 4, 1)):
        db.session.add(ProgressUpdate(commitment=setup.commitment, organisation=setup.org,
                                      author=setup.user("lead"), update_date=d, report=f"On {d}",
                                      completion=Completion.LIMITED, rag=RAG.ON_TRACK))
    report = f.report(setup.org, setup.cycle)
    db.session.flush()
    db.session.expire_all()
    snapshot = build_snapshot(db.session.get(ProgressReport, report.id))
    updates = snapshot["domains"][0]["commitments"][0]["updates"]
    assert [u["date"] for u in updates] == ["2026-02-01"]


def test_a_stale_save_gets_the_conflict_page_with_both_texts(client, app, setup):
    report = f.report(setup.org, setup.cycle)
    db.session.commit()
    loaded = report.version
    first = app.test_client()
    first.login(setup.user("lead"))
    assert first.post(f"/reports/{report.id}/edit", data={
        "summary": "The lead's summary", "lived_experience_reflection": "", "co_produced_by": "",
        "version": loaded}).status_code == 302
    client.login(setup.user("editor"))
    response = client.post(f"/reports/{report.id}/edit", data={
        "summary": "The editor's summary", "lived_experience_reflection": "", "co_produced_by": "",
        "version": loaded})
    assert response.status_code == 409
    body = text_of(response)
    assert "Someone else changed this report" in body
    assert "While you were writing, someone saved a newer version." in body
    assert "The lead's summary" in body and "The editor's summary" in body
    html = response.get_data(as_text=True)
    assert f'action="/reports/{report.id}/edit"' in html
    assert "<title>Someone else changed this report" in html
    db.session.refresh(report)
    assert report.summary == "The lead's summary"
