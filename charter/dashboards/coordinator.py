"""The site coordinator's dashboard: the read model behind /manage/sites/<slug>/dashboard and
the two lists behind its numbers (organisations, commitments).

Every figure on the dashboard is counted by the SAME SQL condition that filters the list it
links to (`step_conditions`, `reporting_status_expression`, `public_commitments_query`,
`partnerships_query`, `joint_sector_counts`), so a number and the rows behind it cannot
drift apart. Everything is aggregated in SQL (GROUP BY, COUNT, SUM over CASE) with LIMITs on
what is listed: each page runs a fixed number of queries whatever the size of the site.

Words used here:
- *approved*: the organisation's status is active (approved and taking part).
- *public commitment*: published or retired (never a draft), led by an active or withdrawn
  organisation of the site.
- *reporting status*: as charter.reports.status computes it for the current cycle
  (the earliest not yet due, else the latest), for every approved organisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Select,
    String,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    select,
)
from sqlalchemy.orm import aliased, contains_eager, joinedload

from charter import permissions
from charter.dashboards import rollups
from charter.extensions import db
from charter.models import (
    PUBLIC_ORGANISATION_STATUSES,
    RAG,
    AuditEvent,
    ChangeDomain,
    Commitment,
    CommitmentStatus,
    Completion,
    Organisation,
    OrganisationStatus,
    Partnership,
    PartnershipStatus,
    ProgressReport,
    ReportingCycle,
    ReportingStatus,
    ReportStatus,
    Sector,
    Signature,
    Site,
    Tier,
)
from charter.pagination import Page, paginate
from charter.readers import shift_days
from charter.reports import status as reporting
from charter.signing.queries import has_current_signature

# The pipeline: each step is a subset of the one before, except that "applied" counts every
# organisation that ever applied (pending and declined ones included).
STEPS = ("applied", "approved", "signed", "committed", "reported")
STEP_LABELS = {
    "applied": _l("Applied"),
    "approved": _l("Approved"),
    "signed": _l("Signed"),
    "committed": _l("Has published commitments"),
    "reported": _l("Reported this cycle"),
}
STEP_HINTS = {
    "applied": _l("Every organisation that ever applied, pending and declined ones included."),
    "approved": _l("Approved and taking part (active)."),
    "signed": _l("Of those, holding a signature that is not withdrawn."),
    "committed": _l("Of those, with at least one published commitment."),
    "reported": _l("Of those, with a published report for the current cycle."),
}

# Overdue first, then what needs someone to act, then what is done.
STATUS_ORDER = (
    ReportingStatus.OVERDUE,
    ReportingStatus.RETURNED,
    ReportingStatus.NOT_STARTED,
    ReportingStatus.DRAFT,
    ReportingStatus.SUBMITTED,
    ReportingStatus.PUBLISHED,
    ReportingStatus.EXEMPT,
)
MIN_SECTORS_CHOICES = (2, 3, 4, 5, 6)
JOINT_SECTORS = 3  # the dashboard counts joint commitments across this many sectors or more

PAGE_SIZE = 50
STATUS_PREVIEW = 20  # organisations shown in the dashboard's reporting table
MATRIX_ROWS = 40  # organisations shown in the dashboard's coverage table
ACTIVITY = 20  # audit events in "recent activity"


# --- scope: the site, its cycles and today ------------------------------------------------------

@dataclass
class Scope:
    site: Site
    cycles: list[ReportingCycle]  # oldest first
    cycle: ReportingCycle | None  # the current cycle
    today: date  # in the site's time zone


def scope_for(site: Site, now: datetime | None = None) -> Scope:
    """The site's cycles and its current cycle (one query), by the reports module's rule."""
    cycles = list(db.session.scalars(
        select(ReportingCycle).where(ReportingCycle.site_id == site.id)
        .order_by(ReportingCycle.due_date, ReportingCycle.id)
    ))
    today = reporting.site_today(site, now)
    # SiteReporting.current_cycle holds the rule; it only needs the cycles and the date.
    current = reporting.SiteReporting(site=site, cycles=cycles, organisations=[], reports={},
                                      signed_on={}, today=today).current_cycle()
    return Scope(site=site, cycles=cycles, cycle=current, today=today)


# --- the SQL conditions shared by the figures and their lists -----------------------------------

def _report_status(cycle: ReportingCycle):
    """The organisation's report status in `cycle` (NULL without a report)."""
    return (
        select(ProgressReport.status)
        .where(ProgressReport.organisation_id == Organisation.id,
               ProgressReport.cycle_id == cycle.id)
        .correlate(Organisation)
        .scalar_subquery()
    )


