"""Server-side SVG charts: the one charts module of the app (commitment pages, reports,
dashboards, PDFs).

Every function returns a `Chart`: the SVG (drawn by pygal, with no script in it), the same
SVG as a `data:image/svg+xml;base64,…` URI for an <img> (the pages' Content Security
Policy forbids inline styles, and pygal's SVG carries its own <style>, which applies when
the SVG is an image), a short text alternative for alt=, and the numbers as table rows
(`templates/macros/charts.html` renders all of it).

    indicator_chart(name, unit, measurements, baseline_value=…, target_value=…, …)
    bar_chart(categories, {series: values}, title=…, unit=…, category_header=…)
    stacked_bar_chart(categories, {series: values}, …)      # the table adds a Total column
    commitment_indicator_chart(ci)   # an attached indicator, from what is already loaded

In a template: `{% from "macros/charts.html" import chart %}{{ chart(c, caption) }}`; a
PDF template can put `c.uri` in an <img> (WeasyPrint draws the SVG; the app's URL fetcher
accepts data: URIs). The commitment page's section uses the filters `|indicator_chart`
and `|chart_number` (registered in charter/commitments/indicator_routes.py).

The functions take plain values (strings, numbers, dates), never ORM objects (except
commitment_indicator_chart, a convenience for pages), so PDF contexts stay plain. The
output depends only on the input: no random ids, no dates of rendering, so a PDF built
twice from the same data has the same bytes. Charts are cached (by their data) in each
process, so a page shown again does not draw them again.

Colours: every line and bar colour has a contrast of at least 3:1 against the white
background (WCAG 1.4.11); text is the site's ink colour. Lines are told apart by their
dash pattern too, never by colour alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from xml.etree import ElementTree

import pygal
from babel.dates import format_date
from babel.numbers import format_decimal
from flask import has_request_context
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from pygal.style import Style

from charter import readers

WIDTH = 720
HEIGHT = 360

BACKGROUND = "#ffffff"
INK = "#1d1b26"  # the site's body text colour: 16.9:1 on white
SUBTLE = "#4a4a58"  # axis labels and guides: 8.9:1 on white
# Series colours, each at least 3:1 on white (most well above 4.5:1), in an order that
# keeps neighbours distinct.
PALETTE = (
    "#4b2a7b",  # charter purple   10.9:1
    "#0b5e5a",  # charter teal      7.3:1
    "#a4161a",  # red               7.5:1
    "#1f4e99",  # blue              7.9:1
    "#7a4f00",  # brown             7.0:1
    "#595959",  # grey              7.0:1
    "#8a2a6b",  # plum              7.9:1
    "#2e6b1f",  # green             6.6:1
)
MEASUREMENT_COLOUR = PALETTE[0]
BASELINE_COLOUR = "#595959"
TARGET_COLOUR = "#0b5e5a"
FONT_FAMILY = ('system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
               '"Liberation Sans", "DejaVu Sans", sans-serif')


@dataclass(frozen=True)
class Chart:
    """A chart ready for a page or a PDF: the SVG, its data URI, a short text
    alternative, and the same numbers as a table (`columns` heads the table; the first
    cell of each row is the row's header)."""

    svg: str
    alt: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    width: int = WIDTH
    height: int = HEIGHT
    empty: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


# --- numbers and dates ---------------------------------------------------------------

def _locale() -> str:
    """The request's language: it chooses the words (through Flask-Babel) and, unless a
    function is given `locale`, how numbers and dates are written."""
    if has_request_context():
        return str(get_locale() or "en")
    return "en"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def format_number(value, locale: str | None = None) -> str:
    """A number as people write it: no trailing zeros, grouped thousands, up to six
    decimals (12.500000 → '12.5'; 1234 → '1,234'). None → ''."""
    number = _decimal(value)
    if number is None:
        return ""
    if not number.is_finite():
        return str(number)
    return format_decimal(number, format="#,##0.######", locale=locale or _locale())


def _month_year(value: date, locale: str) -> str:
    return format_date(value, "MMM y", locale=locale)


def _long_date(value: date, locale: str) -> str:
    return format_date(value, "d MMM y", locale=locale)


def period_label(start: date, end: date, locale: str | None = None) -> str:
    """'1 Jul 2026 – 30 Sep 2026', or one date when the period is a single day."""
    locale = locale or _locale()
    if start == end:
        return _long_date(start, locale)
    return f"{_long_date(start, locale)} – {_long_date(end, locale)}"


# --- drawing -----------------------------------------------------------------------------

def _style(colours: Sequence[str]) -> Style:
    return Style(
        background=BACKGROUND,
        plot_background=BACKGROUND,
        foreground=INK,
        foreground_strong=INK,
        foreground_subtle=SUBTLE,
        font_family=FONT_FAMILY,
        label_font_size=14,
        major_label_font_size=14,
        legend_font_size=15,
        title_font_size=17,
        value_font_size=14,
        value_label_font_size=14,
        tooltip_font_size=14,
        no_data_font_size=20,
        colors=tuple(colours) or PALETTE,
        opacity="1",
        opacity_hover="1",
        stroke_opacity="1",
        stroke_opacity_hover="1",
        stroke_width="3",
        stroke_width_hover="3",
        # Guides are light and dotted, so that they never pass for the reference lines.
        guide_stroke_color="#c4c4cf",
        major_guide_stroke_color="#c4c4cf",
        guide_stroke_dasharray="2,4",
        major_guide_stroke_dasharray="2,4",
        transition="0s",
    )


def _config(colours: Sequence[str], title: str, chart_id: str, legend_count: int, **extra) -> dict:
    # Bars get a white edge so that stacked segments stay apart whatever their colours.
    own_css = (f"inline:#chart-{chart_id} .rect {{ stroke: {BACKGROUND}; stroke-width: 1.5px; }}"
               f"#chart-{chart_id} .axis .guides text {{ fill: {INK}; }}")
    return {
        "style": _style(colours),
        "width": WIDTH,
        "height": HEIGHT,
        "explicit_size": False,
        "js": [],
        "css": ["file://style.css", "file://graph.css", own_css],
        "disable_xml_declaration": True,
        "title": title or None,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": max(1, min(legend_count, 3)),
        "legend_box_size": 14,
        "truncate_legend": -1,
        "truncate_label": -1,
        "margin": 16,
        "margin_right": 40,
        "spacing": 12,
        "no_data_text": _("No data yet"),
        "tooltip_fancy_mode": False,
        **extra,
    }


def _clean_svg(chart_id: str, alt: str):
    """An XML filter: no scripts, no comments (pygal's carry the rendering date), and a
    <title> that says what the chart shows."""

    def _filter(root):
        svg_ns = "{http://www.w3.org/2000/svg}"
        for parent in list(root.iter()):
            for child in list(parent):
                tag = child.tag if isinstance(child.tag, str) else ""
                if tag in ("script", f"{svg_ns}script") or child.tag is ElementTree.Comment:
                    parent.remove(child)
                elif tag in ("title", f"{svg_ns}title") and parent is root:
                    child.text = alt
        root.set("id", f"chart-{chart_id}")
        root.set("role", "img")
        root.set("aria-label", alt)
        return root

    return _filter


def _chart_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _render(chart, chart_id: str, alt: str) -> str:
    # pygal prefixes its CSS with the chart's id; a stable id gives stable output.
    chart.uuid = chart_id
    chart.add_xml_filter(_clean_svg(chart_id, alt))
    svg = chart.render(is_unicode=True)
    if "<script" in svg:  # belt and braces: the filter above removes them all
        raise ValueError("chart SVG must not carry scripts")
    return svg


def _key(*parts) -> str:
    return json.dumps(parts, default=str, ensure_ascii=False, sort_keys=True)


# --- an indicator over time ---------------------------------------------------------

@dataclass(frozen=True)
class Point:
    period_start: date
    period_end: date
    value: Decimal | float | int


def indicator_chart(
    name: str,
    unit: str,
    measurements: Iterable[Point | tuple],
    *,
    baseline_value=None,
    baseline_date: date | None = None,
    target_value=None,
    target_date: date | None = None,
    higher_is_better: bool | None = None,
    title: str = "",
    locale: str | None = None,
) -> Chart:
    """A line of the measurements over time (each at the end of its period), with the
    baseline and the target drawn as dashed horizontal reference lines.

    `measurements` are Points or (period_start, period_end, value) tuples, in any order.
    """
    locale = locale or _locale()
    points = sorted(
        (p if isinstance(p, Point) else Point(*p) for p in measurements),
        key=lambda p: (p.period_end, p.period_start),
    )
    baseline = _decimal(baseline_value)
    target = _decimal(target_value)
    key = _key("indicator", name, unit, [(p.period_start, p.period_end, str(p.value)) for p in points],
               baseline, baseline_date, target, target_date, higher_is_better, title, locale,
               _locale())  # the words follow the request's language (cached apart)
    return _indicator_chart_cached(key, name, unit, tuple(points), baseline, baseline_date, target,
                                   target_date, higher_is_better, title, locale)


@lru_cache(maxsize=256)
def _indicator_chart_cached(key, name, unit, points, baseline, baseline_date, target, target_date,
                            higher_is_better, title, locale) -> Chart:
    value_header = _("Value (%(unit)s)", unit=unit) if unit else _("Value")
    rows: list[tuple[str, ...]] = []
    if baseline is not None:
        when = _long_date(baseline_date, locale) if baseline_date else ""
        rows.append((_("Baseline, %(date)s", date=when) if when else _("Baseline"),
                     format_number(baseline, locale)))
    rows.extend((period_label(p.period_start, p.period_end, locale), format_number(p.value, locale))
                for p in points)
    if target is not None:
        when = _long_date(target_date, locale) if target_date else ""
        rows.append((_("Target, %(date)s", date=when) if when else _("Target"),
                     format_number(target, locale)))
    columns = (_("Period"), str(value_header))

    # Values stored before dates and numbers were read the one way may lie outside what a
    # time axis can hold (the year 9999 plus a margin overflows): the table lists them, the
    # picture leaves them out and says so.
    all_points, points = points, tuple(p for p in points if _drawable(p.period_end, p.value))
    baseline = baseline if _drawable(None, baseline) else None
    target = target if _drawable(None, target) else None
    baseline_date = baseline_date if readers.in_range(baseline_date) else None
    target_date = target_date if readers.in_range(target_date) else None
    alt = _indicator_alt(name, unit, points, baseline, target, higher_is_better, locale)
    empty = not points and baseline is None and target is None
    dates = [p.period_end for p in points] + [d for d in (baseline_date, target_date) if d]
    has_time = bool(dates)
    # With no date at all (a baseline and target without dates) the time axis is unlabelled.
    first, last = (min(dates), max(dates)) if dates else (date(2000, 1, 1), date(2000, 12, 31))
    if first == last:  # one point in time: give the reference lines some length
        first, last = first - timedelta(days=45), last + timedelta(days=45)
    chart_id = _chart_id(key)
    colours = ([MEASUREMENT_COLOUR] if points else []) + (
        [BASELINE_COLOUR] if baseline is not None else []) + ([TARGET_COLOUR] if target is not None else [])
    chart = pygal.DateLine(**_config(
        colours, title, chart_id, len(colours),
        x_value_formatter=lambda d: _month_year(d, locale),
        value_formatter=lambda v: format_number(v, locale),
        x_label_rotation=0,
        show_x_labels=has_time,
        show_y_labels=not empty,
        show_x_guides=False,
        dots_size=5,
        range=_y_range(points, baseline, target),
        y_title=unit or None,
    ))
    if not empty:
        chart.x_labels = _x_labels(first, last)
    if points:
        chart.add(_("Measured"), [(p.period_end, float(p.value)) for p in points])
    if baseline is not None:
        chart.add(_("Baseline: %(value)s", value=format_number(baseline, locale)),
                  [(first, float(baseline)), (last, float(baseline))],
                  show_dots=False, stroke_style={"width": 3, "dasharray": "12, 6"})
    if target is not None:
        chart.add(_("Target: %(value)s", value=format_number(target, locale)),
                  [(first, float(target)), (last, float(target))],
                  show_dots=False, stroke_style={"width": 3, "dasharray": "3, 5"})
    svg = _render(chart, chart_id, alt)
    notes: tuple[str, ...] = ()
    if higher_is_better is not None:
        notes = (_("Higher is better.") if higher_is_better else _("Lower is better."),)
    left_out = len(all_points) - len(points)
    if left_out:
        notes += (ngettext("%(num)d measurement is in the table but not drawn: its date is "
                           "outside %(low)d to %(high)d, or its value is not a number.",
                           "%(num)d measurements are in the table but not drawn: their dates are "
                           "outside %(low)d to %(high)d, or their values are not numbers.",
                           left_out, low=readers.MIN_YEAR, high=readers.MAX_YEAR),)
    return Chart(svg=svg, alt=alt, columns=columns, rows=tuple(rows), empty=empty, notes=notes)


def _drawable(when: date | None, value) -> bool:
    """A value (and its date) that a chart can place: a finite number, dated 1900 to 2200."""
    if when is not None and not readers.in_range(when):
        return False
    number = _decimal(value)
    return number is None or number.is_finite()


def _y_range(points, baseline, target) -> tuple[float, float] | None:
    values = [float(p.value) for p in points]
    values += [float(v) for v in (baseline, target) if v is not None]
    if not values:
        return None
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    bottom = low - pad
    if low >= 0 and bottom < 0:
        bottom = 0.0
    return bottom, high + pad


def _next_month(value: date) -> date:
    return date(value.year + value.month // 12, value.month % 12 + 1, 1)


def _x_labels(first: date, last: date, count: int = 6) -> list[date]:
    """At most `count` first-of-month dates between first and last, evenly stepped by a
    whole number of months (1, 2, 3, 4, 6, 12, 24 …); the first date if none fits."""
    months = []
    current = first if first.day == 1 else _next_month(first)
    while current <= last:
        months.append(current)
        current = _next_month(current)
    if not months:
        return [first]
    for step in (1, 2, 3, 4, 6, 12, 24, 60, 120):
        if len(months[::step]) <= count:
            return months[::step]
    return months[::len(months) // count + 1]


def _indicator_alt(name, unit, points, baseline, target, higher_is_better, locale) -> str:
    unit_part = f" ({unit})" if unit else ""
    parts = [_("Line chart of %(name)s%(unit)s.", name=name, unit=unit_part)]
    if points:
        first, last = points[0], points[-1]
        if len(points) == 1:
            parts.append(_("One measurement: %(value)s for %(period)s.",
                           value=format_number(last.value, locale),
                           period=period_label(last.period_start, last.period_end, locale)))
        else:
            parts.append(_("%(count)d measurements from %(start)s to %(end)s; the latest is %(value)s.",
                           count=len(points), start=_month_year(first.period_end, locale),
                           end=_month_year(last.period_end, locale),
                           value=format_number(last.value, locale)))
    else:
        parts.append(_("No measurements yet."))
    if baseline is not None:
        parts.append(_("Baseline %(value)s.", value=format_number(baseline, locale)))
    if target is not None:
        parts.append(_("Target %(value)s.", value=format_number(target, locale)))
    if higher_is_better is not None:
        parts.append(_("Higher is better.") if higher_is_better else _("Lower is better."))
    return " ".join(parts)


# --- bars ----------------------------------------------------------------------------------

def _series_list(series) -> list[tuple[str, list]]:
    items = series.items() if isinstance(series, dict) else series
    return [(str(name), list(values)) for name, values in items]


def _bars(kind: str, categories: Sequence[str], series, *, title: str, unit: str,
          category_header: str, alt: str | None, locale: str | None, stacked: bool) -> Chart:
    locale = locale or _locale()
    categories = [str(c) for c in categories]
    series_list = _series_list(series)
    for name, values in series_list:
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)} categories")
    key = _key(kind, categories, [(n, [str(v) for v in vs]) for n, vs in series_list], title, unit,
               category_header, alt, locale, _locale())
    return _bars_cached(key, kind, tuple(categories),
                        tuple((n, tuple(_decimal(v) for v in vs)) for n, vs in series_list),
                        title, unit, category_header, alt, locale, stacked)


@lru_cache(maxsize=128)
def _bars_cached(key, kind, categories, series_list, title, unit, category_header, alt, locale,
                 stacked) -> Chart:
    columns = [category_header or _("Category"), *(name for name, _values in series_list)]
    rows = []
    for i, category in enumerate(categories):
        cells = [format_number(values[i], locale) for _name, values in series_list]
        if stacked:
            total = sum((values[i] or 0 for _name, values in series_list), Decimal(0))
            cells.append(format_number(total, locale))
        rows.append((category, *cells))
    if stacked:
        columns.append(_("Total"))
    empty = not categories or all(v is None for _n, values in series_list for v in values)
    if alt is None:
        kind_text = _("Stacked bar chart") if stacked else _("Bar chart")
        alt = _("%(kind)s: %(title)s.", kind=kind_text, title=title) if title else f"{kind_text}."
        alt += " " + _("%(series)s for %(categories)s.",
                       series=", ".join(name for name, _v in series_list) or _("no series"),
                       categories=", ".join(categories) or _("no categories"))
        if unit:
            alt += " " + _("Values in %(unit)s.", unit=unit)
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(series_list))]
    cls = pygal.StackedBar if stacked else pygal.Bar
    extra = {}
    labels = _whole_number_labels(series_list, stacked)
    if labels:
        extra["y_labels"] = labels
    chart_id = _chart_id(key)
    chart = cls(**_config(
        colours, title, chart_id, len(series_list) if len(series_list) > 1 or stacked else 0,
        **extra,
        value_formatter=lambda v: format_number(v, locale),
        x_label_rotation=0 if len(categories) <= 6 else 30,
        show_legend=len(series_list) > 1 or stacked,
        y_title=unit or None,
        print_values=False,
        rounded_bars=0,
    ))
    chart.x_labels = list(categories)
    for name, values in series_list:
        chart.add(name, [float(v) if v is not None else None for v in values])
    svg = _render(chart, chart_id, alt)
    return Chart(svg=svg, alt=alt, columns=tuple(columns), rows=tuple(rows), empty=empty)


