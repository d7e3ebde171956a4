"""The public site view (/sites/<slug>, its dashboards section) and its printable PDF
(/sites/<slug>/overview.pdf): each figure against counts computed here from the records,
nothing private on the page or in the PDF, a fixed number of queries, empty states.

`build_scenario(world)` is shared with tests/test_global_view.py: two sites with
organisations in every state, commitments in every state, reports on time, late and
unpublished, catalogue and own indicators, and distinctive strings planted in everything
that must stay private."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from charter import documents
from charter.dashboards import metrics
from charter.extensions import db
from charter.formatting import display_date, zone
from charter.models import (
    CharterStatus,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Direction,
    Indicator,
    Measurement,
    Organisation,
    OrganisationStatus,
    ProgressReport,
    ReportStatus,
    Sector,
    SignatureWithdrawal,
    Tier,
)
from charter.reports.status import owes_report, site_reporting, site_today
from tests import factories as f
from tests.support import DOCUMENT_CACHE_QUERIES, count_queries, text_of

LONG_AGO = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
# Strings planted in private records: none may appear on a public page or in a PDF.
SECRETS = ("DRAFTLEAK", "PENDINGLEAK", "DECLINEDLEAK", "OWNLEAK", "99999", "SUMMARYLEAK",
           "editor@example.org", "lead@example.org", "coordinator@example.org")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squashed(text: str) -> str:
    return "".join(text.split())


@dataclass
class Scenario:
    world: object
    domains: dict = field(default_factory=dict)
    orgs: dict = field(default_factory=dict)
    cycles: dict = field(default_factory=dict)
    indicators: dict = field(default_factory=dict)


def _sign(org, version, signer, when=LONG_AGO):
    return f.signature(org, version, signer, signed_at=when)


def _measure(commitment, indicator, *points):
    ci = CommitmentIndicator(commitment=commitment, indicator=indicator)
    db.session.add(ci)
    for start, end, value in points:
        db.session.add(Measurement(commitment_indicator=ci, period_start=start, period_end=end,
                                   value=Decimal(str(value))))
    db.session.flush()
    return ci


def _published(org, cycle, at: datetime, **kw):
    return f.report(org, cycle, status=ReportStatus.PUBLISHED, published_at=at, **kw)


def quarter_ago(n: int) -> tuple[int, int]:
    """(year, quarter) n quarters before today's: the indicators read the last two years."""
    index = date.today().year * 4 + (date.today().month - 1) // 3 - n
    return index // 4, index % 4 + 1


QA, QB = quarter_ago(2), quarter_ago(1)  # the quarters the scenario's measurements fall in
LABEL_A, LABEL_B = f"{QA[0]} Q{QA[1]}", f"{QB[0]} Q{QB[1]}"


def q(year: int, quarter: int, month_in_quarter: int = 1) -> tuple[date, date]:
    """A one-month period inside the given quarter."""
    month = (quarter - 1) * 3 + month_in_quarter
    start = date(year, month, 1)
    end = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))
    return start, end