def reporting_status_expression(scope: Scope):
    """SQL for charter.reports.status.status_for(…) in the current cycle, for each row of
    Organisation: a ReportingStatus value, or NULL for organisations that are not approved
    (the reporting table lists approved organisations only) or when the site has no cycle.

    Mirrors owes_report (active; supporters exempt where the site says so; signed, any
    version, on or before the due date, in UTC) and status_for (published beats everything;
    exempt if not owed; overdue once the due date has passed; else the report's own status
    or not started). tests/test_dashboard_coordinator.py checks it against site_reporting.
    """
    cycle = scope.cycle
    if cycle is None:
        return null()
    report_status = _report_status(cycle)
    deadline = datetime.combine(shift_days(cycle.due_date, 1), time(0), tzinfo=UTC)
    owed = [exists().where(Signature.organisation_id == Organisation.id,
                           Signature.signed_at < deadline)]
    if scope.site.supporters_exempt:
        owed.append(Organisation.tier != Tier.SUPPORTER)
    whens = [
        (Organisation.status != OrganisationStatus.ACTIVE, null()),
        (report_status == ReportStatus.PUBLISHED, literal(ReportingStatus.PUBLISHED.value, String)),
        (not_(and_(*owed)), literal(ReportingStatus.EXEMPT.value, String)),
    ]
    if scope.today > cycle.due_date:
        return case(*whens, else_=literal(ReportingStatus.OVERDUE.value, String))
    whens.append((report_status.is_(None), literal(ReportingStatus.NOT_STARTED.value, String)))
    return case(*whens, else_=report_status)


def status_rank(expression):
    """Overdue first (see STATUS_ORDER); organisations without a status last."""
    return case({s.value: i for i, s in enumerate(STATUS_ORDER)}, value=expression,
                else_=len(STATUS_ORDER))


def step_conditions(scope: Scope) -> dict[str, list]:
    """SQL conditions on Organisation for each step of the pipeline (cumulative)."""
    approved = Organisation.status == OrganisationStatus.ACTIVE
    signed = has_current_signature()
    committed = exists().where(Commitment.organisation_id == Organisation.id,
                               Commitment.status == CommitmentStatus.PUBLISHED)
    if scope.cycle is not None:
        reported = exists().where(ProgressReport.organisation_id == Organisation.id,
                                  ProgressReport.cycle_id == scope.cycle.id,
                                  ProgressReport.status == ReportStatus.PUBLISHED)
    else:
        reported = false()
    return {
        "applied": [],
        "approved": [approved],
        "signed": [approved, signed],
        "committed": [approved, signed, committed],
        "reported": [approved, signed, committed, reported],
    }


def _with_public_commitments_in(domain_id: int):
    """SQL condition on Organisation: it leads a public commitment in the domain. An
    uncorrelated IN, computed once (a correlated EXISTS per organisation was 100 times
    slower on SQLite at 400 organisations and 8,000 commitments)."""
    return Organisation.id.in_(
        select(Commitment.organisation_id).where(Commitment.domain_id == domain_id,
                                                 Commitment.is_public))


def public_commitments_query(site_id: int) -> Select:
    """Public commitments led by public organisations of the site (Organisation joined)."""
    return (
        select(Commitment)
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(Organisation.site_id == site_id,
               Organisation.status.in_(PUBLIC_ORGANISATION_STATUSES),
               Commitment.is_public)
    )