def _whole_number_labels(series_list, stacked: bool) -> list[int] | None:
    """Counts get whole-number axis labels (0, 1, 2 … rather than 0.2, 0.4 …)."""
    values = [v for _name, vs in series_list for v in vs if v is not None]
    if not values or any(v != v.to_integral_value() or v < 0 for v in values):
        return None
    if stacked:
        top = max(sum((vs[i] or 0 for _n, vs in series_list), Decimal(0))
                  for i in range(len(series_list[0][1])))
    else:
        top = max(values)
    top = int(top) or 1
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 10**4, 10**5, 10**6,
                            10**7, 10**8, 10**9, 10**10, 10**11, 10**12) if top / s <= 8)
    return list(range(0, top + step, step)) if top < step * 9 else None


def bar_chart(categories: Sequence[str], series, *, title: str = "", unit: str = "",
              category_header: str = "", alt: str | None = None, locale: str | None = None) -> Chart:
    """Grouped vertical bars: one group per category, one bar per series.

    `series` is a dict {name: values} or a list of (name, values), each with one value
    (a number or None) per category.
    """
    return _bars("bar", categories, series, title=title, unit=unit, category_header=category_header,
                 alt=alt, locale=locale, stacked=False)


def stacked_bar_chart(categories: Sequence[str], series, *, title: str = "", unit: str = "",
                      category_header: str = "", alt: str | None = None,
                      locale: str | None = None) -> Chart:
    """Bars stacked per category (e.g. commitments by RAG per domain); the table adds a
    Total column."""
    return _bars("stacked", categories, series, title=title, unit=unit,
                 category_header=category_header, alt=alt, locale=locale, stacked=True)


