"""A whole reporting cycle in a real browser, with axe-core on each page: the lead drafts
and submits, the coordinator returns it with comments, the lead fixes and resubmits, the
coordinator publishes, and a visitor reads the report and downloads its PDF."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from charter import tasks
from charter.models import CommitmentStatus
from charter.models.base import utcnow
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


@pytest.mark.pdf
def test_draft_submit_return_fix_publish_read(page, committed, monkeypatch):
    site = f.site("cambridge", name="Cambridge")
    version = f.charter_version(site)
    lead = f.user("lead@example.org", full_name="Amara Okafor")
    org = f.organisation(site, "Fenland Trust", slug="fenland-trust")
    f.member(lead, org, f.MemberRole.LEAD)
    f.signature(org, version, lead, signed_at=datetime(2025, 1, 1, tzinfo=UTC))
    coordinator = f.user("coordinator@example.org", full_name="Cam Coordinator")
    f.coordinator(coordinator, site)
    domain = f.domain("Least restrictive practice", slug="lrp")
    f.commitment(org, domain, title="Halve prone restraint", status=CommitmentStatus.PUBLISHED,
                 published_at=utcnow())
    today = date.today()
    f.cycle(site, "This quarter", period_start=today - timedelta(days=80),
            period_end=today - timedelta(days=1), due_date=today + timedelta(days=30))
    committed()

    # The lead drafts and submits.
    sign_in(page, "lead@example.org", f.PASSWORD)
    page.goto("/organisations/fenland-trust/reports")
    assert_accessible(page, "organisation's reports")
    page.get_by_role("button", name="Start the This quarter report").click()
    assert_accessible(page, "report editor")
    page.get_by_label("Summary").fill("We reviewed every prone restraint with the person.")
    page.get_by_role("button", name="Save and review before submitting").click()
    assert "Not published." in page.locator("main").inner_text()
    assert_accessible(page, "report preview")
    page.get_by_role("button", name="Submit for review").click()
    assert "submitted" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()

    # The coordinator returns it with comments.
    sign_in(page, "coordinator@example.org", f.PASSWORD)
    page.goto("/manage/sites/cambridge/reporting")
    assert_accessible(page, "site reporting")
    page.get_by_role("link", name=re.compile("Fenland Trust · This quarter")).click()
    page.get_by_label("Comments for the organisation").fill("Please add the seclusion figures.")
    page.get_by_role("button", name="Return with comments").click()
    assert "returned to Fenland Trust" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()

    # The lead fixes it and resubmits.
    sign_in(page, "lead@example.org", f.PASSWORD)
    page.goto("/organisations/fenland-trust/reports")
    page.get_by_role("link", name="Open the This quarter report").click()
    page.get_by_role("link", name="Edit the report").click()
    assert "Please add the seclusion figures." in page.locator("main").inner_text()
    assert_accessible(page, "report editor with comments")
    page.get_by_label("Summary").fill(
        "We reviewed every prone restraint with the person. Seclusion fell from 14 to 9 episodes.")
    page.get_by_role("button", name="Save and review before submitting").click()
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_role("button", name="Sign out").click()

    # The coordinator publishes.
    sign_in(page, "coordinator@example.org", f.PASSWORD)
    page.goto("/manage/sites/cambridge/reporting")
    page.get_by_role("link", name=re.compile("Fenland Trust · This quarter")).click()
    held = []
    monkeypatch.setattr(tasks, "send", lambda task, *args, tell=True: held.append((task, args)))
    page.get_by_role("button", name="Approve and publish").click()
    text = page.locator("main").inner_text()
    assert "The report is being published" in text and "Publishing…" in text
    assert_accessible(page, "report being published")
    monkeypatch.undo()
    for task, args in held:  # the worker runs
        task.call_local(*args)
    page.get_by_role("link", name="Check again").click()
    assert "Download the PDF" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()

    # A visitor reads it and downloads the PDF.
    page.goto("/reports")
    assert_accessible(page, "reports list")
    page.get_by_role("link", name="Fenland Trust", exact=True).click()
    text = page.locator("main").inner_text()
    assert "Seclusion fell from 14 to 9 episodes." in text and "Halve prone restraint" in text
    assert_accessible(page, "published report")
    href = page.get_by_role("link", name="Download the PDF").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert "Fenland Trust" in pdf_text and "Halve prone restraint" in pdf_text