def partnerships_query(site_id: int, lead_sector: Sector | None = None,
                       partner_sector: Sector | None = None):
    """Accepted partnerships on the site's public commitments: (Commitment, partner) rows,
    with the lead organisation joined as Organisation and the partner as `partner`."""
    partner = aliased(Organisation, name="partner")
    query = (
        public_commitments_query(site_id)
        .join(Partnership, and_(Partnership.commitment_id == Commitment.id,
                                Partnership.status == PartnershipStatus.ACCEPTED))
        .join(partner, partner.id == Partnership.organisation_id)
        .add_columns(partner)
    )
    if lead_sector is not None:
        query = query.where(Organisation.sector == lead_sector)
    if partner_sector is not None:
        query = query.where(partner.sector == partner_sector)
    return query, partner


def joint_sector_counts(site_id: int):
    """(commitment_id, sectors) for the site's public commitments with at least one accepted
    partner: the number of distinct sectors among the lead organisation and its partners."""
    partner = aliased(Organisation, name="joint_partner")
    partner_sectors = func.count(func.distinct(partner.sector))
    lead_repeated = func.max(case((partner.sector == Organisation.sector, 1), else_=0))
    return (
        select(Commitment.id.label("commitment_id"),
               (partner_sectors + 1 - lead_repeated).label("sectors"))
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .join(Partnership, and_(Partnership.commitment_id == Commitment.id,
                                Partnership.status == PartnershipStatus.ACCEPTED))
        .join(partner, partner.id == Partnership.organisation_id)
        .where(Organisation.site_id == site_id,
               Organisation.status.in_(PUBLIC_ORGANISATION_STATUSES),
               Commitment.is_public)
        .group_by(Commitment.id, Organisation.sector)
        .subquery("joint_sectors")
    )


def all_domains() -> list[ChangeDomain]:
    return list(db.session.scalars(ChangeDomain.ordered()))


def site_organisation(site: Site, slug: str) -> Organisation | None:
    """An organisation of this site by its slug (a filter in a URL), or None."""
    return db.session.scalar(select(Organisation).where(Organisation.site_id == site.id,
                                                        Organisation.slug == (slug or "").lower()))


def _require(actor, site: Site) -> None:
    permissions.require(permissions.can_view_site_dashboard(actor, site))


# --- the dashboard ---------------------------------------------------------------------------------

@dataclass
class StatusRow:
    organisation: Organisation
    status: ReportingStatus


@dataclass
class CoverageRow:
    organisation: Organisation
    counts: dict[int, int]  # domain id -> public commitments


@dataclass
class DomainProgress:
    domain: ChangeDomain | None  # None for the totals over every domain
    completion: dict[Completion, int]
    rag: dict[RAG, int]

    @property
    def total(self) -> int:
        return sum(self.completion.values())


@dataclass
class Dashboard:
    scope: Scope
    steps: list[tuple[str, int]]
    status_counts: list[tuple[ReportingStatus, int]]
    status_rows: list[StatusRow]
    approved: int
    domains: list[ChangeDomain]  # the coverage columns: active domains
    coverage_rows: list[CoverageRow]
    without: dict[int, int]  # domain id -> approved organisations with no public commitment
    progress: list[DomainProgress]  # one per domain with commitments (and every active one)
    progress_totals: DomainProgress | None
    sector_pairs: dict[tuple[Sector, Sector], int]
    lead_sectors: list[Sector]
    partner_sectors: list[Sector]
    joint_across: int  # joint commitments across JOINT_SECTORS sectors or more
    activity: list[AuditEvent] = field(default_factory=list)

    # What the page shows beside the figures: the names of the steps, the limits, the levels.
    step_labels: ClassVar[dict] = STEP_LABELS
    step_hints: ClassVar[dict] = STEP_HINTS
    status_preview: ClassVar[int] = STATUS_PREVIEW
    joint_sectors: ClassVar[int] = JOINT_SECTORS
    activity_shown: ClassVar[int] = ACTIVITY
    levels: ClassVar[dict] = {"completion": Completion, "rag": RAG}

    @property
    def site(self) -> Site:
        return self.scope.site

    @property
    def cycle(self) -> ReportingCycle | None:
        return self.scope.cycle

    @property
    def partnerships(self) -> int:
        return sum(self.sector_pairs.values())

    @property
    def commitments(self) -> int:
        return self.progress_totals.total if self.progress_totals else 0

    @property
    def is_empty(self) -> bool:
        return self.steps[0][1] == 0


