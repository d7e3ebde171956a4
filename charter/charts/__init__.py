"""Server-side SVG charts: the one charts module of the app (commitment pages, reports,
dashboards, PDFs).

Every function returns a `Chart`: a lean SVG (charter/charts/svg.py: presentation
attributes only, no <style>, no script, no tooltip nodes), a short text alternative for
alt=, and the numbers as table rows (`templates/macros/charts.html` renders all of it).
Pages link the SVG as an immutable content-addressed file, `Chart.url` (`/charts/<sha256>.svg`,
stored in charter.blobs when the page renders, served by charter/chart_routes.py); PDFs put
`Chart.inline` (the <svg> element itself) into the HTML; `Chart.uri` (a data: URI) remains
for whoever needs the SVG as one string.

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

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import has_request_context
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from charter import readers
from charter.charts import svg as writer

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

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.svg.encode("utf-8")).hexdigest()

    @property
    def url(self) -> str:
        """`/charts/<sha256>.svg`, after storing the SVG in the blob store (once), so any
        worker serves it, now and after a restart."""
        from flask import url_for

        from charter import blobs

        digest = blobs.put(self.svg.encode("utf-8"), ".svg", digest=self.digest)
        if has_request_context():
            return url_for("charts.chart_file", digest=digest)
        return f"/charts/{digest}.svg"  # services and tasks outside a request

    @property
    def inline(self) -> Markup:
        """The <svg> element for a PDF's HTML (every text in it is escaped by the writer)."""
        return Markup(self.svg)  # noqa: S704 - built by charter.charts.svg, which escapes all text


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

def _chart_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


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
    series = []
    if points:
        series.append(writer.Series(_("Measured"), [float(p.value) for p in points], MEASUREMENT_COLOUR,
                                    xs=[p.period_end.toordinal() for p in points]))
    if baseline is not None:
        series.append(writer.Series(_("Baseline: %(value)s", value=format_number(baseline, locale)),
                                    [float(baseline)] * 2, BASELINE_COLOUR, dash="12,6", dots=False,
                                    xs=[first.toordinal(), last.toordinal()]))
    if target is not None:
        series.append(writer.Series(_("Target: %(value)s", value=format_number(target, locale)),
                                    [float(target)] * 2, TARGET_COLOUR, dash="3,5", dots=False,
                                    xs=[first.toordinal(), last.toordinal()]))
    x_ticks = ([(d.toordinal(), _month_year(d, locale)) for d in _x_labels(first, last)]
               if has_time and not empty else [])
    svg = writer.draw(writer.Figure(
        "line-x", WIDTH, HEIGHT, title, alt, series=series, unit=unit,
        y_range=_y_range(points, baseline, target), x_ticks=x_ticks,
        x_span=(first.toordinal(), last.toordinal()), legend=bool(series),
        empty_text=_("No data yet"), fmt=lambda v: format_number(_round(v), locale)))
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


def _round(value: float) -> Decimal:
    """An axis value without float noise (0.30000000000000004 → 0.3)."""
    return Decimal(repr(round(value, 6)))


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
    svg = writer.draw(writer.Figure(
        "stacked" if stacked else "bar", WIDTH, HEIGHT, title, alt, categories=categories,
        series=[writer.Series(name, [float(v) if v is not None else None for v in values],
                              PALETTE[i % len(PALETTE)]) for i, (name, values) in enumerate(series_list)],
        unit=unit, y_ticks=_whole_number_labels(series_list, stacked),
        legend=len(series_list) > 1 or stacked, empty_text=_("No data yet"),
        fmt=lambda v: format_number(_round(v), locale)))
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
DASHES = ("none", "12,6", "3,5", "12,4,3,4", "6,6", "2,2", "16,4", "8,3,2,3")


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


@lru_cache(maxsize=256)
def _drawn_cached(key, kind, categories, series_list, title, unit, category_header, alt, y_range,
                  locale) -> Chart:
    columns, rows = _table(kind, categories, series_list, category_header, locale)
    empty = not categories or all(v is None for _n, values in series_list for v in values)
    if alt is None:
        alt = _alt_text(kind, categories, series_list, title, unit)
    legend = len(series_list) > 1 or kind == "hbar-stacked"
    height = HEIGHT
    if kind != "line":
        per_category = 26 + (0 if kind == "hbar-stacked" else 9 * max(0, len(series_list) - 1))
        height = max(HEIGHT, 120 + per_category * len(categories) + 24 * (-(-len(series_list) // 3)))
    svg = writer.draw(writer.Figure(
        kind, WIDTH, height, title, alt, categories=categories,
        series=[writer.Series(name, [float(v) if v is not None else None for v in values],
                              PALETTE[n % len(PALETTE)],
                              dash=DASHES[n % len(DASHES)] if kind == "line" else "none")
                for n, (name, values) in enumerate(series_list)],
        unit=unit, y_range=y_range,
        y_ticks=None if kind == "line" else _whole_number_labels(list(series_list), kind == "hbar-stacked"),
        legend=legend, empty_text=_("No data yet"), fmt=lambda v: format_number(_round(v), locale)))
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
