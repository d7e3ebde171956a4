"""The bulk download: every public record as UTF-8 CSV files in one ZIP, with a README and a
data dictionary (every file, every column, its type and meaning).

The ZIP is written as a stream of chunks: each CSV is one column-only query read in batches
(`yield_per`, a server-side cursor on PostgreSQL), so only the compressed ZIP is held in
memory, not the rows. All files come from one read-only transaction (REPEATABLE READ on
PostgreSQL), so they agree with each other even while people are editing. The route keeps
the finished ZIP in the document cache (charter/documents.py) and rebuilds it when the data
change, at most every DOCUMENT_CACHE_MIN_AGE seconds.

The files and columns are declared once, below: the CSV headers, the data dictionary, the
README and the /open-data page all come from these declarations. The commitment's own fields
in commitments.csv are those declared in charter.commitments.fields.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from charter import tabular
from charter.api.links import Links
from charter.api.queries import (
    commitment_is_public,
    current_signature_exists,
    latest_revision_number,
    organisation_is_public,
    public_commitment_ids,
    report_is_public,
)
from charter.commitments.fields import COMMITMENT_FIELDS
from charter.extensions import db
from charter.models import (
    PUBLIC_ORGANISATION_STATUSES,
    ChangeDomain,
    CharterStatus,
    CharterVersion,
    Commitment,
    CommitmentIndicator,
    Direction,
    Indicator,
    Measurement,
    Milestone,
    Organisation,
    Partnership,
    PartnershipStatus,
    ProgressReport,
    ReportingCycle,
    ReportRevision,
    Sector,
    Signature,
    SignatureWithdrawal,
    Site,
    Tier,
)
from charter.tabular import Column

ZIP_NAME = "promise-charter-open-data.zip"
BATCH = 2000  # rows read from the database at a time

TYPES = {
    "integer": _l("A whole number."),
    "decimal": _l("A decimal number with a dot (e.g. 12.5), possibly negative."),
    "text": _l("Text. Text that a spreadsheet could read as a formula (starting with =, +, -, @, a "
               "tab or a carriage return) has an apostrophe (') put in front."),
               "code": _l("One of a fixed list of values, given in the column's description."),
    "date": _l("A date, YYYY-MM-DD."),
    "datetime": _l("A date and time in UTC, ISO 8601 (YYYY-MM-DDTHH:MM:SS+00:00)."),
    "boolean": _l("true or false."),
    "url": _l("An absolute web address."),
}


def _text(value: Any) -> str | None:
    return None if value is None else tabular.neutralise(str(value))


def _code(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _decimal(value: Any) -> str | None:
    return None if value is None else tabular.decimal_text(Decimal(value))


def _boolean(value: Any) -> str | None:
    return None if value is None else ("true" if value else "false")


# Integers, dates (str() is ISO 8601) and URLs go to the csv module as they are; None is "".
FORMATTERS: dict[str, Callable[[Any], Any] | None] = {
    "integer": None, "date": None, "url": None, "text": _text, "code": _code,
    "datetime": _datetime, "decimal": _decimal, "boolean": _boolean,
}


def _column(name: str, type_: str, description: Any, codes: tuple[str, ...] = ()) -> Column:
    """A column of the download: its name (the header), the type of its values (see TYPES)
    and what it means."""
    return Column(name, description, type=type_, codes=codes)


def _codes(values: Iterable) -> tuple[str, ...]:
    return tuple(v.value if isinstance(v, Enum) else str(v) for v in values)


@dataclass(frozen=True)
class CsvFile:
    name: str
    description: Any  # a (lazily) translated string
    columns: tuple[Column, ...]
    rows: Callable[[Connection, Links], Iterable[Sequence[Any]]] | None = None

    @property
    def header(self) -> list[str]:
        return [c.header for c in self.columns]


def _of_public_commitments(query: Select, commitment_id) -> Select:
    """Only rows whose commitment is public (a join: SQLite plans IN (subquery) badly here)."""
    lead = aliased(Organisation, name="lead")
    return (query.join(Commitment, Commitment.id == commitment_id)
            .join(lead, lead.id == Commitment.organisation_id)
            .where(Commitment.is_public, organisation_is_public(lead)))


def _stream(conn: Connection, query: Select) -> Iterator[Sequence[Any]]:
    yield from conn.execute(query.execution_options(yield_per=BATCH))


# --- what each file holds -------------------------------------------------------------------

def _sites(conn, links):
    for r in _stream(conn, select(Site.id, Site.slug, Site.name, Site.country, Site.timezone,
                                  Site.locale, Site.contact_email, Site.description).order_by(Site.id)):
        yield (*r, links.site(r.slug))


def _organisations(conn, links):
    signed_version = (
        select(func.max(CharterVersion.number)).select_from(Signature)
        .join(CharterVersion, CharterVersion.id == Signature.charter_version_id)
        .where(Signature.organisation_id == Organisation.id,
               ~exists().where(SignatureWithdrawal.signature_id == Signature.id))
        .scalar_subquery())
    query = (select(Organisation.id, Organisation.slug, Organisation.name, Site.slug, Organisation.sector,
                    Organisation.tier, Organisation.status, Organisation.website, Organisation.description,
                    current_signature_exists(), signed_version)
             .join(Site, Site.id == Organisation.site_id)
             .where(organisation_is_public()).order_by(Organisation.id))
    for r in _stream(conn, query):
        yield (*r, links.organisation(r[1]))


def _signatures(conn, links):
    query = (select(Signature.id, Organisation.slug, Site.slug, CharterVersion.number, CharterVersion.title,
                    Signature.signer_name, Signature.signer_job_title, Signature.authority_statement,
                    Signature.co_signatory_name, Signature.co_signatory_role, Signature.signed_at,
                    Signature.text_sha256, Signature.verification_code, SignatureWithdrawal.id.is_not(None),
                    SignatureWithdrawal.withdrawn_at, SignatureWithdrawal.reason)
             .join(Organisation, Organisation.id == Signature.organisation_id)
             .join(Site, Site.id == Organisation.site_id)
             .join(CharterVersion, CharterVersion.id == Signature.charter_version_id)
             .outerjoin(SignatureWithdrawal, SignatureWithdrawal.signature_id == Signature.id)
             .where(organisation_is_public(), CharterVersion.status != CharterStatus.DRAFT)
             .order_by(Signature.id))
    for r in _stream(conn, query):
        yield (*r, links.signature(r[0]))


def _domains(conn, links):
    query = select(ChangeDomain.id, ChangeDomain.slug, ChangeDomain.name, ChangeDomain.summary,
                   ChangeDomain.description, ChangeDomain.source_note, ChangeDomain.position,
                   ChangeDomain.is_active).order_by(ChangeDomain.id)
    for r in _stream(conn, query):
        yield (*r, links.domain(r.slug))


def _commitments(conn, links):
    query = (select(Commitment.id, Organisation.slug, Site.slug, ChangeDomain.slug,
                    *(f.selected() for f in COMMITMENT_FIELDS))
             .join(Organisation, Organisation.id == Commitment.organisation_id)
             .join(Site, Site.id == Organisation.site_id)
             .join(ChangeDomain, ChangeDomain.id == Commitment.domain_id)
             .where(commitment_is_public()).order_by(Commitment.id))
    for r in _stream(conn, query):
        yield (*r, links.commitment(r[0]))


def _partners(conn, links):
    query = (select(Partnership.commitment_id, Organisation.slug, Site.slug, Organisation.sector,
                    Partnership.role_note, Partnership.responded_at)
             .join(Organisation, Organisation.id == Partnership.organisation_id)
             .join(Site, Site.id == Organisation.site_id)
             .where(Partnership.status == PartnershipStatus.ACCEPTED, organisation_is_public())
             .order_by(Partnership.commitment_id, Partnership.id))
    return _stream(conn, _of_public_commitments(query, Partnership.commitment_id))


def _milestones(conn, links):
    query = (select(Milestone.commitment_id, Milestone.position, Milestone.title, Milestone.due_date,
                    Milestone.done_date)
             .order_by(Milestone.commitment_id, Milestone.position, Milestone.id))
    return _stream(conn, _of_public_commitments(query, Milestone.commitment_id))


def _indicators(conn, links):
    used = select(CommitmentIndicator.indicator_id).where(
        CommitmentIndicator.commitment_id.in_(public_commitment_ids()))
    owner = Organisation
    query = (select(Indicator.id, Indicator.name, Indicator.definition, Indicator.unit, Indicator.direction,
                    Indicator.reference, Indicator.is_active, Indicator.organisation_id.is_(None), owner.slug)
             .outerjoin(owner, and_(owner.id == Indicator.organisation_id, organisation_is_public(owner)))
             .where(or_(Indicator.organisation_id.is_(None), Indicator.id.in_(used)))
             .order_by(Indicator.id))
    return _stream(conn, query)


def _attachments(conn, links):
    query = (select(CommitmentIndicator.id, CommitmentIndicator.commitment_id,
                    CommitmentIndicator.indicator_id, CommitmentIndicator.baseline_value,
                    CommitmentIndicator.baseline_date, CommitmentIndicator.target_value,
                    CommitmentIndicator.target_date)
             .order_by(CommitmentIndicator.id))
    return _stream(conn, _of_public_commitments(query, CommitmentIndicator.commitment_id))


def _measurements(conn, links):
    query = (select(Measurement.id, Measurement.commitment_indicator_id, CommitmentIndicator.commitment_id,
                    CommitmentIndicator.indicator_id, Measurement.period_start, Measurement.period_end,
                    Measurement.value, Measurement.note)
             .join(CommitmentIndicator, CommitmentIndicator.id == Measurement.commitment_indicator_id)
             .join(Commitment, Commitment.id == CommitmentIndicator.commitment_id)
             .join(Organisation, Organisation.id == Commitment.organisation_id)
             .where(commitment_is_public())
             .order_by(Measurement.id))
    return _stream(conn, query)


def _cycles(conn, links):
    query = (select(ReportingCycle.id, Site.slug, ReportingCycle.name, ReportingCycle.period_start,
                    ReportingCycle.period_end, ReportingCycle.due_date)
             .join(Site, Site.id == ReportingCycle.site_id).order_by(ReportingCycle.id))
    return _stream(conn, query)


def _reports(conn, links):
    query = (select(ProgressReport.id, Organisation.slug, Site.slug, ProgressReport.cycle_id,
                    ReportingCycle.name, ProgressReport.published_at, latest_revision_number())
             .join(Organisation, Organisation.id == ProgressReport.organisation_id)
             .join(Site, Site.id == Organisation.site_id)
             .join(ReportingCycle, ReportingCycle.id == ProgressReport.cycle_id)
             .where(report_is_public(), latest_revision_number().is_not(None))
             .order_by(ProgressReport.id))
    for r in _stream(conn, query):
        yield (*r, links.report(r[0]), links.report_pdf(r[0]))


def _revisions(conn, links):
    query = (select(ReportRevision.report_id, ReportRevision.number, ReportRevision.published_at,
                    ReportRevision.change_note, ReportRevision.snapshot_sha256, ReportRevision.pdf_sha256,
                    ReportRevision.pdf_size)
             .join(ProgressReport, ProgressReport.id == ReportRevision.report_id)
             .join(Organisation, Organisation.id == ProgressReport.organisation_id)
             .where(report_is_public())
             .order_by(ReportRevision.report_id, ReportRevision.number))
    for r in _stream(conn, query):
        yield (*r, links.revision(r[0], r[1]), links.revision_pdf(r[0], r[1]))


C = _column
ORG_SLUG = _l("Slug of the organisation (see organisations.csv).")
SITE_SLUG = _l("Slug of the PROMISE site (see sites.csv).")
COMMITMENT_ID = _l("The commitment (id in commitments.csv).")

DICTIONARY = CsvFile(
    "data-dictionary.csv",
    _l("This data dictionary: every file of the download and every column of each, with its type and "
       "meaning."),
    (C("file", "text", _l("Name of the file in the ZIP.")),
     C("file_description", "text", _l("What the file holds.")),
     C("column", "text", _l("Name of the column, as in the file's first (header) row.")),
     C("type", "code", _l("Type of the column's values."), codes=_codes(TYPES)),
     C("description", "text", _l("What the column means."))),
)

FILES: tuple[CsvFile, ...] = (
    CsvFile("sites.csv", _l("The PROMISE sites: the localities with their own charter, coordinators and "
                            "reporting cycles."), (
        C("id", "integer", _l("Site id.")),
        C("slug", "text", _l("The site's slug, its stable identifier in addresses and in other files.")),
        C("name", "text", _l("The site's name.")),
        C("country", "text", _l("The site's country.")),
        C("timezone", "text", _l("IANA time zone the site shows times in (times in these files are UTC).")),
        C("locale", "text", _l("The site's main language, as a locale code.")),
        C("contact_email", "text", _l("The site's public contact address, if it gives one.")),
        C("description", "text", _l("About the site (Markdown).")),
        C("html_url", "url", _l("The site's public page.")),
    ), _sites),
    CsvFile("organisations.csv", _l("Public organisations: those approved to take part (active) or "
                                    "that withdrew. Organisations awaiting approval or declined are "
                                    "not included."), (
        C("id", "integer", _l("Organisation id.")),
        C("slug", "text", _l("The organisation's slug, its stable identifier.")),
        C("name", "text", _l("The organisation's name.")),
        C("site", "text", SITE_SLUG),
        C("sector", "code", _l("The organisation's sector."), codes=_codes(Sector)),
        C("tier", "code", _l("signatory (reports every cycle) or supporter (backs the charter without "
                             "full reporting duty)."), codes=_codes(Tier)),
        C("status", "code", _l("Whether it takes part or withdrew."),
          codes=_codes(PUBLIC_ORGANISATION_STATUSES)),
        C("website", "url", _l("The organisation's website, if given.")),
        C("description", "text", _l("About the organisation.")),
        C("is_signatory", "boolean", _l("Whether it holds a signature that is not withdrawn.")),
        C("signed_version", "integer", _l("Number of the latest charter version it signed and has not "
                                          "withdrawn; empty if none.")),
        C("html_url", "url", _l("The organisation's public profile.")),
    ), _organisations),
    CsvFile("signatures.csv", _l("Every signature of a charter version by a public organisation, withdrawn "
                                 "ones included."), (
        C("id", "integer", _l("Signature id.")),
        C("organisation", "text", ORG_SLUG),
        C("site", "text", SITE_SLUG),
        C("charter_version", "integer", _l("Number of the site's charter version signed.")),
        C("charter_title", "text", _l("Title of that charter version.")),
        C("signer_name", "text", _l("Full name of the person who signed, as typed.")),
        C("signer_job_title", "text", _l("Their job title.")),
        C("authority_statement", "text", _l("The statement of authority they confirmed.")),
        C("co_signatory_name", "text", _l("Co-signatory with lived experience, if any.")),
        C("co_signatory_role", "text", _l("The co-signatory's role, if any.")),
        C("signed_at", "datetime", _l("When it was signed.")),
        C("text_sha256", "text", _l("SHA-256 of the charter text signed.")),
        C("verification_code", "text", _l("Code anyone can check at /verify/<code>.")),
        C("withdrawn", "boolean", _l("Whether the signature has been withdrawn.")),
        C("withdrawn_at", "datetime", _l("When it was withdrawn; empty if it was not.")),
        C("withdrawal_reason", "text", _l("Why it was withdrawn; empty if it was not.")),
        C("html_url", "url", _l("The signature's public page.")),
    ), _signatures),
    CsvFile("change_domains.csv", _l("The change domains that commitments are recorded against (global "
                                     "to every site), retired ones included."), (
        C("id", "integer", _l("Change domain id.")),
        C("slug", "text", _l("The domain's slug, its stable identifier.")),
        C("name", "text", _l("The domain's name.")),
        C("summary", "text", _l("A line about the domain.")),
        C("description", "text", _l("The domain in full (Markdown).")),
        C("source_note", "text", _l("Where the domain comes from in the PROMISE change agenda.")),
        C("position", "integer", _l("Its place in the list of domains.")),
        C("is_active", "boolean", _l("false once retired (no new commitments are recorded against it).")),
        C("html_url", "url", _l("The domain's public page.")),
    ), _domains),
    CsvFile("commitments.csv", _l("Public commitments: published or retired commitments of public "
                                  "organisations. Drafts are never included."), (
        C("id", "integer", _l("Commitment id.")),
        C("organisation", "text", _l("Slug of the lead organisation (see organisations.csv).")),
        C("site", "text", _l("Slug of the lead organisation's site.")),
        C("domain", "text", _l("Slug of the change domain (see change_domains.csv).")),
        *(C(f.name, f.type, f.description, codes=f.codes) for f in COMMITMENT_FIELDS),
        C("html_url", "url", _l("The commitment's public page.")),
    ), _commitments),
    CsvFile("commitment_partners.csv", _l("Partners of public commitments: other public organisations "
                                          "that accepted to share a commitment (one row per commitment "
                                          "and partner)."), (
        C("commitment_id", "integer", COMMITMENT_ID),
        C("organisation", "text", _l("Slug of the partner organisation (see organisations.csv).")),
        C("site", "text", _l("Slug of the partner's site.")),
        C("sector", "code", _l("The partner's sector."), codes=_codes(Sector)),
        C("role_note", "text", _l("What the partner does in the commitment (may be empty).")),
        C("accepted_at", "datetime", _l("When the partner accepted.")),
    ), _partners),
    CsvFile("milestones.csv", _l("Milestones of public commitments."), (
        C("commitment_id", "integer", COMMITMENT_ID),
        C("position", "integer", _l("Order of the milestone within its commitment.")),
        C("title", "text", _l("The milestone.")),
        C("due_date", "date", _l("When it is due, if set.")),
        C("done_date", "date", _l("When it was done; empty if not yet.")),
    ), _milestones),
    CsvFile("indicators.csv", _l("Indicators: the global catalogue, and the indicators organisations "
                                 "defined for their public commitments."), (
        C("id", "integer", _l("Indicator id.")),
        C("name", "text", _l("Indicator name.")),
        C("definition", "text", _l("How it is defined and counted.")),
        C("unit", "text", _l("Unit of its values.")),
        C("direction", "code", _l("Which way is better."), codes=_codes(Direction)),
        C("reference", "text", _l("Reference such as a national data set item (e.g. MHS96).")),
        C("is_active", "boolean", _l("false once retired.")),
        C("in_catalogue", "boolean", _l("true for the global catalogue; false for an organisation's own.")),
        C("organisation", "text", _l("For an organisation's own indicator, its slug; empty for the "
                                     "catalogue.")),
    ), _indicators),
    CsvFile("commitment_indicators.csv", _l("Indicators attached to public commitments, with baseline "
                                            "and target."), (
        C("id", "integer", _l("Id of the attachment (measurements.csv refers to it).")),
        C("commitment_id", "integer", COMMITMENT_ID),
        C("indicator_id", "integer", _l("The indicator (id in indicators.csv).")),
        C("baseline_value", "decimal", _l("Baseline value, if set.")),
        C("baseline_date", "date", _l("Date of the baseline, if set.")),
        C("target_value", "decimal", _l("Target value, if set.")),
        C("target_date", "date", _l("Date the target should be met by, if set.")),
    ), _attachments),
    CsvFile("measurements.csv", _l("Values of the indicators attached to public commitments, one row per "
                                   "period."), (
        C("id", "integer", _l("Measurement id.")),
        C("commitment_indicator_id", "integer", _l("The attachment (id in commitment_indicators.csv).")),
        C("commitment_id", "integer", COMMITMENT_ID),
        C("indicator_id", "integer", _l("The indicator (id in indicators.csv).")),
        C("period_start", "date", _l("First day of the period measured.")),
        C("period_end", "date", _l("Last day of the period measured.")),
        C("value", "decimal", _l("The value for the period, in the indicator's unit.")),
        C("note", "text", _l("A note on the value (may be empty).")),
    ), _measurements),
    CsvFile("reporting_cycles.csv", _l("The sites' reporting cycles: each active signatory owes one "
                                       "progress report per cycle."), (
        C("id", "integer", _l("Reporting cycle id.")),
        C("site", "text", SITE_SLUG),
        C("name", "text", _l("The cycle's name, e.g. 2026 Q1.")),
        C("period_start", "date", _l("First day of the period reported on.")),
        C("period_end", "date", _l("Last day of the period reported on.")),
        C("due_date", "date", _l("When reports are due.")),
    ), _cycles),
    CsvFile("reports.csv", _l("Published progress reports (drafts, submissions and review comments are "
                              "never included)."), (
        C("id", "integer", _l("Report id.")),
        C("organisation", "text", ORG_SLUG),
        C("site", "text", SITE_SLUG),
        C("cycle_id", "integer", _l("The reporting cycle (id in reporting_cycles.csv).")),
        C("cycle_name", "text", _l("The reporting cycle's name.")),
        C("first_published_at", "datetime", _l("When the report was first published.")),
        C("latest_revision", "integer", _l("Number of its latest revision (1 unless corrected).")),
        C("html_url", "url", _l("The report's public page.")),
        C("pdf_url", "url", _l("The stored PDF of its latest revision.")),
    ), _reports),
    CsvFile("report_revisions.csv", _l("Every published revision of the published reports: the first "
                                       "publication and each correction."), (
        C("report_id", "integer", _l("The report (id in reports.csv).")),
        C("number", "integer", _l("Revision number (1 is the first publication).")),
        C("published_at", "datetime", _l("When this revision was published.")),
        C("change_note", "text", _l("What a correction changed (empty for the first publication).")),
        C("snapshot_sha256", "text", _l("SHA-256 of the revision's snapshot (canonical JSON).")),
        C("pdf_sha256", "text", _l("SHA-256 of the revision's stored PDF.")),
        C("pdf_size", "integer", _l("Size of the stored PDF in bytes.")),
        C("html_url", "url", _l("This revision's public page.")),
        C("pdf_url", "url", _l("This revision's stored PDF.")),
    ), _revisions),
)


def dictionary_rows() -> Iterator[tuple[str, ...]]:
    for f in (DICTIONARY, *FILES):
        for c in f.columns:
            yield (f.name, str(f.description), c.header, c.type, c.meaning)


def readme(generated: datetime) -> str:
    base = current_app.config["SITE_URL"]
    lines = [
        "# " + _("PROMISE Charter: open data"),
        "",
        _("Generated %(time)s from %(site)s.", time=generated.isoformat(timespec="seconds"), site=base),
        "",
        _("Public data only: organisations that are active or withdrew, their signatures, published "
          "and retired commitments (never drafts), accepted partnerships, indicators and measurements "
          "of public commitments, and published progress reports."),
        "",
        _("Every file is UTF-8 CSV with a header row. Times are UTC. Text that a spreadsheet could "
          "read as a formula starts with an apostrophe ('). data-dictionary.csv describes every "
          "column of every file."),
        "",
        _("The same data is served as JSON at %(api)s (OpenAPI document: %(spec)s).",
          api=f"{base}/api/v1", spec=f"{base}/api/v1/openapi.json"),
        "",
        "## " + _("Files"),
        "",
    ]
    lines += [f"- {f.name}: {f.description}" for f in (DICTIONARY, *FILES)]
    return "\n".join(lines) + "\n"


# --- writing the ZIP as it streams ------------------------------------------------------------

class _Sink(io.RawIOBase):
    """A write-only, unseekable file that collects what zipfile writes until it is taken."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _entry(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_csv(zf: zipfile.ZipFile, sink: _Sink, spec: CsvFile, rows: Iterable[Sequence[Any]],
               when: datetime, *, formatted: bool = False) -> Iterator[bytes]:
    with zf.open(_entry(spec.name, when), "w") as raw, \
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        writer = tabular.csv_writer(text)
        writer.writerow(spec.header)
        width = len(spec.columns)
        formatters = [] if formatted else [
            (i, FORMATTERS[c.type]) for i, c in enumerate(spec.columns)
            if FORMATTERS[c.type] is not None]
        for i, record in enumerate(rows, 1):
            if len(record) != width:
                raise ValueError(f"{spec.name}: a row of {len(record)} values for {width} columns")
            row = list(record)
            for index, fmt in formatters:
                row[index] = fmt(row[index])
            writer.writerow(row)
            if i % BATCH == 0:
                text.flush()
                chunk = sink.take()
                if chunk:
                    yield chunk
    yield sink.take()


def _read_only(conn: Connection) -> Connection:
    if conn.dialect.name == "postgresql":
        # One snapshot for every file, and a promise to the database that nothing is written.
        return conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    return conn


def stream_zip() -> Iterator[bytes]:
    """The bulk download, chunk by chunk."""
    links = Links()
    now = datetime.now(UTC)
    sink = _Sink()
    with db.engine.connect() as connection:
        conn = _read_only(connection)
        with conn.begin(), zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_entry("README.md", now), readme(now))
            yield from _write_csv(zf, sink, DICTIONARY, dictionary_rows(), now, formatted=True)
            for spec in FILES:
                yield from _write_csv(zf, sink, spec, spec.rows(conn, links), now)
    yield sink.take()
