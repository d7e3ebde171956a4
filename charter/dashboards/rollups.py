"""Rollups: the cross-site figures computed once per change, not once per request.

PROMISE Global, the site dashboards (charter.dashboards.metrics), the coordinator dashboard's
domain figures and the domain counts read the summary tables of charter/models/rollups.py:

    compute(site_ids)   the figures of those sites (all when None), from the source tables,
                        as plain values: {table name: [row dicts]}. A handful of aggregated
                        queries (the ones the views used to run per request).
    refresh(site_ids)   compute, then rewrite those sites' rows in one short transaction,
                        then `charter.cache.invalidate()` (cached pages are keyed by the
                        data version of the write, which came before the refresh).
    Reader(site_ids)    what the views read: the stored rows, except for a site never
                        computed or changed in the current (uncommitted) transaction, which
                        is computed on the fly, so a view never shows stale or missing zeros.

When they are refreshed: a flush that writes a commitment, an attached indicator, a
measurement, an organisation, a signature (or its withdrawal), a report, a cycle, a site, a
domain or an indicator notes what it touched (`_collect`); once per transaction, the task
`refresh_rollups` is sent after the commit (tasks.enqueue_after_commit) with those
references, and resolves them to the sites to refresh. The worker also refreshes every site
every ten minutes (`refresh_all_rollups`), a safety net; `flask charter rollups` rebuilds
them by hand.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import case, delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session

from charter.extensions import db
from charter.models import (
    ChangeDomain,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Indicator,
    Measurement,
    Organisation,
    OrganisationStatus,
    ProgressReport,
    ReportingCycle,
    RollupCycle,
    RollupDomain,
    RollupExample,
    RollupIndicator,
    RollupOrganisations,
    RollupProgress,
    RollupSite,
    Signature,
    SignatureWithdrawal,
    Site,
)
from charter.models.base import utcnow
from charter.readers import LATEST_DATE
from charter.signing.queries import has_current_signature

EXAMPLES = 3  # example commitments kept per site and domain (metrics.EXAMPLES)
COMPLETION_ORDER = (Completion.COMPLETED, Completion.SUBSTANTIAL, Completion.LIMITED,
                    Completion.NOT_STARTED, Completion.WITHDRAWN)
TABLES = {
    "domains": RollupDomain, "progress": RollupProgress, "organisations": RollupOrganisations,
    "cycles": RollupCycle, "indicators": RollupIndicator, "examples": RollupExample,
}
_REFS = "charter.rollups.refs"
_SEND = "charter.rollups.send"
logger = logging.getLogger(__name__)


def _public():
    return (Organisation.status.in_((OrganisationStatus.ACTIVE, OrganisationStatus.WITHDRAWN)),
            Commitment.is_public)


def _in_sites(column, site_ids):
    return column.in_(list(site_ids)) if site_ids is not None else True


# --- computing ---------------------------------------------------------------------------------

def _domains(site_ids) -> list[dict]:
    rows = db.session.execute(
        select(
            Organisation.site_id, Commitment.domain_id, func.count(Commitment.id),
            func.coalesce(func.sum(case((Commitment.status == CommitmentStatus.PUBLISHED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Commitment.status == CommitmentStatus.RETIRED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Commitment.completion == Completion.COMPLETED, 1), else_=0)), 0),
            func.count(func.distinct(case((Organisation.status == OrganisationStatus.ACTIVE,
                                           Organisation.id)))),
        )
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(*_public(), _in_sites(Organisation.site_id, site_ids))
        .group_by(Organisation.site_id, Commitment.domain_id)
    ).all()
    return [{"site_id": s, "domain_id": d, "commitments": n, "published": int(p), "retired": int(r),
             "completed": int(c), "organisations": o} for s, d, n, p, r, c, o in rows]


def _progress(site_ids) -> list[dict]:
    rows = db.session.execute(
        select(Organisation.site_id, Commitment.domain_id, Commitment.completion, Commitment.rag,
               func.count(Commitment.id))
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(*_public(), _in_sites(Organisation.site_id, site_ids))
        .group_by(Organisation.site_id, Commitment.domain_id, Commitment.completion, Commitment.rag)
    ).all()
    return [{"site_id": s, "domain_id": d, "completion": getattr(c, "value", c),
             "rag": getattr(r, "value", r), "commitments": n} for s, d, c, r, n in rows]


def _organisations(site_ids) -> list[dict]:
    rows = db.session.execute(
        select(Organisation.site_id, Organisation.sector, Organisation.tier, func.count(),
               func.coalesce(func.sum(case((has_current_signature(), 1), else_=0)), 0))
        .where(Organisation.status == OrganisationStatus.ACTIVE,
               _in_sites(Organisation.site_id, site_ids))
        .group_by(Organisation.site_id, Organisation.sector, Organisation.tier)
    ).all()
    return [{"site_id": s, "sector": getattr(sector, "value", sector), "tier": getattr(t, "value", t),
             "active": n, "signed": int(signed)} for s, sector, t, n, signed in rows]


def _cycles(site_ids) -> list[dict]:
    from charter.dashboards.metrics import _compliance_counts

    sites = {s.id: s for s in db.session.scalars(select(Site).where(_in_sites(Site.id, site_ids)))}
    cycles = list(db.session.scalars(select(ReportingCycle).where(
        ReportingCycle.site_id.in_(list(sites)))))
    counts = {}
    for start in range(0, len(cycles), 200):  # a CASE per cycle: keep statements small
        counts.update(_compliance_counts(cycles[start:start + 200], sites))
    out = []
    for cycle in cycles:
        owed, published, on_time = counts.get(cycle.id, (0, 0, 0))
        out.append({"cycle_id": cycle.id, "site_id": cycle.site_id, "owed": owed,
                    "published": published, "on_time": on_time})
    return out


def _indicators(site_ids) -> list[dict]:
    from charter.dashboards.metrics import quarter_index, rounded

    quarter = quarter_index(Measurement.period_end)
    per_org = (
        select(
            CommitmentIndicator.indicator_id.label("indicator_id"),
            Organisation.site_id.label("site_id"),
            quarter.label("quarter"),
            func.avg(Measurement.value).label("value"),
        )
        .select_from(Measurement)
        .join(CommitmentIndicator, CommitmentIndicator.id == Measurement.commitment_indicator_id)
        .join(Commitment, Commitment.id == CommitmentIndicator.commitment_id)
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .join(Indicator, Indicator.id == CommitmentIndicator.indicator_id)
        .where(Indicator.organisation_id.is_(None), *_public(),
               # Periods stored past 2200 (before dates were read the one way) are left out.
               Measurement.period_end <= LATEST_DATE, _in_sites(Organisation.site_id, site_ids))
        .group_by(CommitmentIndicator.indicator_id, Organisation.site_id, Organisation.id, quarter)
        .subquery()
    )
    rows = db.session.execute(
        select(per_org.c.site_id, per_org.c.indicator_id, per_org.c.quarter,
               func.avg(per_org.c.value), func.count())
        .group_by(per_org.c.site_id, per_org.c.indicator_id, per_org.c.quarter)
    ).all()
    return [{"site_id": s, "indicator_id": i, "quarter": q, "value": rounded(v), "organisations": n}
            for s, i, q, v, n in rows]


def _examples(site_ids) -> list[dict]:
    completion_rank = case({c: i for i, c in enumerate(COMPLETION_ORDER)},
                           value=Commitment.completion, else_=len(COMPLETION_ORDER))
    status_rank = case((Commitment.status == CommitmentStatus.PUBLISHED, 0), else_=1)
    ranked = (
        select(
            Organisation.site_id.label("site_id"), Commitment.domain_id.label("domain_id"),
            Commitment.id.label("commitment_id"),
            func.row_number().over(
                partition_by=(Organisation.site_id, Commitment.domain_id),
                order_by=(status_rank, completion_rank, Commitment.updated_at.desc(),
                          Commitment.id.desc()),
            ).label("rank"),
        )
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(*_public(), _in_sites(Organisation.site_id, site_ids))
        .subquery()
    )
    rows = db.session.execute(select(ranked).where(ranked.c.rank <= EXAMPLES)).all()
    return [{"site_id": r.site_id, "domain_id": r.domain_id, "rank": r.rank,
             "commitment_id": r.commitment_id} for r in rows]


def compute(site_id: int | Iterable[int] | None = None) -> dict[str, list[dict]]:
    """The rollups of one site, of several, or of all (None), from the source tables."""
    site_ids = None if site_id is None else ([site_id] if isinstance(site_id, int) else list(site_id))
    if site_ids is not None and not site_ids:
        return {name: [] for name in TABLES}
    return {"domains": _domains(site_ids), "progress": _progress(site_ids),
            "organisations": _organisations(site_ids), "cycles": _cycles(site_ids),
            "indicators": _indicators(site_ids), "examples": _examples(site_ids)}


# --- storing -----------------------------------------------------------------------------------

def refresh(site_ids: Iterable[int] | None = None) -> None:
    """Recompute and rewrite the rollups of these sites (all when None), commit, and
    invalidate the page cache. The sites' rows are locked first (PostgreSQL), so two
    refreshes of one site run one after the other and the later one writes the later data."""
    from charter import cache

    session = db.session
    wanted = select(Site.id).order_by(Site.id)
    if site_ids is not None:
        wanted = wanted.where(Site.id.in_(sorted(set(site_ids))))
    ids = list(session.scalars(wanted.with_for_update()))
    values = compute(ids) if ids else {name: [] for name in TABLES}
    everything = site_ids is None
    for model in (*TABLES.values(), RollupSite):
        statement = delete(model)
        if not everything:
            statement = statement.where(model.site_id.in_(ids))
        session.execute(statement)
    for name, model in TABLES.items():
        if values[name]:
            session.execute(insert(model), values[name])
    if ids:
        now = utcnow()
        session.execute(insert(RollupSite), [{"site_id": i, "computed_at": now} for i in ids])
    session.commit()
    cache.invalidate()


def version(site_id: int | None = None) -> str | None:
    """When the rollups (of one site, or the newest of any) were last refreshed: part of the
    fingerprint of the documents built from them (the Global and site PDFs), since a refresh
    commits after the write that asked for it and records no audit event of its own."""
    query = select(func.max(RollupSite.computed_at))
    if site_id is not None:
        query = query.where(RollupSite.site_id == site_id)
    newest = db.session.scalar(query)
    return newest.isoformat() if newest is not None else None


def refresh_for(refs: dict) -> None:
    """Refresh the sites that the references a transaction collected (`_collect`) point to."""
    sites = resolve(refs)
    if sites is None or sites:
        refresh(sites)


def resolve(refs: dict) -> set[int] | None:
    """The site ids behind collected references (None: every site)."""
    if refs.get("all"):
        return None
    sites = set(refs.get("sites", ()))
    organisations = set(refs.get("organisations", ()))
    commitments = set(refs.get("commitments", ()))
    if refs.get("commitment_indicators"):
        commitments |= set(db.session.scalars(select(CommitmentIndicator.commitment_id).where(
            CommitmentIndicator.id.in_(list(refs["commitment_indicators"])))))
    if refs.get("signatures"):
        organisations |= set(db.session.scalars(select(Signature.organisation_id).where(
            Signature.id.in_(list(refs["signatures"])))))
    if refs.get("cycles"):
        sites |= set(db.session.scalars(select(ReportingCycle.site_id).where(
            ReportingCycle.id.in_(list(refs["cycles"])))))
    if commitments:
        organisations |= set(db.session.scalars(select(Commitment.organisation_id).where(
            Commitment.id.in_(list(commitments)))))
    if organisations:
        sites |= set(db.session.scalars(select(Organisation.site_id).where(
            Organisation.id.in_(list(organisations)))))
    return sites


# --- what changed: collected at each flush ------------------------------------------------------

def _old_and_new(obj, attribute: str) -> set:
    """The attribute's value now and, if the flush changed it, before."""
    history = inspect(obj).attrs[attribute].history
    values = {*history.added, *history.unchanged, *history.deleted}
    if not values:
        values = {getattr(obj, attribute, None)}
    return {v for v in values if v is not None}


