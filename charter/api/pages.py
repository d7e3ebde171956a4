"""/open-data: the open data API and the bulk download explained in plain words."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from charter.api import bulk

bp = Blueprint("open_data", __name__)

PAGING = {"page", "per_page"}


def api_operations() -> list[dict]:
    """The API's GET operations, read from the OpenAPI document the code generates."""
    api = current_app.extensions["charter_api"]
    paths = api.spec.to_dict().get("paths", {})
    operations = []
    for path, item in paths.items():
        op = item.get("get")
        if not op:
            continue
        filters = [p["name"] for p in op.get("parameters", []) + item.get("parameters", [])
                   if p.get("in") == "query" and p["name"] not in PAGING]
        operations.append({
            "path": path, "summary": op.get("summary", ""), "filters": filters,
            "paginated": any(p.get("name") == "page" for p in op.get("parameters", [])),
            "url": path if "{" not in path else None,
        })
    return operations


@bp.route("/open-data")
def index():
    return render_template(
        "api/open_data.html", operations=api_operations(), files=(bulk.DICTIONARY, *bulk.FILES),
        types=bulk.TYPES, max_per_page=100,
        rebuilt_minutes=max(1, current_app.config["DOCUMENT_CACHE_MIN_AGE"] // 60),
    )