def build_scenario(world) -> Scenario:
    s = Scenario(world)
    cam, bri = world.site, world.other_site
    bri.supporters_exempt = False  # Brisbane's supporters report too
    lead = world.user("lead")
    v_cam = f.charter_version(cam, 1, CharterStatus.OPEN)
    v_bri = f.charter_version(bri, 1, CharterStatus.OPEN)

    d1 = f.domain("Least restrictive practice", slug="least-restrictive", position=1)
    d2 = f.domain("Integrated pathways", slug="integrated-pathways", position=2)
    f.domain("Retired and unused", slug="retired-unused", position=3, is_active=False)
    d4 = f.domain("Retired with history", slug="retired-history", position=4, is_active=False)
    s.domains = {"d1": d1, "d2": d2, "d4": d4}

    # --- Cambridge (Europe/London; supporters exempt) ---
    org, other = world.org, world.other_org            # statutory signatories
    third = f.organisation(cam, "Third Way <b>Charity</b>", sector=Sector.THIRD_SECTOR)
    supporter = f.organisation(cam, "Voices Together", sector=Sector.LIVED_EXPERIENCE,
                               tier=Tier.SUPPORTER)
    late = f.organisation(cam, "Late Joiner Trust", sector=Sector.ACADEMIC)
    unsigned = f.organisation(cam, "Unsigned Active Org", sector=Sector.COMMISSIONER)
    gone = f.organisation(cam, "Gone Away Org", status=OrganisationStatus.WITHDRAWN)
    pending = f.organisation(cam, "PENDINGLEAK Org", status=OrganisationStatus.PENDING)
    declined = f.organisation(cam, "DECLINEDLEAK Org", status=OrganisationStatus.DECLINED)
    for o in (org, other, third, supporter, gone, pending, declined):
        _sign(o, v_cam, lead)
    withdrawn_signature = _sign(unsigned, v_cam, lead)
    db.session.add(SignatureWithdrawal(signature=withdrawn_signature, withdrawn_by_id=lead.id,
                                       reason="Left", withdrawn_at=datetime(2025, 9, 1, tzinfo=UTC)))

    P, R, D = CommitmentStatus.PUBLISHED, CommitmentStatus.RETIRED, CommitmentStatus.DRAFT  # noqa: N806 - short names keep the fixture table readable
    c_org_done = f.commitment(org, d1, title="Fewer restraints", status=P, completion=Completion.COMPLETED)
    c_org_subst = f.commitment(org, d1, title="Calmer wards", status=P, completion=Completion.SUBSTANTIAL)
    c_org_draft = f.commitment(org, d2, title="DRAFTLEAK plan", status=D, completion=Completion.COMPLETED)
    f.commitment(org, d2, title="Joint discharge", status=R, completion=Completion.LIMITED)
    c_other = f.commitment(other, d1, title="Debriefs after every incident", status=P)
    f.commitment(other, d2, title="Crisis line in every practice", status=P,
                 completion=Completion.COMPLETED)
    f.commitment(third, d4, title="Peer support <script>alert(1)</script>", status=P,
                 completion=Completion.LIMITED)
    f.commitment(gone, d1, title="Old promise kept", status=P, completion=Completion.COMPLETED)
    c_pending = f.commitment(pending, d1, title="PENDINGLEAK commitment", status=P,
                             completion=Completion.COMPLETED)
    f.commitment(declined, d2, title="DECLINEDLEAK commitment", status=P)

    # --- Brisbane (Australia/Brisbane, UTC+10 all year; supporters report) ---
    b1 = f.organisation(bri, "Brisbane North Health", slug="brisbane-north", sector=Sector.STATUTORY)
    b2 = f.organisation(bri, "Brisbane Peer Network", slug="brisbane-peer", sector=Sector.THIRD_SECTOR)
    b3 = f.organisation(bri, "Queensland Voices", slug="queensland-voices", tier=Tier.SUPPORTER,
                        sector=Sector.LIVED_EXPERIENCE)
    for o in (b1, b2, b3):
        _sign(o, v_bri, world.user("other_lead"))
    c_b1 = f.commitment(b1, d1, title="Safewards on every ward", status=P, completion=Completion.COMPLETED)
    c_b2 = f.commitment(b2, d1, title="Peer workers in crisis teams", status=P,
                        completion=Completion.COMPLETED)
    f.commitment(b1, d2, title="Shared care records", status=P, completion=Completion.LIMITED)

    # --- reporting cycles: two past cycles each, and one still to come for Cambridge ---
    today = date.today()
    cam_a = f.cycle(cam, "Spring 2025", period_start=date(2025, 1, 1), period_end=date(2025, 3, 31),
                    due_date=date(2025, 4, 30))
    cam_b = f.cycle(cam, "Summer 2025", period_start=date(2025, 4, 1), period_end=date(2025, 6, 30),
                    due_date=date(2025, 7, 31))
    cam_next = f.cycle(cam, "Next cycle", period_start=today - timedelta(days=60),
                       period_end=today + timedelta(days=10), due_date=today + timedelta(days=40))
    bri_a = f.cycle(bri, "Autumn 2025", period_start=date(2025, 1, 1), period_end=date(2025, 3, 31),
                    due_date=date(2025, 4, 30))
    bri_b = f.cycle(bri, "Winter 2025", period_start=date(2025, 4, 1), period_end=date(2025, 6, 30),
                    due_date=date(2025, 7, 31))
    s.cycles = {"cam_a": cam_a, "cam_b": cam_b, "cam_next": cam_next, "bri_a": bri_a, "bri_b": bri_b}

    # Late Joiner signed after cycle A was due: it owes cycle B only.
    _sign(late, v_cam, lead, when=datetime(2025, 5, 10, 12, tzinfo=UTC))

    # Cycle A (due 30 April 2025, BST): on time; late by 30 minutes (00:30 on 1 May in London);
    # a draft; nothing from Unsigned Active Org.
    _published(org, cam_a, datetime(2025, 4, 20, 10, tzinfo=UTC))
    _published(other, cam_a, datetime(2025, 4, 30, 23, 30, tzinfo=UTC))
    f.report(third, cam_a, summary="SUMMARYLEAK draft")
    # Cycle B: two on time, one submitted but not published.
    _published(org, cam_b, datetime(2025, 7, 2, 9, tzinfo=UTC))
    _published(late, cam_b, datetime(2025, 7, 31, 22, 59, tzinfo=UTC))  # 23:59 BST: on time
    f.report(third, cam_b, status=ReportStatus.SUBMITTED, summary="SUMMARYLEAK submitted")
    # A report for the next cycle, published early.
    _published(other, cam_next, datetime.now(UTC) - timedelta(hours=1))
    # Brisbane A: 23:00 on the due date in Brisbane (on time); 01:00 the next day (late).
    _published(b1, bri_a, datetime(2025, 4, 30, 13, tzinfo=UTC))
    _published(b2, bri_a, datetime(2025, 4, 30, 15, tzinfo=UTC))
    _published(b1, bri_b, datetime(2025, 7, 20, 3, tzinfo=UTC))

    # --- indicators ---
    rate = Indicator(name="Restrictive interventions per 1,000 OBD", unit="per 1,000 OBD",
                     direction=Direction.LOWER_IS_BETTER, reference="MHS96")
    trained = Indicator(name="Staff trained in de-escalation", unit="%",
                        direction=Direction.HIGHER_IS_BETTER)
    own = Indicator(name="OWNLEAK indicator", unit="things", direction=Direction.HIGHER_IS_BETTER,
                    organisation_id=org.id)
    db.session.add_all([rate, trained, own])
    db.session.flush()
    s.indicators = {"rate": rate, "trained": trained, "own": own}
    # Cambridge: Fenland Trust Q1 = mean(10, 14, 20) over its two commitments; Q2 = 9.
    _measure(c_org_done, rate, (*q(*QA, 1), 10), (*q(*QA, 2), 14), (*q(*QB, 1), 9))
    _measure(c_org_subst, rate, (*q(*QA, 3), 20))
    _measure(c_other, rate, (*q(*QA, 1), 8), (*q(*QB, 2), 7))
    _measure(c_other, trained, (*q(*QB, 1), 55))
    _measure(c_org_draft, rate, (*q(*QA, 1), 99999))       # a draft: never counted
    _measure(c_pending, rate, (*q(*QA, 1), 99999))         # a pending organisation
    _measure(c_org_done, own, (*q(*QA, 1), 99999))         # not in the catalogue
    # Brisbane: Q1 = 6 (one organisation), Q2 = mean(5, 3); staff trained only in Q1.
    _measure(c_b1, rate, (*q(*QA, 1), 6), (*q(*QB, 1), 5))
    _measure(c_b2, rate, (*q(*QB, 3), 3))
    _measure(c_b1, trained, (*q(*QA, 2), 70))

    s.orgs = {"org": org, "other": other, "third": third, "supporter": supporter, "late": late,
              "unsigned": unsigned, "gone": gone, "pending": pending, "declined": declined,
              "b1": b1, "b2": b2, "b3": b3}
    db.session.commit()
    return s


