"""/open-data in a real browser: axe-core finds nothing, it fits a 320px screen with every
data dictionary opened, and its links reach the OpenAPI document and the download."""

from __future__ import annotations

import io
import zipfile

from tests.browser.conftest import assert_accessible
from tests.test_api_data import build


def test_the_open_data_page_is_accessible_and_its_links_work(page, world, committed):
    build(world)
    committed()

    page.goto("/open-data")
    assert page.locator("h1").inner_text() == "Open data"
    assert_accessible(page, "open data page")
    summaries = page.locator("details summary")
    for i in range(summaries.count()):
        summaries.nth(i).click()
    assert page.locator("details[open]").count() == page.locator("details").count() > 10
    assert_accessible(page, "open data page with every data dictionary open")

    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"/open-data is {width}px wide at a 320px screen"
    page.set_viewport_size({"width": 1280, "height": 900})

    spec_link = page.get_by_role("link", name="OpenAPI document (JSON)")
    spec = page.request.get(spec_link.get_attribute("href"))
    assert spec.ok and spec.json()["info"]["version"] == "v1"

    zip_link = page.get_by_role("link", name="Download all public data (ZIP of CSV files)")
    answer = page.request.get(zip_link.get_attribute("href"))
    assert answer.ok
    assert 'filename="promise-charter-open-data.zip"' in answer.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(answer.body())).namelist()
    assert "data-dictionary.csv" in names and "commitments.csv" in names
