"""The open data API under /api/v1 (read-only, public data only), its OpenAPI document,
the bulk download and the /open-data page that explains them."""

from __future__ import annotations

from flask import Flask

API_SETTINGS = {
    "API_TITLE": "PROMISE Charter open data API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}

API_DESCRIPTION = (
    "Public data of the PROMISE charters: sites, organisations, signatures, commitments, change "
    "domains, indicators, measurements and published progress reports. Read-only; nothing "
    "private (drafts, pending organisations, people's email addresses, report drafts and "
    "comments, audit records) is ever served.\n\n"
    "Lists are paginated with `page` (from 1) and `per_page` (1 to 100) and ordered by id; "
    "the answer is `{\"data\": [...], \"pagination\": {...}}`. A page past the last one is an "
    "empty list. Filters that name a site, domain or organisation that does not exist answer "
    "404; filters that match nothing answer an empty list.\n\n"
    "Every error has the shape `{\"error\": {\"status\", \"title\", \"message\", \"errors\"?}}`; "
    "`errors` names each bad parameter with its messages.\n\n"
    "Everything at once: `/api/v1/bulk.zip`, a ZIP of CSV files with a data dictionary."
)

TAGS = [
    ("sites", "The PROMISE localities, each with its own charter, coordinators and cycles."),
    ("organisations", "Organisations that take part in a site's charter, or withdrew."),
    ("signatures", "Organisations' signatures of a charter version, and their withdrawals."),
    ("commitments", "What organisations promise, under one change domain each."),
    ("change domains", "The headings of the PROMISE change agenda that commitments are recorded "
                       "against."),
    ("indicators", "The global catalogue of indicators that commitments are measured by."),
    ("measurements", "Values of the indicators attached to public commitments."),
    ("reports", "Published progress reports, each a frozen snapshot with its stored PDF."),
    ("bulk download", "Everything at once, as CSV files in a ZIP with a data dictionary."),
]


def init_app(app: Flask) -> None:
    """Register the API (and its OpenAPI document) on the app."""
    from charter.api.extension import OpenDataApi, add_allow_header
    from charter.api.pages import bp as pages_bp
    from charter.api.routes import blp

    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api = OpenDataApi(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})
    api.register_blueprint(blp)
    for name, description in TAGS:
        api.spec.tag({"name": name, "description": description})
    app.extensions["charter_api"] = api
    app.register_blueprint(pages_bp)
    add_allow_header(app)
