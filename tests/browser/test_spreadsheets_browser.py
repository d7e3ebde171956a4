"""The upload journey in a real browser (Playwright, Chromium), with axe-core on every page:
upload page, problems, preview, confirmation. Skips, like tests/browser, without Chromium.

This module lives outside tests/browser, whose session-wide Playwright cannot be shared with
it, so it serves the app on its own port and drives its own Chromium in a worker thread (the
sync API refuses to start a second instance on the thread that runs the first)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from charter.extensions import db
from charter.models import Commitment, MemberRole
from tests import factories as f
from tests.browser import conftest as browser_support
from tests.test_spreadsheets_data import commitment_row, csv_file, new_row

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(app):
    if not Path(browser_support.CHROMIUM).exists():
        message = f"Chromium is not installed at {browser_support.CHROMIUM}"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def _in_a_browser(base_url: str, journey) -> None:
    """Run `journey(page)` in a fresh Chromium on a worker thread; re-raise what it raised."""
    outcome: dict[str, BaseException] = {}

    def run():
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=browser_support.CHROMIUM,
                                                     args=browser_support.CHROMIUM_ARGS,
                                                     headless=True)
                try:
                    context = browser.new_context(base_url=base_url, bypass_csp=True,
                                                  locale="en-GB")
                    page = context.new_page()
                    page.set_default_timeout(30_000)
                    journey(page)
                finally:
                    browser.close()
        except BaseException as exc:  # handed to the test's own thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=600)
    if worker.is_alive():
        pytest.fail("the browser journey did not finish in ten minutes")
    if "error" in outcome:
        raise outcome["error"]


def test_upload_problems_preview_and_confirm_are_accessible(server, tmp_path):
    site = f.site("cambridge", name="Cambridge")
    org = f.organisation(site, "Fenland Trust", slug="fenland-trust")
    editor = f.user("editor@example.org", full_name="Jiří Novák 🌿")
    f.member(editor, org, MemberRole.EDITOR)
    domain = f.domain("Least restrictive practice", slug="least-restrictive-practice")
    draft = f.commitment(org, domain, title="Safety huddles on every ward")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([new_row(Title="Peer support", **{"Target date": "2025-02-30"})]))
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file([commitment_row(draft, Title="Safety huddles twice a day"),
                               new_row(Title="Peer support")]))
    db.session.commit()

    def journey(page):
        browser_support.sign_in(page, "editor@example.org", f.PASSWORD)
        page.goto("/organisations/fenland-trust/commitments/import")
        assert page.locator("h1").inner_text() == "Commitments in a spreadsheet"
        browser_support.assert_accessible(page, "upload page")

        page.get_by_label("Spreadsheet file").set_input_files(str(bad))
        page.get_by_role("button", name="Check the file").click()
        assert "2025-02-30 is not a date. Use YYYY-MM-DD." in page.locator("#row-errors").inner_text()
        browser_support.assert_accessible(page, "upload page with problems")

        page.get_by_label("Spreadsheet file").set_input_files(str(good))
        page.get_by_role("button", name="Check the file").click()
        assert page.locator("h1").inner_text() == "Check the upload before saving it"
        assert "1 new commitment (saved as a draft)" in page.locator("#import-summary").inner_text()
        browser_support.assert_accessible(page, "preview")

        page.get_by_role("button", name="Save these changes").click()
        assert "The upload is saved" in page.locator("main").inner_text()

    _in_a_browser(server, journey)
    db.session.expire_all()
    assert db.session.get(Commitment, draft.id).title == "Safety huddles twice a day"
    assert db.session.scalar(select(Commitment).where(Commitment.title == "Peer support"))
