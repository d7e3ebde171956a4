"""The open data API's routes: read-only, public data only, GET everywhere.

Each route parses its parameters (flask-smorest and webargs answer 422 for bad ones), asks
charter.api.queries for the answer, and lets the schema shape it. Nothing here writes, so
no route commits.
"""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from charter import documents
from charter.api import bulk, queries, schemas
from charter.api.extension import ErrorSchema, error_body, register_error_handlers
from charter.api.links import Links

blp = Blueprint(
    "api", __name__, url_prefix="/api/v1",
    description="Public data of every PROMISE site: read-only, paginated, ordered by id.",
)
register_error_handlers(blp)


@blp.errorhandler(queries.UnknownValue)
def _unknown(exc: queries.UnknownValue):
    location = "path" if exc.parameter in ("slug", "commitment_id", "report_id") else "query"
    return error_body(404, exc.message, {location: {exc.parameter: [exc.message]}}), 404


def _path(name: str, description: str, example: str | None = None) -> list[dict]:
    param = {"in": "path", "name": name, "description": description}
    if example:
        param["example"] = example
    return [param]


def _page(listing: queries.Listing) -> dict:
    """The listing's JSON, with the address of the next page (this one's query string with
    `after` the last id instead of `page`)."""
    next_url = None
    if listing.next_after is not None:
        args = {k: v for k, v in request.args.items(multi=True) if k not in ("page", "after")}
        next_url = Links()(request.endpoint, **args, after=listing.next_after)
    return listing.as_json(next_url)


NOT_FOUND = "The site, organisation or domain named in the path or a filter is not (publicly) there."


@blp.route("/sites", tags=["sites"])
@blp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.SitePageSchema)
def sites(page: int, per_page: int, after: int | None = None):
    """List the PROMISE sites

    Every site, with how many public organisations, current signatories, public commitments
    and published reports it has."""
    return _page(queries.sites(page, per_page, after))


@blp.route("/sites/<slug>", tags=["sites"],
           parameters=_path("slug", "The site's slug.", "cambridge"))
@blp.response(200, schemas.SiteSchema)
@blp.alt_response(404, response="NOT_FOUND", description="There is no site with this slug.")
def site(slug: str):
    """Get one site"""
    return queries.site(slug)


@blp.route("/organisations", tags=["organisations"])
@blp.arguments(schemas.OrganisationArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.OrganisationPageSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
def organisations(**args):
    """List public organisations

    Organisations that are active or that withdrew; never those still pending approval or
    declined."""
    return _page(queries.organisations(**args))


@blp.route("/organisations/<slug>", tags=["organisations"],
           parameters=_path("slug", "The organisation's slug."))
@blp.response(200, schemas.OrganisationSchema)
@blp.alt_response(404, response="NOT_FOUND", description="There is no public organisation "
                                                         "with this slug.")
def organisation(slug: str):
    """Get one public organisation"""
    return queries.organisation(slug)


@blp.route("/signatures", tags=["signatures"])
@blp.arguments(schemas.SignatureArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.SignaturePageSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
def signatures(**args):
    """List signatures of the charters

    Every signature of public organisations, withdrawn ones included (with when and why)."""
    return _page(queries.signatures(**args))


@blp.route("/commitments", tags=["commitments"])
@blp.arguments(schemas.CommitmentArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.CommitmentPageSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
def commitments(**args):
    """List public commitments

    Published and retired commitments of public organisations (never drafts), with their
    change domain, completion, RAG, ambition, dates, lead organisation and the partners that
    accepted to share them."""
    return _page(queries.commitments(**args))


@blp.route("/commitments/<int:commitment_id>", tags=["commitments"],
           parameters=_path("commitment_id", "The commitment's id."))
@blp.response(200, schemas.CommitmentDetailSchema)
@blp.alt_response(404, response="NOT_FOUND", description="There is no public commitment with "
                                                         "this id.")
def commitment(commitment_id: int):
    """Get one public commitment

    With its milestones and its indicators' baselines and targets."""
    return queries.commitment(commitment_id)


@blp.route("/domains", tags=["change domains"])
@blp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.DomainPageSchema)
def domains(page: int, per_page: int, after: int | None = None):
    """List the change domains

    The headings commitments are recorded against, retired ones included."""
    return _page(queries.domains(page, per_page, after))


@blp.route("/indicators", tags=["indicators"])
@blp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.IndicatorPageSchema)
def indicators(page: int, per_page: int, after: int | None = None):
    """List the indicator catalogue

    The global catalogue of indicators, retired ones included. Indicators that an
    organisation defined for one commitment are named in its measurements."""
    return _page(queries.indicators(page, per_page, after))


@blp.route("/measurements", tags=["measurements"])
@blp.arguments(schemas.MeasurementArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.MeasurementPageSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
def measurements(**args):
    """List measurements

    Values of the indicators attached to public commitments, one per period."""
    return _page(queries.measurements(**args))


@blp.route("/reports", tags=["reports"])
@blp.arguments(schemas.ReportArgs, location="query", as_kwargs=True)
@blp.response(200, schemas.ReportPageSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_FOUND)
def reports(**args):
    """List published progress reports

    Each with its latest revision and links to its page and stored PDF."""
    return _page(queries.reports(**args))


@blp.route("/reports/<int:report_id>", tags=["reports"],
           parameters=_path("report_id", "The report's id."))
@blp.response(200, schemas.ReportDetailSchema)
@blp.alt_response(404, response="NOT_FOUND", description="There is no published report with "
                                                         "this id.")
def report(report_id: int):
    """Get one published progress report

    With every revision and the latest revision's snapshot: what the published report
    shows, frozen at publication."""
    return queries.report(report_id)


@blp.route("/bulk.zip", tags=["bulk download"])
@documents.rate_limited
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/zip",
              description="A ZIP of CSV files, one per resource, with README.md and "
                          "data-dictionary.csv (every file, every column, its type and meaning).")
@blp.alt_response(304, description="Not modified: the ZIP named in If-None-Match (its ETag) is "
                                   "still the current one.", success=True)
@blp.alt_response(429, schema=ErrorSchema, description="Too many downloads from this address "
                                                       "(documents are rate-limited); try again "
                                                       "in a minute.")
@blp.alt_response(503, schema=ErrorSchema, description="The ZIP is being built for the first "
                                                       "time; try again in a minute.")
def bulk_zip():
    """Download all public data

    Everything the API publishes, as UTF-8 CSV files in one ZIP, built from a consistent
    reading of the database. It is rebuilt when the data change, at most every few minutes,
    so it may be a few minutes behind the API; its README.md says when it was built. Text
    that a spreadsheet could run as a formula starts with an apostrophe."""
    return documents.serve_from_task("bulk.zip")  # built by the task queue


@documents.kind("bulk.zip")
def _bulk_zip() -> documents.Spec:
    return documents.Spec("bulk.zip", documents.fingerprint(documents.data_version()),
                          lambda: documents.Built(b"".join(bulk.stream_zip()), bulk.ZIP_NAME),
                          "application/zip", disposition="attachment")
