"""charter/charts.py: valid SVG without scripts, data URIs, tables equal to the data,
accessible colours, stable output, the template macro, and WeasyPrint."""

from __future__ import annotations

import base64
import io
import re
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree

import pytest
import weasyprint
from flask import render_template_string
from pypdf import PdfReader

from charter import charts
from charter.pdf import fetcher

SVG = "{http://www.w3.org/2000/svg}"

MEASUREMENTS = [
    (date(2025, 4, 1), date(2025, 6, 30), Decimal("11.2")),
    (date(2025, 10, 1), date(2025, 12, 31), Decimal("9.800000")),
    (date(2025, 7, 1), date(2025, 9, 30), Decimal("10.4")),  # out of order on purpose
]


def _indicator(**kw):
    args = {"baseline_value": Decimal("12.5"), "baseline_date": date(2025, 3, 31), "target_value": 8,
            "target_date": date(2027, 3, 31), "higher_is_better": False}
    args.update(kw)
    return charts.indicator_chart("Restrictive interventions per 1,000 occupied bed days",
                                  "per 1,000 OBD", kw.pop("measurements", MEASUREMENTS),
                                  **{k: v for k, v in args.items() if k != "measurements"})


def _parse(chart: charts.Chart) -> ElementTree.Element:
    return ElementTree.fromstring(chart.svg)


def _bars():
    return charts.bar_chart(["Least restrictive practice", "Prevention", "Workforce"],
                            {"On track": [3, 1, 2], "At risk": [1, 0, Decimal("2.5")],
                             "Off track": [0, 1, None]},
                            title="Commitments by RAG", unit="commitments", category_header="Change domain")


def _stacked():
    return charts.stacked_bar_chart(["Cambridge", "Prague"], [("On track", [3, 2]), ("At risk", [1, 4])],
                                    title="Commitments by site", category_header="Site")


ALL = [_indicator, _bars, _stacked]


