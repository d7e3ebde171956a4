"""Reporting status, derived from the records and the date — no job has to run.

For one organisation and one cycle: published if a revision is published; otherwise
overdue once the due date has passed; otherwise the report's own state (draft,
submitted, returned) or not started. Organisations that owe no report in a cycle
(supporters where the site exempts them, organisations that joined after the cycle
was due) are exempt.

An organisation is shown publicly as *not reporting* when the number of consecutive
cycles it missed (due, owed, not published), counted back from the latest due cycle
and stopping at its last published report, reaches the site's threshold. Its next
published report ends the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from charter.extensions import db
from charter.formatting import zone
from charter.models import (
    Organisation,
    OrganisationStatus,
    ProgressReport,
    ReportingCycle,
    ReportingStatus,
    ReportStatus,
    Signature,
    Site,
    Tier,
)
from charter.models.base import utcnow


def site_today(site: Site, now: datetime | None = None) -> date:
    """Today's date in the site's time zone (due dates are the site's dates)."""
    return (now or utcnow()).astimezone(zone(site.timezone)).date()


@dataclass(frozen=True)
class ReportFacts:
    report_id: int
    status: ReportStatus


def first_signed(org_ids: Iterable[int]) -> dict[int, date]:
    """When each organisation first signed (any version), as a date in UTC."""
    ids = list(org_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Signature.organisation_id, Signature.signed_at).where(
            Signature.organisation_id.in_(ids))
    ).all()
    first: dict[int, date] = {}
    for org_id, signed_at in rows:
        d = signed_at.date()
        if org_id not in first or d < first[org_id]:
            first[org_id] = d
    return first


def owes_report(org: Organisation, cycle: ReportingCycle, site: Site,
                signed_on: date | None) -> bool:
    """Active signatories (and supporters unless the site exempts them) that had signed
    by the cycle's due date owe a report for it."""
    if org.status not in (OrganisationStatus.ACTIVE,):
        return False
    if org.tier == Tier.SUPPORTER and site.supporters_exempt:
        return False
    return signed_on is not None and signed_on <= cycle.due_date


def status_for(report: ReportFacts | None, cycle: ReportingCycle, today: date,
               owed: bool = True) -> ReportingStatus:
    if report is not None and report.status == ReportStatus.PUBLISHED:
        return ReportingStatus.PUBLISHED
    if not owed:
        return ReportingStatus.EXEMPT
    if today > cycle.due_date:
        return ReportingStatus.OVERDUE
    if report is None:
        return ReportingStatus.NOT_STARTED
    return ReportingStatus(report.status.value)


@dataclass
class SiteReporting:
    """Every organisation's status in every cycle of a site, computed in three queries."""

    site: Site
    cycles: list[ReportingCycle]             # oldest first
    organisations: list[Organisation]
    reports: dict[tuple[int, int], ReportFacts]
    signed_on: dict[int, date]
    today: date

    def status(self, org: Organisation, cycle: ReportingCycle) -> ReportingStatus:
        owed = owes_report(org, cycle, self.site, self.signed_on.get(org.id))
        return status_for(self.reports.get((org.id, cycle.id)), cycle, self.today, owed)

    def missed_in_a_row(self, org: Organisation) -> int:
        missed = 0
        for cycle in reversed(self.cycles):
            if cycle.due_date >= self.today:
                facts = self.reports.get((org.id, cycle.id))
                if facts is not None and facts.status == ReportStatus.PUBLISHED:
                    return 0  # an early published report ends any run
                continue
            status = self.status(org, cycle)
            if status == ReportingStatus.PUBLISHED:
                return missed
            if status == ReportingStatus.OVERDUE:
                missed += 1
        return missed

    def not_reporting(self, org: Organisation) -> bool:
        threshold = max(1, self.site.missed_cycles_threshold)
        return self.missed_in_a_row(org) >= threshold

    def current_cycle(self) -> ReportingCycle | None:
        """The cycle people are working on: the earliest not yet due, else the latest."""
        upcoming = [c for c in self.cycles if c.due_date >= self.today]
        if upcoming:
            return upcoming[0]
        return self.cycles[-1] if self.cycles else None


def site_reporting(site: Site, organisations: list[Organisation] | None = None,
                   now: datetime | None = None) -> SiteReporting:
    cycles = list(db.session.scalars(
        select(ReportingCycle).where(ReportingCycle.site_id == site.id)
        .order_by(ReportingCycle.due_date, ReportingCycle.id)
    ))
    if organisations is None:
        organisations = list(db.session.scalars(
            select(Organisation).where(Organisation.site_id == site.id,
                                       Organisation.status == OrganisationStatus.ACTIVE)
            .order_by(Organisation.name_key)
        ))
    org_ids = [o.id for o in organisations]
    reports: dict[tuple[int, int], ReportFacts] = {}
    if org_ids and cycles:
        rows = db.session.execute(
            select(ProgressReport.id, ProgressReport.organisation_id, ProgressReport.cycle_id,
                   ProgressReport.status)
            .where(ProgressReport.organisation_id.in_(org_ids),
                   ProgressReport.cycle_id.in_([c.id for c in cycles]))
        ).all()
        reports = {(o, c): ReportFacts(rid, st) for rid, o, c, st in rows}
    return SiteReporting(site=site, cycles=cycles, organisations=organisations, reports=reports,
                         signed_on=first_signed(org_ids), today=site_today(site, now))
