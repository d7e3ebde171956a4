"""The public dashboards' figures: the site view (/sites/<slug>) and PROMISE Global (/global).

Everything here is public data only (see `public_organisation` and `public_commitment`):
organisations that are active or withdrawn, commitments that are published or retired,
published reports, catalogue indicators attached to public commitments. Drafts, pending or
declined organisations, report drafts and every private field stay out, by the queries'
own conditions rather than by filtering afterwards.

The counts come from the rollups (charter/dashboards/rollups.py: summary tables that the
task queue refreshes after each write), so each view runs a fixed number of small queries
whatever the data size. Both return plain values, so the HTML pages and the PDFs
(charter.pdf.render_pdf refuses anything else) read the same figures and the same charts.

Reporting compliance follows charter.reports.status: an organisation owes a report for a
cycle when it is active, is not a supporter of a site that exempts supporters, and first
signed (any version, as a UTC date) on or before the cycle's due date; it published when its
report for the cycle is published. "By the due date" means first published before the end of
the due date in the site's time zone. A cycle is past once its due date has passed there.

Indicators read only the last INDICATOR_QUARTERS quarters (two years) of measurements, so
their cost does not grow with the years of history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import Integer, and_, case, cast, exists, extract, func, or_, select, true
from sqlalchemy import literal as sql_literal

from charter import charts
from charter.dashboards import rollups
from charter.extensions import db
from charter.formatting import zone
from charter.models import (
    PUBLIC_ORGANISATION_STATUSES,
    ChangeDomain,
    Commitment,
    CommitmentStatus,  # noqa: F401  (part of this module's surface: callers read it here)
    Completion,
    Indicator,
    Organisation,
    OrganisationStatus,
    ProgressReport,
    ReportingCycle,
    ReportStatus,
    RollupCycle,
    RollupIndicator,
    RollupProgress,
    RollupSite,
    Sector,
    Signature,
    Site,
    Tier,
)
from charter.models.base import UTCDateTime, utcnow
from charter.readers import shift_days
from charter.reports.queries import published_reports_query
from charter.reports.status import site_today

RECENT_CYCLES = 8       # past cycles shown per site
AVERAGE_OF = 4          # PROMISE Global's average compliance: the last four past cycles
INDICATOR_QUARTERS = 8  # indicators: the last eight quarters (two years) up to today's
LATEST_REPORTS = 10
EXAMPLES = 3            # example commitments from the strongest site in a domain
COMPLETION_ORDER = (Completion.COMPLETED, Completion.SUBSTANTIAL, Completion.LIMITED,
                    Completion.NOT_STARTED, Completion.WITHDRAWN)


def public_organisation():
    """SQL condition on Organisation: shown publicly (active or withdrawn)."""
    return Organisation.status.in_(PUBLIC_ORGANISATION_STATUSES)


def public_commitment():
    """SQL condition on Commitment: published or retired (never a draft)."""
    return Commitment.is_public


# --- numbers ---------------------------------------------------------------------------------

def percent(part: int, whole: int) -> int | None:
    """A whole-number percentage, rounded half up; None when there is nothing to divide."""
    if not whole:
        return None
    return int((Decimal(100) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rounded(value, places: int = 2) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def mean(values) -> int | None:
    """The mean of whole percentages, rounded half up (None when there is none)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return int((Decimal(sum(present)) / len(present)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quarter_label(year: int, quarter: int) -> str:
    return _("%(year)d Q%(quarter)d", year=year, quarter=quarter)


def quarter_index(column):
    """SQL: the quarter a date falls in, as one integer (year × 4 + quarter − 1), on SQLite
    and PostgreSQL alike."""
    return cast(extract("year", column), Integer) * 4 + (cast(extract("month", column), Integer) - 1) // 3


def quarter_of(index: int) -> tuple[int, int]:
    return index // 4, index % 4 + 1


def quarter_window(today: date) -> date:
    """The first day of the oldest quarter the indicators look at (INDICATOR_QUARTERS
    quarters up to today's): older history is never read, so the cost stays bounded."""
    year, quarter = quarter_of(today.year * 4 + (today.month - 1) // 3 - (INDICATOR_QUARTERS - 1))
    return date(year, (quarter - 1) * 3 + 1, 1)


# --- charts as plain values --------------------------------------------------------------------

def plain_chart(chart: charts.Chart) -> dict:
    """A chart as plain values for templates and PDFs (the keys the chart macro reads)."""
    return {
        "url": chart.url, "svg": chart.inline, "alt": chart.alt, "columns": list(chart.columns),
        "rows": [list(row) for row in chart.rows], "width": chart.width, "height": chart.height,
        "notes": list(chart.notes), "empty": chart.empty,
    }


def with_columns(chart: charts.Chart, headers, cells_per_row) -> charts.Chart:
    """The chart with more columns in its data table (e.g. how many organisations stand
    behind each value); the picture is unchanged."""
    rows = tuple((*row, *extra) for row, extra in zip(chart.rows, cells_per_row, strict=True))
    return replace(chart, columns=(*chart.columns, *headers), rows=rows)


# --- building blocks shared by both views -------------------------------------------------------

def _domains() -> list[ChangeDomain]:
    return list(db.session.scalars(ChangeDomain.ordered()))


def _end_of_day_utc(day: date, tz_name: str | None) -> datetime:
    """The first instant after `day` in the given time zone, in UTC."""
    try:
        return datetime.combine(shift_days(day, 1), time(0), tzinfo=zone(tz_name)).astimezone(UTC)
    except OverflowError:  # a due date stored at the very end of the calendar
        return datetime.combine(shift_days(day, 1), time(0), tzinfo=UTC)


def _past_cycles(sites: list[Site], now: datetime | None,
                 reader: rollups.Reader | None = None) -> dict[int, list[ReportingCycle]]:
    """The sites' cycles whose due date has passed where the site is: the last
    RECENT_CYCLES of each, oldest first. One query. With a `reader`, also their rolled-up
    counts: ({site id: cycles}, {cycle id: (owed, published, on time)})."""
    by_id = {s.id: s for s in sites}
    out: dict[int, list[ReportingCycle]] = {s.id: [] for s in sites}
    if not sites:
        return out if reader is None else (out, {})
    today = {s.id: site_today(s, now) for s in sites}
    query = (
        select(ReportingCycle)
        .where(ReportingCycle.site_id.in_(list(by_id)), ReportingCycle.due_date < max(today.values()))
        .order_by(ReportingCycle.due_date, ReportingCycle.id)
    )
    if reader is None:
        rows = [(cycle, None) for cycle in db.session.scalars(query)]
    else:
        live = reader.live()
        rows = db.session.execute(query.add_columns(
            RollupCycle.owed, RollupCycle.published, RollupCycle.on_time,
        ).outerjoin(RollupCycle, RollupCycle.cycle_id == ReportingCycle.id)).all()
        computed = ({r["cycle_id"]: (r["owed"], r["published"], r["on_time"])
                     for r in reader.rows("cycles")} if live else {})
        rows = [(cycle, computed.get(cycle.id, (0, 0, 0)) if cycle.site_id in live
                 else (owed or 0, published or 0, on_time or 0))
                for cycle, owed, published, on_time in rows]
    counted = {}
    for cycle, counts in rows:
        if cycle.due_date < today[cycle.site_id]:
            counted[cycle.id] = counts
            out[cycle.site_id].append(cycle)
    out = {site_id: cycles[-RECENT_CYCLES:] for site_id, cycles in out.items()}
    return out if reader is None else (out, counted)


def _compliance_counts(cycles: list[ReportingCycle], sites: dict[int, Site]) -> dict[int, tuple]:
    """{cycle id: (owed, published, published by the due date)} for the given cycles, in one
    aggregated query (the rules of charter.reports.status, expressed in SQL)."""
    if not cycles:
        return {}
    # Each cycle's two deadlines, as literal instants: the end of its due date in UTC (when
    # the organisation must have first signed by) and in the site's time zone (on time).
    signed_by = case(
        {c.id: sql_literal(_end_of_day_utc(c.due_date, "UTC"), UTCDateTime()) for c in cycles},
        value=ReportingCycle.id)
    on_time_by = case(
        {c.id: sql_literal(_end_of_day_utc(c.due_date, sites[c.site_id].timezone), UTCDateTime())
         for c in cycles},
        value=ReportingCycle.id)
    signed_in_time = exists().where(Signature.organisation_id == Organisation.id,
                                    Signature.signed_at < signed_by)
    rows = db.session.execute(
        select(
            ReportingCycle.id,
            func.count(Organisation.id),
            func.count(ProgressReport.id),
            func.coalesce(func.sum(case((ProgressReport.published_at < on_time_by, 1), else_=0)), 0),
        )
        .select_from(ReportingCycle)
        .join(Site, Site.id == ReportingCycle.site_id)
        .join(Organisation, Organisation.site_id == ReportingCycle.site_id)
        .outerjoin(ProgressReport, and_(ProgressReport.organisation_id == Organisation.id,
                                        ProgressReport.cycle_id == ReportingCycle.id,
                                        ProgressReport.status == ReportStatus.PUBLISHED))
        .where(
            ReportingCycle.id.in_([c.id for c in cycles]),
            Organisation.status == OrganisationStatus.ACTIVE,
            or_(Organisation.tier != Tier.SUPPORTER, Site.supporters_exempt.is_(False)),
            signed_in_time,
        )
        .group_by(ReportingCycle.id)
    ).all()
    return {cycle_id: (owed, published, int(on_time)) for cycle_id, owed, published, on_time in rows}


def _cycle_row(cycle: ReportingCycle, counts: tuple | None) -> dict:
    owed, published, on_time = counts or (0, 0, 0)
    year, quarter = cycle.period_end.year, (cycle.period_end.month - 1) // 3 + 1
    return {
        "id": cycle.id, "name": cycle.name, "due_date": cycle.due_date,
        "period_start": cycle.period_start, "period_end": cycle.period_end,
        "quarter": (year, quarter), "quarter_label": quarter_label(year, quarter),
        "owed": owed, "published": published, "on_time": on_time,
        "published_percent": percent(published, owed), "on_time_percent": percent(on_time, owed),
    }


def _indicator_rows(site_id: int | None = None, today: date | None = None,
                    reader: rollups.Reader | None = None):
    """Catalogue indicators on public commitments of public organisations: per indicator,
    site and quarter of the last INDICATOR_QUARTERS, the mean across organisations of each
    organisation's mean value in the quarter (a measurement counts in the quarter its period
    ends), and how many organisations reported. Read from the rollups (one query when they
    are computed); rows are (indicator id, name, unit, direction, reference, site id,
    quarter index, mean, organisations)."""
    since = quarter_window(today or utcnow().date())
    since_quarter = since.year * 4 + (since.month - 1) // 3
    reader = reader or rollups.Reader(None if site_id is None else [site_id])
    live = reader.live()
    info = (Indicator.id, Indicator.name, Indicator.unit, Indicator.direction, Indicator.reference)
    query = (
        select(*info, RollupIndicator.site_id, RollupIndicator.quarter, RollupIndicator.value,
               RollupIndicator.organisations)
        .join(RollupIndicator, RollupIndicator.indicator_id == Indicator.id)
        .where(RollupIndicator.quarter >= since_quarter)
    )
    if site_id is not None:
        query = query.where(RollupIndicator.site_id == site_id)
    if live:
        query = query.where(RollupIndicator.site_id.not_in(sorted(live)))
    rows = [tuple(row) for row in db.session.execute(query)] if (site_id is None or not live) else []
    if live:
        extra = [r for r in reader.rows("indicators", since_quarter) if r["site_id"] in live]
        if extra:
            known = {row[0]: row[:5] for row in db.session.execute(
                select(*info).where(Indicator.id.in_({r["indicator_id"] for r in extra})))}
            rows += [(*known[r["indicator_id"]], r["site_id"], r["quarter"], r["value"],
                      r["organisations"]) for r in extra]
    rows.sort(key=lambda r: (r[1], r[0], r[5], r[6]))
    return rows


def _indicator_info(row) -> dict:
    return {"id": row[0], "name": row[1], "unit": row[2], "direction": row[3].value,
            "direction_label": row[3].label, "reference": row[4] or ""}


# --- the site view -------------------------------------------------------------------------------

def _sector_counts(site: Site, signatories, reader=None) -> dict[tuple[str, str], int]:
    """{(sector, tier): n} of the site's current signatories and supporters."""
    if signatories is not None:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for org in signatories:
            counts[(Sector(org.sector).value, Tier(org.tier).value)] += 1
        return counts
    return {(r["sector"], r["tier"]): r["signed"]
            for r in (reader or rollups.Reader([site.id])).rows("organisations") if r["signed"]}


def _sectors_section(site: Site, signatories, reader=None) -> dict:
    counts = _sector_counts(site, signatories, reader)
    sectors = [s for s in Sector if counts.get((s.value, "signatory")) or counts.get((s.value, "supporter"))]
    rows = [{"sector": s.value, "label": s.label,
             "signatories": counts.get((s.value, "signatory"), 0),
             "supporters": counts.get((s.value, "supporter"), 0)} for s in sectors]
    for row in rows:
        row["total"] = row["signatories"] + row["supporters"]
    chart = charts.horizontal_bar_chart(
        [r["label"] for r in rows],
        [(_("Signatories"), [r["signatories"] for r in rows]),
         (_("Supporters"), [r["supporters"] for r in rows])], stacked=True,
        title=_("Signatories and supporters by sector"), category_header=_("Sector"))
    return {
        "rows": rows,
        "signatories": sum(r["signatories"] for r in rows),
        "supporters": sum(r["supporters"] for r in rows),
        "total": sum(r["total"] for r in rows),
        "chart": plain_chart(chart),
    }


def _stored_domain_rows(site: Site, with_computed: bool = False) -> list:
    """(domain id, name, slug, completion, n) of the site's stored rollups, every active
    domain at least once; `with_computed` adds when the site's rollups were computed."""
    counts = (
        select(RollupProgress.domain_id.label("domain_id"),
               RollupProgress.completion.label("completion"),
               func.sum(RollupProgress.commitments).label("n"))
        .where(RollupProgress.site_id == site.id)
        .group_by(RollupProgress.domain_id, RollupProgress.completion)
        .subquery()
    )
    shown = (
        ChangeDomain.ordered()
        .with_only_columns(ChangeDomain.id, ChangeDomain.name, ChangeDomain.slug,
                           counts.c.completion, counts.c.n, ChangeDomain.position)
        .outerjoin(counts, counts.c.domain_id == ChangeDomain.id)
        .where(or_(ChangeDomain.is_active.is_(True), counts.c.n.is_not(None)))
    )
    if not with_computed:
        return [tuple(row)[:5] for row in db.session.execute(shown)]
    # One row at least (the flag), however many domains: the flag LEFT JOIN the domains.
    flag = select(select(RollupSite.computed_at).where(RollupSite.site_id == site.id)
                  .scalar_subquery().label("computed")).subquery()
    inner = shown.order_by(None).subquery()
    rows = db.session.execute(
        select(inner.c.id, inner.c.name, inner.c.slug, inner.c.completion, inner.c.n, flag.c.computed)
        .select_from(flag).outerjoin(inner, true())
        .order_by(inner.c.position, inner.c.id)
    ).all()
    return [tuple(row) for row in rows]


def _domains_section(site: Site, reader: rollups.Reader | None = None) -> dict:
    """Public commitments of the site by change domain and completion level, from the
    rollups: one query (active domains, and retired ones that still hold commitments)."""
    reader = reader or rollups.Reader([site.id])
    stored_rows = None
    if not reader.known():
        # One query both reads the stored rows and says whether the site was computed.
        stored_rows = _stored_domain_rows(site, with_computed=True)
        reader.learn({site.id: stored_rows[0][-1] is not None})
        stored_rows = [row[:-1] for row in stored_rows if row[0] is not None]
    if site.id in reader.live():
        counts_by = defaultdict(int)
        for r in reader.rows("progress"):
            counts_by[(r["domain_id"], r["completion"])] += r["commitments"]
        used = {d for d, _c in counts_by}
        rows = []
        for domain in _domains():
            if not (domain.is_active or domain.id in used):
                continue
            cells = [(c, n) for (d, c), n in counts_by.items() if d == domain.id] or [(None, None)]
            rows += [(domain.id, domain.name, domain.slug, c, n) for c, n in cells]
    else:
        rows = stored_rows if stored_rows is not None else _stored_domain_rows(site)
    domains: dict[int, dict] = {}
    for domain_id, name, slug, completion, n in rows:
        entry = domains.setdefault(domain_id, {"id": domain_id, "name": name, "slug": slug,
                                               "counts": {c.value: 0 for c in Completion}, "total": 0})
        if completion is not None:
            entry["counts"][Completion(completion).value] = int(n)
            entry["total"] += int(n)
    items = list(domains.values())
    chart = charts.horizontal_bar_chart(
        [d["name"] for d in items],
        [(c.label, [d["counts"][c.value] for d in items]) for c in Completion], stacked=True,
        title=_("Public commitments by change domain and completion level"),
        category_header=_("Change domain"))
    by_completion = {c.value: sum(d["counts"][c.value] for d in items) for c in Completion}
    return {
        "rows": items,
        "completions": [{"value": c.value, "label": c.label} for c in Completion],
        "by_completion": by_completion,
        "total": sum(d["total"] for d in items),
        "chart": plain_chart(chart),
    }


def _compliance_section(site: Site, now: datetime | None, reader=None) -> dict:
    cycles, counts = _past_cycles([site], now, reader or rollups.Reader([site.id]))
    cycles = cycles[site.id]
    rows = [_cycle_row(c, counts.get(c.id)) for c in cycles]
    chart = charts.bar_chart(
        [r["name"] for r in rows],
        [(_("Published by the due date (%)"), [r["on_time_percent"] for r in rows]),
         (_("Published at all (%)"), [r["published_percent"] for r in rows])],
        title=_("Reporting compliance per cycle"), unit="%", category_header=_("Cycle"))
    chart = with_columns(chart, (_("Reports owed"),), [(str(r["owed"]),) for r in rows])
    return {"cycles": rows, "chart": plain_chart(chart)}


def _latest_reports(site: Site) -> list[dict]:
    reports = db.session.scalars(
        published_reports_query(site_id=site.id).where(public_organisation()).limit(LATEST_REPORTS))
    tz = zone(site.timezone)
    return [{"id": r.id, "organisation": r.organisation.name, "organisation_slug": r.organisation.slug,
             "cycle": r.cycle.name,
             "published_on": r.published_at.astimezone(tz).date() if r.published_at else None}
            for r in reports]


def _trend(info: dict, points: list[tuple[int, int, Decimal, int]]) -> dict:
    """One indicator's trend over the quarters with a value (of the last INDICATOR_QUARTERS)."""
    quarters = [{"label": quarter_label(y, q), "year": y, "quarter": q, "value": v, "organisations": n}
                for y, q, v, n in points]
    chart = charts.line_chart(
        [q["label"] for q in quarters],
        [(_("Mean across organisations"), [q["value"] for q in quarters])],
        title=info["name"], unit=info["unit"], category_header=_("Quarter"),
    )
    chart = with_columns(chart, (_("Organisations reporting"),),
                         [(str(q["organisations"]),) for q in quarters])
    chart = replace(chart, notes=(info["direction_label"] + ".",))
    return {**info, "quarters": quarters, "chart": plain_chart(chart)}


def _trends_section(site: Site, now: datetime | None, reader=None) -> list[dict]:
    grouped: dict[int, tuple[dict, list]] = {}
    for row in _indicator_rows(site.id, site_today(site, now), reader):
        if row[0] not in grouped:
            grouped[row[0]] = (_indicator_info(row), [])
        info, points = grouped[row[0]]
        points.append((*quarter_of(row[6]), rounded(row[7]), row[8]))
    return [_trend(info, points) for info, points in grouped.values()]


def site_view(site: Site, *, signatories=None, now: datetime | None = None) -> dict:
    """Everything the site's public dashboards show (page and PDF), as plain values.

    `signatories`: the site's current signatories and supporters when the caller has
    loaded them already (the site page has), which saves counting them again. The figures
    come from the rollups (charter.dashboards.rollups)."""
    reader = rollups.Reader([site.id])
    return {
        "site": {"name": site.name, "slug": site.slug, "country": site.country},
        "generated_on": site_today(site, now),
        "sectors": _sectors_section(site, signatories, reader),
        "domains": _domains_section(site, reader),
        "compliance": _compliance_section(site, now, reader),
        "reports": _latest_reports(site),
        "indicators": _trends_section(site, now, reader),
    }


# --- PROMISE Global ------------------------------------------------------------------------------

def _organisation_counts(reader: rollups.Reader) -> dict[int, dict]:
    """Per site: current signatories and supporters (active, holding a signature that is not
    withdrawn) and all active organisations. One query, on the rollups."""
    rows = [(r["site_id"], r["tier"], r["active"], r["signed"]) for r in reader.rows("organisations")]
    out: dict[int, dict] = defaultdict(lambda: {"signatories": 0, "supporters": 0, "active": 0})
    for site_id, tier, active, signed in rows:
        entry = out[site_id]
        entry["active"] += active
        entry["signatories" if Tier(tier) == Tier.SIGNATORY else "supporters"] += int(signed or 0)
    return out


def _domain_counts(reader: rollups.Reader) -> dict[tuple[int, int], dict]:
    """Per (site, domain): public commitments, how many are completed, and how many active
    organisations hold at least one. One query, on the rollups."""
    return {(r["site_id"], r["domain_id"]): {"commitments": r["commitments"], "completed": r["completed"],
                                             "organisations": r["organisations"]}
            for r in reader.rows("domains") if r["commitments"]}


def _examples(strongest: dict[int, int], reader: rollups.Reader) -> dict[int, list[dict]]:
    """Up to EXAMPLES public commitments per domain from its strongest site, furthest along
    first (ranked by the rollups). Two queries, whatever the number of domains."""
    if not strongest:
        return {}
    wanted = [r for r in reader.rows("examples")
              if strongest.get(r["domain_id"]) == r["site_id"] and r["rank"] <= EXAMPLES]
    if not wanted:
        return {}
    found = {row.id: row for row in db.session.execute(
        select(Commitment.id, Commitment.title, Commitment.completion,
               Organisation.name.label("organisation"), Organisation.slug.label("organisation_slug"))
        .join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(Commitment.id.in_([r["commitment_id"] for r in wanted])))}
    out: dict[int, list[dict]] = defaultdict(list)
    for r in sorted(wanted, key=lambda r: (r["domain_id"], r["rank"])):
        row = found.get(r["commitment_id"])
        if row is None:
            continue
        out[r["domain_id"]].append({
            "id": row.id, "title": row.title, "organisation": row.organisation,
            "organisation_slug": row.organisation_slug,
            "completion": Completion(row.completion).label,
        })
    return out


def _strength(site_ids: list[int], domains: list[dict], counts, active: dict[int, int],
              names: dict[int, str]) -> tuple[list[dict], dict[int, int]]:
    """Sites × domains: each site's coverage (share of its active organisations with a public
    commitment in the domain) and share completed, and the strongest site per domain."""
    rows = []
    strongest: dict[int, int] = {}
    for domain in domains:
        cells = []
        for site_id in site_ids:
            c = counts.get((site_id, domain["id"]), {"commitments": 0, "completed": 0, "organisations": 0})
            cells.append({
                "site_id": site_id, "commitments": c["commitments"], "completed": c["completed"],
                "organisations": c["organisations"], "active": active.get(site_id, 0),
                "coverage_percent": percent(c["organisations"], active.get(site_id, 0)),
                "completed_percent": percent(c["completed"], c["commitments"]),
                "strongest": False,
            })
        candidates = [c for c in cells if c["commitments"] and c["organisations"]]
        best = None
        if candidates:
            # max() keeps the first of equals: the sites come in name order.
            best = max(candidates, key=lambda c: (
                Decimal(c["organisations"]) / c["active"], Decimal(c["completed"]) / c["commitments"],
                c["commitments"]))
            best["strongest"] = True
            strongest[domain["id"]] = best["site_id"]
        rows.append({**domain, "cells": cells,
                     "strongest_site_id": best["site_id"] if best else None,
                     "strongest_site": names[best["site_id"]] if best else None})
    return rows, strongest


def _learning(sites: list[dict], strength_rows: list[dict]) -> None:
    """For each site: where it is strongest, and up to three domains where another site
    covers most more of its organisations (the site to learn from)."""
    for index, site in enumerate(sites):
        strongest_in = []
        gaps = []
        for row in strength_rows:
            cell = row["cells"][index]
            if row["strongest_site_id"] == site["id"]:
                strongest_in.append(row["name"])
            elif row["strongest_site_id"] is not None:
                best = next(c for c in row["cells"] if c["strongest"])
                gap = (best["coverage_percent"] or 0) - (cell["coverage_percent"] or 0)
                if gap > 0:
                    gaps.append({"domain": row["name"], "domain_slug": row["slug"],
                                 "site": row["strongest_site"], "site_slug": best["site_slug"],
                                 "theirs": best["coverage_percent"], "ours": cell["coverage_percent"] or 0,
                                 "gap": gap})
        gaps.sort(key=lambda g: (-g["gap"], g["domain"]))
        site["strongest_in"] = strongest_in
        site["learn_from"] = gaps[:3]


def _compliance_by_site(sites: list[Site], now: datetime | None, reader: rollups.Reader):
    cycles, counts = _past_cycles(sites, now, reader)
    return {site_id: [_cycle_row(c, counts.get(c.id)) for c in cs] for site_id, cs in cycles.items()}


def _comparison(info: dict, per_site: dict[int, list], site_names: dict[int, str],
                site_order: list[int]) -> dict:
    """One catalogue indicator across the sites that report it: each site's value in the
    latest quarter every one of them has, or (labelled) each site's own latest quarter."""
    reporting = [s for s in site_order if per_site.get(s)]
    common = set.intersection(*({(y, q) for y, q, _v, _n in per_site[s]} for s in reporting))
    shared = max(common) if common else None
    values = []
    for site_id in reporting:
        points = {(y, q): (v, n) for y, q, v, n in per_site[site_id]}
        y, q = shared or max(points)
        value, organisations = points[(y, q)]
        values.append({"site_id": site_id, "site": site_names[site_id], "value": value,
                       "organisations": organisations, "quarter_label": quarter_label(y, q)})
    period = quarter_label(*shared) if shared else None
    series_name = (_("Mean across organisations, %(period)s", period=period) if period
                   else _("Mean across organisations, each site's latest quarter"))
    chart = charts.bar_chart(
        [v["site"] for v in values], [(series_name, [v["value"] for v in values])],
        title=info["name"], unit=info["unit"], category_header=_("Site"))
    chart = with_columns(chart, (_("Quarter"), _("Organisations reporting")),
                         [(v["quarter_label"], str(v["organisations"])) for v in values])
    chart = replace(chart, notes=(info["direction_label"] + ".",))
    return {**info, "period": period, "same_period": shared is not None, "values": values,
            "chart": plain_chart(chart)}


def _comparisons(site_names: dict[int, str], site_order: list[int], today: date,
                 reader: rollups.Reader | None = None) -> list[dict]:
    grouped: dict[int, tuple[dict, dict[int, list]]] = {}
    for row in _indicator_rows(today=today, reader=reader):
        if row[0] not in grouped:
            grouped[row[0]] = (_indicator_info(row), defaultdict(list))
        info, per_site = grouped[row[0]]
        per_site[row[5]].append((*quarter_of(row[6]), rounded(row[7]), row[8]))
    return [_comparison(info, per_site, site_names, site_order) for info, per_site in grouped.values()]


def _trend_across_cycles(sites: list[dict]) -> dict:
    """Compliance (published at all) per site per quarter of the cycles' periods: the last
    RECENT_CYCLES quarters that any site has."""
    quarters = sorted({c["quarter"] for s in sites for c in s["cycles"]})[-RECENT_CYCLES:]
    series = []
    for site in sites:
        by_quarter = {c["quarter"]: c["published_percent"] for c in site["cycles"]}
        series.append((site["name"], [by_quarter.get(q) for q in quarters]))
    chart = charts.line_chart([quarter_label(*q) for q in quarters], series,
                       title=_("Reports published per cycle, by site"), unit="%",
                       category_header=_("Cycle (quarter its period ends)"), y_range=(0, 100))
    return plain_chart(chart)


def global_view(now: datetime | None = None) -> dict:
    """The sites side by side (page and PDF), as plain values."""
    site_objs = list(db.session.scalars(select(Site).order_by(Site.name, Site.id)))
    names = {s.id: s.name for s in site_objs}
    site_ids = [s.id for s in site_objs]
    reader = rollups.Reader()
    organisations = _organisation_counts(reader)
    counts = _domain_counts(reader)
    used = {domain_id for (_site, domain_id) in counts}
    domains_shown = [{"id": d.id, "name": d.name, "slug": d.slug} for d in _domains()
                     if d.is_active or d.id in used]
    compliance = _compliance_by_site(site_objs, now, reader)

    sites = []
    for s in site_objs:
        org = organisations.get(s.id, {"signatories": 0, "supporters": 0, "active": 0})
        commitments = sum(c["commitments"] for (sid, _d), c in counts.items() if sid == s.id)
        completed = sum(c["completed"] for (sid, _d), c in counts.items() if sid == s.id)
        cycles = compliance.get(s.id, [])
        last_four = cycles[-AVERAGE_OF:]
        sites.append({
            "id": s.id, "name": s.name, "slug": s.slug, "country": s.country,
            "signatories": org["signatories"], "supporters": org["supporters"], "active": org["active"],
            "commitments": commitments, "completed": completed,
            "completed_percent": percent(completed, commitments),
            "by_domain": {d["id"]: counts.get((s.id, d["id"]), {}).get("commitments", 0)
                          for d in domains_shown},
            "cycles": cycles,
            "latest_cycle": cycles[-1] if cycles else None,
            "average_published_percent": mean(c["published_percent"] for c in last_four),
            "average_on_time_percent": mean(c["on_time_percent"] for c in last_four),
            "average_cycles": len([c for c in last_four if c["owed"]]),
        })

    strength_rows, strongest = _strength(site_ids, domains_shown, counts,
                                         {s["id"]: s["active"] for s in sites}, names)
    slugs = {s["id"]: s["slug"] for s in sites}
    examples = _examples(strongest, reader)
    for row in strength_rows:
        row["examples"] = examples.get(row["id"], [])
        row["strongest_site_slug"] = slugs.get(row["strongest_site_id"])
        for cell in row["cells"]:
            cell["site_slug"] = slugs[cell["site_id"]]
    _learning(sites, strength_rows)

    site_labels = [s["name"] for s in sites]
    return {
        "generated_on": (now or utcnow()).astimezone(UTC).date(),
        "sites": sites,
        "domains": domains_shown,
        "strength": strength_rows,
        "indicators": _comparisons(names, site_ids, (now or utcnow()).astimezone(UTC).date(), reader),
        "charts": {
            "signatories": plain_chart(charts.stacked_bar_chart(
                site_labels,
                [(_("Signatories"), [s["signatories"] for s in sites]),
                 (_("Supporters"), [s["supporters"] for s in sites])],
                title=_("Signatories and supporters by site"), unit=_("organisations"),
                category_header=_("Site"))),
            "domains": plain_chart(charts.horizontal_bar_chart(
                [d["name"] for d in domains_shown],
                [(s["name"], [s["by_domain"][d["id"]] for d in domains_shown]) for s in sites],
                title=_("Public commitments per change domain, by site"),
                category_header=_("Change domain"))),
            "completed": plain_chart(with_columns(charts.bar_chart(
                site_labels, [(_("Share completed (%)"), [s["completed_percent"] for s in sites])],
                title=_("Share of public commitments completed"), unit="%", category_header=_("Site")),
                (_("Completed"), _("Public commitments")),
                [(str(s["completed"]), str(s["commitments"])) for s in sites])),
            "compliance": _trend_across_cycles(sites),
        },
    }