def _pipeline(scope: Scope) -> list[tuple[str, int]]:
    conditions = step_conditions(scope)
    columns = []
    for step in STEPS:
        if conditions[step]:
            columns.append(func.coalesce(func.sum(case((and_(*conditions[step]), 1), else_=0)), 0))
        else:
            columns.append(func.count(Organisation.id))
    row = db.session.execute(select(*columns).where(Organisation.site_id == scope.site.id)).one()
    return [(step, int(count or 0)) for step, count in zip(STEPS, row, strict=True)]


def _approved_in(site: Site):
    return and_(Organisation.site_id == site.id, Organisation.status == OrganisationStatus.ACTIVE)


def _status_counts(scope: Scope) -> list[tuple[ReportingStatus, int]]:
    if scope.cycle is None:
        return []
    # Grouped over a subquery: PostgreSQL does not match a CASE holding bound parameters
    # in GROUP BY with the same CASE in the select list.
    statuses = (select(reporting_status_expression(scope).label("status"))
                .where(_approved_in(scope.site)).subquery())
    rows = db.session.execute(select(statuses.c.status, func.count()).group_by(statuses.c.status))
    counts = {ReportingStatus(value): count for value, count in rows if value is not None}
    return [(s, counts.get(s, 0)) for s in STATUS_ORDER]


def _status_rows(scope: Scope) -> list[StatusRow]:
    if scope.cycle is None:
        return []
    expression = reporting_status_expression(scope)
    rows = db.session.execute(
        select(Organisation, expression.label("status")).where(_approved_in(scope.site))
        .order_by(status_rank(expression), Organisation.name_key, Organisation.id)
        .limit(STATUS_PREVIEW)
    ).all()
    return [StatusRow(org, ReportingStatus(value)) for org, value in rows]


def _coverage(site: Site, domains: list[ChangeDomain],
              reader: rollups.Reader | None = None) -> tuple[list[CoverageRow], dict[int, int]]:
    """The first MATRIX_ROWS approved organisations, those covering fewest domains first, with
    their public commitments per domain (one query); and per domain the number of approved
    organisations that have none (one query)."""
    ids = [d.id for d in domains]
    joined = and_(Commitment.organisation_id == Organisation.id,
                  Commitment.is_public)
    per_domain = [func.coalesce(func.sum(case((Commitment.domain_id == i, 1), else_=0)), 0)
                  for i in ids]
    covered = func.count(func.distinct(case((Commitment.domain_id.in_(ids), Commitment.domain_id))))
    rows = db.session.execute(
        select(Organisation, *per_domain)
        .outerjoin(Commitment, joined)
        .where(_approved_in(site))
        .group_by(Organisation.id)
        .order_by(covered, Organisation.name_key, Organisation.id)
        .limit(MATRIX_ROWS)
    ).all() if ids else db.session.execute(
        select(Organisation).where(_approved_in(site))
        .order_by(Organisation.name_key, Organisation.id).limit(MATRIX_ROWS)
    ).all()
    matrix = [CoverageRow(row[0], {i: int(n or 0) for i, n in zip(ids, row[1:], strict=True)})
              for row in rows]
    # Approved organisations with a public commitment, per domain: from the rollups.
    with_some = {r["domain_id"]: r["organisations"]
                 for r in (reader or rollups.Reader([site.id])).rows("domains")}
    return matrix, with_some


