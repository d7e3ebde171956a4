"""Who may add whom to an organisation, and who hears of it.

A site coordinator or admin oversees the organisations of a site; they must not make
themselves a member (or the lead of a new organisation) through an invitation they sent,
and so sign, submit and approve for it. Leads hear whenever a lead or editor is added,
whichever way, and the audit log says who added whom, in which role. Invitations are
rate limited per user.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from charter.extensions import db
from charter.models import (
    AuditEvent,
    Invitation,
    InvitationKind,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
)
from charter.organisations import invitations, services
from charter.organisations import members_services as members
from charter.permissions import PermissionDenied
from tests import factories as f
from tests.support import text_of

OVERSEERS = ["coordinator", "admin"]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _self_invitation(world, role: str, kind=InvitationKind.MEMBER) -> Invitation:
    """An invitation someone sent to their own address (as the code allowed before)."""
    user = world.user(role)
    invitation = Invitation(
        kind=kind, email=user.email, site_id=world.site.id,
        organisation_id=world.org.id if kind == InvitationKind.MEMBER else None,
        role=MemberRole.LEAD, message="", invited_by_id=user.id,
        organisation_name="Coordinator's Own Trust" if kind == InvitationKind.ORGANISATION else None,
        expires_at=invitations.new_expiry(),
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


# --- a coordinator or admin cannot invite themselves ------------------------------------

@pytest.mark.parametrize("role", OVERSEERS)
def test_sending_a_member_invitation_to_ones_own_address_is_refused(world, role):
    user = world.user(role)
    with pytest.raises(members.MemberError) as exc:
        members.invite_member(user, world.org, user.email.upper(), "lead")
    assert exc.value.field == "email"
    assert "You cannot invite your own address" in exc.value.message
    assert _count(Invitation) == 0 and _count(OutboxMessage) == 0


@pytest.mark.parametrize("role", OVERSEERS)
def test_sending_an_organisation_invitation_to_ones_own_address_is_refused(world, role):
    user = world.user(role)
    with pytest.raises(services.OrganisationError) as exc:
        services.invite_organisation(user, world.site, f" {user.email} ", "My Own Trust", "")
    assert exc.value.field == "email"
    assert "You cannot invite your own address" in exc.value.message
    assert _count(Invitation) == 0


@pytest.mark.parametrize("role", OVERSEERS)
def test_the_member_invite_page_says_so_beside_the_field(client, world, role):
    user = world.user(role)
    client.login(user)
    response = client.post(f"/organisations/{world.org.slug}/members/invite",
                           data={"email": user.email, "role": "lead"})
    assert response.status_code == 400
    assert "You cannot invite your own address" in text_of(response)
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert _count(Invitation) == 0


def test_the_organisation_invite_page_says_so_beside_the_field(client, world):
    client.login(world.user("coordinator"))
    response = client.post(f"/manage/sites/{world.site.slug}/invitations",
                           data={"email": world.user("coordinator").email,
                                 "organisation_name": "My Own Trust"})
    assert response.status_code == 400
    assert "You cannot invite your own address" in text_of(response)
    assert _count(Invitation) == 0


# --- … nor accept one they sent -----------------------------------------------------------

@pytest.mark.parametrize("role", OVERSEERS)
def test_accepting_a_member_invitation_one_sent_oneself_is_refused(world, role):
    invitation = _self_invitation(world, role)
    with pytest.raises(PermissionDenied, match="You sent this invitation yourself"):
        members.accept_invitation(world.user(role), invitation)
    db.session.rollback()
    assert _count(Membership, Membership.user_id == world.user(role).id) == 0
    assert db.session.get(Invitation, invitation.id).used_at is None


@pytest.mark.parametrize("role", OVERSEERS)
def test_the_member_invitation_page_refuses_a_self_invitation(client, world, role):
    invitation = _self_invitation(world, role)
    token = invitations.token_for(invitation)
    client.login(world.user(role))
    page = client.get(f"/invitations/{token}")
    assert page.status_code == 403
    assert "You sent this invitation yourself" in text_of(page)
    assert "Accept" not in text_of(page)
    response = client.post(f"/invitations/{token}")
    assert response.status_code == 403
    assert _count(Membership, Membership.user_id == world.user(role).id) == 0


@pytest.mark.parametrize("role", OVERSEERS)
def test_an_organisation_invitation_one_sent_oneself_is_refused(client, world, role):
    invitation = _self_invitation(world, role, kind=InvitationKind.ORGANISATION)
    token = invitations.token_for(invitation)
    with pytest.raises(services.OrganisationError, match="You sent this invitation yourself") as exc:
        services.accept_organisation_invitation(
            world.user(role), token,
            services.OrganisationDetails(name="Coordinator's Own Trust", sector="statutory",
                                         tier="signatory"), None)
    assert exc.value.status == 403
    db.session.rollback()
    client.login(world.user(role))
    page = client.get(f"/join/invited/{token}")
    assert page.status_code == 403 and "You sent this invitation yourself" in text_of(page)
    response = client.post(f"/join/invited/{token}", data={
        "organisation_name": "Coordinator's Own Trust", "sector": "statutory",
        "tier": "signatory"})
    assert response.status_code == 403
    assert _count(Organisation) == 2
    assert _count(Membership, Membership.user_id == world.user(role).id) == 0


def test_another_coordinators_invitation_can_be_accepted(world):
    """The rule is about one's own invitations: a colleague's still works (and the leads
    are told)."""
    coordinator = world.user("coordinator")
    invitation = members.invite_member(world.user("admin"), world.org, coordinator.email, "editor")
    result = members.accept_invitation(coordinator, invitation)
    assert result.created and result.membership.role == MemberRole.EDITOR
    assert _count(OutboxMessage, OutboxMessage.kind == "member_added",
                  OutboxMessage.to_address == world.user("lead").email) == 1


# --- leads hear whenever a lead or editor is added ------------------------------------------

def _told(world, role="lead") -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "member_added",
        OutboxMessage.to_address == world.user(role).email)))


def test_leads_are_told_when_an_invited_member_joins(client, world):
    second_lead = f.user("second.lead@example.org", full_name="Second Lead")
    f.member(second_lead, world.org, MemberRole.LEAD)
    coordinator = world.user("coordinator")
    newcomer = f.user("newcomer@example.org", full_name="New Comer")
    invitation = members.invite_member(coordinator, world.org, newcomer.email, "lead")
    db.session.commit()
    client.login(newcomer)
    token = invitations.token_for(invitation)
    assert client.post(f"/invitations/{token}").status_code == 302

    for lead in (world.user("lead"), second_lead):
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "member_added", OutboxMessage.to_address == lead.email))
        assert message.subject == "New Comer is now lead of Fenland Trust"
        assert "New Comer <newcomer@example.org> is now lead of Fenland Trust" in message.body_text
        assert "invitation sent by Coordinator <coordinator@example.org>" in message.body_text
        assert f"/organisations/{world.org.slug}/members" in message.body_text
    # Editors and the newcomer are not told this way.
    assert _told(world, "editor") == []
    assert _count(OutboxMessage, OutboxMessage.kind == "member_added",
                  OutboxMessage.to_address == newcomer.email) == 0
    # The audit log says who added whom, in which role.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "member.joined"))
    assert event.actor_id == newcomer.id
    assert event.organisation_id == world.org.id
    assert event.changes["email"] == "newcomer@example.org"
    assert event.changes["role"] == "lead"
    assert event.changes["invited_by"] == coordinator.email
    client.login(world.user("lead"))
    history = text_of(client.get(f"/organisations/{world.org.slug}/history"))
    assert "newcomer@example.org" in history and "coordinator@example.org" in history


def test_leads_are_told_when_a_new_account_joins_by_invitation(client, world):
    invitation = members.invite_member(world.user("admin"), world.org, "fresh@example.org", "editor")
    db.session.commit()
    token = invitations.token_for(invitation)
    response = client.post(f"/invitations/{token}", data={
        "full_name": "Fresh Face", "job_title": "Peer worker",
        "password": "a long password 123", "confirm": "a long password 123"})
    assert response.status_code == 302
    [message] = _told(world)
    assert "Fresh Face <fresh@example.org> is now editor of Fenland Trust" in message.body_text
    assert "invitation sent by Admin <admin@example.org>" in message.body_text
    # The invitation link proved the address.
    member = db.session.scalar(select(Membership).where(Membership.role == MemberRole.EDITOR,
                                                        Membership.organisation_id == world.org.id,
                                                        Membership.user_id != world.user("editor").id))
    assert member.user.email_verified_at is not None


def test_leads_are_told_when_a_coordinator_makes_an_editor_lead(world):
    editor_membership = members.membership_of(world.user("editor"), world.org)
    members.change_role(world.user("coordinator"), world.org, editor_membership.id, "lead")
    [message] = _told(world)
    assert "Editor <editor@example.org> is now lead of Fenland Trust" in message.body_text
    assert "Coordinator <coordinator@example.org> made this change." in message.body_text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "member.role_changed"))
    assert event.actor_id == world.user("coordinator").id
    assert event.changes["role"] == ["editor", "lead"]
    assert event.changes["email"] == world.user("editor").email


def test_making_someone_an_editor_tells_no_one(world):
    second = f.user("second@example.org")
    membership = f.member(second, world.org, MemberRole.LEAD)
    members.change_role(world.user("lead"), world.org, membership.id, "editor")
    assert _count(OutboxMessage, OutboxMessage.kind == "member_added") == 0


def test_handing_over_tells_the_other_leads_but_not_the_one_who_did_it(world):
    second_lead = f.user("second.lead@example.org", full_name="Second Lead")
    f.member(second_lead, world.org, MemberRole.LEAD)
    editor_membership = members.membership_of(world.user("editor"), world.org)
    members.hand_over_lead(world.user("lead"), world.org, editor_membership.id)
    recipients = db.session.scalars(select(OutboxMessage.to_address).where(
        OutboxMessage.kind == "member_added")).all()
    assert recipients == [second_lead.email]


# --- invitations are rate limited per user ---------------------------------------------------

def test_the_eleventh_invitation_in_a_minute_is_refused_with_the_429_page(client, world):
    client.login(world.user("coordinator"))
    # Organisation and member invitations count together.
    for i in range(6):
        response = client.post(f"/manage/sites/{world.site.slug}/invitations",
                               data={"email": f"org{i}@example.org"})
        assert response.status_code == 302
    for i in range(4):
        response = client.post(f"/organisations/{world.org.slug}/members/invite",
                               data={"email": f"member{i}@example.org", "role": "editor"})
        assert response.status_code == 302
    response = client.post(f"/organisations/{world.org.slug}/members/invite",
                           data={"email": "one.more@example.org", "role": "editor"})
    assert response.status_code == 429
    assert "Too many attempts" in text_of(response)
    assert _count(Invitation) == 10
    # The limit is per user: the organisation's lead may still invite.
    client.login(world.user("lead"))
    response = client.post(f"/organisations/{world.org.slug}/members/invite",
                           data={"email": "from.the.lead@example.org", "role": "editor"})
    assert response.status_code == 302


def test_the_links_in_the_invitation_emails_still_work(world):
    """Sanity: the refusal of self-invitations leaves ordinary invitations alone."""
    invitation = members.invite_member(world.user("lead"), world.org, "colleague@example.org",
                                       "editor")
    body = db.session.scalar(select(OutboxMessage.body_text).where(
        OutboxMessage.kind == "member_invite"))
    token = re.search(r"/invitations/(\S+)", body).group(1)
    assert invitations.check(token, InvitationKind.MEMBER).invitation.id == invitation.id


# --- … nor approve an application they made ------------------------------------------------

def test_a_coordinator_who_applies_does_not_approve_their_own_application(client, world):
    coordinator = world.user("coordinator")
    # As the join form does for someone signed in: pending, with them as its lead.
    org = f.organisation(world.site, "Coordinator's Own Trust", status=OrganisationStatus.PENDING)
    f.member(coordinator, org, MemberRole.LEAD)
    db.session.commit()
    with pytest.raises(PermissionDenied, match="you cannot decide on its application"):
        services.approve(coordinator, org, org.version)
    db.session.rollback()
    client.login(coordinator)
    page = client.get(f"/manage/sites/{world.site.slug}/applications")
    assert "another coordinator of the site or an admin decides" in text_of(page)
    assert "Approve Coordinator's Own Trust" not in text_of(page)
    response = client.post(f"/manage/organisations/{org.slug}/approve", data={"version": org.version})
    assert response.status_code == 403
    assert "you cannot decide on its application" in text_of(response)
    db.session.refresh(org)
    assert org.status.value == "pending"
    # An admin (or another coordinator) decides.
    client.login(world.user("admin"))
    response = client.post(f"/manage/organisations/{org.slug}/approve", data={"version": org.version})
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.status.value == "active"
