"""Marshmallow schemas of the open data API: the query parameters each list accepts and the
JSON it answers. flask-smorest turns them into the OpenAPI document, so every field says
what it means (`metadata={"description": …}`)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from charter import readers
from charter.commitments.fields import COMMITMENT_FIELDS, Field
from charter.models import (
    PUBLIC_COMMITMENT_STATUSES,
    PUBLIC_ORGANISATION_STATUSES,
    RAG,
    Ambition,
    Completion,
    Direction,
    Sector,
    Tier,
)

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
MAX_PAGE = 2**31 - 1
MAX_SLUG = 120

ORGANISATION_STATUS_VALUES = tuple(s.value for s in PUBLIC_ORGANISATION_STATUSES)
COMMITMENT_STATUS_VALUES = tuple(s.value for s in PUBLIC_COMMITMENT_STATUSES)


def _d(text: str, **extra) -> dict:
    return {"description": text, **extra}


class PlainInteger(fields.Integer):
    """An integer read the one way (charter.readers): ASCII digits only ('12', '-3'), not
    '1.0', '١٢' or '１２'; the field's Range validator then says what is allowed (422)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            try:
                value = readers.read_int(value, -readers.MAX_ID, readers.MAX_ID + 1)
            except readers.ReadError as exc:
                if not exc.out_of_range:
                    raise self.make_error("invalid") from exc
                value = readers.MAX_ID + 1 if value.strip()[:1] != "-" else -readers.MAX_ID - 1
            if value is None:
                raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _choice(values, text: str) -> fields.String:
    values = list(values)
    return fields.String(validate=validate.OneOf(values), metadata=_d(text))


def _slug(text: str, example: str | None = None) -> fields.String:
    extra = {"example": example} if example else {}
    return fields.String(validate=validate.Length(min=1, max=MAX_SLUG), metadata=_d(text, **extra))


# --- query parameters -------------------------------------------------------------------

class PageArgs(ma.Schema):
    page = PlainInteger(
        load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
        metadata=_d("Page number, from 1. A page past the last one answers an empty `data` list "
                    "with the pagination figures."))
    per_page = PlainInteger(
        load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata=_d(f"Items per page, 1 to {MAX_PER_PAGE} (default {DEFAULT_PER_PAGE})."))
    after = PlainInteger(
        load_default=None, validate=validate.Range(min=0, max=readers.MAX_ID),
        metadata=_d("Only items with an id greater than this one: the next page after an item "
                    "(keyset pagination, as `pagination.next` links; quicker than `page` deep "
                    "into a long list). When given, `page` is ignored."))


SITE_FILTER = "Only items of this PROMISE site (its slug, e.g. `cambridge`). An unknown site answers 404."
DOMAIN_FILTER = ("Only items under this change domain (its slug, e.g. `least-restrictive-practice`). "
                 "An unknown domain answers 404.")
ORGANISATION_FILTER = ("Only items of this organisation (its slug). An organisation that is not "
                       "public answers 404, like an unknown one.")
SECTOR_FILTER = "Only items of organisations in this sector."


class OrganisationArgs(PageArgs):
    site = _slug(SITE_FILTER, "cambridge")
    domain = _slug("Only organisations with at least one public commitment under this change "
                   "domain (its slug). An unknown domain answers 404.", "least-restrictive-practice")
    sector = _choice([s.value for s in Sector], SECTOR_FILTER)
    tier = _choice([t.value for t in Tier], "Only signatories or only supporters.")
    status = _choice(ORGANISATION_STATUS_VALUES,
                     "Only active organisations, or only those that withdrew.")


class SignatureArgs(PageArgs):
    site = _slug(SITE_FILTER, "cambridge")
    organisation = _slug(ORGANISATION_FILTER)
    state = _choice(("current", "withdrawn"),
                    "`current`: signatures not withdrawn; `withdrawn`: withdrawn ones only.")


class CommitmentArgs(PageArgs):
    site = _slug("Only commitments led by organisations of this site (its slug). An unknown site "
                 "answers 404.", "cambridge")
    domain = _slug(DOMAIN_FILTER, "least-restrictive-practice")
    organisation = _slug("Only commitments led by this organisation (its slug). An organisation "
                         "that is not public answers 404.")
    sector = _choice([s.value for s in Sector], "Only commitments whose lead organisation is in "
                                                  "this sector.")
    status = _choice(COMMITMENT_STATUS_VALUES, "Only published (current) or only retired commitments.")
    completion = _choice([c.value for c in Completion], "Only commitments at this completion level.")
    rag = _choice([r.value for r in RAG], "Only commitments with this RAG rating.")
    ambition = _choice([a.value for a in Ambition], "Only commitments of this ambition.")