# --- lines and horizontal bars over categories (dashboards) -----------------------------

# Dash patterns tell the lines apart without relying on colour.
DASHES = ("none", "12, 6", "3, 5", "12, 4, 3, 4", "6, 6", "2, 2", "16, 4", "8, 3, 2, 3")


def _series(categories, series) -> list[tuple[str, list]]:
    series_list = [(str(name), [_decimal(v) for v in values])
                   for name, values in (series.items() if isinstance(series, dict) else series)]
    for name, values in series_list:
        if len(values) != len(categories):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(categories)} categories")
    return series_list


def line_chart(categories, series, *, title: str = "", unit: str = "", category_header: str = "",
               alt: str | None = None, y_range: tuple[float, float] | None = None) -> Chart:
    """Lines over ordered categories (quarters, cycles), one per series; None leaves a gap.

    The same style, colours, script-free SVG and stable output as the other charts, cached by
    their data. Lines are told apart by dash pattern as well as colour.
    """
    return _drawn("line", categories, series, title=title, unit=unit, category_header=category_header,
                  alt=alt, y_range=y_range)


def horizontal_bar_chart(categories, series, *, stacked: bool = False, title: str = "",
                         category_header: str = "", alt: str | None = None) -> Chart:
    """Horizontal bars (one row per category, e.g. change domains with long names), grouped
    or stacked by series; the chart grows with the number of categories. A stacked chart's
    table adds a Total column."""
    return _drawn("hbar-stacked" if stacked else "hbar", categories, series, title=title, unit="",
                  category_header=category_header, alt=alt, y_range=None)


