"""Rendering a report snapshot: the public page and the PDF read the same plain values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from charter import charts
from charter.pdf import render_pdf


def _decimal(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return None


def indicator_charts(snapshot: dict[str, Any], pdf: bool = False) -> dict[str, dict[str, Any]]:
    """A chart per indicator in the snapshot, keyed "<commitment id>-<index>", as plain
    values: the SVG's immutable URL for the page (`url`), the <svg> itself for the PDF
    (`svg`), and the text alternative (`alt`); both show the same SVG."""
    out: dict[str, dict[str, Any]] = {}
    for group in snapshot.get("domains", []):
        for commitment in group["commitments"]:
            for index, ind in enumerate(commitment["indicators"]):
                if not ind["measurements"]:
                    continue
                chart = snapshot_indicator_chart(ind)
                out[f"{commitment['id']}-{index}"] = (
                    {"svg": chart.inline, "alt": chart.alt} if pdf else {"url": chart.url, "alt": chart.alt})
    return out


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def snapshot_indicator_chart(ind: dict[str, Any]) -> charts.Chart:
    """The chart of an indicator as the snapshot froze it (charts.indicator_chart leaves out
    of the picture what a time axis cannot hold, such as a period in the year 9999)."""
    return charts.indicator_chart(
        ind["name"], ind["unit"],
        [charts.Point(_date(m["period_start"]), _date(m["period_end"]), _decimal(m["value"]))
         for m in ind["measurements"]
         if _decimal(m["value"]) is not None and _date(m["period_start"]) and _date(m["period_end"])],
        baseline_value=_decimal(ind.get("baseline_value")),
        baseline_date=_date(ind.get("baseline_date")),
        target_value=_decimal(ind.get("target_value")),
        target_date=_date(ind.get("target_date")),
        higher_is_better=ind.get("direction") == "higher",
        locale="en",
    )


def render_report_pdf(snapshot: dict[str, Any]) -> bytes:
    """The PDF of a frozen snapshot, charts included: slow, so never called while a write
    transaction is open (charter.pdf refuses), and stopped at PDF_RENDER_TIMEOUT."""
    return render_pdf("report.html", snap=snapshot, charts=indicator_charts(snapshot, pdf=True), pdf=True,
                      break_long_words=True)