class MeasurementArgs(PageArgs):
    site = _slug(SITE_FILTER, "cambridge")
    domain = _slug(DOMAIN_FILTER, "least-restrictive-practice")
    organisation = _slug("Only measurements of commitments led by this organisation (its slug).")
    commitment = PlainInteger(validate=validate.Range(min=1, max=MAX_PAGE),
                              metadata=_d("Only measurements of this commitment (its id)."))
    indicator = PlainInteger(validate=validate.Range(min=1, max=MAX_PAGE),
                             metadata=_d("Only measurements of this indicator (its id)."))


class ReportArgs(PageArgs):
    site = _slug(SITE_FILTER, "cambridge")
    domain = _slug("Only reports of organisations with public commitments under this change "
                   "domain (its slug). An unknown domain answers 404.", "least-restrictive-practice")
    sector = _choice([s.value for s in Sector], SECTOR_FILTER)
    cycle = PlainInteger(validate=validate.Range(min=1, max=MAX_PAGE),
                         metadata=_d("Only reports for this reporting cycle (its id, as in "
                                     "`cycle.id` of a report)."))


# --- answers ------------------------------------------------------------------------------

def _str(text: str, **kw) -> fields.String:
    return fields.String(metadata=_d(text), **kw)


def _int(text: str, **kw) -> fields.Integer:
    return fields.Integer(metadata=_d(text), **kw)


def _enum(values, text: str, **kw) -> fields.String:
    return fields.String(metadata=_d(text, enum=list(values)), **kw)


def _date(text: str, **kw) -> fields.Date:
    return fields.Date(metadata=_d(text), **kw)


def _datetime(text: str, **kw) -> fields.DateTime:
    return fields.DateTime(metadata=_d(text + " (ISO 8601, UTC)."), **kw)


def _url(text: str, **kw) -> fields.String:
    return fields.String(metadata=_d(text, format="uri"), **kw)


def _decimal(text: str, **kw) -> fields.String:
    return fields.String(metadata=_d(text + " A decimal number written as text (e.g. `12.5`), "
                                            "so that no precision is lost.", example="12.5"), **kw)


class PaginationSchema(ma.Schema):
    page = _int("The page answered (as asked, even past the last page); null for a page "
                "asked for with `after`.", allow_none=True)
    per_page = _int("Items per page.")
    total = _int("Items matching the filters, on all pages.")
    total_pages = _int("Pages at this `per_page` (0 when nothing matches).")
    next = fields.String(allow_none=True, metadata=_d(
        "The address of the next page (with `after`, the id of this page's last item), or "
        "null on the last page."))


class OrganisationRefSchema(ma.Schema):
    slug = _str("The organisation's slug (its stable identifier in URLs).")
    name = _str("The organisation's name.")


class SiteSchema(ma.Schema):
    id = _int("Site id.")
    slug = _str("The site's slug (its stable identifier in URLs and filters).")
    name = _str("The site's name, e.g. Cambridge.")
    country = _str("The country of the site.")
    timezone = _str("IANA time zone the site shows times in, e.g. Europe/London.")
    locale = _str("The site's main language (a locale code such as `en` or `cs`).")
    description = _str("About the site (Markdown).")
    contact_email = _str("The site's public contact address, if it gives one.", allow_none=True)
    organisations = _int("Public organisations of the site (active or withdrawn).")
    signatories = _int("Active organisations holding a current (not withdrawn) signature.")
    commitments = _int("Public commitments (published or retired) of its organisations.")
    published_reports = _int("Published progress reports of its organisations.")
    html_url = _url("The site's public page.")


class OrganisationSchema(ma.Schema):
    id = _int("Organisation id.")
    slug = _str("The organisation's slug (its stable identifier in URLs and filters).")
    name = _str("The organisation's name.")
    site = _str("Slug of the PROMISE site the organisation belongs to.")
    sector = _enum([s.value for s in Sector], "The organisation's sector.")
    tier = _enum([t.value for t in Tier], "`signatory` (reports every cycle) or `supporter` "
                                          "(backs the charter without full reporting duty).")
    status = _enum(ORGANISATION_STATUS_VALUES, "`active`, or `withdrawn` from the charter.")
    website = _url("The organisation's website, if given.", allow_none=True)
    description = _str("About the organisation.")
    is_signatory = fields.Boolean(metadata=_d("Whether it holds a signature that is not withdrawn."))
    signed_version = _int("Number of the latest charter version it signed and has not withdrawn "
                          "(null if none).", allow_none=True)
    html_url = _url("The organisation's public profile page.")