@pytest.mark.parametrize("make", ALL)
def test_the_svg_is_valid_xml_with_a_viewbox_and_no_script(make):
    chart = make()
    root = _parse(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == f"0 0 {chart.width} {chart.height}" == "0 0 720 360"
    assert root.get("width") is None and root.get("height") is None  # scales with its container
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert "<script" not in chart.svg and "javascript:" not in chart.svg.lower()
    assert not [el for el in root.iter() if el.get("href") or el.get("{http://www.w3.org/1999/xlink}href")]
    assert root.find(f"{SVG}title").text == chart.alt


@pytest.mark.parametrize("make", ALL)
def test_the_data_uri_holds_the_svg(make):
    chart = make()
    prefix = "data:image/svg+xml;base64,"
    assert chart.uri.startswith(prefix)
    assert base64.b64decode(chart.uri[len(prefix):]).decode("utf-8") == chart.svg


@pytest.mark.parametrize("make", ALL)
def test_the_same_data_draws_the_same_bytes(make):
    """No random ids or rendering dates: a PDF built twice is the same."""
    first = make().svg
    charts._indicator_chart_cached.cache_clear()
    charts._bars_cached.cache_clear()
    assert make().svg == first
    assert "Generated with pygal" not in first


def test_the_indicator_table_has_the_baseline_the_measurements_in_order_and_the_target():
    chart = _indicator()
    assert chart.columns == ("Period", "Value (per 1,000 OBD)")
    assert chart.rows == (
        ("Baseline, 31 Mar 2025", "12.5"),
        ("1 Apr 2025 – 30 Jun 2025", "11.2"),
        ("1 Jul 2025 – 30 Sep 2025", "10.4"),
        ("1 Oct 2025 – 31 Dec 2025", "9.8"),
        ("Target, 31 Mar 2027", "8"),
    )
    assert chart.alt == ("Line chart of Restrictive interventions per 1,000 occupied bed days "
                         "(per 1,000 OBD). 3 measurements from Jun 2025 to Dec 2025; the latest is 9.8. "
                         "Baseline 12.5. Target 8. Lower is better.")
    assert chart.notes == ("Lower is better.",) and not chart.empty


def test_the_indicator_chart_draws_the_measurements_and_both_reference_lines():
    root = _parse(_indicator())
    lines = [p for p in root.iter(f"{SVG}path") if p.get("stroke-width") == "3"]
    strokes = {p.get("stroke") for p in lines}
    assert {charts.MEASUREMENT_COLOUR, charts.BASELINE_COLOUR, charts.TARGET_COLOUR} <= strokes
    assert len(list(root.iter(f"{SVG}circle"))) == 3  # one dot per measurement; the lines have none
    legends = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Measured" in legends and "Baseline: 12.5" in legends and "Target: 8" in legends
    # Reference lines are dashed, so colour is never the only difference.
    dashes = {p.get("stroke"): p.get("stroke-dasharray") for p in lines}
    assert dashes[charts.BASELINE_COLOUR] == "12,6" and dashes[charts.TARGET_COLOUR] == "3,5"
    assert dashes[charts.MEASUREMENT_COLOUR] is None


def test_an_indicator_without_anything_is_an_empty_chart():
    chart = charts.indicator_chart("Staff engagement score", "score", [])
    assert chart.empty and chart.rows == ()
    assert "No measurements yet." in chart.alt
    root = _parse(chart)
    assert "No data yet" in [t.text for t in root.iter(f"{SVG}text")]


def test_one_measurement_or_reference_lines_alone_still_draw():
    one = charts.indicator_chart("Satisfaction", "%", [(date(2026, 1, 1), date(2026, 3, 31), 71)])
    assert one.rows == (("1 Jan 2026 – 31 Mar 2026", "71"),)
    assert "One measurement: 71 for 1 Jan 2026 – 31 Mar 2026." in one.alt
    only_lines = charts.indicator_chart("Satisfaction", "%", [], baseline_value=60, target_value=80)
    assert only_lines.rows == (("Baseline", "60"), ("Target", "80")) and not only_lines.empty
    _parse(one), _parse(only_lines)


def test_bar_tables_equal_the_data():
    bars = _bars()
    assert bars.columns == ("Change domain", "On track", "At risk", "Off track")
    assert bars.rows == (("Least restrictive practice", "3", "1", "0"), ("Prevention", "1", "0", "1"),
                         ("Workforce", "2", "2.5", ""))
    assert bars.alt.startswith("Bar chart: Commitments by RAG. On track, At risk, Off track for ")
    stacked = _stacked()
    assert stacked.columns == ("Site", "On track", "At risk", "Total")
    assert stacked.rows == (("Cambridge", "3", "1", "4"), ("Prague", "2", "4", "6"))
    rects = [r for r in _parse(stacked).iter(f"{SVG}rect") if r.get("stroke-width") == "1.5"]
    assert len(rects) == 4  # one per value; the legend's swatches have no edge


def test_series_must_match_the_categories():
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        charts.bar_chart(["a", "b", "c"], {"s": [1, 2]})


def test_text_from_users_is_escaped_in_the_svg():
    chart = charts.bar_chart(['<script>alert("x")</script>', "Praha 🌿", "开普敦"],
                             {"Ons & julle": [1, 2, 3], "Wir": [3, 2, 1]},
                             title="</svg><img src=x onerror=alert(1)>")
    root = _parse(chart)
    assert not [el for el in root.iter() if el.tag.endswith(("script", "img"))]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<script>alert("x")</script>' in texts and "开普敦" in texts and "Ons & julle" in texts


def _luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("colour", [*charts.PALETTE, charts.MEASUREMENT_COLOUR, charts.BASELINE_COLOUR,
                                    charts.TARGET_COLOUR])
def test_lines_and_bars_contrast_at_least_three_to_one_with_the_background(colour):
    assert _contrast(colour, charts.BACKGROUND) >= 3


def test_text_contrasts_at_least_four_and_a_half_to_one():
    assert _contrast(charts.INK, charts.BACKGROUND) >= 4.5
    assert _contrast(charts.SUBTLE, charts.BACKGROUND) >= 4.5


def test_the_svg_uses_the_accessible_colours_at_full_opacity():
    root = _parse(_bars())
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert set(charts.PALETTE[:3]) <= fills
    assert not [el for el in root.iter() if el.get("opacity") or el.get("fill-opacity")]


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("12.500000"), "12.5"), (Decimal(1234), "1,234"), (Decimal("-0.25"), "-0.25"), (None, ""),
    (3, "3"), (2.5, "2.5"), (Decimal("1000000.000001"), "1,000,000.000001"),
])
def test_numbers_are_formatted_as_people_write_them(value, text):
    assert charts.format_number(value) == text


# --- the macro and PDFs ------------------------------------------------------------------

MACRO = ('{% from "macros/charts.html" import chart %}{{ chart(c, "Prone restraint per quarter", '
         'id="fig-1") }}')


def test_the_macro_renders_a_figure_with_the_image_and_a_table_of_the_same_numbers(app):
    c = _indicator()
    with app.test_request_context():
        html = render_template_string(MACRO, c=c)
    assert '<figure class="chart mb-3" id="fig-1">' in html
    assert f'<img src="/charts/{c.digest}.svg"' in html and 'width="720" height="360"' in html
    assert 'alt="Line chart of Restrictive interventions per 1,000 occupied bed days' in html
    assert "<figcaption" in html and "Prone restraint per quarter · Lower is better." in html
    assert "<caption>Prone restraint per quarter</caption>" in html
    assert '<th scope="col">Period</th>' in html
    cells = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="text-end">([^<]+)</td></tr>', html)
    assert cells == [tuple(row) for row in c.rows]


