"""The base pages in a real browser: signing in, keyboard use, small screens, axe-core."""

from __future__ import annotations

from charter.models import Tier
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


def _some_data(committed):
    site = f.site("cambridge", name="Cambridge")
    version = f.charter_version(site)
    lead = f.user("lead@example.org", full_name="Amara Okafor")
    org = f.organisation(site, "Fenland Trust")
    f.member(lead, org, f.MemberRole.LEAD)
    f.signature(org, version, lead)
    supporter = f.organisation(site, "Voices of Experience", tier=Tier.SUPPORTER)
    f.signature(supporter, version, lead)
    admin = f.user("admin@example.org", full_name="Alex Admin", is_admin=True)
    committed()
    return lead, admin


def test_home_page_is_accessible_and_shows_counts(page, committed):
    _some_data(committed)
    page.goto("/")
    assert page.locator("h1").inner_text() == "The PROMISE Charter"
    assert page.locator("#total-signatories").inner_text() == "1"
    assert page.locator("#total-supporters").inner_text() == "1"
    assert_accessible(page, "home")


def test_sign_in_page_and_its_errors_are_accessible(page, committed):
    _some_data(committed)
    page.goto("/login")
    assert_accessible(page, "sign-in page")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator("#error-summary")
    assert "Enter your email address." in summary.inner_text()
    assert_accessible(page, "sign-in page with errors")
    page.get_by_label("Email address").fill("lead@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert "The email address or password is not right" in page.locator("#error-summary").inner_text()
    assert page.get_by_label("Email address").input_value() == "lead@example.org"


def test_sign_in_reaches_the_dashboard_and_sign_out_leaves(page, committed):
    _some_data(committed)
    sign_in(page, "lead@example.org", f.PASSWORD)
    assert page.url.endswith("/dashboard")
    assert "Signed in as Amara Okafor" in page.locator("main").inner_text()
    assert_accessible(page, "dashboard")
    page.get_by_role("button", name="Sign out").click()
    assert "You are signed out." in page.locator("main").inner_text()


def test_admin_outbox_and_password_reset_pages_are_accessible(page, committed):
    _, admin = _some_data(committed)
    page.goto("/password/forgot")
    assert_accessible(page, "forgotten password")
    page.get_by_label("Email address").fill("lead@example.org")
    page.get_by_role("button", name="Send the link").click()
    assert "Check your email" in page.locator("h1").inner_text()
    sign_in(page, "admin@example.org", f.PASSWORD)
    page.goto("/admin/outbox")
    assert_accessible(page, "outbox")
    page.get_by_role("link", name="Reset your PROMISE Charter password").click()
    assert_accessible(page, "outbox message")
    link = page.locator("pre.mail-body a").first.get_attribute("href")
    page.get_by_role("button", name="Sign out").click()
    page.goto(link.replace("http://localhost", ""))
    assert_accessible(page, "reset form")
    page.get_by_label("New password", exact=True).fill("a new password for amara")
    page.get_by_label("Repeat the new password").fill("a new password for amara")
    page.get_by_role("button", name="Save the new password").click()
    sign_in(page, "lead@example.org", "a new password for amara")
    assert page.url.endswith("/dashboard")


def test_keyboard_user_can_skip_to_content(page, committed):
    _some_data(committed)
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_pages_fit_a_320_pixel_screen(page, committed):
    _some_data(committed)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ["/", "/login", "/no-such-page"]:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320px"


def test_error_page_is_accessible(page, committed):
    _some_data(committed)
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert_accessible(page, "404 page")
