"""Demo reporting: cycles on every site (three or more past), published reports (one with
a corrected second revision), a report returned with comments, drafts, and organisations
that are overdue and one that is not reporting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from charter.extensions import db
from charter.models import (
    Organisation,
    ProgressReport,
    ReportingCycle,
    ReportReview,
    ReportStatus,
    ReviewAction,
    Site,
)
from charter.reports import services

SUMMARIES = [
    "This period we concentrated on **prevention**. Restrictive interventions fell on most wards "
    "and every prone restraint was reviewed with the person it was used on.\n\n"
    "- Safewards is now in place on every acute ward.\n- Post-incident reviews with the patient "
    "rose to more than three in four.\n- Two wards did not improve: both have had long vacancies.",
    "We kept our promises on training and data, and fell behind on the crisis line. We say why "
    "below, and what we are changing.",
    "A quieter period: we consolidated the changes of the last two cycles, and started the work "
    "with our partners on integrated pathways.",
]
REFLECTION = ("Written with the service user forum. People noticed staff asking before "
              "stepping in, and fewer alarms. Some still felt decisions were made about them "
              "without them, especially at night.")


def _quarter(year: int, q: int) -> tuple[date, date]:
    start = date(year, 3 * (q - 1) + 1, 1)
    end = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
    return start, end


def _quarters_back(today: date, count: int) -> list[tuple[str, date, date]]:
    """The current quarter and the `count` before it, oldest first."""
    year, q = today.year, (today.month - 1) // 3 + 1
    out = []
    for _ in range(count + 1):
        start, end = _quarter(year, q)
        out.append((f"{year} Q{q}", start, end))
        year, q = (year - 1, 4) if q == 1 else (year, q - 1)
    return list(reversed(out))


def _at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour), tzinfo=UTC)


# For each site: organisation short name → what it did in each past cycle (oldest first),
# then what it is doing in the current cycle.
#   P published, C published then corrected, R returned, S submitted, D draft, - nothing
HISTORY = {
    "cambridge": {"fomh": "PPC D", "police": "PPP -", "mindfens": "PPR -",
                  "ccc": "PPD -", "ambulance": "P-- -", "icb": "PPP D"},
    "yale": {"cmhc": "PPP D"},
    "brisbane": {"metronorth": "PPP S", "qas": "-PP -"},
    "prague": {"bohnice": "PPP -", "cdz8": "P-P D"},
    "cape-town": {"valkenberg": "PP- -", "kgg": "PPP D", "wchcu": "-PS -"},
}


def load(sites: dict[str, Site], orgs_by_short: dict[str, Organisation], leads: dict,
         coordinators: dict[str, object], now: datetime) -> dict:
    today = now.date()
    created = {"cycles": 0, "reports": 0, "published": 0}
    for slug, site in sites.items():
        site.missed_cycles_threshold = 2
        quarters = _quarters_back(today, 3)
        cycles = []
        for name, start, end in quarters:
            cycle = ReportingCycle(site=site, name=name, period_start=start, period_end=end,
                                   due_date=end + timedelta(days=31), reminder_days_before=14,
                                   reminder_days_after=7, review_required=True)
            db.session.add(cycle)
            cycles.append(cycle)
            created["cycles"] += 1
        db.session.flush()
        coordinator = coordinators[slug]
        for short, plan in HISTORY.get(slug, {}).items():
            org = orgs_by_short[short]
            lead = leads[short]
            past, current = plan.split(" ")
            for cycle, step in zip(cycles, past + current, strict=True):
                if step == "-":
                    continue
                report = ProgressReport(
                    organisation=org, cycle=cycle, status=ReportStatus.DRAFT,
                    summary=SUMMARIES[cycle.id % len(SUMMARIES)],
                    lived_experience_reflection=REFLECTION if step in "PCS" else "",
                    co_produced_by="Members of the service user forum" if step in "PC" else "",
                    created_by_id=lead.id,
                )
                db.session.add(report)
                db.session.flush()
                created["reports"] += 1
                submitted = min(cycle.due_date - timedelta(days=3), today)
                if step in "PCRS":
                    report.status = ReportStatus.SUBMITTED
                    report.submitted_at = _at(submitted)
                    report.submitted_by_id = lead.id
                    db.session.add(ReportReview(report=report, author_id=lead.id,
                                                action=ReviewAction.SUBMITTED,
                                                created_at=_at(submitted)))
                if step in "PC":
                    db.session.add(ReportReview(report=report, author_id=coordinator.id,
                                                action=ReviewAction.APPROVED,
                                                created_at=_at(submitted + timedelta(days=2))))
                    services.publish(coordinator, report, at=_at(submitted + timedelta(days=2), 14),
                                     at_once=True)
                    created["published"] += 1
                if step == "C":  # the lead's correction, reviewed like a first submission
                    correction = services.submit_correction(
                        lead, report,
                        services.ReportText(report.summary + "\n\nCorrection: the prone restraint "
                                            "figure for the last month was 22, not 12.",
                                            report.lived_experience_reflection,
                                            report.co_produced_by),
                        "The prone restraint figure for the last month was 22, not 12: a typing "
                        "error.", at=_at(submitted + timedelta(days=8), 16))
                    services.publish_correction(coordinator, correction, at_once=True,
                                                at=_at(submitted + timedelta(days=9), 9))
                if step == "R":
                    report.status = ReportStatus.RETURNED
                    db.session.add(ReportReview(
                        report=report, author_id=coordinator.id, action=ReviewAction.RETURNED,
                        comment="Thank you. Please add the figures for the crisis café and a "
                                "reflection written with the people who use it.",
                        created_at=_at(submitted + timedelta(days=4))))
                db.session.flush()
    return created
