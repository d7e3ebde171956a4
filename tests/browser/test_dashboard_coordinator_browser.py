"""The coordinator dashboard in a real browser: a coordinator opens it from their dashboard,
follows a number to the list behind it, and downloads an export; axe-core on the dashboard,
both lists and the export page, and nothing wider than a 320px screen."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in
from tests.test_dashboard_coordinator_data import build


def _fits_small_screens(page, label: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "() => [...document.querySelectorAll('main *')]"
        ".filter(e => e.getBoundingClientRect().right > 321 && !e.closest('.table-responsive'))"
        ".slice(0, 5).map(e => e.tagName + ' ' + (e.innerText || '').slice(0, 40))"
    ) if width > 320 else []
    assert width <= 320, f"{label} is {width}px wide at a 320px screen: {wide}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_coordinator_follows_a_number_and_downloads_an_export(page, world, committed, tmp_path):
    build(world)
    committed()
    sign_in(page, "coordinator@example.org", f.PASSWORD)

    page.goto("/dashboard")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    assert page.locator("h1").inner_text() == "Cambridge: coordinator dashboard"
    assert_accessible(page, "coordinator dashboard")
    _fits_small_screens(page, "coordinator dashboard")

    # The "Signed" step of the pipeline says 4 and lists those 4 organisations.
    signed = page.locator('#pipeline-table tr[data-step="signed"] a')
    assert signed.inner_text().startswith("4")
    signed.click()
    expect(page.locator("h1")).to_have_text("Organisations of Cambridge")
    expect(page.locator("#organisations tbody tr")).to_have_count(4)
    assert page.get_by_label("Pipeline step").input_value() == "signed"
    assert_accessible(page, "organisations behind a number")
    _fits_small_screens(page, "organisations behind a number")

    # A filter chosen in the form narrows the list, without JavaScript.
    page.get_by_label("Sector").select_option("statutory")
    page.get_by_role("button", name="Show").click()
    # count() does not wait: the next page may still be arriving; expect() retries.
    expect(page.locator("#organisations tbody tr")).to_have_count(2)

    # Back on the dashboard, a cell of the sector-pair table opens its partnerships.
    page.get_by_role("link", name="Back to the Cambridge dashboard").click()
    cell = page.locator('#sector-pairs tr[data-lead="third_sector"] td[data-partner="statutory"] a')
    count = int(cell.inner_text().split()[0])
    cell.click()
    expect(page.locator("#commitments tbody tr")).to_have_count(count)
    assert_accessible(page, "commitments behind a number")

    # A bad filter typed into the address is explained, not a crash.
    page.goto("/manage/sites/cambridge/dashboard/organisations?step=nonsense")
    assert "is not one of the choices" in page.locator("#error-summary").inner_text()
    assert_accessible(page, "a refused filter")

    page.goto("/manage/sites/cambridge/dashboard")
    page.get_by_role("link", name="Download the site's data").click()
    assert_accessible(page, "export page")
    with page.expect_download() as info:
        page.get_by_role("link", name="Commitments (CSV)").click()
    download = info.value
    assert download.suggested_filename.startswith("cambridge-commitments-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    content = Path(target).read_bytes()
    assert content.startswith(b"\xef\xbb\xbfSite,Commitment ID,")
    assert b"Fenland draft, private" in content
    assert b"SECRET BRISBANE" not in content