def _note(refs: dict, obj, deleted: bool) -> None:
    if isinstance(obj, Site):
        refs["sites"].add(obj.id)
    elif isinstance(obj, Organisation):
        refs["sites"] |= _old_and_new(obj, "site_id")
    elif isinstance(obj, Commitment | ProgressReport | Signature):
        refs["organisations"] |= _old_and_new(obj, "organisation_id")
    elif isinstance(obj, CommitmentIndicator):
        refs["commitments"] |= _old_and_new(obj, "commitment_id")
    elif isinstance(obj, Measurement):
        refs["commitment_indicators"] |= _old_and_new(obj, "commitment_indicator_id")
    elif isinstance(obj, SignatureWithdrawal):
        refs["signatures"] |= _old_and_new(obj, "signature_id")
    elif isinstance(obj, ReportingCycle):
        refs["sites"] |= _old_and_new(obj, "site_id")
    elif isinstance(obj, ChangeDomain | Indicator) and (deleted or inspect(obj).persistent):
        # A new domain or indicator holds nothing yet; an edited one may change every site.
        refs["all"] = True


def _empty_refs() -> dict:
    return {"all": False, "sites": set(), "organisations": set(), "commitments": set(),
            "commitment_indicators": set(), "signatures": set(), "cycles": set()}


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    """Note what the flush wrote that the rollups read; the first time in a transaction,
    ask for one refresh after the commit (it reads the references as they are then)."""
    watched = [(obj, False) for obj in (*session.new, *session.dirty)
               if isinstance(obj, _WATCHED) and (obj in session.new or session.is_modified(obj))]
    watched += [(obj, True) for obj in session.deleted if isinstance(obj, _WATCHED)]
    if not watched:
        return
    refs = session.info.get(_REFS)
    if refs is None:
        refs = session.info[_REFS] = _empty_refs()
        session.info[_SEND] = refs
    for obj, deleted in watched:
        _note(refs, obj, deleted)


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    """Ask for the refresh of what the committed transaction changed (straight to the
    queue: the publishing tasks' bookkeeping in charter.tasks.send is not for this one)."""
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    session.info.pop(_REFS, None)
    refs = session.info.pop(_SEND, None)
    if refs is None:
        return
    from charter import tasks

    try:
        tasks.queue().enqueue(tasks.refresh_rollups.s(refs))
    except Exception:  # the queue is down: the periodic refresh catches up
        logger.exception("the rollups refresh could not be queued")


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint rolled back: the transaction goes on
        return
    session.info.pop(_REFS, None)
    session.info.pop(_SEND, None)


