"""Indicators and progress updates in a real browser: a member attaches a catalogue
indicator with a baseline and a target, records three measurements, sees the chart and its
table on the commitment page, and adds a progress update. axe-core on the commitment page
and on each form page, and nothing wider than a 320px screen."""

from __future__ import annotations

import re

from sqlalchemy import select

from charter.extensions import db
from charter.models import RAG, CommitmentStatus, Completion, Direction, Indicator, Measurement, MemberRole
from charter.models.base import utcnow
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


def _data(committed):
    site = f.site("cambridge", name="Cambridge")
    org = f.organisation(site, "Fenland Trust", slug="fenland-trust")
    editor = f.user("editor@example.org", full_name="Jiří Novák 🌿", job_title="Ward manager")
    f.member(editor, org, MemberRole.EDITOR)
    domain = f.domain("Least restrictive practice", slug="least-restrictive-practice")
    commitment = f.commitment(org, domain, title="Halve prone restraint by 2027",
                              status=CommitmentStatus.PUBLISHED, published_at=utcnow(),
                              completion=Completion.LIMITED, rag=RAG.ON_TRACK)
    db.session.add(Indicator(name="Prone restraints per 1,000 occupied bed days", unit="per 1,000 OBD",
                             direction=Direction.LOWER_IS_BETTER, reference="MHS96",
                             definition="Prone restraints recorded, per 1,000 occupied bed days."))
    committed()
    return commitment.id


def _fits_small_screens(page, label: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{label} is {width}px wide at a 320px screen"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_member_attaches_an_indicator_records_measurements_and_adds_an_update(page, committed):
    commitment_id = _data(committed)
    sign_in(page, "editor@example.org", f.PASSWORD)
    page.goto(f"/commitments/{commitment_id}")
    page.get_by_role("link", name="Attach an indicator").click()
    assert page.locator("h1").inner_text() == "Attach an indicator"
    assert_accessible(page, "attach an indicator")
    _fits_small_screens(page, "attach an indicator")

    # Both a catalogue indicator and an own one: refused, with what was typed kept.
    page.get_by_label("Indicator from the catalogue").select_option(
        label="Prone restraints per 1,000 occupied bed days (per 1,000 OBD)")
    page.get_by_label("Name").fill("Our own measure")
    page.get_by_label("Baseline value").fill("12,5")
    page.get_by_role("button", name="Attach the indicator").click()
    assert "not both" in page.locator("#error-summary").inner_text()
    assert page.get_by_label("Baseline value").input_value() == "12,5"
    assert_accessible(page, "attach an indicator with errors")

    page.get_by_label("Name").fill("")
    page.get_by_label("Baseline date").fill("2025-03-31")
    page.get_by_label("Target value").fill("8")
    page.get_by_label("Target date").fill("2027-03-31")
    page.get_by_role("button", name="Attach the indicator").click()
    assert page.locator("h1").inner_text() == "Measurements: Prone restraints per 1,000 occupied bed days"
    assert "is attached" in page.locator(".flash-messages").inner_text()
    assert_accessible(page, "measurements page")
    _fits_small_screens(page, "measurements page")

    # Three measurements: one by quarter, two by dates (one with a decimal comma).
    page.get_by_label("Quarter").select_option("2025-Q2")
    page.get_by_label("Value", exact=True).fill("11.2")
    page.get_by_role("button", name="Record the measurement").click()
    assert "The measurement is recorded." in page.locator(".flash-messages").inner_text()
    for start, end, value in (("2025-07-01", "2025-09-30", "10,4"), ("2025-10-01", "2025-12-31", "9.8")):
        page.get_by_label("Period start").fill(start)
        page.get_by_label("Period end").fill(end)
        page.get_by_label("Value", exact=True).fill(value)
        page.get_by_label("Note").fill("Ward 3 reopened." if value == "9.8" else "")
        page.get_by_role("button", name="Record the measurement").click()
        assert "The measurement is recorded." in page.locator(".flash-messages").inner_text()

    # A negative rate is refused, saying why.
    page.get_by_label("Period start").fill("2026-01-01")
    page.get_by_label("Period end").fill("2026-03-31")
    page.get_by_label("Value", exact=True).fill("-1")
    page.get_by_role("button", name="Record the measurement").click()
    assert "cannot go below zero" in page.locator("#error-summary").inner_text()
    assert_accessible(page, "measurements page with errors")
    db.session.expire_all()
    values = db.session.scalars(select(Measurement.value).order_by(Measurement.period_start)).all()
    assert [str(v.normalize()) for v in values] == ["11.2", "10.4", "9.8"]

    page.get_by_role("link", name="Back to the commitment").click()
    section = page.locator("section.indicator")
    assert "Baseline 12.5 per 1,000 OBD (31 March 2025)" in " ".join(section.inner_text().split())
    chart = section.locator("figure img")
    assert re.fullmatch(r"/charts/[0-9a-f]{64}\.svg", chart.get_attribute("src"))
    assert "3 measurements from Jun 2025 to Dec 2025; the latest is 9.8" in chart.get_attribute("alt")
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), "the chart did not load"
    section.locator("summary").click()
    table = section.locator("table").inner_text()
    for text in ("Baseline, 31 Mar 2025", "12.5", "1 Apr 2025 – 30 Jun 2025", "11.2", "10.4", "9.8",
                 "Target, 31 Mar 2027", "8"):
        assert text in table
    assert "Ward 3 reopened." in section.inner_text()
    assert_accessible(page, "commitment page with an indicator")
    _fits_small_screens(page, "commitment page with an indicator")

    # A progress update in five parts moves completion and keeps the history.
    page.get_by_role("link", name="Add a progress update").click()
    assert page.locator("h1").inner_text() == "Add a progress update"
    assert page.get_by_label("Completion").input_value() == "limited"
    assert page.get_by_label("Date of this update").input_value() != ""
    assert_accessible(page, "progress update form")
    _fits_small_screens(page, "progress update form")
    page.get_by_role("button", name="Add the update").click()
    assert "Write the Report" in page.locator("#error-summary").inner_text()
    assert_accessible(page, "progress update form with errors")
    page.get_by_label("Report").fill("Prone restraint fell from 11.2 to 9.8 per 1,000 OBD.")
    page.get_by_label("Reflect").fill("Agency staffing on Ward 3 got in the way.")
    page.get_by_label("Completion").select_option("substantial")
    page.get_by_label("Status (RAG)").select_option("at_risk")
    page.get_by_label("Rethink").fill("Safewards moves to induction.")
    page.get_by_label("Refresh").fill("Audit in January.")
    page.get_by_role("button", name="Add the update").click()
    updates = page.locator("ol.progress-updates").inner_text()
    assert "Prone restraint fell from 11.2 to 9.8 per 1,000 OBD." in updates
    assert "Limited → Substantial" in updates and "On track → At risk" in updates
    assert "Written by Jiří Novák 🌿 for Fenland Trust" in updates
    assert_accessible(page, "commitment page with an update")