def _drawn(kind, categories, series, *, title, unit, category_header, alt, y_range) -> Chart:
    locale = _locale()
    categories = [str(c) for c in categories]
    series_list = _series(categories, series)
    key = _key(kind, categories, [(n, [str(v) for v in vs]) for n, vs in series_list],
                      title, unit, category_header, alt, y_range, locale)
    return _drawn_cached(key, kind, tuple(categories), tuple((n, tuple(vs)) for n, vs in series_list),
                         title, unit, category_header, alt, y_range, locale)


def _table(kind, categories, series_list, category_header, locale) -> tuple[list, list]:
    """The chart's numbers as a table: its column headings and rows (a Total column for
    stacked bars)."""
    stacked = kind == "hbar-stacked"
    columns = [category_header or (_("Period") if kind == "line" else _("Category")),
               *(name for name, _values in series_list)]
    rows = []
    for i, category in enumerate(categories):
        cells = [format_number(values[i], locale) for _name, values in series_list]
        if stacked:
            cells.append(format_number(
                sum((values[i] or 0 for _name, values in series_list), Decimal(0)), locale))
        rows.append((category, *cells))
    if stacked:
        columns.append(_("Total"))
    return columns, rows


def _alt_text(kind, categories, series_list, title, unit) -> str:
    kinds = {"line": _("Line chart"), "hbar": _("Horizontal bar chart"),
             "hbar-stacked": _("Stacked horizontal bar chart")}
    alt = (_("%(kind)s: %(title)s.", kind=kinds[kind], title=title) if title
           else f"{kinds[kind]}.")
    alt += " " + _("%(series)s for %(categories)s.",
                   series=", ".join(name for name, _v in series_list) or _("no series"),
                   categories=", ".join(categories) or _("no categories"))
    if unit:
        alt += " " + _("Values in %(unit)s.", unit=unit)
    return alt