_WATCHED = (Site, Organisation, Commitment, CommitmentIndicator, Measurement, Signature,
            SignatureWithdrawal, ProgressReport, ReportingCycle, ChangeDomain, Indicator)


# --- reading -----------------------------------------------------------------------------------

class Reader:
    """The rollups of some sites (all when None) as the views read them: the stored rows,
    and for a site never computed, or changed in this session's uncommitted transaction,
    rows computed now (so a view never shows stale figures or wrong zeros)."""

    def __init__(self, site_ids: Iterable[int] | None = None):
        self.site_ids = None if site_ids is None else list(site_ids)
        self._live: set[int] | None = None
        self._computed: dict[str, list[dict]] | None = None

    def known(self) -> bool:
        """Whether `live()` is known without a query."""
        return self._live is not None or db.session().info.get(_REFS) is not None

    def learn(self, computed: dict[int, bool]) -> None:
        """What another query found: {site id: computed or not} (all the reader's sites)."""
        self._live = {site_id for site_id, done in computed.items() if not done}

    def live(self) -> set[int]:
        """The sites computed on the fly (at most one query, on rollup_site)."""
        if self._live is None:
            if self.site_ids is not None and len(self.site_ids) == 1:
                only = self.site_ids[0]
                stored = {only: db.session.get(RollupSite, only) is not None}
            else:
                query = select(Site.id, RollupSite.site_id).outerjoin(
                    RollupSite, RollupSite.site_id == Site.id)
                if self.site_ids is not None:
                    query = query.where(Site.id.in_(self.site_ids))
                stored = {site_id: computed is not None for site_id, computed in db.session.execute(query)}
            live = {site_id for site_id, computed in stored.items() if not computed}
            pending = db.session().info.get(_REFS)
            if pending is not None:  # this transaction changed some inputs: read them
                changed = resolve(pending)
                live |= set(stored) if changed is None else changed & set(stored)
            self._live = live
        return self._live

    def rows(self, name: str, since_quarter: int | None = None) -> list[dict]:
        """The rows of one rollup table for the sites (indicators: from `since_quarter`)."""
        model = TABLES[name]
        live = self.live()
        if live and self._computed is None:
            self._computed = compute(sorted(live))
        query = select(*model.__table__.columns)
        if self.site_ids is not None:
            query = query.where(model.site_id.in_(self.site_ids))
        if live:
            query = query.where(model.site_id.not_in(sorted(live)))
        if since_quarter is not None:
            query = query.where(RollupIndicator.quarter >= since_quarter)
        out = [dict(row) for row in db.session.execute(query).mappings()]
        if live:
            out += [r for r in self._computed[name]
                    if since_quarter is None or r["quarter"] >= since_quarter]
        return out


def by_site(rows: list[dict]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        out[row["site_id"]].append(row)
    return out


def domain_counts() -> dict[int, tuple[int, int, int]]:
    """{domain id: (published, completed, retired)} across all sites, for the domain pages."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in Reader().rows("domains"):
        entry = totals[row["domain_id"]]
        entry[0] += row["published"]
        entry[1] += row["completed"]
        entry[2] += row["retired"]
    return {k: tuple(v) for k, v in totals.items()}


