"""The account page in a real browser: the list of sessions and signing out everywhere."""

from __future__ import annotations

from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


def test_account_page_lists_sessions_and_signs_out_everywhere(page, browser, live_server,
                                                              committed):
    f.user("lead@example.org", full_name="Amara Okafor")
    committed()
    other_context = browser.new_context(base_url=live_server, locale="en-GB")
    other = other_context.new_page()
    try:
        sign_in(other, "lead@example.org", f.PASSWORD)
        assert other.url.endswith("/dashboard")

        sign_in(page, "lead@example.org", f.PASSWORD)
        page.get_by_role("link", name="Where you are signed in").click()
        rows = page.locator("#sessions tbody tr")
        assert rows.count() == 2
        assert "(this device)" in rows.first.inner_text()
        assert_accessible(page, "account page")

        page.get_by_role("button", name="Sign out of all devices", exact=True).click()
        page.wait_for_load_state()
        assert "You are signed out on every device" in page.locator("main").inner_text()
        other.goto("/dashboard")
        assert "/login" in other.url
        assert "Please sign in to see that page." in other.locator("main").inner_text()
    finally:
        other_context.close()
