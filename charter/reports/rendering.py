"""Rendering a report snapshot: the public page and the PDF read the same plain values."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from charter.pdf import render_pdf


def _decimal(value: str | None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return None


def indicator_charts(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A chart per indicator in the snapshot, keyed "<commitment id>-<index>", as plain
    values (data URI, text alternative) so the PDF and the page embed the same SVG."""
    try:
        from charter import charts
    except ImportError:  # pragma: no cover - the charts module ships with the app
        return {}
    out: dict[str, dict[str, Any]] = {}
    for group in snapshot.get("domains", []):
        for commitment in group["commitments"]:
            for index, ind in enumerate(commitment["indicators"]):
                if not ind["measurements"]:
                    continue
                chart = charts.snapshot_indicator_chart(ind)
                out[f"{commitment['id']}-{index}"] = {"data_uri": chart.data_uri, "alt": chart.alt}
    return out


def render_report_pdf(snapshot: dict[str, Any]) -> bytes:
    return render_pdf("report.html", snap=snapshot, charts=indicator_charts(snapshot), pdf=True)


def commitment_count(snapshot: dict[str, Any]) -> int:
    return sum(len(g["commitments"]) for g in snapshot.get("domains", []))
