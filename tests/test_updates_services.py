"""Progress updates at the service level: the five parts, the completion history,
partners' updates, dates, and who may write them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from sqlalchemy import func, select

from charter.commitments import updates
from charter.commitments.services import CommitmentError
from charter.extensions import db
from charter.models import (
    RAG,
    AuditEvent,
    CommitmentStatus,
    Completion,
    MemberRole,
    Partnership,
    PartnershipStatus,
    ProgressUpdate,
)
from charter.permissions import PermissionDenied
from tests import factories as f
from tests.access.indicators import commitment as make_commitment

TODAY = date(2026, 11, 20)


@pytest.fixture
def c(world):
    return make_commitment(world, completion=Completion.LIMITED, rag=RAG.ON_TRACK)


def _values(**kw):
    values = {"update_date": TODAY - timedelta(days=1),
              "report": "Prone restraint fell from 14 to 9 episodes this quarter.",
              "reflect": "Agency staffing on Ward 3 got in the way.", "completion": Completion.SUBSTANTIAL,
              "rag": RAG.AT_RISK, "rethink": "Safewards training moves to induction.",
              "refresh": "Audit in January; report to the board in March."}
    values.update(kw)
    return updates.UpdateValues(**values)


def _add(world, c, role="editor", **kw):
    return updates.add_update(world.user(role), c, _values(**kw), today=TODAY)


def _partner(world, c, status=PartnershipStatus.ACCEPTED):
    p = Partnership(commitment=c, organisation=world.other_org, status=status)
    db.session.add(p)
    db.session.flush()
    return p


def test_an_update_keeps_the_five_parts_and_moves_completion_with_history(world, c):
    version_before = c.version
    u = _add(world, c)
    assert (u.report, u.reflect, u.rethink, u.refresh) == (
        "Prone restraint fell from 14 to 9 episodes this quarter.",
        "Agency staffing on Ward 3 got in the way.", "Safewards training moves to induction.",
        "Audit in January; report to the board in March.")
    assert (u.previous_completion, u.completion) == (Completion.LIMITED, Completion.SUBSTANTIAL)
    assert (u.previous_rag, u.rag) == (RAG.ON_TRACK, RAG.AT_RISK)
    assert (c.completion, c.rag) == (Completion.SUBSTANTIAL, RAG.AT_RISK)
    assert u.organisation_id == world.org.id and u.author_id == world.user("editor").id
    assert c.version > version_before  # an edit form loaded before this update now conflicts
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "commitment.progress_update_added")).all()
    assert (event.object_type, event.object_id) == ("Commitment", c.id)
    assert event.changes == {"update_date": "2026-11-19", "organisation": "Fenland Trust",
                             "completion": ["limited", "substantial"], "rag": ["on_track", "at_risk"]}


def test_the_completion_history_is_kept_across_updates(world, c):
    _add(world, c, update_date=TODAY - timedelta(days=60), completion=Completion.SUBSTANTIAL)
    _add(world, c, role="lead", update_date=TODAY, completion=Completion.COMPLETED, rag=RAG.ON_TRACK)
    history = db.session.execute(
        select(ProgressUpdate.previous_completion, ProgressUpdate.completion)
        .order_by(ProgressUpdate.update_date)).all()
    assert history == [(Completion.LIMITED, Completion.SUBSTANTIAL),
                       (Completion.SUBSTANTIAL, Completion.COMPLETED)]
    assert c.completion == Completion.COMPLETED


def test_an_update_that_changes_nothing_records_only_the_date_and_organisation(world, c):
    _add(world, c, completion=Completion.LIMITED, rag=RAG.ON_TRACK)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "commitment.progress_update_added"))
    assert set(event.changes) == {"update_date", "organisation"}


def test_members_of_an_accepted_partner_write_updates_for_their_organisation(world, c):
    _partner(world, c)
    u = _add(world, c, role="other_editor")
    assert u.organisation_id == world.other_org.id
    assert c.completion == Completion.SUBSTANTIAL


@pytest.mark.parametrize("status", [PartnershipStatus.INVITED, PartnershipStatus.DECLINED,
                                    PartnershipStatus.ENDED])
def test_partners_that_have_not_accepted_cannot_write_updates(world, c, status):
    _partner(world, c, status)
    with pytest.raises(PermissionDenied):
        _add(world, c, role="other_editor")


def test_partners_cannot_write_updates_on_a_draft(world):
    draft = make_commitment(world, published=False)
    _partner(world, draft)
    with pytest.raises(PermissionDenied):
        _add(world, draft, role="other_lead")
    assert _add(world, draft, role="lead").organisation_id == world.org.id


@pytest.mark.parametrize("role", ["other_editor", "other_lead", "coordinator", "admin", "public"])
def test_outsiders_cannot_write_updates(world, c, role):
    with pytest.raises(PermissionDenied):
        _add(world, c, role=role)
    assert db.session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0
    assert c.completion == Completion.LIMITED


def test_a_retired_commitment_takes_no_updates(world, c):
    c.status = CommitmentStatus.RETIRED
    with pytest.raises(PermissionDenied):
        _add(world, c, role="lead")


def test_a_member_of_both_organisations_writes_for_the_lead_one(world, c):
    _partner(world, c)
    f.member(world.user("editor"), world.other_org, MemberRole.EDITOR)
    assert _add(world, c).organisation_id == world.org.id


@pytest.mark.parametrize(("kw", "field", "words"), [
    ({"update_date": TODAY + timedelta(days=1)}, "update_date", "cannot be in the future"),
    ({"update_date": None}, "update_date", "Enter the date"),
    ({"report": "   "}, "report", "Write the Report"),
    ({"reflect": "x" * 10_001}, "reflect", "10,000 characters"),
    ({"refresh": "x" * 10_001}, "refresh", "10,000 characters"),
])
def test_update_rules(world, c, kw, field, words):
    with pytest.raises(CommitmentError) as exc:
        _add(world, c, **kw)
    assert exc.value.field == field and words in exc.value.message
    assert db.session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0
    assert c.completion == Completion.LIMITED


def test_today_is_allowed_and_only_report_is_required(world, c):
    u = _add(world, c, update_date=TODAY, reflect="", rethink="", refresh="")
    assert u.update_date == TODAY and u.reflect == ""


def test_today_is_the_sites_today(world):
    """Just after midnight in Brisbane it is still yesterday in London."""
    brisbane_org = f.organisation(world.other_site, "Brisbane North PHN")
    c = make_commitment(world, org=brisbane_org)
    instant = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # 00:30 on the 21st in Brisbane
    with mock.patch("charter.commitments.updates.datetime") as fake:
        fake.now.side_effect = instant.astimezone
        assert updates.site_today(c) == date(2026, 11, 21)
        assert updates.site_today(make_commitment(world)) == date(2026, 11, 20)