def _progress(site: Site, all_of: list[ChangeDomain],
              reader: rollups.Reader | None = None) -> tuple[list[DomainProgress], DomainProgress | None]:
    """Public commitments per domain, completion level and RAG: from the rollups."""
    rows = [(r["domain_id"], r["completion"], r["rag"], r["commitments"])
            for r in (reader or rollups.Reader([site.id])).rows("progress")]
    by_domain: dict[int, DomainProgress] = {}
    totals = DomainProgress(None, dict.fromkeys(Completion, 0), dict.fromkeys(RAG, 0))
    for domain_id, completion, rag, count in rows:
        entry = by_domain.setdefault(domain_id, DomainProgress(
            None, dict.fromkeys(Completion, 0), dict.fromkeys(RAG, 0)))
        completion, rag = Completion(completion), RAG(rag)
        entry.completion[completion] += count
        entry.rag[rag] += count
        totals.completion[completion] += count
        totals.rag[rag] += count
    progress = []
    for domain in all_of:
        entry = by_domain.get(domain.id)
        if entry is None and not domain.is_active:
            continue
        entry = entry or DomainProgress(None, dict.fromkeys(Completion, 0), dict.fromkeys(RAG, 0))
        entry.domain = domain
        progress.append(entry)
    return progress, (totals if rows else None)


def _sector_pairs(site: Site) -> dict[tuple[Sector, Sector], int]:
    query, partner = partnerships_query(site.id)
    pairs = query.with_only_columns(Organisation.sector, partner.sector, func.count()).group_by(
        Organisation.sector, partner.sector)
    return {(Sector(lead), Sector(other)): count for lead, other, count in db.session.execute(pairs)}


def _joint_across(site: Site, minimum: int = JOINT_SECTORS) -> int:
    counts = joint_sector_counts(site.id)
    return db.session.scalar(select(func.count()).select_from(counts)
                             .where(counts.c.sectors >= minimum)) or 0


def _activity(site: Site) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.site_id == site.id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(ACTIVITY)
    ))


def dashboard(actor, site: Site, now: datetime | None = None) -> Dashboard:
    """Everything the coordinator dashboard shows, in a fixed number of queries."""
    _require(actor, site)
    scope = scope_for(site, now)
    steps = _pipeline(scope)
    approved = dict(steps)["approved"]
    domains = all_domains()
    active_domains = [d for d in domains if d.is_active]
    reader = rollups.Reader([site.id])
    coverage_rows, with_some = _coverage(site, active_domains, reader)
    progress, totals = _progress(site, domains, reader)
    pairs = _sector_pairs(site)
    return Dashboard(
        scope=scope,
        steps=steps,
        status_counts=_status_counts(scope),
        status_rows=_status_rows(scope),
        approved=approved,
        domains=active_domains,
        coverage_rows=coverage_rows,
        without={d.id: approved - with_some.get(d.id, 0) for d in active_domains},
        progress=progress,
        progress_totals=totals,
        sector_pairs=pairs,
        lead_sectors=[s for s in Sector if any(lead == s for lead, _p in pairs)],
        partner_sectors=[s for s in Sector if any(p == s for _lead, p in pairs)],
        joint_across=_joint_across(site),
        activity=_activity(site),
    )


# --- the list of organisations behind the numbers ---------------------------------------------

@dataclass
class OrganisationFilters:
    step: str | None = None
    status: ReportingStatus | None = None
    sector: Sector | None = None
    tier: Tier | None = None
    domain: ChangeDomain | None = None
    coverage: str | None = None  # "none" or "some", with a domain

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.step, self.status, self.sector, self.tier,
                                           self.domain))


@dataclass
class OrganisationRow:
    organisation: Organisation
    status: ReportingStatus | None
    signed: bool
    public_commitments: int


@dataclass
class OrganisationList:
    scope: Scope
    filters: OrganisationFilters
    page: Page  # items are OrganisationRow


