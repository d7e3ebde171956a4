"""Exports of a site's data (coordinators) or of every site (admins), as CSV or XLSX.

Five datasets: organisations, signatures, commitments, measurements and report statuses.
Rows are read as plain columns (no ORM objects) with `yield_per`, so 40,000 commitments or
200,000 measurements stream out in seconds: CSV is written as it is read, and the XLSX data
sheet is streamed into a workbook openpyxl builds (charter.tabular writes both).

Coordinators get their own site's private fields too (drafts, pending organisations, the
leads' email addresses, decision reasons): they see them on their pages anyway. Nothing
from another site, and never a password hash or anything of the user accounts but the
leads' addresses.

CSV is UTF-8 with a byte order mark (so Excel reads accents right); XLSX has a bold, frozen
header row, real dates and times (UTC, without a zone: Excel has none) and an About sheet.
Text a spreadsheet program would run as a formula (starting =, +, -, @, tab or CR) gets a
leading ' in both formats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import Select, and_, func, select, true
from sqlalchemy.orm import aliased

from charter import permissions, tabular
from charter.commitments.fields import COMMITMENT_FIELDS
from charter.extensions import db
from charter.models import (
    PUBLIC_COMMITMENT_STATUSES,
    ChangeDomain,
    CharterVersion,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Indicator,
    Measurement,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Partnership,
    PartnershipStatus,
    ProgressReport,
    ReportingCycle,
    Signature,
    SignatureWithdrawal,
    Site,
    User,
)
from charter.reports import status as reporting
from charter.signing.queries import has_current_signature

FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = tabular.XLSX_MIMETYPE
CSV_MIMETYPE = tabular.CSV_MIMETYPE
BATCH = 2_000  # rows fetched at a time


@dataclass(frozen=True)
class Dataset:
    name: str
    title: Any
    description: Any
    columns: tuple[tabular.Column, ...]
    rows: Callable[[list[int] | None], Iterable[tuple]]


# --- plain values ------------------------------------------------------------------------------

def _labels() -> Callable[[Any], str | None]:
    """Enum labels in the request's language, translated once per export, not once a cell
    (keyed by the enum class too: several enums share values such as "returned")."""
    cache: dict[tuple[type, Any], str] = {}

    def label(value) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Enum):
            return str(value)
        key = (type(value), value)
        if key not in cache:
            cache[key] = str(value.label)
        return cache[key]

    return label


def _stream(query: Select) -> Iterator:
    return db.session.execute(query.execution_options(yield_per=BATCH))


def _sites_where(column, site_ids: list[int] | None):
    return column.in_(site_ids) if site_ids is not None else true()


# --- the datasets --------------------------------------------------------------------------------

def _organisation_rows(site_ids: list[int] | None) -> Iterator[tuple]:
    label = _labels()
    leads = (select(func.aggregate_strings(User.email, "; "))
             .join(Membership, Membership.user_id == User.id)
             .where(Membership.organisation_id == Organisation.id,
                    Membership.role == MemberRole.LEAD)
             .correlate(Organisation).scalar_subquery())

    def commitments(*statuses):
        return (select(func.count(Commitment.id))
                .where(Commitment.organisation_id == Organisation.id, Commitment.status.in_(statuses))
                .correlate(Organisation).scalar_subquery())

    query = (
        select(Site.name, Organisation.id, Organisation.name, Organisation.slug, Organisation.sector,
               Organisation.tier, Organisation.status, Organisation.website, Organisation.created_at,
               Organisation.decided_at, Organisation.decision_reason, has_current_signature(),
               leads, commitments(*PUBLIC_COMMITMENT_STATUSES),
               commitments(CommitmentStatus.DRAFT))
        .join(Site, Site.id == Organisation.site_id)
        .where(_sites_where(Organisation.site_id, site_ids))
        .order_by(Site.name, Organisation.name_key, Organisation.id)
    )
    for (site, oid, name, slug, sector, tier, status, website, created, decided, reason, signed,
         lead_emails, public, drafts) in _stream(query):
        yield (site, oid, name, slug, label(sector), label(tier), label(status), website, created,
               decided, reason, tabular.yes_no(signed), lead_emails, public, drafts)


def _signature_rows(site_ids: list[int] | None) -> Iterator[tuple]:
    query = (
        select(Site.name, Organisation.name, Organisation.slug, CharterVersion.number,
               Signature.signed_at, Signature.signer_name, Signature.signer_job_title,
               Signature.co_signatory_name, Signature.co_signatory_role, Signature.verification_code,
               Signature.text_sha256, SignatureWithdrawal.withdrawn_at, SignatureWithdrawal.reason)
        .join(Organisation, Organisation.id == Signature.organisation_id)
        .join(Site, Site.id == Organisation.site_id)
        .join(CharterVersion, CharterVersion.id == Signature.charter_version_id)
        .outerjoin(SignatureWithdrawal, SignatureWithdrawal.signature_id == Signature.id)
        .where(_sites_where(Organisation.site_id, site_ids))
        .order_by(Site.name, Organisation.name_key, Signature.signed_at, Signature.id)
    )
    yield from (tuple(row) for row in _stream(query))


# The declared fields of a commitment (charter.commitments.fields), long text after the
# partner count, behind the site, the id, the organisation, its slug and the domain.
_SHORT_FIELDS = tuple(f for f in COMMITMENT_FIELDS if not f.long_text)
_LONG_FIELDS = tuple(f for f in COMMITMENT_FIELDS if f.long_text)
_CODED = tuple(5 + i for i, f in enumerate((*_SHORT_FIELDS, None, *_LONG_FIELDS))
               if f is not None and f.type == "code")


def _commitment_rows(site_ids: list[int] | None) -> Iterator[tuple]:
    label = _labels()
    partners = (select(func.count(Partnership.id))
                .where(Partnership.commitment_id == Commitment.id,
                       Partnership.status == PartnershipStatus.ACCEPTED)
                .correlate(Commitment).scalar_subquery())
    query = (
        select(Site.name, Commitment.id, Organisation.name, Organisation.slug, ChangeDomain.slug,
               *(f.selected() for f in _SHORT_FIELDS), partners,
               *(f.selected() for f in _LONG_FIELDS))
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .join(Site, Site.id == Organisation.site_id)
        .join(ChangeDomain, ChangeDomain.id == Commitment.domain_id)
        .where(_sites_where(Organisation.site_id, site_ids))
        .order_by(Site.name, Organisation.name_key, Commitment.id)
    )
    for row in _stream(query):
        row = list(row)
        for i in _CODED:
            row[i] = label(row[i])
        yield tuple(row)


def _measurement_rows(site_ids: list[int] | None) -> Iterator[tuple]:
    label = _labels()
    query = (
        select(Site.name, Organisation.name, Organisation.slug, Commitment.id, Commitment.title,
               Commitment.status, Indicator.name, Indicator.unit, Indicator.organisation_id.is_(None),
               Indicator.reference, Measurement.period_start, Measurement.period_end, Measurement.value,
               Measurement.note, Measurement.created_at)
        .join(CommitmentIndicator, CommitmentIndicator.id == Measurement.commitment_indicator_id)
        .join(Indicator, Indicator.id == CommitmentIndicator.indicator_id)
        .join(Commitment, Commitment.id == CommitmentIndicator.commitment_id)
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .join(Site, Site.id == Organisation.site_id)
        .where(_sites_where(Organisation.site_id, site_ids))
        .order_by(Site.name, Organisation.name_key, Commitment.id, Indicator.name,
                  Measurement.period_start, Measurement.id)
    )
    for (site, org, slug, cid, title, status, indicator, unit, catalogue, reference, start, end,
         value, note, recorded) in _stream(query):
        yield (site, org, slug, cid, title, label(status), indicator, unit, tabular.yes_no(catalogue),
               reference, start, end, value, note, recorded)


def _report_status_rows(site_ids: list[int] | None) -> Iterator[tuple]:
    """Every approved organisation in every cycle of its site, with the reporting status that
    charter.reports.status gives it (its rules applied to the plain values read here)."""
    label = _labels()
    sites_query = select(Site).order_by(Site.name)
    if site_ids is not None:
        sites_query = sites_query.where(Site.id.in_(site_ids))
    sites = {s.id: s for s in db.session.scalars(sites_query)}
    today = {site_id: reporting.site_today(site) for site_id, site in sites.items()}
    first_signed = (select(Signature.organisation_id.label("organisation_id"),
                           func.min(Signature.signed_at).label("signed_at"))
                    .group_by(Signature.organisation_id).subquery("first_signed"))
    report = aliased(ProgressReport)
    query = (
        select(Site.id, Site.name, ReportingCycle.name, ReportingCycle.period_start,
               ReportingCycle.period_end, ReportingCycle.due_date, Organisation.name,
               Organisation.slug, Organisation.sector, Organisation.tier, Organisation.status,
               first_signed.c.signed_at, report.id, report.status, report.submitted_at,
               report.published_at)
        .select_from(ReportingCycle)
        .join(Site, Site.id == ReportingCycle.site_id)
        .join(Organisation, and_(Organisation.site_id == ReportingCycle.site_id,
                                 Organisation.status == OrganisationStatus.ACTIVE))
        .outerjoin(first_signed, first_signed.c.organisation_id == Organisation.id)
        .outerjoin(report, and_(report.organisation_id == Organisation.id,
                                report.cycle_id == ReportingCycle.id))
        .where(_sites_where(ReportingCycle.site_id, site_ids))
        .order_by(Site.name, ReportingCycle.due_date, ReportingCycle.id, Organisation.name_key,
                  Organisation.id)
    )
    for (site_id, site_name, cycle, start, end, due, org, slug, sector, tier, org_status, signed_at,
         report_id, report_status, submitted, published) in _stream(query):
        site = sites[site_id]
        signed_on = signed_at.date() if signed_at is not None else None
        owed = reporting.owes_report(SimpleNamespace(status=org_status, tier=tier),
                                     SimpleNamespace(due_date=due), site, signed_on)
        facts = reporting.ReportFacts(report_id, report_status) if report_id is not None else None
        status = reporting.status_for(facts, SimpleNamespace(due_date=due), today[site_id], owed)
        yield (site_name, cycle, start, end, due, org, slug, label(sector), label(tier),
               status.label, label(report_status), report_id, submitted, published)


C = tabular.Column
DATASETS: dict[str, Dataset] = {
    d.name: d for d in (
        Dataset(
            "organisations", _l("Organisations"),
            _l("Every organisation of the site, whatever its status (pending and declined ones "
               "included), with its signature and its number of commitments."),
            (C("Site", _l("The site."), 16),
             C("Organisation ID", _l("The organisation's number."), 10),
             C("Name", _l("The organisation's name."), 40),
             C("Slug", _l("Its short name, as in its web address."), 24),
             C("Sector", _l("Its sector."), 18),
             C("Tier", _l("Signatory or supporter."), 12),
             C("Status", _l("Pending approval, active, declined or withdrawn."), 16),
             C("Website", _l("Its website."), 30),
             C("Applied at (UTC)", _l("When it applied or was invited."), 18),
             C("Decided at (UTC)", _l("When its application was approved or declined."), 18),
             C("Decision reason", _l("The reason given when it was declined (private)."), 30),
             C("Current signatory", _l("Yes when it holds a signature that is not withdrawn."), 10),
             C("Lead emails", _l("Email addresses of its leads (private)."), 36),
             C("Public commitments", _l("Published and retired commitments."), 12),
             C("Draft commitments", _l("Commitments still in draft (private)."), 12)),
            _organisation_rows),
        Dataset(
            "signatures", _l("Signatures"),
            _l("Every signature of the site's charter versions, withdrawn ones included, with "
               "the withdrawal."),
            (C("Site", _l("The site."), 16),
             C("Organisation", _l("The organisation that signed."), 40),
             C("Organisation slug", _l("Its short name."), 24),
             C("Charter version", _l("The number of the version signed."), 10),
             C("Signed at (UTC)", _l("When it was signed."), 18),
             C("Signer name", _l("The name the signer typed."), 24),
             C("Signer job title", _l("The signer's job title."), 24),
             C("Co-signatory name", _l("The co-signatory with lived experience, if any."), 24),
             C("Co-signatory role", _l("Their role."), 24),
             C("Verification code", _l("The code that verifies the signature at /verify."), 20),
             C("Text SHA-256", _l("The fingerprint of the charter text that was signed."), 20),
             C("Withdrawn at (UTC)", _l("When the signature was withdrawn, if it was."), 18),
             C("Withdrawal reason", _l("Why it was withdrawn."), 30)),
            _signature_rows),
        Dataset(
            "commitments", _l("Commitments"),
            _l("Every commitment led by an organisation of the site: drafts, published and "
               "retired ones."),
            (C("Site", _l("The site."), 16),
             C("Commitment ID", _l("The commitment's number (its page is /commitments/<ID>)."), 10),
             C("Organisation", _l("The lead organisation."), 40),
             C("Organisation slug", _l("Its short name."), 24),
             C("Change domain", _l("The change domain, by its short name."), 24),
             *(f.export for f in _SHORT_FIELDS),
             C("Accepted partners", _l("Organisations that accepted to share it."), 10),
             *(f.export for f in _LONG_FIELDS)),
            _commitment_rows),
        Dataset(
            "measurements", _l("Measurements"),
            _l("Every value recorded for an indicator attached to a commitment of the site."),
            (C("Site", _l("The site."), 16),
             C("Organisation", _l("The lead organisation of the commitment."), 40),
             C("Organisation slug", _l("Its short name."), 24),
             C("Commitment ID", _l("The commitment's number."), 10),
             C("Commitment title", _l("The commitment."), 40),
             C("Commitment status", _l("Draft, published or retired."), 12),
             C("Indicator", _l("The indicator's name."), 40),
             C("Unit", _l("Its unit."), 16),
             C("Catalogue indicator", _l("Yes for an indicator of the global catalogue."), 10),
             C("Reference", _l("The catalogue's reference, such as MHS96."), 24),
             C("Period start", _l("The first day the value covers."), 12),
             C("Period end", _l("The last day the value covers."), 12),
             C("Value", _l("The value."), 12),
             C("Note", _l("A note on the value."), 40),
             C("Recorded at (UTC)", _l("When the value was recorded."), 18)),
            _measurement_rows),
        Dataset(
            "report_statuses", _l("Report statuses"),
            _l("The reporting status of every approved organisation in every cycle of the site, "
               "as the reporting page shows it today."),
            (C("Site", _l("The site."), 16),
             C("Cycle", _l("The reporting cycle."), 14),
             C("Period start", _l("The first day of the cycle's period."), 12),
             C("Period end", _l("The last day of the period."), 12),
             C("Due date", _l("When the report is due."), 12),
             C("Organisation", _l("The organisation."), 40),
             C("Organisation slug", _l("Its short name."), 24),
             C("Sector", _l("Its sector."), 18),
             C("Tier", _l("Signatory or supporter."), 12),
             C("Reporting status", _l("Not started, draft, submitted, returned, published, "
                                      "overdue or exempt."), 14),
             C("Report status", _l("The report's own state, if it has one."), 14),
             C("Report ID", _l("The report's number (its page is /reports/<ID>)."), 10),
             C("Submitted at (UTC)", _l("When it was last submitted."), 18),
             C("Published at (UTC)", _l("When it was first published."), 18)),
            _report_status_rows),
    )
}


# --- permission and choice -----------------------------------------------------------------------

class UnknownExport(LookupError):  # noqa: N818 - reads better where it is raised
    """No such dataset or format (the route answers 404)."""


def _dataset(name: str, fmt: str) -> Dataset:
    if name not in DATASETS or fmt not in FORMATS:
        raise UnknownExport(name)
    return DATASETS[name]


def _scope(actor, site: Site | None) -> list[int] | None:
    """The sites whose rows the actor gets: the one site, or every site (None) for admins."""
    if site is None:
        permissions.require(permissions.can_export_all_sites(actor),
                            _("Only administrators can download the data of every site."))
        return None
    permissions.require(permissions.can_export_site(actor, site),
                        _("Only the site's coordinators can download its data."))
    return [site.id]


def filename(site: Site | None, name: str, fmt: str, today: date | None = None) -> str:
    prefix = site.slug if site is not None else "all-sites"
    return f"{prefix}-{name}-{(today or date.today()).isoformat()}.{fmt}"


# --- writing ----------------------------------------------------------------------------------------

def export_csv(actor, site: Site | None, name: str) -> Iterator[bytes]:
    """The dataset as CSV, in chunks (permission checked before the first row is read)."""
    dataset = _dataset(name, "csv")
    site_ids = _scope(actor, site)
    return tabular.csv_chunks(dataset.columns, dataset.rows(site_ids))


def export_xlsx(actor, site: Site | None, name: str) -> bytes:
    """The dataset as a workbook: the data sheet (bold frozen header, real dates) and About."""
    dataset = _dataset(name, "xlsx")
    site_ids = _scope(actor, site)
    return tabular.large_workbook(str(dataset.title)[:31] or dataset.name, dataset.columns,
                                  dataset.rows(site_ids),
                                  lambda workbook, bold: _about(workbook, dataset, site, bold))


def _about(workbook, dataset: Dataset, site: Site | None, bold: Font) -> None:
    about = workbook.create_sheet("About")
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 90
    value = tabular.xlsx_value
    title_cell = WriteOnlyCell(about, value=str(dataset.title))
    title_cell.font = bold
    about.append([title_cell, value(str(dataset.description))])
    about.append(["Site", value(site.name if site is not None else _("Every site"))])
    about.append(["Exported at (UTC)", tabular.utc(datetime.now(UTC))])
    about.append([])
    for column in dataset.columns:
        about.append([value(column.header), value(str(column.description))])
    about.append([])
    about.append(["", value(_("Times are in UTC. Text that begins with =, +, -, @, a tab or a "
                              "carriage return is shown with a ' in front, so that spreadsheet "
                              "programs do not run it as a formula."))])
