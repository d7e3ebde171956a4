"""The coordinator dashboard's figures, each against a count made independently with plain
Python over the records the test created (tests/test_dashboard_coordinator_data.py), and
the reporting statuses against charter.reports.status.site_reporting."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest

from charter.dashboards import coordinator as q
from charter.extensions import db
from charter.models import (
    RAG,
    CharterStatus,
    CommitmentStatus,
    Completion,
    OrganisationStatus,
    PartnershipStatus,
    ReportingStatus,
    ReportStatus,
    Tier,
)
from charter.permissions import PermissionDenied
from charter.reports.status import site_reporting
from tests import factories as f
from tests.test_dashboard_coordinator_data import build, current_signature, public_commitment

PUBLIC = (CommitmentStatus.PUBLISHED, CommitmentStatus.RETIRED)


@pytest.fixture
def varied(world):
    return build(world)


def _board(v, role="coordinator", now=None):
    return q.dashboard(v.world.user(role), v.site, now=now)


# --- the pipeline -----------------------------------------------------------------------------------

def expected_steps(v) -> dict[str, set[str]]:
    orgs = v.cambridge_orgs()
    approved = {o for o in orgs if o.status == OrganisationStatus.ACTIVE}
    signed = {o for o in approved if current_signature(v, o)}
    committed = {o for o in signed if any(c.organisation is o and c.status == CommitmentStatus.PUBLISHED
                                          for c in v.commitments)}
    reported = {o for o in committed
                if (r := v.reports.get((o.id, v.cycle_now.id))) and r.status == ReportStatus.PUBLISHED}
    return {"applied": {o.slug for o in orgs}, "approved": {o.slug for o in approved},
            "signed": {o.slug for o in signed}, "committed": {o.slug for o in committed},
            "reported": {o.slug for o in reported}}


def test_pipeline_counts_each_step_independently(varied):
    board = _board(varied)
    expected = expected_steps(varied)
    assert board.steps == [(step, len(expected[step])) for step in q.STEPS]
    # The fixture covers every step, and each step is a subset of the one before.
    assert [n for _s, n in board.steps] == [9, 6, 4, 3, 1]
    for before, after in zip(q.STEPS, q.STEPS[1:], strict=False):
        assert expected[after] <= expected[before]


def test_pipeline_lists_hold_the_organisations_counted(varied):
    expected = expected_steps(varied)
    scope = q.scope_for(varied.site)
    for step in q.STEPS:
        result = q.organisation_list(varied.world.user("coordinator"), varied.site,
                                     q.OrganisationFilters(step=step))
        assert {row.organisation.slug for row in result.page.items} == expected[step], step
        assert result.page.total == dict(_board(varied).steps)[step]
    assert scope.cycle.id == varied.cycle_now.id


# --- reporting status --------------------------------------------------------------------------------

def _python_statuses(site, now=None) -> dict[str, ReportingStatus]:
    reporting = site_reporting(site, now=now)
    cycle = reporting.current_cycle()
    return {o.slug: reporting.status(o, cycle) for o in reporting.organisations}


def _check_statuses(v, now=None):
    expected = _python_statuses(v.site, now)
    board = _board(v, now=now)
    counts = Counter(expected.values())
    assert board.status_counts == [(s, counts.get(s, 0)) for s in q.STATUS_ORDER]
    assert sum(n for _s, n in board.status_counts) == board.approved
    for status in q.STATUS_ORDER:
        result = q.organisation_list(v.world.user("coordinator"), v.site,
                                     q.OrganisationFilters(status=status), now=now)
        assert {r.organisation.slug for r in result.page.items} == {
            slug for slug, st in expected.items() if st == status}, status
    everyone = q.organisation_list(v.world.user("coordinator"), v.site,
                                   q.OrganisationFilters(step="approved"), now=now)
    assert {r.organisation.slug: r.status for r in everyone.page.items} == expected
    return expected, board


def test_reporting_status_before_the_due_date_matches_the_reports_module(varied):
    expected, board = _check_statuses(varied)
    assert expected == {
        "fenland-trust": ReportingStatus.PUBLISHED, "mind-in-the-fens": ReportingStatus.NOT_STARTED,
        "peer-support": ReportingStatus.DRAFT, "voices": ReportingStatus.EXEMPT,
        "anglia-uni": ReportingStatus.RETURNED, "late-joiners": ReportingStatus.EXEMPT,
    }
    assert board.cycle.id == varied.cycle_now.id


def test_reporting_status_after_the_due_date_puts_overdue_first(varied):
    due = varied.cycle_now.due_date
    later = datetime.combine(due + timedelta(days=3), time(12), tzinfo=UTC)
    # Signed on the due date (late evening, UTC) owes a report; signed the day after does not.
    version = next(s.charter_version for s in varied.signatures
                   if s.charter_version.status == CharterStatus.OPEN
                   and s.charter_version.site_id == varied.site.id)
    on_time = f.organisation(varied.site, "Signed On The Day", slug="on-the-day")
    f.signature(on_time, version, varied.world.user("lead"),
                signed_at=datetime.combine(due, time(23, 30), tzinfo=UTC))
    too_late = f.organisation(varied.site, "Signed Too Late", slug="too-late")
    f.signature(too_late, version, varied.world.user("lead"),
                signed_at=datetime.combine(due + timedelta(days=1), time(0, 30), tzinfo=UTC))
    db.session.commit()
    expected, board = _check_statuses(varied, now=later)
    assert expected["mind-in-the-fens"] == ReportingStatus.OVERDUE
    assert expected["peer-support"] == ReportingStatus.OVERDUE
    assert expected["anglia-uni"] == ReportingStatus.OVERDUE
    assert expected["on-the-day"] == ReportingStatus.OVERDUE
    assert expected["too-late"] == ReportingStatus.EXEMPT
    assert expected["fenland-trust"] == ReportingStatus.PUBLISHED
    # Overdue first, on the dashboard and in the list.
    statuses = [row.status for row in board.status_rows]
    assert statuses == sorted(statuses, key=q.STATUS_ORDER.index)
    assert statuses[:4] == [ReportingStatus.OVERDUE] * 4


def test_supporters_owe_reports_when_the_site_says_so(varied):
    varied.site.supporters_exempt = False
    db.session.commit()
    expected, _board_ = _check_statuses(varied)
    assert expected["voices"] == ReportingStatus.SUBMITTED


def test_reported_this_cycle_is_a_published_report_for_the_current_cycle(varied):
    # A published report for the previous cycle does not count as reporting this cycle.
    f.report(varied.orgs["peer-support"], varied.cycle_prev, status=ReportStatus.PUBLISHED)
    db.session.commit()
    assert dict(_board(varied).steps)["reported"] == 1


# --- coverage -------------------------------------------------------------------------------------------

def test_coverage_counts_public_commitments_per_organisation_and_domain(varied):
    board = _board(varied)
    approved = [o for o in varied.cambridge_orgs() if o.status == OrganisationStatus.ACTIVE]
    expected = {
        o.slug: {d.id: sum(1 for c in varied.commitments
                           if c.organisation is o and c.domain is d and c.status in PUBLIC)
                 for d in varied.domains}
        for o in approved
    }
    assert {row.organisation.slug: row.counts for row in board.coverage_rows} == expected
    assert [d.slug for d in board.domains] == [d.slug for d in varied.domains]  # active only
    for d in varied.domains:
        assert board.without[d.id] == sum(1 for counts in expected.values() if counts[d.id] == 0)
    # Those covering fewest domains come first.
    covered = [sum(1 for n in row.counts.values() if n) for row in board.coverage_rows]
    assert covered == sorted(covered)


def test_coverage_gaps_list_the_organisations_with_none(varied):
    user = varied.world.user("coordinator")
    board = _board(varied)
    for d in varied.domains:
        rows = q.organisation_list(user, varied.site, q.OrganisationFilters(
            step="approved", domain=d, coverage="none")).page.items
        expected = {row.organisation.slug for row in board.coverage_rows if row.counts[d.id] == 0}
        assert {r.organisation.slug for r in rows} == expected
        assert len(rows) == board.without[d.id]
        some = q.organisation_list(user, varied.site, q.OrganisationFilters(
            step="approved", domain=d, coverage="some")).page.items
        assert len(some) + len(rows) == board.approved


def test_coverage_shows_at_most_a_page_of_organisations(world):
    v = build(world, with_events=False)
    for i in range(q.MATRIX_ROWS + 5):
        f.organisation(v.site, f"Extra {i:02d}")
    db.session.commit()
    board = _board(v)
    assert len(board.coverage_rows) == q.MATRIX_ROWS
    assert board.approved == 6 + q.MATRIX_ROWS + 5
    # The gaps per domain still count every approved organisation.
    assert board.without[v.domains[0].id] == 3 + q.MATRIX_ROWS + 5


# --- completion and RAG -------------------------------------------------------------------------

def test_completion_and_rag_per_domain(varied):
    board = _board(varied)
    public = [c for c in varied.commitments if public_commitment(c, varied.site)]
    by_completion = Counter((c.domain.slug, c.completion) for c in public)
    by_rag = Counter((c.domain.slug, c.rag) for c in public)
    shown = {p.domain.slug: p for p in board.progress}
    # Active domains always; a retired domain only because a public commitment is under it.
    assert list(shown) == [d.slug for d in varied.all_domains]
    for slug, p in shown.items():
        assert p.completion == {c: by_completion.get((slug, c), 0) for c in Completion}
        assert p.rag == {r: by_rag.get((slug, r), 0) for r in RAG}
        assert p.total == sum(1 for c in public if c.domain.slug == slug)
    assert board.commitments == len(public) == 9
    assert board.progress_totals.completion == {c: sum(1 for x in public if x.completion == c)
                                                for c in Completion}
    # Drafts and other sites never count.
    assert all(c.status != CommitmentStatus.DRAFT and c.organisation.site_id == varied.site.id
               for c in public)


def test_commitment_lists_hold_the_commitments_counted(varied):
    user = varied.world.user("coordinator")
    public = [c for c in varied.commitments if public_commitment(c, varied.site)]
    domains = {d.slug: d for d in varied.all_domains}
    for slug, d in domains.items():
        for completion in Completion:
            rows = q.commitment_list(user, varied.site, q.CommitmentFilters(
                domain=d, completion=completion)).page.items
            assert {r.commitment.id for r in rows} == {
                c.id for c in public if c.domain is d and c.completion == completion}, (slug, completion)
        for rag in RAG:
            rows = q.commitment_list(user, varied.site, q.CommitmentFilters(domain=d, rag=rag)).page.items
            assert {r.commitment.id for r in rows} == {
                c.id for c in public if c.domain is d and c.rag == rag}
    everything = q.commitment_list(user, varied.site, q.CommitmentFilters()).page.items
    assert {r.commitment.id for r in everything} == {c.id for c in public}


# --- partnerships -----------------------------------------------------------------------------------

def _accepted(v):
    return [p for p in v.partnerships
            if p.status == PartnershipStatus.ACCEPTED and public_commitment(p.commitment, v.site)]


def test_partnerships_by_pair_of_sectors(varied):
    board = _board(varied)
    expected = Counter((p.commitment.organisation.sector, p.organisation.sector) for p in _accepted(varied))
    assert board.sector_pairs == dict(expected)
    assert board.partnerships == sum(expected.values()) == 13
    user = varied.world.user("coordinator")
    for (lead, partner), count in expected.items():
        rows = q.commitment_list(user, varied.site, q.CommitmentFilters(
            lead_sector=lead, partner_sector=partner)).page.items
        assert len(rows) == count
        assert Counter((r.commitment.id, r.partner.id) for r in rows) == Counter(
            (p.commitment.id, p.organisation.id) for p in _accepted(varied)
            if p.commitment.organisation.sector == lead and p.organisation.sector == partner)


def test_joint_commitments_across_three_sectors_or_more(varied):
    sectors: dict[int, set] = {}
    for p in _accepted(varied):
        sectors.setdefault(p.commitment.id, {p.commitment.organisation.sector}).add(p.organisation.sector)
    expected = {cid for cid, s in sectors.items() if len(s) >= 3}
    board = _board(varied)
    assert board.joint_across == len(expected) == 2
    rows = q.commitment_list(varied.world.user("coordinator"), varied.site,
                             q.CommitmentFilters(min_sectors=3)).page.items
    assert {r.commitment.id for r in rows} == expected
    rows = q.commitment_list(varied.world.user("coordinator"), varied.site,
                             q.CommitmentFilters(min_sectors=2)).page.items
    assert {r.commitment.id for r in rows} == set(sectors)


# --- recent activity -----------------------------------------------------------------------------------

def test_recent_activity_is_the_latest_twenty_events_of_the_site(varied):
    board = _board(varied)
    expected = sorted(varied.events, key=lambda e: (e.occurred_at, e.id), reverse=True)[:q.ACTIVITY]
    assert [e.id for e in board.activity] == [e.id for e in expected]
    assert all(e.site_id == varied.site.id for e in board.activity)
    assert "test.brisbane_only" not in {e.action for e in board.activity}


# --- permissions and empty sites -------------------------------------------------------------------

@pytest.mark.parametrize("role", ["public", "editor", "lead", "other_lead", "other_coordinator"])
def test_only_coordinators_and_admins_get_the_figures(world, role):
    with pytest.raises(PermissionDenied):
        q.dashboard(world.user(role), world.site)
    with pytest.raises(PermissionDenied):
        q.organisation_list(world.user(role), world.site, q.OrganisationFilters())
    with pytest.raises(PermissionDenied):
        q.commitment_list(world.user(role), world.site, q.CommitmentFilters())


def test_admin_gets_the_same_figures(varied):
    assert _board(varied, "admin").steps == _board(varied).steps


def test_a_site_with_no_data(world):
    empty = f.site("prague", name="Prague", timezone="Europe/Prague")
    admin = world.user("admin")
    board = q.dashboard(admin, empty)
    assert board.is_empty
    assert board.steps == [(s, 0) for s in q.STEPS]
    assert board.cycle is None and board.status_counts == [] and board.status_rows == []
    assert board.coverage_rows == [] and board.progress_totals is None
    assert board.sector_pairs == {} and board.joint_across == 0 and board.activity == []
    result = q.organisation_list(admin, empty, q.OrganisationFilters(status=ReportingStatus.OVERDUE))
    assert result.page.total == 0


def test_supporter_tier_filter(varied):
    rows = q.organisation_list(varied.world.user("coordinator"), varied.site,
                               q.OrganisationFilters(tier=Tier.SUPPORTER)).page.items
    assert [r.organisation.slug for r in rows] == ["voices"]