class SignatureSchema(ma.Schema):
    id = _int("Signature id.")
    organisation = fields.Nested(OrganisationRefSchema, metadata=_d("The organisation that signed."))
    site = _str("Slug of the site whose charter was signed.")
    charter_version = _int("Number of the charter version signed.")
    charter_title = _str("Title of the charter version signed.")
    signer_name = _str("Full name of the person who signed, as typed.")
    signer_job_title = _str("Their job title.")
    authority_statement = _str("The statement of authority they confirmed.")
    co_signatory_name = _str("Co-signatory with lived experience, if any.", allow_none=True)
    co_signatory_role = _str("The co-signatory's role, if any.", allow_none=True)
    signed_at = _datetime("When it was signed")
    text_sha256 = _str("SHA-256 of the charter text signed.")
    verification_code = _str("Code that anyone can check at /verify/<code>.")
    withdrawn = fields.Boolean(metadata=_d("Whether the signature has been withdrawn."))
    withdrawn_at = _datetime("When it was withdrawn (null if it was not)", allow_none=True)
    withdrawal_reason = _str("Why it was withdrawn (null if it was not).", allow_none=True)
    html_url = _url("The signature's public page (with its certificate).")


class DomainRefSchema(ma.Schema):
    slug = _str("The change domain's slug.")
    name = _str("The change domain's name.")


class PartnerSchema(ma.Schema):
    slug = _str("The partner organisation's slug.")
    name = _str("The partner organisation's name.")
    site = _str("Slug of the partner's site.")
    sector = _enum([s.value for s in Sector], "The partner's sector.")
    role_note = _str("What the partner does in the commitment (may be empty).")


def _declared(field: Field) -> fields.Field:
    """The API's field for a declared field of a commitment (charter.commitments.fields)."""
    text, kw = field.api_text, {"allow_none": True} if field.nullable else {}
    if field.type == "code":
        return _enum(field.codes, text, **kw)
    if field.type == "datetime":
        return _datetime(text.removesuffix("."), **kw)
    if field.type == "boolean":
        return fields.Boolean(metadata=_d(text), **kw)
    return {"date": _date, "integer": _int, "decimal": _decimal, "url": _url}.get(field.type, _str)(
        text, **kw)


def _commitment_schema() -> type[ma.Schema]:
    """The commitment: its id, its declared fields, and after its status (what it is) the
    organisation, the site and the domain; then the partners and the page."""
    attributes: dict[str, fields.Field] = {"id": _int("Commitment id.")}
    for field in COMMITMENT_FIELDS:
        attributes[field.name] = _declared(field)
        if field.name == "status":
            attributes.update(
                organisation=fields.Nested(OrganisationRefSchema, metadata=_d("The lead organisation.")),
                site=_str("Slug of the lead organisation's site."),
                domain=fields.Nested(DomainRefSchema,
                                     metadata=_d("The change domain it is recorded against.")))
    attributes["partners"] = fields.List(
        fields.Nested(PartnerSchema), metadata=_d("Organisations that accepted to share the commitment."))
    attributes["html_url"] = _url("The commitment's public page.")
    return type("CommitmentSchema", (ma.Schema,), attributes)


CommitmentSchema = _commitment_schema()


class MilestoneSchema(ma.Schema):
    title = _str("The milestone.")
    due_date = _date("When it is due, if set.", allow_none=True)
    done_date = _date("When it was done (null if not yet).", allow_none=True)


class AttachedIndicatorSchema(ma.Schema):
    id = _int("Id of the indicator's attachment to this commitment.")
    indicator_id = _int("Indicator id (see /indicators for those in the catalogue).")
    name = _str("Indicator name.")
    unit = _str("Unit of its values.")
    direction = _enum([d.value for d in Direction], "Which way is better: `higher` or `lower`.")
    in_catalogue = fields.Boolean(metadata=_d("Whether it is from the global catalogue (else the "
                                              "organisation defined it for this commitment)."))
    baseline_value = _decimal("Baseline value, if set.", allow_none=True)
    baseline_date = _date("Date of the baseline, if set.", allow_none=True)
    target_value = _decimal("Target value, if set.", allow_none=True)
    target_date = _date("Date the target should be met by, if set.", allow_none=True)


class CommitmentDetailSchema(CommitmentSchema):
    milestones = fields.List(fields.Nested(MilestoneSchema), metadata=_d("Its milestones, in order."))
    indicators = fields.List(fields.Nested(AttachedIndicatorSchema),
                             metadata=_d("Indicators attached, with baseline and target; their "
                                         "values are at /measurements?commitment=<id>."))


class DomainSchema(ma.Schema):
    id = _int("Change domain id.")
    slug = _str("The domain's slug (its stable identifier in URLs and filters).")
    name = _str("The domain's name.")
    summary = _str("A line about the domain.")
    description = _str("The domain in full (Markdown).")
    source_note = _str("Where the domain comes from in the PROMISE change agenda.")
    position = _int("Its place in the list of domains.")
    is_active = fields.Boolean(metadata=_d("False once retired: no new commitments are recorded "
                                           "against it."))
    public_commitments = _int("Public commitments recorded against it, on every site.")
    html_url = _url("The domain's public page.", allow_none=True)