# --- independent counts, straight from the records ----------------------------------------------

def public_commitments(site) -> list[Commitment]:
    return [c for c in db.session.scalars(select(Commitment))
            if c.organisation.site_id == site.id
            and c.organisation.status in (OrganisationStatus.ACTIVE, OrganisationStatus.WITHDRAWN)
            and c.status in (CommitmentStatus.PUBLISHED, CommitmentStatus.RETIRED)]


def current_signatories(site) -> list[Organisation]:
    return [o for o in db.session.scalars(select(Organisation).where(Organisation.site_id == site.id))
            if o.status == OrganisationStatus.ACTIVE
            and any(sig.withdrawal is None for sig in _signatures(o))]


def _signatures(org):
    from charter.models import Signature

    return list(db.session.scalars(select(Signature).where(Signature.organisation_id == org.id)))


def compliance_by_status_module(site) -> dict[str, tuple[int, int, int]]:
    """{cycle name: (owed, published, on time)} from charter.reports.status (Python rules)."""
    reporting = site_reporting(site)
    reports = {(r.organisation_id, r.cycle_id): r for r in db.session.scalars(select(ProgressReport))}
    out = {}
    for cycle in reporting.cycles:
        if cycle.due_date >= reporting.today:
            continue
        owed = published = on_time = 0
        for org in reporting.organisations:
            if not owes_report(org, cycle, site, reporting.signed_on.get(org.id)):
                continue
            owed += 1
            report = reports.get((org.id, cycle.id))
            if report is not None and report.status == ReportStatus.PUBLISHED:
                published += 1
                local = report.published_at.astimezone(zone(site.timezone)).date()
                on_time += local <= cycle.due_date
        out[cycle.name] = (owed, published, on_time)
    return out


