"""Read side of the open data API: PUBLIC data only, a fixed number of queries per request.

Public means:
- organisations that are active or withdrawn (never pending or declined);
- their signatures of charter versions that are not drafts, with any withdrawal;
- commitments that are published or retired (never drafts) of those organisations, with
  their partnerships that were accepted by organisations that are public too;
- the indicator catalogue, indicators attached to public commitments and their measurements;
- published progress reports of public organisations (the latest revision's snapshot).
Nothing here reads users' emails, drafts, report comments, audit events or invitations.

Each listing costs: one query per filter that names something (site, domain, organisation),
a COUNT, and one page query (commitments add one for their partners), whatever the data.
Rows are read as plain columns, never as ORM objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import aliased

from charter.api.links import Links
from charter.commitments.fields import COMMITMENT_FIELDS
from charter.commitments.indicators import number_text
from charter.extensions import db
from charter.models import (
    PUBLIC_ORGANISATION_STATUSES,
    ChangeDomain,
    CharterStatus,
    CharterVersion,
    Commitment,
    CommitmentIndicator,
    Indicator,
    Measurement,
    Milestone,
    Organisation,
    OrganisationStatus,
    Partnership,
    PartnershipStatus,
    ProgressReport,
    ReportingCycle,
    ReportRevision,
    ReportStatus,
    Signature,
    SignatureWithdrawal,
    Site,
)
from charter.pagination import count

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


# --- the rules of "public", as SQL conditions -------------------------------------------

def organisation_is_public(org=Organisation):
    return org.status.in_(PUBLIC_ORGANISATION_STATUSES)


def commitment_is_public():
    """On a query that joins Commitment to its lead Organisation."""
    return and_(Commitment.is_public, organisation_is_public())


def public_commitment_ids() -> Select:
    return (select(Commitment.id)
            .join(Organisation, Organisation.id == Commitment.organisation_id)
            .where(commitment_is_public()))


def report_is_public():
    """On a query that joins ProgressReport to its Organisation."""
    return and_(ProgressReport.status == ReportStatus.PUBLISHED, organisation_is_public())


def current_signature_exists():
    """On Organisation: it holds a signature that is not withdrawn."""
    return exists().where(
        Signature.organisation_id == Organisation.id,
        ~exists().where(SignatureWithdrawal.signature_id == Signature.id))


def has_public_commitment_in(domain_id: int):
    """On a query of Organisation: it leads a public commitment under this domain."""
    return exists().where(
        Commitment.organisation_id == Organisation.id, Commitment.domain_id == domain_id,
        Commitment.is_public)


def latest_revision_number():
    """On ProgressReport: the number of its latest revision (an index look-up per report)."""
    other = aliased(ReportRevision, name="other_revision")
    return (select(func.max(other.number)).where(other.report_id == ProgressReport.id)
            .correlate(ProgressReport).scalar_subquery())


# --- filters that name something ------------------------------------------------------------

class UnknownValue(Exception):  # noqa: N818 - reads better at call sites
    """A filter or path names a site, domain or organisation that is not (publicly) there."""

    def __init__(self, parameter: str, value: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.value = value
        self.message = message


def _normal_slug(value: str) -> str | None:
    slug = (value or "").strip().lower()
    return slug if _SLUG.fullmatch(slug) and len(slug) <= 120 else None


def _shown(value: str) -> str:
    return value if len(value) <= 60 else value[:59] + "…"


def site_id_for(slug: str | None) -> int | None:
    if slug is None:
        return None
    normal = _normal_slug(slug)
    site_id = db.session.scalar(select(Site.id).where(Site.slug == normal)) if normal else None
    if site_id is None:
        raise UnknownValue("site", slug, _("There is no site “%(value)s”.", value=_shown(slug)))
    return site_id


def domain_id_for(slug: str | None) -> int | None:
    if slug is None:
        return None
    normal = _normal_slug(slug)
    domain_id = (db.session.scalar(select(ChangeDomain.id).where(ChangeDomain.slug == normal))
                 if normal else None)
    if domain_id is None:
        raise UnknownValue("domain", slug,
                           _("There is no change domain “%(value)s”.", value=_shown(slug)))
    return domain_id


def organisation_id_for(slug: str | None) -> int | None:
    if slug is None:
        return None
    normal = _normal_slug(slug)
    org_id = db.session.scalar(
        select(Organisation.id).where(Organisation.slug == normal, organisation_is_public())
    ) if normal else None
    if org_id is None:
        raise UnknownValue("organisation", slug,
                           _("There is no public organisation “%(value)s”.", value=_shown(slug)))
    return org_id


# --- pages ----------------------------------------------------------------------------------

@dataclass
class Listing:
    page: int | None  # None for a page asked for with `after`
    per_page: int
    total: int
    data: list[dict[str, Any]] = field(default_factory=list)
    next_after: int | None = None  # the id the next page starts after, if there is one

    @property
    def pagination(self) -> dict[str, Any]:
        return {"page": self.page, "per_page": self.per_page, "total": self.total,
                "total_pages": -(-self.total // self.per_page), "next": None}

    def as_json(self, next_url: str | None = None) -> dict[str, Any]:
        return {"data": self.data, "pagination": {**self.pagination, "next": next_url}}


@dataclass
class Rows:
    page: int | None
    total: int
    rows: list
    next_after: int | None


def _page_rows(query: Select, page: int, per_page: int, after: int | None = None,
               key=None) -> Rows:
    """The COUNT of the whole query (cached per data version: charter.pagination.count),
    then one page of its rows: those after the id `after` (keyset, read from the index of
    `key`, the query's order) or the `page`-th by offset. No row query for a page past the
    end: it is empty whatever the data."""
    total = count(query)
    if after is not None and key is not None:
        rows = list(db.session.execute(query.where(key > after).limit(per_page + 1)).mappings())
        page = None
    else:
        offset = (page - 1) * per_page
        if offset >= total:
            return Rows(page, total, [], None)
        rows = list(db.session.execute(query.limit(per_page + 1).offset(offset)).mappings())
    more = len(rows) > per_page
    rows = rows[:per_page]
    return Rows(page, total, rows, rows[-1]["id"] if more and rows else None)


def _listing(result: Rows, per_page: int, data: list[dict[str, Any]]) -> Listing:
    return Listing(result.page, per_page, result.total, data, result.next_after)


def _value(x: Any) -> Any:
    return x.value if isinstance(x, Enum) else x


# --- sites ---------------------------------------------------------------------------------

def _per_site(query: Select, name: str):
    """A count per site_id of `query`'s rows (one pass over the table, grouped)."""
    return query.add_columns(func.count().label("n")).group_by(Organisation.site_id).subquery(name)


def _sites_query() -> Select:
    orgs = _per_site(select(Organisation.site_id).where(organisation_is_public()), "orgs")
    signatories = _per_site(select(Organisation.site_id).where(
        Organisation.status == OrganisationStatus.ACTIVE, current_signature_exists()), "signatories")
    commitments = _per_site(
        select(Organisation.site_id).select_from(Commitment)
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(commitment_is_public()), "commitments")
    reports = _per_site(
        select(Organisation.site_id).select_from(ProgressReport)
        .join(Organisation, Organisation.id == ProgressReport.organisation_id)
        .where(report_is_public()), "reports")
    counts = [(orgs, "organisations"), (signatories, "signatories"), (commitments, "commitments"),
              (reports, "published_reports")]
    query = select(Site.id, Site.slug, Site.name, Site.country, Site.timezone, Site.locale,
                   Site.description, Site.contact_email,
                   *[func.coalesce(sub.c.n, 0).label(label) for sub, label in counts])
    for sub, _label in counts:
        query = query.outerjoin(sub, sub.c.site_id == Site.id)
    return query.order_by(Site.id)


def _site_json(row, links: Links) -> dict:
    return {**row, "html_url": links.site(row["slug"])}


def sites(page: int, per_page: int, after: int | None = None) -> Listing:
    result = _page_rows(_sites_query(), page, per_page, after, Site.id)
    rows = result.rows
    links = Links()
    return _listing(result, per_page, [_site_json(r, links) for r in rows])


def site(slug: str) -> dict:
    normal = _normal_slug(slug)
    row = db.session.execute(_sites_query().where(Site.slug == normal)).mappings().first() \
        if normal else None
    if row is None:
        raise UnknownValue("slug", slug, _("There is no site “%(value)s”.", value=_shown(slug)))
    return _site_json(row, Links())


# --- organisations -------------------------------------------------------------------------

def _organisations_query() -> Select:
    signed_version = (
        select(func.max(CharterVersion.number))
        .select_from(Signature)
        .join(CharterVersion, CharterVersion.id == Signature.charter_version_id)
        .where(Signature.organisation_id == Organisation.id,
               ~exists().where(SignatureWithdrawal.signature_id == Signature.id))
        .scalar_subquery()
    )
    return (
        select(Organisation.id, Organisation.slug, Organisation.name, Site.slug.label("site"),
               Organisation.sector, Organisation.tier, Organisation.status, Organisation.website,
               Organisation.description,
               current_signature_exists().label("is_signatory"),
               signed_version.label("signed_version"))
        .join(Site, Site.id == Organisation.site_id)
        .where(organisation_is_public())
        .order_by(Organisation.id)
    )


def _organisation_json(row, links: Links) -> dict:
    return {
        "id": row["id"], "slug": row["slug"], "name": row["name"], "site": row["site"],
        "sector": _value(row["sector"]), "tier": _value(row["tier"]),
        "status": _value(row["status"]), "website": row["website"] or None,
        "description": row["description"] or "", "is_signatory": bool(row["is_signatory"]),
        "signed_version": row["signed_version"], "html_url": links.organisation(row["slug"]),
    }


def organisations(*, page: int, per_page: int, after: int | None = None,
        site: str | None = None, domain: str | None = None,
                  sector: str | None = None, tier: str | None = None,
                  status: str | None = None) -> Listing:
    site_id, domain_id = site_id_for(site), domain_id_for(domain)
    query = _organisations_query()
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    if domain_id is not None:
        query = query.where(has_public_commitment_in(domain_id))
    if sector:
        query = query.where(Organisation.sector == sector)
    if tier:
        query = query.where(Organisation.tier == tier)
    if status:
        query = query.where(Organisation.status == status)
    result = _page_rows(query, page, per_page, after, Organisation.id)
    rows = result.rows
    links = Links()
    return _listing(result, per_page, [_organisation_json(r, links) for r in rows])


def organisation(slug: str) -> dict:
    normal = _normal_slug(slug)
    row = (db.session.execute(_organisations_query().where(Organisation.slug == normal))
           .mappings().first()) if normal else None
    if row is None:
        raise UnknownValue("slug", slug,
                           _("There is no public organisation “%(value)s”.", value=_shown(slug)))
    return _organisation_json(row, Links())


# --- signatures ----------------------------------------------------------------------------

def signatures(*, page: int, per_page: int, after: int | None = None,
        site: str | None = None, organisation: str | None = None,
               state: str | None = None) -> Listing:
    site_id, org_id = site_id_for(site), organisation_id_for(organisation)
    query = (
        select(Signature.id, Organisation.slug.label("org_slug"), Organisation.name.label("org_name"),
               Site.slug.label("site"), CharterVersion.number.label("charter_version"),
               CharterVersion.title.label("charter_title"), Signature.signer_name,
               Signature.signer_job_title, Signature.authority_statement, Signature.co_signatory_name,
               Signature.co_signatory_role, Signature.signed_at, Signature.text_sha256,
               Signature.verification_code, SignatureWithdrawal.withdrawn_at,
               SignatureWithdrawal.reason.label("withdrawal_reason"))
        .join(Organisation, Organisation.id == Signature.organisation_id)
        .join(Site, Site.id == Organisation.site_id)
        .join(CharterVersion, CharterVersion.id == Signature.charter_version_id)
        .outerjoin(SignatureWithdrawal, SignatureWithdrawal.signature_id == Signature.id)
        .where(organisation_is_public(), CharterVersion.status != CharterStatus.DRAFT)
        .order_by(Signature.id)
    )
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    if org_id is not None:
        query = query.where(Signature.organisation_id == org_id)
    if state == "current":
        query = query.where(SignatureWithdrawal.id.is_(None))
    elif state == "withdrawn":
        query = query.where(SignatureWithdrawal.id.is_not(None))
    result = _page_rows(query, page, per_page, after, Signature.id)
    rows = result.rows
    links = Links()
    data = []
    for r in rows:
        item = {k: v for k, v in r.items() if k not in ("org_slug", "org_name")}
        item["organisation"] = {"slug": r["org_slug"], "name": r["org_name"]}
        item["withdrawn"] = r["withdrawn_at"] is not None
        item["html_url"] = links.signature(r["id"])
        data.append(item)
    return _listing(result, per_page, data)


# --- commitments ---------------------------------------------------------------------------

def _commitments_query() -> Select:
    return (
        select(Commitment.id, *(f.selected() for f in COMMITMENT_FIELDS),
               Organisation.slug.label("org_slug"), Organisation.name.label("org_name"),
               Site.slug.label("site"), ChangeDomain.slug.label("domain_slug"),
               ChangeDomain.name.label("domain_name"))
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .join(Site, Site.id == Organisation.site_id)
        .join(ChangeDomain, ChangeDomain.id == Commitment.domain_id)
        .where(commitment_is_public())
        .order_by(Commitment.id)
    )


def partners_of(commitment_ids: list[int]) -> dict[int, list[dict]]:
    """Accepted partners (that are public organisations) of these commitments: one query."""
    out: dict[int, list[dict]] = {i: [] for i in commitment_ids}
    if not commitment_ids:
        return out
    rows = db.session.execute(
        select(Partnership.commitment_id, Organisation.slug, Organisation.name,
               Site.slug.label("site"), Organisation.sector, Partnership.role_note)
        .join(Organisation, Organisation.id == Partnership.organisation_id)
        .join(Site, Site.id == Organisation.site_id)
        .where(Partnership.commitment_id.in_(commitment_ids),
               Partnership.status == PartnershipStatus.ACCEPTED, organisation_is_public())
        .order_by(Partnership.commitment_id, Partnership.id)
    ).mappings()
    for r in rows:
        out[r["commitment_id"]].append({
            "slug": r["slug"], "name": r["name"], "site": r["site"],
            "sector": _value(r["sector"]), "role_note": r["role_note"] or ""})
    return out


def _commitment_json(row, partners: list[dict], links: Links) -> dict:
    """The commitment's declared fields (charter.commitments.fields: codes as their values;
    the schema writes dates) and the API's own."""
    return {
        "id": row["id"],
        **{f.name: number_text(row[f.name]) if f.type == "decimal" else _value(row[f.name])
           for f in COMMITMENT_FIELDS},
        "organisation": {"slug": row["org_slug"], "name": row["org_name"]},
        "site": row["site"],
        "domain": {"slug": row["domain_slug"], "name": row["domain_name"]},
        "partners": partners, "html_url": links.commitment(row["id"]),
    }


def commitments(*, page: int, per_page: int, after: int | None = None,
        site: str | None = None, domain: str | None = None,
                organisation: str | None = None, sector: str | None = None, status: str | None = None,
                completion: str | None = None, rag: str | None = None,
                ambition: str | None = None) -> Listing:
    site_id, domain_id = site_id_for(site), domain_id_for(domain)
    org_id = organisation_id_for(organisation)
    query = _commitments_query()
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    if domain_id is not None:
        query = query.where(Commitment.domain_id == domain_id)
    if org_id is not None:
        query = query.where(Commitment.organisation_id == org_id)
    for column, value in ((Organisation.sector, sector), (Commitment.status, status),
                          (Commitment.completion, completion), (Commitment.rag, rag),
                          (Commitment.ambition, ambition)):
        if value:
            query = query.where(column == value)
    result = _page_rows(query, page, per_page, after, Commitment.id)
    rows = result.rows
    partners = partners_of([r["id"] for r in rows])
    links = Links()
    return _listing(result, per_page, [_commitment_json(r, partners[r["id"]], links) for r in rows])


def commitment(commitment_id: int) -> dict:
    row = db.session.execute(_commitments_query().where(Commitment.id == commitment_id)).mappings().first()
    if row is None:
        raise UnknownValue("commitment_id", str(commitment_id),
                           _("There is no public commitment %(value)s.", value=commitment_id))
    item = _commitment_json(row, partners_of([commitment_id])[commitment_id], Links())
    item["milestones"] = [dict(m) for m in db.session.execute(
        select(Milestone.title, Milestone.due_date, Milestone.done_date)
        .where(Milestone.commitment_id == commitment_id)
        .order_by(Milestone.position, Milestone.id)).mappings()]
    item["indicators"] = [
        {"id": r["id"], "indicator_id": r["indicator_id"], "name": r["name"], "unit": r["unit"],
         "direction": _value(r["direction"]), "in_catalogue": r["organisation_id"] is None,
         "baseline_value": number_text(r["baseline_value"]), "baseline_date": r["baseline_date"],
         "target_value": number_text(r["target_value"]), "target_date": r["target_date"]}
        for r in db.session.execute(
            select(CommitmentIndicator.id, CommitmentIndicator.indicator_id, Indicator.name,
                   Indicator.unit, Indicator.direction, Indicator.organisation_id,
                   CommitmentIndicator.baseline_value, CommitmentIndicator.baseline_date,
                   CommitmentIndicator.target_value, CommitmentIndicator.target_date)
            .join(Indicator, Indicator.id == CommitmentIndicator.indicator_id)
            .where(CommitmentIndicator.commitment_id == commitment_id)
            .order_by(CommitmentIndicator.id)).mappings()
    ]
    return item


# --- change domains and the indicator catalogue ---------------------------------------------

def domains(page: int, per_page: int, after: int | None = None) -> Listing:
    counts = (select(Commitment.domain_id, func.count().label("n"))
              .join(Organisation, Organisation.id == Commitment.organisation_id)
              .where(commitment_is_public()).group_by(Commitment.domain_id).subquery())
    query = (select(ChangeDomain.id, ChangeDomain.slug, ChangeDomain.name, ChangeDomain.summary,
                    ChangeDomain.description, ChangeDomain.source_note, ChangeDomain.position,
                    ChangeDomain.is_active, func.coalesce(counts.c.n, 0).label("public_commitments"))
             .outerjoin(counts, counts.c.domain_id == ChangeDomain.id)
             .order_by(ChangeDomain.id))
    result = _page_rows(query, page, per_page, after, ChangeDomain.id)
    rows = result.rows
    links = Links()
    return _listing(result, per_page, [{**r, "html_url": links.domain(r["slug"])} for r in rows])


def indicators(page: int, per_page: int, after: int | None = None) -> Listing:
    counts = (select(CommitmentIndicator.indicator_id,
                     func.count(func.distinct(CommitmentIndicator.commitment_id)).label("n"))
              .where(CommitmentIndicator.commitment_id.in_(public_commitment_ids()))
              .group_by(CommitmentIndicator.indicator_id).subquery())
    query = (select(Indicator.id, Indicator.name, Indicator.definition, Indicator.unit,
                    Indicator.direction, Indicator.reference, Indicator.is_active,
                    func.coalesce(counts.c.n, 0).label("public_commitments"))
             .outerjoin(counts, counts.c.indicator_id == Indicator.id)
             .where(Indicator.organisation_id.is_(None))
             .order_by(Indicator.id))
    result = _page_rows(query, page, per_page, after, Indicator.id)
    rows = result.rows
    return _listing(result, per_page, [{**r, "direction": _value(r["direction"])} for r in rows])


# --- measurements --------------------------------------------------------------------------

def measurements(*, page: int, per_page: int, after: int | None = None,
        site: str | None = None, domain: str | None = None,
                 organisation: str | None = None, commitment: int | None = None,
                 indicator: int | None = None) -> Listing:
    site_id, domain_id = site_id_for(site), domain_id_for(domain)
    org_id = organisation_id_for(organisation)
    query = (
        select(Measurement.id, CommitmentIndicator.commitment_id,
               Measurement.commitment_indicator_id.label("attachment_id"),
               CommitmentIndicator.indicator_id, Indicator.name.label("indicator_name"),
               Indicator.unit, Indicator.organisation_id.label("indicator_owner"),
               Organisation.slug.label("organisation"), Site.slug.label("site"),
               ChangeDomain.slug.label("domain"), Measurement.period_start, Measurement.period_end,
               Measurement.value, Measurement.note)
        .join(CommitmentIndicator, CommitmentIndicator.id == Measurement.commitment_indicator_id)
        .join(Indicator, Indicator.id == CommitmentIndicator.indicator_id)
        .join(Commitment, Commitment.id == CommitmentIndicator.commitment_id)
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .join(Site, Site.id == Organisation.site_id)
        .join(ChangeDomain, ChangeDomain.id == Commitment.domain_id)
        .where(commitment_is_public())
        .order_by(Measurement.id)
    )
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    if domain_id is not None:
        query = query.where(Commitment.domain_id == domain_id)
    if org_id is not None:
        query = query.where(Commitment.organisation_id == org_id)
    if commitment is not None:
        query = query.where(CommitmentIndicator.commitment_id == commitment)
    if indicator is not None:
        query = query.where(CommitmentIndicator.indicator_id == indicator)
    result = _page_rows(query, page, per_page, after, Measurement.id)
    rows = result.rows
    data = []
    for r in rows:
        item = {k: v for k, v in r.items() if k != "indicator_owner"}
        item["in_catalogue"] = r["indicator_owner"] is None
        item["value"] = number_text(r["value"])
        item["note"] = r["note"] or ""
        data.append(item)
    return _listing(result, per_page, data)


# --- published reports ----------------------------------------------------------------------

def _reports_query() -> Select:
    return (
        select(ProgressReport.id, Organisation.slug.label("org_slug"),
               Organisation.name.label("org_name"), Site.slug.label("site"),
               ReportingCycle.id.label("cycle_id"), ReportingCycle.name.label("cycle_name"),
               ReportingCycle.period_start, ReportingCycle.period_end, ReportingCycle.due_date,
               ProgressReport.published_at.label("first_published_at"),
               ReportRevision.number, ReportRevision.published_at.label("revision_published_at"),
               ReportRevision.change_note, ReportRevision.snapshot_sha256, ReportRevision.pdf_sha256,
               ReportRevision.pdf_size)
        .join(Organisation, Organisation.id == ProgressReport.organisation_id)
        .join(Site, Site.id == Organisation.site_id)
        .join(ReportingCycle, ReportingCycle.id == ProgressReport.cycle_id)
        .join(ReportRevision, and_(ReportRevision.report_id == ProgressReport.id,
                                   ReportRevision.number == latest_revision_number()))
        .where(report_is_public())
        .order_by(ProgressReport.id)
    )


def _revision_json(report_id: int, r, links: Links, prefix: str = "") -> dict:
    number = r["number"]
    return {
        "number": number, "published_at": r[prefix + "published_at"],
        "change_note": r["change_note"] or "", "snapshot_sha256": r["snapshot_sha256"],
        "pdf_sha256": r["pdf_sha256"], "pdf_size": r["pdf_size"],
        "html_url": links.revision(report_id, number), "pdf_url": links.revision_pdf(report_id, number),
    }


def _report_json(r, links: Links) -> dict:
    return {
        "id": r["id"], "organisation": {"slug": r["org_slug"], "name": r["org_name"]},
        "site": r["site"],
        "cycle": {"id": r["cycle_id"], "name": r["cycle_name"], "period_start": r["period_start"],
                  "period_end": r["period_end"], "due_date": r["due_date"]},
        "first_published_at": r["first_published_at"],
        "latest_revision": _revision_json(r["id"], r, links, prefix="revision_"),
        "html_url": links.report(r["id"]), "pdf_url": links.report_pdf(r["id"]),
    }


def reports(*, page: int, per_page: int, after: int | None = None,
        site: str | None = None, domain: str | None = None,
            sector: str | None = None, cycle: int | None = None) -> Listing:
    site_id, domain_id = site_id_for(site), domain_id_for(domain)
    query = _reports_query()
    if site_id is not None:
        query = query.where(Organisation.site_id == site_id)
    if domain_id is not None:
        query = query.where(has_public_commitment_in(domain_id))
    if sector:
        query = query.where(Organisation.sector == sector)
    if cycle is not None:
        query = query.where(ProgressReport.cycle_id == cycle)
    result = _page_rows(query, page, per_page, after, ProgressReport.id)
    rows = result.rows
    links = Links()
    return _listing(result, per_page, [_report_json(r, links) for r in rows])


def report(report_id: int) -> dict:
    row = db.session.execute(_reports_query().where(ProgressReport.id == report_id)).mappings().first()
    if row is None:
        raise UnknownValue("report_id", str(report_id),
                           _("There is no published report %(value)s.", value=report_id))
    links = Links()
    item = _report_json(row, links)
    item["revisions"] = [
        _revision_json(report_id, r, links)
        for r in db.session.execute(
            select(ReportRevision.number, ReportRevision.published_at, ReportRevision.change_note,
                   ReportRevision.snapshot_sha256, ReportRevision.pdf_sha256, ReportRevision.pdf_size)
            .where(ReportRevision.report_id == report_id)
            .order_by(ReportRevision.number)).mappings()
    ]
    item["snapshot"] = db.session.scalar(
        select(ReportRevision.snapshot).where(ReportRevision.report_id == report_id,
                                              ReportRevision.number == row["number"])) or {}
    return item