class IndicatorSchema(ma.Schema):
    id = _int("Indicator id.")
    name = _str("Indicator name.")
    definition = _str("How it is defined and counted.")
    unit = _str("Unit of its values, e.g. `per 1,000 occupied bed days`.")
    direction = _enum([d.value for d in Direction], "Which way is better: `higher` or `lower`.")
    reference = _str("Reference such as a national data set item, e.g. MHS96.")
    is_active = fields.Boolean(metadata=_d("False once retired from the catalogue."))
    public_commitments = _int("Public commitments it is attached to.")


class MeasurementSchema(ma.Schema):
    id = _int("Measurement id.")
    commitment_id = _int("The commitment it measures.")
    attachment_id = _int("Id of the indicator's attachment to the commitment.")
    indicator_id = _int("Indicator id.")
    indicator_name = _str("Indicator name.")
    unit = _str("Unit of the value.")
    in_catalogue = fields.Boolean(metadata=_d("Whether the indicator is from the global catalogue."))
    organisation = _str("Slug of the commitment's lead organisation.")
    site = _str("Slug of that organisation's site.")
    domain = _str("Slug of the commitment's change domain.")
    period_start = _date("First day of the period measured.")
    period_end = _date("Last day of the period measured.")
    value = _decimal("The value for the period.")
    note = _str("A note on the value (may be empty).")


class CycleSchema(ma.Schema):
    id = _int("Reporting cycle id (use it in the `cycle` filter).")
    name = _str("The cycle's name, e.g. 2026 Q1.")
    period_start = _date("First day of the period reported on.")
    period_end = _date("Last day of the period reported on.")
    due_date = _date("When reports were due.")


class RevisionSchema(ma.Schema):
    number = _int("Revision number: 1 is the first publication, later ones are corrections.")
    published_at = _datetime("When this revision was published")
    change_note = _str("What a correction changed (empty for the first publication).")
    snapshot_sha256 = _str("SHA-256 of the revision's snapshot (canonical JSON).")
    pdf_sha256 = _str("SHA-256 of the revision's stored PDF.")
    pdf_size = _int("Size of the stored PDF in bytes.")
    html_url = _url("This revision's public page.")
    pdf_url = _url("This revision's stored PDF.")


class ReportSchema(ma.Schema):
    id = _int("Report id.")
    organisation = fields.Nested(OrganisationRefSchema, metadata=_d("The organisation reporting."))
    site = _str("Slug of the organisation's site.")
    cycle = fields.Nested(CycleSchema, metadata=_d("The reporting cycle."))
    first_published_at = _datetime("When the report was first published")
    latest_revision = fields.Nested(RevisionSchema, metadata=_d("The latest published revision."))
    html_url = _url("The report's public page (latest revision).")
    pdf_url = _url("The stored PDF of the latest revision.")


class ReportDetailSchema(ReportSchema):
    revisions = fields.List(fields.Nested(RevisionSchema),
                            metadata=_d("Every published revision, oldest first."))
    snapshot = fields.Dict(metadata=_d(
        "The latest revision's snapshot: everything the published report shows (organisation, "
        "cycle, signature, summary, lived-experience reflection and each change domain's "
        "commitments with their updates, indicators and measurements), frozen at publication."))


def _page_schema(item_schema: type[ma.Schema], name: str, what: str) -> type[ma.Schema]:
    return type(name, (ma.Schema,), {
        "data": fields.List(fields.Nested(item_schema), metadata=_d(f"The {what} on this page, by id.")),
        "pagination": fields.Nested(PaginationSchema, metadata=_d("Where this page stands.")),
        "__doc__": f"One page of {what}.",
    })


SitePageSchema = _page_schema(SiteSchema, "SitePageSchema", "sites")
OrganisationPageSchema = _page_schema(OrganisationSchema, "OrganisationPageSchema", "organisations")
SignaturePageSchema = _page_schema(SignatureSchema, "SignaturePageSchema", "signatures")
CommitmentPageSchema = _page_schema(CommitmentSchema, "CommitmentPageSchema", "commitments")
DomainPageSchema = _page_schema(DomainSchema, "DomainPageSchema", "change domains")
IndicatorPageSchema = _page_schema(IndicatorSchema, "IndicatorPageSchema", "catalogue indicators")
MeasurementPageSchema = _page_schema(MeasurementSchema, "MeasurementPageSchema", "measurements")
ReportPageSchema = _page_schema(ReportSchema, "ReportPageSchema", "published reports")