# --- the figures -------------------------------------------------------------------------------------

def test_site_view_figures_equal_counts_from_the_records(world):
    build_scenario(world)
    site = world.site
    view = metrics.site_view(site)

    # Signatories by sector: active organisations holding a signature not withdrawn.
    signatories = current_signatories(site)
    expected = Counter((o.sector.value, o.tier.value) for o in signatories)
    got = {(r["sector"], "signatory"): r["signatories"] for r in view["sectors"]["rows"]}
    got.update({(r["sector"], "supporter"): r["supporters"] for r in view["sectors"]["rows"]})
    assert {k: v for k, v in got.items() if v} == dict(expected)
    assert view["sectors"]["signatories"] == 4 and view["sectors"]["supporters"] == 1  # by hand too
    # The page passes the signatories it has already loaded: the same figures, no query.
    with count_queries() as counter:
        from_page = metrics._sectors_section(site, signatories)
    assert from_page == view["sectors"] and counter.count == 0

    # Commitments by domain and completion level.
    commitments = public_commitments(site)
    by_cell = Counter((c.domain.slug, c.completion.value) for c in commitments)
    for row in view["domains"]["rows"]:
        for completion, n in row["counts"].items():
            assert n == by_cell.get((row["slug"], completion), 0), (row["slug"], completion)
    assert view["domains"]["total"] == len(commitments) == 7
    assert view["domains"]["by_completion"]["completed"] == 3
    slugs = [r["slug"] for r in view["domains"]["rows"]]
    assert slugs == ["least-restrictive", "integrated-pathways", "retired-history"]  # not retired-unused
    assert view["domains"]["rows"][0]["counts"] == {
        "not_started": 1, "limited": 0, "substantial": 1, "completed": 2, "withdrawn": 0}

    # Reporting compliance per past cycle, against charter.reports.status.
    expected = compliance_by_status_module(site)
    got = {c["name"]: (c["owed"], c["published"], c["on_time"]) for c in view["compliance"]["cycles"]}
    assert got == expected == {"Spring 2025": (4, 2, 1), "Summer 2025": (5, 2, 2)}
    q1 = view["compliance"]["cycles"][0]
    assert (q1["published_percent"], q1["on_time_percent"]) == (50, 25)

    # Latest published reports: public organisations only, newest first.
    published = sorted((r for r in db.session.scalars(select(ProgressReport))
                        if r.status == ReportStatus.PUBLISHED and r.organisation.site_id == site.id),
                       key=lambda r: r.published_at, reverse=True)
    assert [r["id"] for r in view["reports"]] == [r.id for r in published]

    # Indicator trends: catalogue indicators only, public commitments of public organisations.
    trends = {t["name"]: t for t in view["indicators"]}
    assert set(trends) == {"Restrictive interventions per 1,000 OBD", "Staff trained in de-escalation"}
    rate = trends["Restrictive interventions per 1,000 OBD"]
    fenland_q1 = (Decimal(10) + 14 + 20) / 3
    assert [(p["label"], p["value"], p["organisations"]) for p in rate["quarters"]] == [
        (LABEL_A, metrics.rounded((fenland_q1 + 8) / 2), 2),
        (LABEL_B, Decimal("8"), 2),
    ]
    assert rate["quarters"][0]["value"] == Decimal("11.33")
    assert rate["direction"] == "lower"


