"""Charter versions in a real browser: a coordinator drafts, previews, saves and opens a
new version; a visitor reads the site, the charter and the difference. axe-core on each
page, and nothing wider than a 320px screen."""

from __future__ import annotations

from charter.models import CharterStatus, MemberRole
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in

V1 = """# The Cambridge PROMISE Charter

We, the organisations that sign this charter, share one aim: to end reliance on force in
mental health care.

## What we promise

### 1. Least restrictive practice
We will count restrictive practice, publish it and reduce it.

### 2. Prevention and early detection
We will move our attention from incidents to their antecedents."""


def _data(committed):
    site = f.site("cambridge", name="Cambridge", contact_email="promise@cambridge.example.org")
    v1 = f.charter_version(site, 1, CharterStatus.OPEN, title="The Cambridge PROMISE Charter",
                           body=V1)
    coordinator = f.user("coordinator@example.org", full_name="Chidi Coordinator")
    f.coordinator(coordinator, site)
    lead = f.user("lead@example.org", full_name="Amara Okafor")
    org = f.organisation(site, "Fenland Trust")
    f.member(lead, org, MemberRole.LEAD)
    f.signature(org, v1, lead)
    committed()


def _fits_small_screens(page, label: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{label} is {width}px wide at a 320px screen"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_coordinator_drafts_previews_saves_and_opens_then_a_visitor_reads(page, committed):
    _data(committed)
    sign_in(page, "coordinator@example.org", f.PASSWORD)

    page.goto("/manage/sites/cambridge/charter")
    assert page.locator("h1").inner_text() == "Charter versions of Cambridge"
    assert_accessible(page, "manage charter versions")
    page.get_by_role("link", name="Start a new version").click()
    assert page.locator("h1").inner_text() == "New version of the Cambridge charter"
    assert page.get_by_label("Text of the charter").input_value().startswith("# The Cambridge")
    assert_accessible(page, "new version form")

    # Nothing saved on a bad submit, and the error is announced in the summary.
    page.get_by_role("button", name="Save draft").click()
    assert "Say in a sentence or two what changed" in page.locator("#error-summary").inner_text()
    assert_accessible(page, "new version form with errors")

    body = page.get_by_label("Text of the charter")
    body.fill(body.input_value().replace("reduce it.", "reduce it, year on year.")
              + "\n\n### 3. Co-production\nWe will plan every change *with* people who use services.")
    page.get_by_label("What changed").fill("Adds co-production; reductions every year.")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    assert "Preview (not saved yet)" in preview.inner_text()
    assert "We will plan every change with people who use services." in preview.inner_text()
    assert preview.locator("em").inner_text() == "with"
    assert_accessible(page, "new version preview")

    page.get_by_role("button", name="Save draft").click()
    assert page.locator("h1").inner_text() == "Edit draft version 2"
    assert "Version 2 is saved as a draft" in page.locator(".flash-messages").inner_text()
    assert_accessible(page, "edit draft")

    page.get_by_role("button", name="Open version 2 for signature").click()
    assert page.locator("h1").inner_text() == "Charter versions of Cambridge"
    flashes = page.locator(".flash-messages").inner_text()
    assert "Version 2 is open for signature." in flashes
    assert "invited to re-affirm" in flashes
    assert_accessible(page, "manage page after opening")
    page.get_by_role("button", name="Sign out").click()

    # A visitor: the site page, the charter and what changed.
    page.goto("/sites/cambridge")
    assert "Signed version 1 — invited to re-affirm version 2" in page.locator("main").inner_text()
    assert_accessible(page, "site page")
    _fits_small_screens(page, "site page")

    page.goto("/sites/cambridge/charter")
    assert page.locator("h1").inner_text() == "The Cambridge PROMISE Charter"
    text = page.locator("#charter-text").inner_text()
    assert "Co-production" in text and "year on year" in text
    assert len(page.locator("#charter-sha256").inner_text()) == 64
    assert_accessible(page, "charter page")
    _fits_small_screens(page, "charter page")

    page.get_by_label("From version").select_option("1")
    page.get_by_label("To version").select_option("2")
    page.get_by_role("button", name="Compare").click()
    assert page.locator("h1").inner_text() == "Changes from version 1 to version 2"
    main = page.locator("main")
    assert main.locator("ins", has_text="year on year").count() >= 1
    assert "Adds co-production; reductions every year." in main.inner_text()
    assert_accessible(page, "difference page")
    _fits_small_screens(page, "difference page")

    page.get_by_role("link", name="Version 1", exact=True).first.click()
    assert "This version was superseded on" in page.locator("#superseded-notice").inner_text()
    assert_accessible(page, "superseded version")


def test_a_lead_sees_the_reaffirm_link_and_bad_comparisons_are_explained(page, committed):
    _data(committed)
    page.goto("/sites/cambridge/charter/diff?from=1&to=1")
    assert "Choose two different versions to compare." in page.locator("#diff-problem").inner_text()
    assert_accessible(page, "difference page with a problem")
    sign_in(page, "lead@example.org", f.PASSWORD)
    page.goto("/charter")
    assert page.locator("h1").inner_text() == "The Cambridge PROMISE Charter"
    assert page.locator("#sign-actions").count() == 0  # signed the open version already
    assert_accessible(page, "charter page for a lead")