def organisations_query(scope: Scope, filters: OrganisationFilters) -> Select:
    """The site's organisations matching `filters`, with their reporting status, whether they
    hold a current signature and their number of public commitments; overdue first."""
    status = reporting_status_expression(scope)
    public_count = (
        select(func.count(Commitment.id))
        .where(Commitment.organisation_id == Organisation.id,
               Commitment.is_public)
        .correlate(Organisation).scalar_subquery()
    )
    query = select(Organisation, status.label("reporting_status"),
                   has_current_signature().label("signed"), public_count.label("public_count")
                   ).where(Organisation.site_id == scope.site.id)
    if filters.step is not None:
        query = query.where(*step_conditions(scope)[filters.step])
    if filters.status is not None:
        query = query.where(status == filters.status.value) if scope.cycle else query.where(false())
    if filters.sector is not None:
        query = query.where(Organisation.sector == filters.sector)
    if filters.tier is not None:
        query = query.where(Organisation.tier == filters.tier)
    if filters.domain is not None:
        has_some = _with_public_commitments_in(filters.domain.id)
        query = query.where(not_(has_some) if filters.coverage == "none" else has_some)
    return query.order_by(status_rank(status), Organisation.name_key, Organisation.id)


def organisation_list(actor, site: Site, filters: OrganisationFilters, page: int = 1,
                      now: datetime | None = None) -> OrganisationList:
    """One page of the organisations behind a dashboard number (two queries and the scope)."""
    _require(actor, site)
    scope = scope_for(site, now)
    result = paginate(organisations_query(scope, filters), page, PAGE_SIZE, scalars=False)
    result.items = [OrganisationRow(org, ReportingStatus(st) if st else None, bool(signed),
                                    int(count or 0))
                    for org, st, signed, count in result.items]
    return OrganisationList(scope=scope, filters=filters, page=result)


# --- the list of commitments behind the numbers -----------------------------------------------

@dataclass
class CommitmentFilters:
    domain: ChangeDomain | None = None
    completion: Completion | None = None
    rag: RAG | None = None
    organisation: Organisation | None = None
    lead_sector: Sector | None = None
    partner_sector: Sector | None = None
    min_sectors: int | None = None

    @property
    def by_partnership(self) -> bool:
        """A sector filter lists accepted partnerships (one row each), as the dashboard's
        sector-pair table counts them."""
        return self.lead_sector is not None or self.partner_sector is not None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.domain, self.completion, self.rag,
                                           self.organisation, self.lead_sector,
                                           self.partner_sector, self.min_sectors))


@dataclass
class CommitmentRow:
    commitment: Commitment
    partner: Organisation | None = None


@dataclass
class CommitmentList:
    site: Site
    filters: CommitmentFilters
    page: Page  # items are CommitmentRow


def commitments_query(site: Site, filters: CommitmentFilters) -> Select:
    if filters.by_partnership:
        query, partner = partnerships_query(site.id, filters.lead_sector, filters.partner_sector)
        order = (Organisation.name_key, Commitment.title, Commitment.id, partner.name_key,
                 partner.id)
    else:
        query = public_commitments_query(site.id)
        order = (Organisation.name_key, Commitment.title, Commitment.id)
    if filters.domain is not None:
        query = query.where(Commitment.domain_id == filters.domain.id)
    if filters.completion is not None:
        query = query.where(Commitment.completion == filters.completion)
    if filters.rag is not None:
        query = query.where(Commitment.rag == filters.rag)
    if filters.organisation is not None:
        query = query.where(Commitment.organisation_id == filters.organisation.id)
    if filters.min_sectors is not None:
        counts = joint_sector_counts(site.id)
        query = query.where(Commitment.id.in_(
            select(counts.c.commitment_id).where(counts.c.sectors >= filters.min_sectors)))
    return query.options(contains_eager(Commitment.organisation),
                         joinedload(Commitment.domain)).order_by(*order)


def commitment_list(actor, site: Site, filters: CommitmentFilters, page: int = 1) -> CommitmentList:
    """One page of the commitments (or, by sector, partnerships) behind a dashboard number."""
    _require(actor, site)
    result = paginate(commitments_query(site, filters), page, PAGE_SIZE, scalars=False)
    result.items = [CommitmentRow(row[0], row[1] if len(row) > 1 else None) for row in result.items]
    return CommitmentList(site=site, filters=filters, page=result)