def test_brisbane_compliance_follows_its_time_zone_and_counts_supporters(world):
    build_scenario(world)
    view = metrics.site_view(world.other_site)
    got = {c["name"]: (c["owed"], c["published"], c["on_time"]) for c in view["compliance"]["cycles"]}
    assert got == compliance_by_status_module(world.other_site) == {
        "Autumn 2025": (3, 2, 1), "Winter 2025": (3, 1, 1)}


def test_site_page_shows_the_figures_and_nothing_private(client, world):
    build_scenario(world)
    response = client.get("/sites/cambridge")
    assert response.status_code == 200
    page, html = text_of(response), response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in html, secret
    assert "7 public commitments; 3 completed." in page
    assert "Least restrictive practice 1 0 1 2 0 4" in page  # the table behind the stacked bars
    assert "Spring 2025 25 50 4" in page and "Summer 2025 40 40 5" in page
    assert f"{LABEL_A} 11.33 2" in page and f"{LABEL_B} 8 2" in page
    assert "Fenland Trust: Summer 2025" in page
    assert "Third Way &lt;b&gt;Charity&lt;/b&gt;" in html and "<b>Charity</b>" not in html
    assert 'href="/sites/cambridge/overview.pdf"' in html
    assert html.count("<h1") == 1
    assert 'src="/charts/' in html


def test_site_view_empty_states(client, world):
    response = client.get("/sites/brisbane")
    page = text_of(response)
    assert response.status_code == 200
    assert "No organisation has signed the Brisbane charter yet." in page
    assert "No organisation of Brisbane has published a commitment yet." in page
    assert "No reporting cycle of Brisbane has passed its due date yet." in page
    assert "No report of a Brisbane organisation has been published yet." in page
    assert "No organisation of Brisbane reports a catalogue indicator on a public commitment yet." in page


def test_a_site_with_only_future_cycles_and_draft_commitments_shows_empty_states(client, world):
    d = f.domain("Healing environments")
    f.commitment(world.org, d, title="DRAFTLEAK only", status=CommitmentStatus.DRAFT)
    f.cycle(world.site, "Future", period_start=date.today(), period_end=date.today() + timedelta(days=5),
            due_date=date.today() + timedelta(days=30))
    page = text_of(client.get("/sites/cambridge"))
    assert "DRAFTLEAK" not in page
    assert "No organisation of Cambridge has published a commitment yet." in page
    assert "No reporting cycle of Cambridge has passed its due date yet." in page


def test_unknown_site_is_not_found(client, world):
    assert client.get("/sites/atlantis/overview.pdf").status_code == 404
    assert client.get("/sites/" + "x" * 500 + "/overview.pdf").status_code == 404


# --- the PDF ------------------------------------------------------------------------------------------

