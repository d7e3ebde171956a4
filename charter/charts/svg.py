"""A small SVG writer for the app's charts: presentation attributes only (no <style>, no
script, no hidden tooltip nodes), every text escaped, output that depends only on its input.

    draw(Figure(...)) -> str

A Figure is a plot: an x axis of categories (bars, lines) or of numeric positions (dates as
ordinals), a y axis of numbers, series (name, values, colour, dash), and a legend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

INK = "#1d1b26"
SUBTLE = "#4a4a58"
GUIDE = "#c4c4cf"
FONT = "Charter Sans, Noto Sans, Helvetica, Arial, sans-serif"


def text_escape(value) -> str:
    return escape(str(value))


def attr(value) -> str:
    return quoteattr(str(value), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


@dataclass
class Series:
    name: str
    values: Sequence[float | None]  # one per category (or per x position)
    colour: str
    dash: str = "none"
    dots: bool = True
    xs: Sequence[float] | None = None  # numeric x positions for a line over time


@dataclass
class Figure:
    kind: str  # "line", "bar", "stacked", "hbar", "hbar-stacked"
    width: int
    height: int
    title: str
    alt: str
    categories: Sequence[str] = ()
    series: Sequence[Series] = ()
    unit: str = ""
    y_range: tuple[float, float] | None = None
    y_ticks: Sequence[float] | None = None
    x_ticks: Sequence[tuple[float, str]] = ()  # for a line over numeric x
    x_span: tuple[float, float] | None = None
    legend: bool = True
    empty_text: str = ""
    fmt: Callable[[float], str] = field(default=lambda v: f"{v:g}")


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x, y, content, *, size=13, anchor="start", fill=INK, weight=None, rotate=None) -> str:
    extra = f' font-weight="{weight}"' if weight else ""
    if rotate is not None:
        extra += f' transform="rotate({rotate} {_n(x)} {_n(y)})"'
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}"{extra}>{text_escape(content)}</text>')


def _legend_rows(fig: Figure) -> int:
    return -(-len(fig.series) // 3) if fig.legend and fig.series else 0


def draw(fig: Figure) -> str:  # noqa: C901 - one plot, read top to bottom
    out: list[str] = []
    horizontal = fig.kind.startswith("hbar")
    stacked = fig.kind in ("stacked", "hbar-stacked")
    top = 40 if fig.title else 16
    legend_h = 24 * _legend_rows(fig)
    rotate = not horizontal and fig.kind != "line-x" and len(fig.categories) > 6
    bottom = 34 + (40 if rotate else 0) + legend_h + (0 if horizontal else 0)
    longest = max((len(c) for c in fig.categories), default=0)
    left = (min(260, 16 + 7 * longest) if horizontal else 64) + (18 if fig.unit and not horizontal else 0)
    right = 28
    x0, x1, y0, y1 = left, fig.width - right, top, fig.height - bottom
    out.append(f'<rect width="{fig.width}" height="{fig.height}" fill="#ffffff"/>')
    if fig.title:
        out.append(_text(fig.width / 2, 26, fig.title, size=16, anchor="middle", weight="bold"))
    values = [v for s in fig.series for v in s.values if v is not None]
    if stacked and fig.categories:
        totals = [sum(s.values[i] or 0 for s in fig.series) for i in range(len(fig.categories))]
        values = values + totals
    if not values:
        out.append(_text(fig.width / 2, (y0 + y1) / 2, fig.empty_text, size=18, anchor="middle",
                         fill=SUBTLE))
        return _wrap(fig, out)
    if fig.y_ticks:
        ticks = list(fig.y_ticks)
    else:
        low, high = fig.y_range or (min(0.0, *values), max(0.0, *values))
        ticks = nice_ticks(low, high)
        if fig.y_range:
            ticks = [t for t in ticks if low - 1e-9 <= t <= high + 1e-9] or ticks
    lo, hi = (fig.y_range if fig.y_range and not fig.y_ticks else (min(ticks), max(ticks)))
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    if hi == lo:
        hi = lo + 1

    if horizontal:
        def vx(v):  # value → x
            return x0 + (v - lo) / (hi - lo) * (x1 - x0)
        for t in ticks:
            out.append(f'<path d="M{_n(vx(t))} {y0}V{y1}" stroke="{GUIDE}" stroke-dasharray="2,4"/>')
            out.append(_text(vx(t), y1 + 18, fig.fmt(t), size=12, anchor="middle", fill=SUBTLE))
    else:
        def vy(v):  # value → y
            return y1 - (v - lo) / (hi - lo) * (y1 - y0)
        for t in ticks:
            out.append(f'<path d="M{x0} {_n(vy(t))}H{x1}" stroke="{GUIDE}" stroke-dasharray="2,4"/>')
            out.append(_text(x0 - 6, vy(t) + 4, fig.fmt(t), size=12, anchor="end", fill=SUBTLE))
        if fig.unit:
            out.append(_text(16, (y0 + y1) / 2, fig.unit, size=12, anchor="middle", fill=SUBTLE,
                             rotate=-90))
    out.append(f'<path d="M{x0} {y0}V{y1}H{x1}" stroke="{SUBTLE}" fill="none"/>')

    n = len(fig.categories)
    if fig.kind == "line-x":
        a, b = fig.x_span or (0.0, 1.0)
        if b == a:
            b = a + 1

        def px(v):
            return x0 + 10 + (v - a) / (b - a) * (x1 - x0 - 20)
        for pos, label in fig.x_ticks:
            out.append(_text(px(pos), y1 + 20, label, size=12, anchor="middle", fill=SUBTLE))
        for s in fig.series:
            out.extend(_line(s, [px(x) for x in s.xs or ()], vy))
    elif fig.kind == "line":
        band = (x1 - x0) / max(1, n)
        centres = [x0 + band * (i + 0.5) for i in range(n)]
        for i, c in enumerate(fig.categories):
            out.append(_category_label(centres[i], y1, c, rotate))
        for s in fig.series:
            out.extend(_line(s, centres, vy))
    elif horizontal:
        band = (y1 - y0) / max(1, n)
        for i, c in enumerate(fig.categories):
            centre = y0 + band * (i + 0.5)
            out.append(_text(x0 - 6, centre + 4, c, size=12, anchor="end"))
            for s, edge, thickness, start, end in _bars(fig, i, centre, band, stacked):
                xa, xb = vx(start), vx(end)
                out.append(_rect(min(xa, xb), edge, abs(xb - xa), thickness, s.colour))
    else:
        band = (x1 - x0) / max(1, n)
        for i, c in enumerate(fig.categories):
            centre = x0 + band * (i + 0.5)
            out.append(_category_label(centre, y1, c, rotate))
            for s, edge, thickness, start, end in _bars(fig, i, centre, band, stacked):
                ya, yb = vy(start), vy(end)
                out.append(_rect(edge, min(ya, yb), thickness, abs(yb - ya), s.colour))
    if fig.legend and fig.series:
        column = (fig.width - 32) / 3
        base = fig.height - legend_h + 4
        for j, s in enumerate(fig.series):
            lx = 16 + column * (j % 3)
            ly = base + 24 * (j // 3)
            if fig.kind.startswith("line"):
                dash = "" if s.dash == "none" else f' stroke-dasharray="{s.dash}"'
                out.append(f'<path d="M{_n(lx)} {_n(ly + 7)}h24" stroke="{s.colour}" '
                           f'stroke-width="3"{dash}/>')
            else:
                out.append(f'<rect x="{_n(lx + 5)}" y="{_n(ly)}" width="14" height="14" fill="{s.colour}"/>')
            out.append(_text(lx + 30, ly + 12, s.name, size=13))
    return _wrap(fig, out)


def _bars(fig, i: int, centre: float, band: float, stacked: bool):
    """The bars of category `i` across a band centred on `centre`: (series, edge, thickness,
    start value, end value), side by side, or one on another when stacked."""
    thickness = band * 0.7 / (1 if stacked else max(1, len(fig.series)))
    offset = 0.0
    for j, s in enumerate(fig.series):
        v = s.values[i]
        if v is None:
            continue
        start = offset if stacked else 0.0
        yield s, centre - band * 0.35 + (0 if stacked else j * thickness), thickness, start, start + v
        if stacked:
            offset += v


def _rect(x, y, width, height, colour) -> str:
    return (f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" '
            f'fill="{colour}" stroke="#ffffff" stroke-width="1.5"/>')


def _category_label(x, y1, label, rotate) -> str:
    if rotate:
        return _text(x, y1 + 16, label, size=12, anchor="end", rotate=-30)
    return _text(x, y1 + 20, label, size=12, anchor="middle")


def _line(s: Series, xs: Sequence[float], vy) -> list[str]:
    out = []
    dash = "" if s.dash == "none" else f' stroke-dasharray="{s.dash}"'
    runs: list[list[tuple[float, float]]] = [[]]
    for x, v in zip(xs, s.values, strict=False):
        if v is None:
            runs.append([])
        else:
            runs[-1].append((x, vy(v)))
    for run in runs:
        if len(run) > 1:
            d = "M" + "L".join(f"{_n(x)} {_n(y)}" for x, y in run)
            out.append(f'<path d="{d}" fill="none" stroke="{s.colour}" stroke-width="3"{dash}/>')
        if s.dots:
            out.extend(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="5" fill="{s.colour}"/>' for x, y in run)
    return out


def _wrap(fig: Figure, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {fig.width} {fig.height}" '
            f'role="img" aria-label={attr(fig.alt)} '
            f'font-family="{FONT}">'
            f'<title>{text_escape(fig.alt)}</title><desc>{text_escape(fig.alt)}</desc>')
    return head + "".join(body) + "</svg>"