def test_the_macro_escapes_captions(app):
    with app.test_request_context():
        html = render_template_string('{% from "macros/charts.html" import chart %}{{ chart(c, cap) }}',
                                      c=_bars(), cap="<b>bold</b>")
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize("make", ALL)
@pytest.mark.pdf
def test_the_chart_embeds_in_a_weasyprint_pdf(app, make):
    chart = make()
    html = (f'<html><body><h1>Report</h1><figure><img src="{chart.uri}" alt="{chart.alt}" '
            f'style="width: 16cm"></figure></body></html>')
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert pdf.startswith(b"%PDF")
    # …and through the app's own fetcher, which is how report PDFs are made.
    with app.test_request_context():
        pdf = weasyprint.HTML(string=html, url_fetcher=fetcher()).write_pdf()
    text = "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert ("Measured" if make is _indicator else "Ontrack") in text  # the chart's text is in the PDF


# --- lean SVG and the chart files (issue 12) ---------------------------------------------

HOSTILE = ['<script>alert("x")</script>', "Tom & Jerry's \"best\"", "]]></svg><svg onload=alert(1)>"]


@pytest.mark.parametrize("make", [
    lambda: charts.bar_chart(HOSTILE, {HOSTILE[1]: [1, 2, 3]}, title=HOSTILE[0], unit=HOSTILE[2]),
    lambda: charts.horizontal_bar_chart(HOSTILE, {HOSTILE[0]: [1, 2, 3], "b": [3, 2, 1]}, stacked=True),
    lambda: charts.line_chart(HOSTILE, {HOSTILE[2]: [1, None, 3]}, title=HOSTILE[1]),
    lambda: charts.indicator_chart(HOSTILE[0], HOSTILE[1], MEASUREMENTS, target_value=5,
                                   title=HOSTILE[0]),
])
def test_labels_from_users_are_escaped_and_the_svg_is_lean(make):
    chart = make()
    root = _parse(chart)  # well-formed XML
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert not tags & {"style", "script", "foreignObject", "image", "a", "defs"}
    assert "<script" not in chart.svg and "&lt;script&gt;" in chart.svg
    handlers = [el for el in root.iter()
                if any(k.startswith("on") or k in ("style", "class") for k in el.attrib)]
    assert not handlers
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert any(label in texts or label in (root.get("aria-label") or "") for label in HOSTILE)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == chart.alt
    assert root.find(f"{SVG}desc").text == chart.alt
    assert len(list(root.iter())) < 100  # pygal drew about 257 elements
    assert len(chart.svg) < 6000


def test_the_same_data_gives_the_same_bytes_and_hash_other_data_another():
    charts._bars_cached.cache_clear()
    a, b = _bars(), _bars()
    charts._bars_cached.cache_clear()
    c = _bars()
    assert a.svg == c.svg and a.digest == b.digest == c.digest
    other = charts.bar_chart(["Least restrictive practice"], {"On track": [4]})
    assert other.digest != a.digest


def _stored_chart_url(app) -> tuple[charts.Chart, str]:
    chart = _stacked()
    with app.test_request_context():
        url = chart.url
    return chart, url


def test_a_chart_file_is_served_immutable_with_etag_and_304(app, client):
    chart, url = _stored_chart_url(app)
    assert url == f"/charts/{chart.digest}.svg"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.decode() == chart.svg
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=31536000" in cache and "immutable" in cache
    assert response.headers["ETag"] == f'"{chart.digest}"'
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_an_unknown_or_malformed_chart_is_404(app, client):
    _stored_chart_url(app)
    assert client.get(f"/charts/{'0' * 64}.svg").status_code == 404
    assert client.get("/charts/..%2F..%2Fconfig.svg").status_code == 404
    assert client.get("/charts/ABC.svg").status_code == 404


def test_nobody_stores_content_through_the_route(app, client):
    chart, url = _stored_chart_url(app)
    assert client.post(url, data=b"<svg/>", csrf=False).status_code in (400, 405)
    assert client.put(url, data=b"<svg/>").status_code == 405
    assert client.get(url).data.decode() == chart.svg


def test_a_signed_in_person_gets_a_cacheable_chart_but_private_pages(app, client, world):
    chart, url = _stored_chart_url(app)
    client.login(world.user("admin"))
    response = client.get(url)
    assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"]
    assert "no-store" not in response.headers["Cache-Control"]
    assert client.get("/").headers["Cache-Control"] == "private, no-store"


def test_pdf_charts_are_inline_svg_without_stylesheets():
    chart = _indicator()
    assert str(chart.inline).startswith("<svg ") and "<style" not in chart.inline
