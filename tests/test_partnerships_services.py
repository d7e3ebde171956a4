"""Partnerships at the service level: inviting (own organisation, inactive organisations,
duplicates, re-inviting), answering (only the partner's lead, only once), ending, draft
privacy for the invited organisation, progress updates by partners, and the read side."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from charter import permissions
from charter.commitments import partnerships
from charter.commitments import queries as commitment_queries
from charter.commitments.services import CommitmentError
from charter.extensions import db
from charter.models import (
    AuditEvent,
    Commitment,
    CommitmentStatus,
    MemberRole,
    OrganisationStatus,
    OutboxMessage,
    Partnership,
    PartnershipStatus,
    Sector,
    User,
)
from charter.models.base import utcnow
from tests import factories as f


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _mail(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def make_commitment(org, *, status=CommitmentStatus.PUBLISHED, domain=None, **kw):
    domain = domain or f.domain(f"Domain {f.n()}")
    return f.commitment(org, domain, status=status,
                        published_at=utcnow() if status != CommitmentStatus.DRAFT else None, **kw)


def make_partnership(commitment, org, status=PartnershipStatus.ACCEPTED, **kw):
    p = Partnership(commitment=commitment, organisation=org, status=status, **kw)
    db.session.add(p)
    db.session.flush()
    return p


@pytest.fixture
def police(world):
    """An organisation of the other site (Brisbane), with a lead and an editor."""
    org = f.organisation(world.other_site, "Queensland Police Service", slug="qps",
                         sector=Sector.STATUTORY)
    lead = f.user("inspector@example.org", full_name="Inspector Ngaio Tūhoe")
    editor = f.user("constable@example.org", full_name="Constable Lee")
    f.member(lead, org, MemberRole.LEAD)
    f.member(editor, org, MemberRole.EDITOR)
    db.session.commit()
    return org


# --- inviting ---------------------------------------------------------------------------

def test_a_lead_invites_an_organisation_of_another_site(world, police):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("lead"), c, police.id, "  Shares data on call-outs  ")
    assert p.status == PartnershipStatus.INVITED
    assert p.organisation_id == police.id
    assert p.role_note == "Shares data on call-outs"
    assert p.invited_by_id == world.user("lead").id
    [event] = _events("commitment.partner_invited")
    assert (event.object_type, event.object_id) == ("Commitment", c.id)
    assert event.organisation_id == world.org.id
    assert event.changes["partner"] == "Queensland Police Service"
    assert event.changes["status"] == [None, "invited"]
    # The invited organisation's lead is told (not its editor), with a link to answer.
    [message] = _mail("partnership_invited")
    assert message.to_address == "inspector@example.org"
    assert "/organisations/qps/partnerships" in message.body_text
    assert c.title in message.body_text and "Fenland Trust" in message.body_text
    assert "Shares data on call-outs" in message.body_text


def test_an_editor_of_the_lead_organisation_may_invite_too(world):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("editor"), c, world.other_org.id)
    assert p.status == PartnershipStatus.INVITED
    assert [m.to_address for m in _mail("partnership_invited")] == ["other.lead@example.org"]


@pytest.mark.parametrize("role", ["other_lead", "other_editor", "coordinator", "admin"])
def test_only_members_of_the_lead_organisation_invite(world, role):
    c = make_commitment(world.org)
    with pytest.raises(permissions.PermissionDenied):
        partnerships.invite(world.user(role), c, world.other_org.id)
    assert _count(Partnership) == 0


def test_no_one_invites_partners_to_a_retired_commitment(world):
    c = make_commitment(world.org, status=CommitmentStatus.RETIRED)
    with pytest.raises(permissions.PermissionDenied):
        partnerships.invite(world.user("lead"), c, world.other_org.id)


def test_inviting_its_own_organisation_is_refused(world):
    c = make_commitment(world.org)
    with pytest.raises(CommitmentError) as exc:
        partnerships.invite(world.user("lead"), c, world.org.id)
    assert exc.value.field == "organisation"
    assert "Fenland Trust leads this commitment" in exc.value.message
    assert _count(Partnership) == 0 and _events("commitment.partner_invited") == []


@pytest.mark.parametrize(("status", "words"), [
    (OrganisationStatus.PENDING, "still waiting for approval"),
    (OrganisationStatus.DECLINED, "was declined"),
    (OrganisationStatus.WITHDRAWN, "has withdrawn from the charter"),
])
def test_organisations_that_are_not_active_cannot_be_invited(world, status, words):
    org = f.organisation(world.other_site, "Brisbane Wellbeing Collective", status=status)
    c = make_commitment(world.org)
    with pytest.raises(CommitmentError) as exc:
        partnerships.invite(world.user("lead"), c, org.id)
    assert words in exc.value.message
    assert "Brisbane Wellbeing Collective" in exc.value.message
    assert exc.value.field == "organisation"
    assert _count(Partnership) == 0 and _count(OutboxMessage) == 0


def test_an_unknown_organisation_is_refused(world):
    c = make_commitment(world.org)
    for bad in (0, -1, 999_999, 2**40):
        with pytest.raises(CommitmentError) as exc:
            partnerships.invite(world.user("lead"), c, bad)
        assert exc.value.message == "Choose an organisation from the list."


def test_an_over_long_role_note_is_refused(world):
    c = make_commitment(world.org)
    with pytest.raises(CommitmentError) as exc:
        partnerships.invite(world.user("lead"), c, world.other_org.id, "x" * 301)
    assert exc.value.field == "role_note"
    # 300 characters of any script are fine.
    p = partnerships.invite(world.user("lead"), c, world.other_org.id, "王" * 300)
    assert len(p.role_note) == 300


@pytest.mark.parametrize(("status", "words"), [
    (PartnershipStatus.INVITED, "has already been invited"),
    (PartnershipStatus.ACCEPTED, "is already a partner"),
])
def test_an_organisation_already_invited_or_partnered_is_refused(world, status, words):
    c = make_commitment(world.org)
    make_partnership(c, world.other_org, status)
    with pytest.raises(CommitmentError) as exc:
        partnerships.invite(world.user("lead"), c, world.other_org.id)
    assert words in exc.value.message and exc.value.status == 409
    assert _count(Partnership) == 1
    assert db.session.scalar(select(Partnership.status)) == status


@pytest.mark.parametrize("status", [PartnershipStatus.DECLINED, PartnershipStatus.ENDED])
def test_a_declined_or_ended_partnership_is_invited_again_on_the_same_row(world, status):
    c = make_commitment(world.org)
    old = make_partnership(c, world.other_org, status, role_note="Old role",
                           responded_by_id=world.user("other_lead").id, responded_at=utcnow())
    p = partnerships.invite(world.user("editor"), c, world.other_org.id, "New role")
    assert p.id == old.id and _count(Partnership) == 1
    assert p.status == PartnershipStatus.INVITED
    assert p.role_note == "New role"
    assert p.invited_by_id == world.user("editor").id
    assert p.responded_by_id is None and p.responded_at is None
    [event] = _events("commitment.partner_invited")
    assert event.changes["status"] == [status.value, "invited"]


def test_a_draft_commitment_can_have_partners_invited(world):
    c = make_commitment(world.org, status=CommitmentStatus.DRAFT,
                        description="SECRET plan for the wards")
    partnerships.invite(world.user("lead"), c, world.other_org.id)
    [message] = _mail("partnership_invited")
    assert "SECRET" not in message.body_text
    assert "still a draft" in message.body_text


# --- answering --------------------------------------------------------------------------

def test_the_partners_lead_accepts_and_the_lead_organisation_is_told(world):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("lead"), c, world.other_org.id)
    partnerships.accept(world.user("other_lead"), p)
    assert p.status == PartnershipStatus.ACCEPTED
    assert p.responded_by_id == world.user("other_lead").id and p.responded_at is not None
    [event] = _events("commitment.partner_accepted")
    assert (event.object_type, event.object_id) == ("Commitment", c.id)
    assert event.changes["status"] == ["invited", "accepted"]
    [message] = _mail("partnership_answered")
    assert message.to_address == "lead@example.org"  # the lead organisation's lead only
    assert "has accepted" in message.body_text
    assert f"/commitments/{c.id}/partners" in message.body_text
    assert permissions.accepted_partner_ids(c) == {world.other_org.id}


def test_the_partners_lead_declines(world):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("lead"), c, world.other_org.id)
    partnerships.decline(world.user("other_lead"), p)
    assert p.status == PartnershipStatus.DECLINED
    assert _events("commitment.partner_declined")[0].changes["status"] == ["invited", "declined"]
    [message] = _mail("partnership_answered")
    assert "has declined" in message.body_text


@pytest.mark.parametrize("role", ["other_editor", "lead", "editor", "coordinator", "admin"])
def test_only_a_lead_of_the_invited_organisation_answers(world, role):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("lead"), c, world.other_org.id)
    for action in (partnerships.accept, partnerships.decline):
        with pytest.raises(permissions.PermissionDenied):
            action(world.user(role), p)
    assert p.status == PartnershipStatus.INVITED
    assert _events("commitment.partner_accepted") == []


def test_a_withdrawn_partner_can_no_longer_answer(world):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("lead"), c, world.other_org.id)
    world.other_org.status = OrganisationStatus.WITHDRAWN
    with pytest.raises(permissions.PermissionDenied):
        partnerships.accept(world.user("other_lead"), p)


@pytest.mark.parametrize(("first", "second", "words"), [
    ("accept", "accept", "already accepted"),
    ("accept", "decline", "already accepted"),
    ("decline", "accept", "already declined"),
    ("decline", "decline", "already declined"),
])
def test_an_invitation_is_answered_once(world, first, second, words):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("lead"), c, world.other_org.id)
    getattr(partnerships, first)(world.user("other_lead"), p)
    db.session.commit()
    with pytest.raises(CommitmentError) as exc:
        getattr(partnerships, second)(world.user("other_lead"), p)
    assert words in exc.value.message and exc.value.status == 409
    assert len(_mail("partnership_answered")) == 1


def test_an_ended_partnership_cannot_be_answered(world):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org, PartnershipStatus.ENDED)
    with pytest.raises(CommitmentError) as exc:
        partnerships.accept(world.user("other_lead"), p)
    assert "has ended" in exc.value.message


def test_a_retired_commitment_cannot_be_joined_but_can_be_declined(world):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("lead"), c, world.other_org.id)
    c.status = CommitmentStatus.RETIRED
    with pytest.raises(CommitmentError) as exc:
        partnerships.accept(world.user("other_lead"), p)
    assert "retired" in exc.value.message
    partnerships.decline(world.user("other_lead"), p)
    assert p.status == PartnershipStatus.DECLINED


# --- ending ------------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "told"), [("lead", "other.lead@example.org"),
                                             ("other_lead", "lead@example.org")])
def test_either_sides_lead_ends_an_accepted_partnership(world, role, told):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org)
    partnerships.end(world.user(role), p)
    assert p.status == PartnershipStatus.ENDED
    assert p.responded_by_id == world.user(role).id
    [event] = _events("commitment.partner_ended")
    assert event.object_id == c.id
    assert event.changes["status"] == ["accepted", "ended"]
    assert [m.to_address for m in _mail("partnership_ended")] == [told]
    # No longer joint: off the partner's profile.
    groups = commitment_queries.organisation_commitments(world.other_org, include_drafts=True)
    assert groups == []


@pytest.mark.parametrize("role", ["editor", "other_editor", "coordinator", "admin"])
def test_only_a_lead_ends_a_partnership(world, role):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org)
    with pytest.raises(permissions.PermissionDenied):
        partnerships.end(world.user(role), p)
    assert p.status == PartnershipStatus.ACCEPTED


@pytest.mark.parametrize(("status", "words"), [
    (PartnershipStatus.INVITED, "this one is invited"),
    (PartnershipStatus.DECLINED, "this one is declined"),
    (PartnershipStatus.ENDED, "already ended"),
])
def test_only_an_accepted_partnership_can_be_ended(world, status, words):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org, status)
    with pytest.raises(CommitmentError) as exc:
        partnerships.end(world.user("lead"), p)
    assert words in exc.value.message and exc.value.status == 409
    assert _events("commitment.partner_ended") == []


def test_a_retired_commitment_keeps_its_partners(world):
    c = make_commitment(world.org, status=CommitmentStatus.RETIRED)
    p = make_partnership(c, world.other_org)
    with pytest.raises(CommitmentError) as exc:
        partnerships.end(world.user("other_lead"), p)
    assert "retired" in exc.value.message
    assert p.status == PartnershipStatus.ACCEPTED


def test_the_whole_story_is_on_the_commitments_public_timeline(world):
    c = make_commitment(world.org)
    p = partnerships.invite(world.user("lead"), c, world.other_org.id)
    partnerships.decline(world.user("other_lead"), p)
    partnerships.invite(world.user("lead"), c, world.other_org.id)
    partnerships.accept(world.user("other_lead"), p)
    partnerships.end(world.user("other_lead"), p)
    actions = [e.event.action for e in commitment_queries.timeline(c)]
    assert actions == ["commitment.partner_ended", "commitment.partner_accepted",
                       "commitment.partner_invited", "commitment.partner_declined",
                       "commitment.partner_invited"]


# --- drafts and what partners may do ------------------------------------------------------

def test_the_invited_organisation_sees_only_the_title_of_a_draft(world):
    c = make_commitment(world.org, status=CommitmentStatus.DRAFT)
    p = partnerships.invite(world.user("lead"), c, world.other_org.id)
    # The commitment itself stays private to the lead organisation (and its coordinators)...
    assert not permissions.can_view_commitment(world.user("other_lead"), c)
    # ...even once accepted: it is not on the partner's profile until published.
    partnerships.accept(world.user("other_lead"), p)
    assert not permissions.can_view_commitment(world.user("other_lead"), c)
    assert commitment_queries.organisation_commitments(world.other_org, include_drafts=True) == []
    # The partner's own page lists it (by title and lead organisation).
    assert [x.commitment.title for x in partnerships.inbox(world.other_org).accepted] == [c.title]
    c.status = CommitmentStatus.PUBLISHED
    c.published_at = utcnow()
    db.session.flush()
    assert permissions.can_view_commitment(world.user("other_lead"), c)
    [group] = commitment_queries.organisation_commitments(world.other_org, include_drafts=False)
    assert group.commitments == [c]


@pytest.mark.parametrize(("status", "commitment_status", "allowed"), [
    (PartnershipStatus.ACCEPTED, CommitmentStatus.PUBLISHED, True),
    (PartnershipStatus.INVITED, CommitmentStatus.PUBLISHED, False),
    (PartnershipStatus.DECLINED, CommitmentStatus.PUBLISHED, False),
    (PartnershipStatus.ENDED, CommitmentStatus.PUBLISHED, False),
    (PartnershipStatus.ACCEPTED, CommitmentStatus.DRAFT, False),
    (PartnershipStatus.ACCEPTED, CommitmentStatus.RETIRED, False),
])
def test_members_of_accepted_partners_may_add_progress_updates(world, status, commitment_status,
                                                                allowed):
    c = make_commitment(world.org, status=commitment_status)
    make_partnership(c, world.other_org, status)
    assert permissions.can_add_progress_update(world.user("other_editor"), c) is allowed
    assert permissions.can_add_progress_update(world.user("other_lead"), c) is allowed
    # Partners add updates; they do not edit the commitment or invite others.
    assert not permissions.can_edit_commitment(world.user("other_lead"), c)
    assert not permissions.can_invite_partner(world.user("other_lead"), c)


def test_who_may_see_a_partnership(world):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    outsider = f.user("outsider@example.org")
    assert permissions.can_view_partnership(world.user("other_editor"), p)
    assert permissions.can_view_partnership(world.user("editor"), p)
    assert permissions.can_view_partnership(world.user("coordinator"), p)
    assert not permissions.can_view_partnership(world.user("other_coordinator"), p)
    assert not permissions.can_view_partnership(outsider, p)
    assert not permissions.can_view_partnership(None, p)
    p.status = PartnershipStatus.ACCEPTED
    assert permissions.can_view_partnership(None, p)


# --- the read side --------------------------------------------------------------------------

def test_invitable_organisations_leave_out_the_lead_inactive_and_open_partnerships(world, police):
    c = make_commitment(world.org)
    declined = f.organisation(world.site, "Cambridge Council", slug="council")
    make_partnership(c, declined, PartnershipStatus.DECLINED)
    make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    f.organisation(world.site, "Pending Org", status=OrganisationStatus.PENDING)
    f.organisation(world.site, "Withdrawn Org", status=OrganisationStatus.WITHDRAWN)
    found = partnerships.invitable_organisations(c)
    assert [o.name for o in found.organisations] == ["Cambridge Council", "Queensland Police Service"]
    assert not found.more
    assert [o.name for o in partnerships.invitable_organisations(
        c, site_id=world.other_site.id).organisations] == ["Queensland Police Service"]
    assert partnerships.invitable_organisations(c, sector=Sector.THIRD_SECTOR).organisations == []


def test_invitable_organisations_search_folds_accents_and_case(world):
    c = make_commitment(world.org)
    f.organisation(world.other_site, "Národní ústav duševního zdraví", slug="nudz")
    f.organisation(world.other_site, "100% Mental_Health", slug="pct")
    assert [o.slug for o in partnerships.invitable_organisations(
        c, search="NARODNI ustav").organisations] == ["nudz"]
    assert [o.slug for o in partnerships.invitable_organisations(
        c, search="100%").organisations] == ["pct"]
    # Punctuation alone folds to nothing: the whole list is shown, not an error.
    assert len(partnerships.invitable_organisations(c, search="%_%").organisations) == 3


def test_invitable_organisations_are_capped_and_say_there_are_more(world):
    c = make_commitment(world.org)
    for i in range(5):
        f.organisation(world.other_site, f"Brisbane group {i}")
    found = partnerships.invitable_organisations(c, search="brisbane", limit=3)
    assert len(found.organisations) == 3 and found.more


def _joint(world, *, sectors, site=None, status=CommitmentStatus.PUBLISHED, domain=None,
           partner_status=PartnershipStatus.ACCEPTED):
    c = make_commitment(world.org, status=status, domain=domain)
    for sector in sectors:
        org = f.organisation(site or world.site, f"{sector.label} partner {f.n()}", sector=sector)
        make_partnership(c, org, partner_status)
    return c


def test_joint_commitments_are_published_with_an_accepted_partner_most_sectors_first(world):
    two = _joint(world, sectors=[Sector.THIRD_SECTOR])
    three = _joint(world, sectors=[Sector.THIRD_SECTOR, Sector.COMMISSIONER, Sector.STATUTORY])
    _joint(world, sectors=[Sector.THIRD_SECTOR], status=CommitmentStatus.DRAFT)
    _joint(world, sectors=[Sector.THIRD_SECTOR], status=CommitmentStatus.RETIRED)
    _joint(world, sectors=[Sector.THIRD_SECTOR], partner_status=PartnershipStatus.INVITED)
    _joint(world, sectors=[Sector.THIRD_SECTOR], partner_status=PartnershipStatus.ENDED)
    make_commitment(world.org)  # no partner at all
    page = partnerships.joint_commitments_page(partnerships.JointFilters(), 1, 20)
    assert page.items == [three, two]
    assert page.total == 2
    assert partnerships.sectors_of(three) == [Sector.STATUTORY, Sector.THIRD_SECTOR,
                                              Sector.COMMISSIONER]
    assert partnerships.sectors_across(partnerships.JointFilters()) == 3


def test_joint_commitments_filter_by_site_sectors_domain_and_number_of_sectors(world):
    domain = f.domain("Integrated pathways", slug="integrated-pathways")
    local = _joint(world, sectors=[Sector.THIRD_SECTOR])
    abroad = _joint(world, sectors=[Sector.ACADEMIC], site=world.other_site, domain=domain)
    trio = _joint(world, sectors=[Sector.THIRD_SECTOR, Sector.LIVED_EXPERIENCE], domain=domain)

    def ids(**kw):
        return [c.id for c in partnerships.joint_commitments_page(
            partnerships.JointFilters(**kw), 1, 20).items]

    # A site matches the lead organisation or any accepted partner.
    assert sorted(ids(site_id=world.site.id)) == sorted([local.id, abroad.id, trio.id])
    assert ids(site_id=world.other_site.id) == [abroad.id]
    # Every ticked sector must take part.
    assert sorted(ids(sectors=[Sector.STATUTORY, Sector.THIRD_SECTOR])) == sorted([local.id, trio.id])
    assert ids(sectors=[Sector.THIRD_SECTOR, Sector.LIVED_EXPERIENCE]) == [trio.id]
    assert ids(sectors=[Sector.COMMISSIONER]) == []
    assert sorted(ids(domain_id=domain.id)) == sorted([abroad.id, trio.id])
    assert ids(min_sectors=3) == [trio.id]
    assert partnerships.sectors_across(partnerships.JointFilters(min_sectors=3)) == 3
    assert partnerships.sectors_across(
        partnerships.JointFilters(site_id=world.other_site.id)) == 2


def test_an_inbox_sorts_partnerships_by_status(world):
    waiting = make_partnership(make_commitment(world.org), world.other_org, PartnershipStatus.INVITED)
    joint = make_partnership(make_commitment(world.org), world.other_org)
    declined = make_partnership(make_commitment(world.org), world.other_org,
                                PartnershipStatus.DECLINED)
    ended = make_partnership(make_commitment(world.org), world.other_org, PartnershipStatus.ENDED)
    box = partnerships.inbox(world.other_org)
    assert box.waiting == [waiting] and box.accepted == [joint]
    assert set(box.closed) == {declined, ended}
    assert partnerships.inbox(world.org) == partnerships.Inbox()


# --- at the same moment (PostgreSQL row locks and the unique constraint) --------------------

def _at_once(app, *fns) -> list[str]:
    barrier = threading.Barrier(len(fns))
    results: dict[int, str] = {}

    def run(i, fn):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                fn()
                time.sleep(0.3)  # hold the transaction open so the other request overlaps
                db.session.commit()
                results[i] = "ok"
            except CommitmentError as exc:
                db.session.rollback()
                results[i] = exc.message
            except Exception as exc:  # noqa: BLE001 - reported in the assertion
                db.session.rollback()
                results[i] = f"error: {exc!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return sorted(results.values())


def _postgres_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")


def test_two_answers_at_once_leave_one(app, world):
    _postgres_only()
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    db.session.commit()
    p_id, lead_id = p.id, world.user("other_lead").id

    def answer(action):
        def run():
            getattr(partnerships, action)(db.session.get(User, lead_id),
                                          partnerships.load_partnership(p_id))
        return run

    results = _at_once(app, answer("accept"), answer("decline"))
    assert results[-1] == "ok" and "already" in results[0], results
    assert len(_events("commitment.partner_accepted") + _events("commitment.partner_declined")) == 1


def test_two_invitations_of_one_organisation_at_once_make_one_partnership(app, world):
    _postgres_only()
    c = make_commitment(world.org)
    db.session.commit()
    c_id, org_id = c.id, world.other_org.id
    actors = [world.user("lead").id, world.user("editor").id]

    def invite(actor_id):
        def run():
            partnerships.invite(db.session.get(User, actor_id), db.session.get(Commitment, c_id),
                                org_id)
        return run

    results = _at_once(app, *(invite(a) for a in actors))
    assert results == ["Mind in the Fens has just been invited by someone else.", "ok"], results
    db.session.expire_all()
    assert _count(Partnership) == 1 and len(_events("commitment.partner_invited")) == 1