def _kind_options(kind, categories, series_list, y_range, legend, options) -> tuple[type, int]:
    """Add the options of a line or bar chart to `options`; return pygal's class for it and
    the chart's height."""
    if kind == "line":
        options.update(x_label_rotation=0 if len(categories) <= 6 else 30, show_x_guides=False,
                       dots_size=5, allow_interruptions=True)
        if y_range:
            options["range"] = y_range
        return pygal.Line, HEIGHT
    stacked = kind == "hbar-stacked"
    labels = _whole_number_labels(list(series_list), stacked)
    if labels:
        options["y_labels"] = labels
    options.update(print_values=False, rounded_bars=0)
    per_category = 26 + (0 if stacked else 9 * max(0, len(series_list) - 1))
    legend_rows = -(-len(series_list) // 3) if legend else 0
    height = max(HEIGHT, 120 + per_category * len(categories) + 26 * legend_rows)
    return (pygal.HorizontalStackedBar if stacked else pygal.HorizontalBar), height


def _legend_room(config: dict, series: int) -> int:
    """pygal reserves order // columns legend rows, one short when the last row is partly
    filled (5 series in 3 columns): give the missing row its room. Returns the extra height."""
    columns_ = config["legend_at_bottom_columns"]
    missing = -(-series // columns_) - max(1, series // columns_)
    if missing <= 0:
        return 0
    config["margin_bottom"] = config["margin"] + 26 * missing
    return 26 * missing


@lru_cache(maxsize=256)
def _drawn_cached(key, kind, categories, series_list, title, unit, category_header, alt, y_range,
                  locale) -> Chart:
    columns, rows = _table(kind, categories, series_list, category_header, locale)
    empty = not categories or all(v is None for _n, values in series_list for v in values)
    if alt is None:
        alt = _alt_text(kind, categories, series_list, title, unit)
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(series_list))]
    chart_id = _chart_id(key)
    legend = len(series_list) > 1 or kind == "hbar-stacked"
    options = {
        "value_formatter": lambda v: format_number(v, locale),
        "show_legend": legend,
        "y_title": unit or None,
    }
    cls, height = _kind_options(kind, categories, series_list, y_range, legend, options)
    config = _config(colours, title, chart_id, len(series_list) if legend else 0, **options)
    if legend:
        height += _legend_room(config, len(series_list))
    chart = cls(**config)
    chart.height = height
    # pygal draws horizontal bars bottom up: reverse them so they read top down like the table.
    order = list(range(len(categories)))
    if kind != "line":
        order.reverse()
    chart.x_labels = [categories[i] for i in order]
    for n, (name, values) in enumerate(series_list):
        extra = {}
        if kind == "line":
            dash = DASHES[n % len(DASHES)]
            extra["stroke_style"] = {"width": 3} if dash == "none" else {"width": 3, "dasharray": dash}
        chart.add(name, [float(values[i]) if values[i] is not None else None for i in order], **extra)
    svg = _render(chart, chart_id, alt)
    return Chart(svg=svg, alt=alt, columns=tuple(columns), rows=tuple(rows), height=height,
                 empty=empty)


# --- the commitment page's helper --------------------------------------------------------

def commitment_indicator_chart(ci, locale: str | None = None) -> Chart:
    """The chart of an attached indicator (a CommitmentIndicator with its indicator and
    measurements loaded): reads only loaded attributes, so it runs no query."""
    from charter.models import Direction

    indicator = ci.indicator
    return indicator_chart(
        indicator.name, indicator.unit,
        [Point(m.period_start, m.period_end, m.value) for m in ci.measurements],
        baseline_value=ci.baseline_value, baseline_date=ci.baseline_date,
        target_value=ci.target_value, target_date=ci.target_date,
        higher_is_better=indicator.direction == Direction.HIGHER_IS_BETTER,
        locale=locale,
    )
