"""Demo commitments: every change domain, joint commitments across sectors and sites,
catalogue indicators with several periods of measurements, and progress updates.

Sites differ on purpose, so that the PROMISE Global comparison has something to show:
Cambridge covers every domain; Brisbane is strongest on least restrictive practice,
Prague on integrated pathways, Cape Town on accepting communities, Yale on co-production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from charter import audit
from charter.catalogue.indicators import seed_catalogue
from charter.extensions import db
from charter.models import (
    RAG,
    Ambition,
    ChangeDomain,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Indicator,
    Measurement,
    Milestone,
    Organisation,
    Partnership,
    PartnershipStatus,
    ProgressUpdate,
)


@dataclass
class Plan:
    org: str                     # short name of the lead organisation (see ORGANISATIONS)
    domain: str                  # change domain slug
    title: str
    description: str
    completion: Completion = Completion.LIMITED
    rag: RAG = RAG.ON_TRACK
    ambition: Ambition = Ambition.ESSENTIAL
    partners: list[str] = field(default_factory=list)          # accepted partners
    invited: list[str] = field(default_factory=list)           # invitations not yet answered
    indicator: str | None = None                               # catalogue indicator name
    series: tuple[float, ...] = ()                             # quarterly values, oldest first
    baseline: float | None = None
    target: float | None = None
    draft: bool = False


MHS96 = "Restrictive interventions per 1,000 occupied bed days"
PRONE = "Prone restraints"
SECLUSION = "Seclusion episodes"
RT = "Rapid tranquillisation per 1,000 occupied bed days"
REVIEW = "Incidents with a post-incident review held with the patient"
SATISFACTION = "Overall patient satisfaction"
ENGAGEMENT = "Staff engagement score"
S136 = "Use of police powers under section 136 per month"
TRAINED = "Staff trained in de-escalation and restraint reduction"

PLANS: list[Plan] = [
    # --- Cambridge: every domain, the most joint work ---
    Plan("fomh", "least-restrictive-practice", "Halve prone restraint on acute wards by March 2027",
         "Prone restraint carries the highest risk of harm. We will **halve** it on our six acute "
         "wards, with Safewards, positive behaviour support plans written with each patient, and a "
         "monthly review of every prone restraint with the people involved.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, Ambition.ESSENTIAL, indicator=PRONE,
         series=(42, 38, 33, 29, 25, 22), baseline=44, target=21),
    Plan("fomh", "least-restrictive-practice", "Cut restrictive interventions by a third",
         "All restrictive interventions, not only restraint: seclusion, rapid tranquillisation, "
         "enforced observation and blanket rules, measured as in the national data set.",
         Completion.LIMITED, RAG.AT_RISK, Ambition.ASPIRATIONAL, indicator=MHS96,
         series=(31.2, 30.5, 29.8, 30.9, 28.4, 27.6), baseline=31.5, target=21.0),
    Plan("fomh", "prevention-early-detection", "A post-incident review with the patient, every time",
         "After every restrictive intervention, a review held *with* the person, within 72 hours, "
         "focused on what came before it.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, indicator=REVIEW,
         series=(38, 51, 63, 70, 78, 84), baseline=35, target=95),
    Plan("police", "integrated-pathways", "Street triage every evening across Cambridgeshire",
         "A mental health nurse rides with police officers from 4pm to midnight, so that people in "
         "crisis get care instead of a cell or a section 136.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, Ambition.ESSENTIAL,
         partners=["fomh", "ambulance"], indicator=S136, series=(48, 44, 41, 37, 35, 31),
         baseline=52, target=30),
    Plan("mindfens", "integrated-pathways", "A crisis café open seven nights a week",
         "A calm place to go in the evening, run by peer workers with clinical back-up, as an "
         "alternative to the emergency department.",
         Completion.LIMITED, RAG.ON_TRACK, Ambition.DESIRABLE, partners=["fomh", "icb"]),
    Plan("fomh", "workforce", "Safewards and trauma-informed care training on every ward",
         "Every ward team trained together, including bank and agency staff, with refreshers "
         "every year.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, indicator=TRAINED,
         series=(22, 35, 49, 61, 72, 80), baseline=18, target=90),
    Plan("police", "workforce", "Mental health awareness for every custody officer",
         "Two days of training written with people who have been detained in custody.",
         Completion.COMPLETED, RAG.ON_TRACK, partners=["voices"]),
    Plan("ccc", "accepting-communities", "Mental health first aid for 500 local employers",
         "Free training for small employers across Fenland, with a helpline for managers.",
         Completion.LIMITED, RAG.AT_RISK, Ambition.DESIRABLE, partners=["mindfens"]),
    Plan("fomh", "healing-environments", "Sensory rooms on every acute ward",
         "Quiet, comfortable rooms that people can choose to use before distress escalates.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, indicator=SATISFACTION,
         series=(61, 63, 66, 68, 71, 74), baseline=60, target=80),
    Plan("voices", "co-production", "Paid peer reviewers on every restrictive practice panel",
         "People with lived experience sit on every panel that reviews restrictive practice, and are "
         "paid for their expertise.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, partners=["fomh"]),
    Plan("icb", "data-governance-learning", "Publish restrictive practice data every quarter",
         "All NHS providers we commission publish their figures in the same units, on the same "
         "day, with a plain-language commentary.",
         Completion.LIMITED, RAG.ON_TRACK, partners=["fomh", "ambulance"], invited=["arcrr"]),
    Plan("ambulance", "prevention-early-detection", "Crisis calls answered by a mental health clinician",
         "A mental health clinician in the control room every day, so crews arrive knowing what "
         "helps.",
         Completion.NOT_STARTED, RAG.AT_RISK, Ambition.ASPIRATIONAL),
    Plan("fomh", "co-production", "Co-produce our annual report with service users",
         "Drafted with the service user forum before it goes to the board.", draft=True),
    # --- Yale: co-production strongest ---
    Plan("cmhc", "co-production", "Peer specialists on every inpatient unit",
         "Certified peer specialists on every shift, with a voice in care planning.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, partners=["prch"], indicator=SATISFACTION,
         series=(58, 60, 64, 67, 70, 73), baseline=57, target=80),
    Plan("cmhc", "co-production", "Advance directives offered to everyone admitted",
         "Psychiatric advance directives written with peers, honoured on every admission.",
         Completion.LIMITED, RAG.ON_TRACK, partners=["prch"]),
    Plan("cmhc", "least-restrictive-practice", "Reduce seclusion episodes by 30%",
         "Six core strategies, with debriefing after every seclusion.",
         Completion.LIMITED, RAG.OFF_TRACK, indicator=SECLUSION, series=(40, 42, 39, 41, 38, 37),
         baseline=40, target=28),
    Plan("prch", "data-governance-learning", "Share what works across PROMISE Global sites",
         "An open evaluation of peer-led interventions, with the Cambridge and Brisbane sites.",
         Completion.LIMITED, RAG.ON_TRACK, partners=["fomh", "metronorth"]),
    # --- Brisbane: least restrictive practice strongest ---
    Plan("metronorth", "least-restrictive-practice", "Eliminate mechanical restraint",
         "No mechanical restraint on any ward; every near-use reviewed with the person.",
         Completion.COMPLETED, RAG.ON_TRACK, Ambition.BREAKTHROUGH, indicator=MHS96,
         series=(21.4, 18.9, 16.2, 14.8, 13.1, 12.6), baseline=22.0, target=12.0),
    Plan("metronorth", "least-restrictive-practice", "Halve seclusion by 2027",
         "Sensory modulation, safety planning and a seclusion-free trial on two units.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, indicator=SECLUSION, series=(36, 31, 27, 24, 20, 17),
         baseline=38, target=19),
    Plan("metronorth", "least-restrictive-practice", "Reduce rapid tranquillisation",
         "Oral medication offered first, always, and every intramuscular dose reviewed.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, indicator=RT, series=(9.1, 8.2, 7.4, 6.8, 6.1, 5.5),
         baseline=9.4, target=5.0),
    Plan("qas", "integrated-pathways", "Mental health co-responder teams",
         "Paramedic and mental health clinician together in one vehicle.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, partners=["metronorth"]),
    Plan("blen", "co-production", "Lived-experience review of every restrictive practice policy",
         "Every policy reviewed by the network before it is adopted.",
         Completion.LIMITED, RAG.ON_TRACK, partners=["metronorth"]),
    # --- Prague: integrated pathways strongest ---
    Plan("cdz8", "integrated-pathways", "Community mental health centre open around the clock",
         "Crisis beds in the community, so that fewer people are admitted to hospital at all.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, partners=["bohnice", "klub"]),
    Plan("bohnice", "integrated-pathways", "Discharge planned with community teams from day one",
         "Community teams join the first ward round after admission.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, partners=["cdz8"]),
    Plan("bohnice", "least-restrictive-practice", "End the use of net beds",
         "Replaced by one-to-one support and calm rooms.",
         Completion.COMPLETED, RAG.ON_TRACK, Ambition.BREAKTHROUGH, indicator=MHS96,
         series=(35.2, 31.0, 27.5, 24.9, 23.6, 22.1), baseline=36.0, target=20.0),
    Plan("bohnice", "workforce", "De-escalation training for all nursing staff",
         "Two-day course with refreshers every year.",
         Completion.LIMITED, RAG.AT_RISK, indicator=TRAINED, series=(12, 18, 26, 33, 37, 44),
         baseline=10, target=90),
    # --- Cape Town: accepting communities strongest ---
    Plan("kgg", "accepting-communities", "Community conversations in 20 neighbourhoods",
         "Talks led by people with lived experience in community halls, churches and schools, in "
         "English, Afrikaans and isiXhosa.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK, partners=["valkenberg", "wchcu"]),
    Plan("kgg", "accepting-communities", "Family support groups in every district",
         "Weekly groups for families and carers, run by families and carers.",
         Completion.SUBSTANTIAL, RAG.ON_TRACK),
    Plan("valkenberg", "least-restrictive-practice", "Reduce restrictive interventions on admission wards",
         "Admission wards are where most restraint happens: a focused programme there.",
         Completion.LIMITED, RAG.OFF_TRACK, indicator=MHS96, series=(44.0, 46.2, 45.1, 43.8, 44.5, 42.9),
         baseline=44.8, target=30.0),
    Plan("wchcu", "data-governance-learning", "Commission for fewer restrictive practices",
         "Contracts that reward lower use of restraint and seclusion.",
         Completion.NOT_STARTED, RAG.ON_TRACK, Ambition.ASPIRATIONAL),
]

UPDATE_TEXTS = [
    ("We agreed the plan with the ward teams and the service user forum, and started collecting "
     "figures in the same way on every ward.",
     "Staffing was the obstacle: bank staff had not been trained and did not know the plan.",
     "Include bank and agency staff in every briefing.", "Train the bank staff pool by the end of "
     "next quarter."),
    ("Figures moved in the right direction on four of six wards. People told us the new debriefs "
     "felt like being listened to, not blamed.",
     "Two wards saw no change; both had long vacancies for ward managers.",
     "Pair the two wards with the most improved ones for peer support.",
     "Monthly joint huddles between paired wards."),
    ("The approach is now routine. We published the figures with a commentary written with people "
     "who use services.",
     "Measuring took more time than we planned.",
     "Automate the monthly figures from the electronic record.",
     "Share the method with the other PROMISE sites."),
]


def _quarter_starts(count: int, end: date) -> list[tuple[date, date]]:
    """`count` consecutive calendar quarters ending with the one before `end`."""
    quarters = []
    year, q = end.year, (end.month - 1) // 3  # the quarter before the current one (0-based)
    for _ in range(count):
        if q == 0:
            year, q = year - 1, 4
        start = date(year, 3 * (q - 1) + 1, 1)
        stop = date(year + (1 if q == 4 else 0), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
        quarters.append((start, stop))
        q -= 1
    return list(reversed(quarters))


def load(orgs_by_short: dict[str, Organisation], leads: dict[str, object], now: datetime) -> dict:
    """Add the demo catalogue, commitments, partnerships, indicators and updates."""
    seed_catalogue(None)
    db.session.flush()
    domains = {d.slug: d for d in db.session.scalars(select(ChangeDomain))}
    indicators = {i.name: i for i in db.session.scalars(
        select(Indicator).where(Indicator.organisation_id.is_(None)))}
    today = now.date()
    published_at = now - timedelta(days=400)
    quarters = _quarter_starts(6, today)
    count = 0
    for index, plan in enumerate(PLANS):
        org = orgs_by_short[plan.org]
        lead = leads[plan.org]
        commitment = Commitment(
            organisation=org, domain=domains[plan.domain], title=plan.title,
            description=plan.description, start_date=date(today.year - 1, 4, 1),
            target_date=date(today.year + 1, 3, 31), ambition=plan.ambition,
            completion=plan.completion, rag=plan.rag,
            status=CommitmentStatus.DRAFT if plan.draft else CommitmentStatus.PUBLISHED,
            published_at=None if plan.draft else published_at + timedelta(days=index),
            created_by_id=lead.id,
        )
        db.session.add(commitment)
        db.session.flush()
        audit.record(lead, "commitment.created", commitment, {"title": [None, plan.title]},
                     organisation_id=org.id)
        if not plan.draft:
            audit.record(lead, "commitment.published", commitment,
                         {"status": ["draft", "published"]}, organisation_id=org.id)
        db.session.add(Milestone(commitment=commitment, title="Plan agreed with people who use services",
                                 due_date=date(today.year - 1, 6, 30),
                                 done_date=date(today.year - 1, 6, 20), position=1))
        db.session.add(Milestone(commitment=commitment, title="Half-way review published",
                                 due_date=date(today.year, 12, 31), position=2))
        for short in plan.partners:
            partner = orgs_by_short[short]
            db.session.add(Partnership(
                commitment=commitment, organisation=partner, status=PartnershipStatus.ACCEPTED,
                invited_by_id=lead.id, responded_by_id=leads[short].id,
                responded_at=published_at + timedelta(days=index + 5),
                role_note="Shares the work and the reporting",
            ))
        for short in plan.invited:
            db.session.add(Partnership(commitment=commitment, organisation=orgs_by_short[short],
                                       status=PartnershipStatus.INVITED, invited_by_id=lead.id))
        if plan.indicator and plan.indicator in indicators:
            ci = CommitmentIndicator(
                commitment=commitment, indicator=indicators[plan.indicator],
                baseline_value=Decimal(str(plan.baseline)) if plan.baseline is not None else None,
                baseline_date=quarters[0][0] - timedelta(days=1),
                target_value=Decimal(str(plan.target)) if plan.target is not None else None,
                target_date=date(today.year + 1, 3, 31),
            )
            db.session.add(ci)
            for (start, stop), value in zip(quarters[-len(plan.series):], plan.series, strict=True):
                db.session.add(Measurement(commitment_indicator=ci, period_start=start,
                                           period_end=stop, value=Decimal(str(value)),
                                           recorded_by_id=lead.id))
        if not plan.draft:
            _updates(commitment, org, lead, plan, quarters)
        count += 1
    db.session.flush()
    return {"commitments": count}


def _updates(commitment, org, lead, plan: Plan, quarters) -> None:
    """Three updates, one per recent quarter, stepping the completion up to today's."""
    ladder = [Completion.NOT_STARTED, Completion.LIMITED, Completion.SUBSTANTIAL, Completion.COMPLETED]
    final = plan.completion if plan.completion in ladder else Completion.LIMITED
    steps = ladder[: ladder.index(final) + 1][-3:]
    while len(steps) < 3:
        steps.insert(0, steps[0])
    previous, previous_rag = Completion.NOT_STARTED, RAG.ON_TRACK
    for (_start, stop), completion, texts in zip(quarters[-3:], steps, UPDATE_TEXTS, strict=True):
        rag = plan.rag if completion == final else RAG.ON_TRACK
        update_date = stop - timedelta(days=5)
        db.session.add(ProgressUpdate(
            commitment=commitment, organisation=org, author_id=lead.id, update_date=update_date,
            report=texts[0], reflect=texts[1], rethink=texts[2], refresh=texts[3],
            completion=completion, rag=rag, previous_completion=previous, previous_rag=previous_rag,
            created_at=datetime(update_date.year, update_date.month, update_date.day, 10, tzinfo=UTC),
        ))
        previous, previous_rag = completion, rag
