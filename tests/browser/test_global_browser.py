"""PROMISE Global and a site's dashboards in a real browser: a visitor reads /global, opens
a chart's numbers, follows a site and reads its dashboards, and fetches both PDFs. axe-core
on each page, and nothing wider than a 320px screen."""

from __future__ import annotations

from tests.browser.conftest import assert_accessible
from tests.test_dashboard_public_site import build_scenario


def _fits_small_screens(page, label: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{label} is {width}px wide at a 320px screen"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_visitor_compares_the_sites_and_reads_a_site(page, world, committed):
    build_scenario(world)
    committed()

    page.goto("/global")
    assert page.locator("h1").inner_text() == "PROMISE Global"
    assert page.get_by_role("link", name="PROMISE Global").get_attribute("aria-current") == "page"
    sites = page.locator("#global-sites")
    assert "Cambridge" in sites.inner_text() and "Brisbane" in sites.inner_text()
    assert "3 (43%)" in page.locator("#global-site-cambridge").inner_text()
    # Every chart is an image with a text alternative, and its numbers sit in a table.
    images = page.locator("figure.chart img")
    assert images.count() >= 5
    for i in range(images.count()):
        assert images.nth(i).get_attribute("alt")
    figure = page.locator("#global-compliance-chart")
    figure.locator("summary").click()
    assert figure.locator("table").is_visible()
    assert "2025 Q1" in figure.locator("table").inner_text()
    strongest = page.locator("#global-strength-table")
    assert "Strongest:" in strongest.inner_text()
    assert "Safewards on every ward" in strongest.inner_text() or \
        "Peer workers in crisis teams" in strongest.inner_text()
    assert_accessible(page, "PROMISE Global")
    _fits_small_screens(page, "PROMISE Global")

    pdf = page.request.get("/global.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"

    page.locator("#global-sites").get_by_role("link", name="Cambridge").click()
    assert page.locator("h1").inner_text() == "Cambridge"
    section = page.locator("#site-dashboards")
    assert "7 public commitments; 3 completed." in section.inner_text()
    assert section.locator("#dash-compliance table").is_visible()  # shown open
    assert "Restrictive interventions per 1,000 OBD" in section.inner_text()
    assert_accessible(page, "the Cambridge site view")
    _fits_small_screens(page, "the Cambridge site view")

    href = page.get_by_role("link", name="Download this overview as a PDF").get_attribute("href")
    pdf = page.request.get(href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"


def test_empty_global_view_and_site_view_are_accessible(page, world, committed):
    committed()
    page.goto("/global")
    assert "No organisation has published a commitment yet." in page.locator("main").inner_text()
    assert_accessible(page, "an empty PROMISE Global")
    page.goto("/sites/brisbane")
    assert "No reporting cycle of Brisbane has passed its due date yet." in page.locator("main").inner_text()
    assert_accessible(page, "an empty site view")
