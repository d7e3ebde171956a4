"""Browser tests: the app served on a local port, driven by Playwright in Debian's
Chromium (/usr/bin/chromium), with axe-core checking each page.

They skip, saying why, when Chromium is not installed; with REQUIRE_BROWSER=1 (as CI
sets it) a missing Chromium fails instead.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from charter.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium is not installed at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium) to run the browser tests"
        )
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def live_server(app):
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log in test output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    # bypass_csp lets the test inject axe-core; the app's own pages run no inline script.
    context = browser.new_context(base_url=live_server, bypass_csp=True, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def committed():
    """Call after setting up data in the test, so the server's threads can see it."""

    def _commit():
        db.session.commit()

    return _commit


def assert_accessible(page, context: str = "") -> None:
    """Run axe-core on the current page and fail with a readable list of violations.

    A click that submits a form returns once the next page starts to arrive; waiting for
    its load event first means axe sees the page with every stylesheet applied (under
    load it could otherwise judge colours before the project's stylesheet arrived)."""
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    violations = result["violations"]
    if violations:
        lines = []
        for v in violations:
            targets = [json.dumps(n["target"]) for n in v["nodes"][:5]]
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} at {', '.join(targets)}")
        pytest.fail(f"axe-core found violations on {context or page.url}:\n" + "\n".join(lines))
    assert result["passes"], "axe-core ran no checks at all"


def sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