@pytest.mark.pdf
def test_site_pdf_carries_the_same_figures_and_nothing_private(client, world):
    build_scenario(world)
    response = client.get("/sites/cambridge/overview.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    reader = PdfReader(io.BytesIO(response.data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = pdf_text(response.data)
    flat = squashed(text)
    assert "Cambridge:PROMISEoverview" in flat
    assert "Generatedon" + squashed(display_date(site_today(world.site))) in flat
    assert "7publiccommitments;3completed" in flat
    assert "Spring202525504" in flat and "Summer202540405" in flat  # cycle, on time %, published %, owed
    assert squashed(LABEL_A) + "11.332" in flat
    assert "Fenland Trust" in text
    for secret in SECRETS:
        assert secret not in text, secret
    html_charts = client.get("/sites/cambridge").get_data(as_text=True)
    view = metrics.site_view(world.site)
    # The page and the PDF embed the very same chart.
    assert view["domains"]["chart"]["url"] in html_charts  # the PDF inlines the same SVG


@pytest.mark.pdf
def test_site_pdf_of_an_empty_site(client, world):
    response = client.get("/sites/brisbane/overview.pdf")
    assert response.status_code == 200
    flat = squashed(pdf_text(response.data))
    assert "Brisbane:PROMISEoverview" in flat
    assert "NoorganisationhassignedtheBrisbanecharteryet." in flat


# --- query counts ----------------------------------------------------------------------------------

def grow(site, n: int, domains, indicator, cycles, version, signer) -> None:
    """n more organisations on the site, each signed, with public and draft commitments,
    measurements in four quarters and reports in every cycle."""
    for i in range(n):
        org = f.organisation(site, sector=list(Sector)[i % len(Sector)],
                             tier=Tier.SUPPORTER if i % 4 == 0 else Tier.SIGNATORY)
        _sign(org, version, signer)
        for j, domain in enumerate(domains):
            c = f.commitment(org, domain, status=CommitmentStatus.PUBLISHED,
                             completion=list(Completion)[(i + j) % len(Completion)])
            f.commitment(org, domain, status=CommitmentStatus.DRAFT)
            _measure(c, indicator, *((*q(*quarter_ago(k)), i + k) for k in (1, 2, 3, 4)))
        for k, cycle in enumerate(cycles):
            if (i + k) % 3:
                _published(org, cycle, datetime.combine(cycle.due_date, datetime.min.time(), UTC))
    db.session.commit()


def _queries(client, url: str) -> int:
    # The factories write no audit events, so the data version does not change as the data
    # grow: drop the cached copy, to count the queries of building the document again.
    documents.forget()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("role", ["public", "coordinator"])
def test_site_page_runs_a_fixed_number_of_queries(client, world, role):
    if world.user(role):
        client.login(world.user(role))
    s = build_scenario(world)
    version = f.charter_version(world.site, 2, CharterStatus.SUPERSEDED)
    args = ([s.domains["d1"], s.domains["d2"]], s.indicators["rate"],
            [s.cycles["cam_a"], s.cycles["cam_b"]], version, world.user("lead"))
    grow(world.site, 2, *args)
    small = _queries(client, "/sites/cambridge")
    grow(world.site, 40, *args)
    large = _queries(client, "/sites/cambridge")
    assert small == large, f"the site page ran {small} queries with little data, {large} with more"


def test_site_pdf_runs_a_fixed_number_of_queries(client, world):
    s = build_scenario(world)
    version = f.charter_version(world.site, 2, CharterStatus.SUPERSEDED)
    args = ([s.domains["d1"]], s.indicators["rate"], [s.cycles["cam_a"]], version, world.user("lead"))
    grow(world.site, 2, *args)
    small = _queries(client, "/sites/cambridge/overview.pdf")
    grow(world.site, 30, *args)
    large = _queries(client, "/sites/cambridge/overview.pdf")
    # 10: the site view from its rollups (whether they exist, then each summary), and when
    # they were last refreshed (part of the PDF's fingerprint)
    assert small == large <= 10 + DOCUMENT_CACHE_QUERIES


def test_indicator_history_older_than_two_years_is_not_read(world):
    d = f.domain("Healing environments")
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    c = f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED)
    rate = Indicator(name="Seclusion episodes", unit="episodes", direction=Direction.LOWER_IS_BETTER)
    db.session.add(rate)
    db.session.flush()
    _measure(c, rate, (*q(*quarter_ago(8)), 77777), (*q(*quarter_ago(7)), 12), (*q(*quarter_ago(0)), 4))
    db.session.commit()
    [trend] = metrics.site_view(world.site)["indicators"]
    assert [(p["year"], p["quarter"], p["value"]) for p in trend["quarters"]] == [
        (*quarter_ago(7), Decimal(12)), (*quarter_ago(0), Decimal(4))]
