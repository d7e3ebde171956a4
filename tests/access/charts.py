"""Who may reach the chart files (charter/chart_routes.py): everyone; they hold public data."""

from tests.access.rules import Route, everyone


def _chart_path(w) -> str:
    from charter import blobs, charts

    chart = charts.bar_chart(["Cambridge"], {"Signatories": [3]}, title="Access table")
    return f"/charts/{blobs.put(chart.svg.encode(), '.svg')}.svg"


ACCESS = {
    ("charts.chart_file", "GET"): Route(_chart_path, everyone(200)),
}
