"""The rules for an organisation's members, at the service level: invitations, accepting
them, removal, roles, handing over the lead, and the "at least one lead" rule."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from charter import permissions
from charter.extensions import db
from charter.models import (
    AuditEvent,
    Invitation,
    InvitationKind,
    MemberRole,
    Membership,
    OrganisationStatus,
    OutboxMessage,
    User,
)
from charter.models.base import utcnow
from charter.organisations import invitations
from charter.organisations import members_services as services
from tests import factories as f


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ))


def _membership(user, org) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == org.id)
    )


def make_invitation(org, inviter, email="newcomer@example.org", role=MemberRole.EDITOR, **kw):
    invitation = Invitation(
        kind=kw.pop("kind", InvitationKind.MEMBER), email=email, site_id=org.site_id,
        organisation_id=org.id, role=role, message=kw.pop("message", ""), invited_by_id=inviter.id,
        expires_at=kw.pop("expires_at", invitations.new_expiry()), **kw,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


# --- inviting ---------------------------------------------------------------------------

def test_a_lead_invites_an_editor_and_an_email_carries_a_working_link(world):
    lead = world.user("lead")
    invitation = services.invite_member(lead, world.org, " New.Person@Example.org ", "editor",
                                        "Welcome aboard")
    assert invitation.kind == InvitationKind.MEMBER
    assert invitation.email == "new.person@example.org"
    assert invitation.role == MemberRole.EDITOR
    assert invitation.organisation_id == world.org.id
    assert invitation.site_id == world.site.id
    assert invitation.invited_by_id == lead.id
    assert invitation.message == "Welcome aboard"
    assert invitation.expires_at > utcnow() + timedelta(days=13)

    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "member_invite"))
    assert message.to_address == "new.person@example.org"
    assert "Fenland Trust" in message.subject
    assert "Lead has invited you to join Fenland Trust (Cambridge)" in message.body_text
    assert "Welcome aboard" in message.body_text
    token = invitations.token_for(invitation)
    assert f"http://localhost/invitations/{token}" in message.body_text
    check = invitations.check(token, InvitationKind.MEMBER)
    assert check.invitation.id == invitation.id and check.problem is None

    [event] = _events("member.invited")
    assert event.actor_id == lead.id
    assert event.organisation_id == world.org.id
    assert event.site_id == world.site.id
    assert event.changes["role"] == "editor"


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_admins_can_step_in_and_invite_a_lead(world, role):
    invitation = services.invite_member(world.user(role), world.org, "boss@example.org", "lead")
    assert invitation.role == MemberRole.LEAD


@pytest.mark.parametrize("role", ["editor", "other_lead", "other_editor", "other_coordinator"])
def test_others_may_not_invite(world, role):
    with pytest.raises(permissions.PermissionDenied):
        services.invite_member(world.user(role), world.org, "x@example.org", "editor")
    assert _count(Invitation) == 0
    assert _count(OutboxMessage) == 0


@pytest.mark.parametrize("email", ["editor@example.org", "EDITOR@Example.ORG", "lead@example.org"])
def test_an_address_that_is_already_a_member_is_refused(world, email):
    with pytest.raises(services.MemberError) as excinfo:
        services.invite_member(world.user("lead"), world.org, email, "editor")
    assert excinfo.value.field == "email"
    assert "is already a member of Fenland Trust" in excinfo.value.message
    assert _count(Invitation) == 0


def test_a_member_of_another_organisation_can_be_invited(world):
    invitation = services.invite_member(world.user("lead"), world.org, "other.editor@example.org",
                                        "editor")
    assert invitation.id is not None
    # The message is addressed to the existing account.
    message = db.session.scalar(select(OutboxMessage))
    assert message.user_id == world.user("other_editor").id


def test_a_second_invitation_to_the_same_address_revokes_the_first(world):
    lead = world.user("lead")
    first = services.invite_member(lead, world.org, "twice@example.org", "editor")
    first_token = invitations.token_for(first)
    second = services.invite_member(lead, world.org, "Twice@example.org", "lead")
    assert first.revoked_at is not None
    assert second.revoked_at is None and second.role == MemberRole.LEAD
    assert invitations.check(first_token, InvitationKind.MEMBER).problem == "revoked"
    assert invitations.check(invitations.token_for(second), InvitationKind.MEMBER).problem is None
    assert [e.object_id for e in _events("invitation.revoked")] == [first.id]
    assert [e.object_id for e in _events("member.invited")] == [first.id, second.id]
    assert services.pending_invitations(world.org) == [second]
    assert _count(OutboxMessage) == 2


def test_an_invitation_to_another_organisation_is_left_alone(world):
    services.invite_member(world.user("other_lead"), world.other_org, "shared@example.org", "editor")
    services.invite_member(world.user("lead"), world.org, "shared@example.org", "editor")
    assert db.session.scalar(select(func.count()).where(Invitation.revoked_at.is_not(None))) == 0


@pytest.mark.parametrize("status", [OrganisationStatus.DECLINED, OrganisationStatus.WITHDRAWN])
def test_no_one_is_invited_to_a_declined_or_withdrawn_organisation(world, status):
    world.org.status = status
    db.session.flush()
    with pytest.raises(services.MemberError) as excinfo:
        services.invite_member(world.user("coordinator"), world.org, "x@example.org", "editor")
    assert "no one can be invited" in excinfo.value.message
    # The organisation's own lead no longer manages members at all.
    with pytest.raises(permissions.PermissionDenied):
        services.invite_member(world.user("lead"), world.org, "x@example.org", "editor")
    assert _count(Invitation) == 0


def test_a_pending_organisation_can_invite(world):
    world.org.status = OrganisationStatus.PENDING
    invitation = services.invite_member(world.user("lead"), world.org, "early@example.org", "editor")
    assert invitation.id


def test_revoking_an_invitation(world):
    invitation = make_invitation(world.org, world.user("lead"))
    token = invitations.token_for(invitation)
    services.revoke_invitation(world.user("lead"), world.org, invitation.id)
    assert invitation.revoked_at is not None
    assert invitations.check(token, InvitationKind.MEMBER).problem == "revoked"
    [event] = _events("invitation.revoked")
    assert event.organisation_id == world.org.id
    # Revoking again changes and records nothing.
    services.revoke_invitation(world.user("lead"), world.org, invitation.id)
    assert len(_events("invitation.revoked")) == 1


def test_revoking_checks_permission_and_organisation(world):
    invitation = make_invitation(world.org, world.user("lead"))
    with pytest.raises(permissions.PermissionDenied):
        services.revoke_invitation(world.user("editor"), world.org, invitation.id)
    with pytest.raises(permissions.PermissionDenied):
        services.revoke_invitation(world.user("other_lead"), world.org, invitation.id)
    with pytest.raises(services.MemberNotFound):
        services.revoke_invitation(world.user("other_lead"), world.other_org, invitation.id)
    assert invitation.revoked_at is None


def test_a_used_invitation_cannot_be_revoked(world):
    invitation = make_invitation(world.org, world.user("lead"))
    invitations.mark_used(invitation, world.user("public") or world.user("editor"))
    with pytest.raises(services.MemberError):
        services.revoke_invitation(world.user("lead"), world.org, invitation.id)


# --- accepting --------------------------------------------------------------------------

def test_accepting_when_signed_in_as_the_invited_address(world):
    newcomer = f.user("newcomer@example.org", full_name="Nia Newcomer")
    invitation = make_invitation(world.org, world.user("lead"), role=MemberRole.LEAD)
    result = services.accept_invitation(newcomer, invitation)
    assert result.created
    membership = _membership(newcomer, world.org)
    assert membership.role == MemberRole.LEAD
    assert invitation.used_at is not None and invitation.used_by_id == newcomer.id
    [event] = _events("member.joined")
    assert event.actor_id == newcomer.id and event.organisation_id == world.org.id
    assert event.changes["invitation_id"] == invitation.id


def test_accepting_when_already_a_member_changes_nothing_but_the_link(world):
    editor = world.user("editor")
    invitation = make_invitation(world.org, world.user("lead"), email=editor.email,
                                 role=MemberRole.LEAD)
    result = services.accept_invitation(editor, invitation)
    assert not result.created
    assert result.membership.role == MemberRole.EDITOR
    assert invitation.used_at is not None
    assert db.session.scalar(select(func.count()).where(Membership.user_id == editor.id)) == 1
    assert _events("member.joined") == []
    assert len(_events("invitation.accepted")) == 1


def test_someone_else_cannot_accept(world):
    invitation = make_invitation(world.org, world.user("lead"))
    with pytest.raises(permissions.PermissionDenied):
        services.accept_invitation(world.user("other_editor"), invitation)
    assert invitation.used_at is None
    assert _membership(world.user("other_editor"), world.org) is None


def test_accepting_with_a_new_account(world):
    invitation = make_invitation(world.org, world.user("lead"), email="zuzana@example.cz")
    result = services.accept_with_new_account(invitation, "  Zuzana Dvořáková 🌻 ", "Ředitelka",
                                              "a long enough password")
    user = result.membership.user
    assert user.email == "zuzana@example.cz"
    assert user.full_name == "Zuzana Dvořáková 🌻"
    assert user.job_title == "Ředitelka"
    assert user.check_password("a long enough password")
    assert user.password_hash != "a long enough password"
    assert result.membership.role == MemberRole.EDITOR
    assert invitation.used_by_id == user.id
    [created] = _events("user.created")
    assert created.organisation_id == world.org.id
    assert len(_events("member.joined")) == 1


def test_a_new_account_is_refused_when_the_address_already_has_one(world):
    invitation = make_invitation(world.org, world.user("lead"), email="other.lead@example.org")
    users_before = _count(User)
    with pytest.raises(services.MemberError) as excinfo:
        services.accept_with_new_account(invitation, "Someone", "Boss", "a long enough password")
    assert excinfo.value.field == "account"
    assert _count(User) == users_before
    assert invitation.used_at is None


def test_an_expired_invitation_cannot_be_used(world):
    invitation = make_invitation(world.org, world.user("lead"),
                                 expires_at=utcnow() - timedelta(minutes=1))
    assert invitations.check(invitations.token_for(invitation), InvitationKind.MEMBER).problem == "expired"
    newcomer = f.user("newcomer@example.org")
    with pytest.raises(services.MemberError, match="expired"):
        services.accept_invitation(newcomer, invitation)
    assert _membership(newcomer, world.org) is None


def test_an_invitation_works_once(world):
    invitation = make_invitation(world.org, world.user("lead"))
    token = invitations.token_for(invitation)
    services.accept_with_new_account(invitation, "First", "Nurse", "a long enough password")
    assert invitations.check(token, InvitationKind.MEMBER).problem == "used"
    users = _count(User)
    with pytest.raises(services.MemberError, match="already been used"):
        services.accept_with_new_account(invitation, "Second", "Nurse", "a long enough password")
    with pytest.raises(services.MemberError, match="already been used"):
        services.accept_invitation(invitation.used_by, invitation)
    assert _count(User) == users
    assert len(_events("member.joined")) == 1


def test_a_revoked_invitation_cannot_be_used(world):
    invitation = make_invitation(world.org, world.user("lead"))
    services.revoke_invitation(world.user("lead"), world.org, invitation.id)
    with pytest.raises(services.MemberError, match="withdrawn"):
        services.accept_with_new_account(invitation, "Late", "Nurse", "a long enough password")


def test_an_organisation_invitation_is_not_a_member_invitation(world):
    invitation = make_invitation(world.org, world.user("coordinator"),
                                 kind=InvitationKind.ORGANISATION)
    check = invitations.check(invitations.token_for(invitation), InvitationKind.MEMBER)
    assert check.problem == "wrong_kind" and check.invitation is None


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-3] + ("aaa" if not t.endswith("aaa") else "bbb"),
    lambda t: t[: len(t) // 2],
    lambda t: "not-a-token",
    lambda t: t.replace(".", "", 1),
])
def test_a_tampered_token_is_invalid(world, mangle):
    invitation = make_invitation(world.org, world.user("lead"))
    check = invitations.check(mangle(invitations.token_for(invitation)), InvitationKind.MEMBER)
    assert check.problem == "invalid" and check.invitation is None


def test_an_invitation_to_an_organisation_that_has_since_withdrawn_cannot_be_used(world):
    invitation = make_invitation(world.org, world.user("lead"))
    world.org.status = OrganisationStatus.WITHDRAWN
    db.session.flush()
    with pytest.raises(services.MemberError, match="no longer takes part"):
        services.accept_with_new_account(invitation, "Late", "Nurse", "a long enough password")


# --- removal -----------------------------------------------------------------------------

def test_a_lead_removes_an_editor_who_is_told_by_email(world):
    editor = world.user("editor")
    membership = _membership(editor, world.org)
    services.remove_member(world.user("lead"), world.org, membership.id)
    assert _membership(editor, world.org) is None
    assert db.session.get(User, editor.id) is not None  # the account stays
    [event] = _events("member.removed")
    assert event.object_id == membership.id
    assert event.organisation_id == world.org.id
    assert event.changes["email"] == "editor@example.org"
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "member_removed"))
    assert message.to_address == "editor@example.org"
    assert "Lead has removed you from Fenland Trust" in message.body_text
    assert not permissions.is_member(editor, world.org)


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_can_remove_members(world, role):
    membership = _membership(world.user("editor"), world.org)
    services.remove_member(world.user(role), world.org, membership.id)
    assert _membership(world.user("editor"), world.org) is None


@pytest.mark.parametrize("role", ["editor", "other_lead", "other_coordinator"])
def test_others_cannot_remove_members(world, role):
    membership = _membership(world.user("lead"), world.org)
    with pytest.raises(permissions.PermissionDenied):
        services.remove_member(world.user(role), world.org, membership.id)
    assert _membership(world.user("lead"), world.org) is not None


def test_a_membership_of_another_organisation_is_not_found_through_this_one(world):
    theirs = _membership(world.user("other_editor"), world.other_org)
    with pytest.raises(services.MemberNotFound):
        services.remove_member(world.user("lead"), world.org, theirs.id)
    with pytest.raises(services.MemberNotFound):
        services.change_role(world.user("lead"), world.org, theirs.id, "lead")
    with pytest.raises(services.MemberNotFound):
        services.hand_over_lead(world.user("lead"), world.org, theirs.id)
    assert _membership(world.user("other_editor"), world.other_org).role == MemberRole.EDITOR


def test_the_last_lead_cannot_be_removed(world):
    membership = _membership(world.user("lead"), world.org)
    with pytest.raises(services.MemberError) as excinfo:
        services.remove_member(world.user("coordinator"), world.org, membership.id)
    assert excinfo.value.message == (
        "An organisation always keeps at least one lead. Make someone else lead first."
    )
    assert _membership(world.user("lead"), world.org) is not None
    assert _events("member.removed") == []
    assert _count(OutboxMessage) == 0


def test_the_last_lead_cannot_remove_themselves(world):
    lead = world.user("lead")
    with pytest.raises(services.MemberError, match="at least one lead"):
        services.remove_member(lead, world.org, _membership(lead, world.org).id)
    assert _membership(lead, world.org) is not None


def test_a_lead_can_leave_when_another_lead_remains(world):
    lead = world.user("lead")
    second = f.user("second.lead@example.org")
    f.member(second, world.org, MemberRole.LEAD)
    services.remove_member(lead, world.org, _membership(lead, world.org).id)
    assert _membership(lead, world.org) is None
    message = db.session.scalar(select(OutboxMessage))
    assert "You have left Fenland Trust" in message.body_text


def test_an_editor_can_be_removed_from_an_organisation_without_a_lead(world):
    # Data from before the rule: no lead at all. Removing an editor takes no lead away.
    db.session.delete(_membership(world.user("lead"), world.org))
    db.session.flush()
    services.remove_member(world.user("coordinator"), world.org,
                           _membership(world.user("editor"), world.org).id)
    assert _membership(world.user("editor"), world.org) is None


# --- roles ------------------------------------------------------------------------------

def test_changing_a_role(world):
    membership = _membership(world.user("editor"), world.org)
    services.change_role(world.user("lead"), world.org, membership.id, "lead")
    assert membership.role == MemberRole.LEAD
    [event] = _events("member.role_changed")
    assert event.changes["role"] == ["editor", "lead"]
    assert event.organisation_id == world.org.id
    # Now there are two leads, the first can be made an editor.
    lead_membership = _membership(world.user("lead"), world.org)
    services.change_role(world.user("lead"), world.org, lead_membership.id, MemberRole.EDITOR)
    assert lead_membership.role == MemberRole.EDITOR


def test_the_last_lead_cannot_be_demoted(world):
    membership = _membership(world.user("lead"), world.org)
    for actor in ("lead", "coordinator", "admin"):
        with pytest.raises(services.MemberError, match="at least one lead"):
            services.change_role(world.user(actor), world.org, membership.id, "editor")
    assert membership.role == MemberRole.LEAD
    assert _events("member.role_changed") == []


def test_setting_the_same_role_records_nothing(world):
    membership = _membership(world.user("editor"), world.org)
    services.change_role(world.user("lead"), world.org, membership.id, "editor")
    assert _events("member.role_changed") == []


def test_an_unknown_role_is_refused(world):
    membership = _membership(world.user("editor"), world.org)
    with pytest.raises(ValueError):
        services.change_role(world.user("lead"), world.org, membership.id, "owner")


@pytest.mark.parametrize("role", ["editor", "other_lead", "other_coordinator"])
def test_others_cannot_change_roles(world, role):
    membership = _membership(world.user("editor"), world.org)
    with pytest.raises(permissions.PermissionDenied):
        services.change_role(world.user(role), world.org, membership.id, "lead")
    assert membership.role == MemberRole.EDITOR


# --- handing over the lead ---------------------------------------------------------------

def test_handing_over_the_lead(world):
    lead, editor = world.user("lead"), world.user("editor")
    target = _membership(editor, world.org)
    services.hand_over_lead(lead, world.org, target.id)
    assert _membership(editor, world.org).role == MemberRole.LEAD
    assert _membership(lead, world.org).role == MemberRole.EDITOR
    [event] = _events("member.lead_handed_over")
    assert event.actor_id == lead.id
    assert event.organisation_id == world.org.id
    assert event.changes["role"] == ["editor", "lead"]
    assert event.changes["previous_lead"] == "lead@example.org"
    # The former lead can no longer manage members; the new one can.
    assert not permissions.can_manage_members(lead, world.org)
    assert permissions.can_manage_members(editor, world.org)


def test_handing_over_to_oneself_is_refused(world):
    lead = world.user("lead")
    with pytest.raises(services.MemberError, match="already the lead"):
        services.hand_over_lead(lead, world.org, _membership(lead, world.org).id)
    assert _membership(lead, world.org).role == MemberRole.LEAD


@pytest.mark.parametrize("role", ["editor", "coordinator", "admin", "other_lead"])
def test_only_a_lead_of_the_organisation_hands_over(world, role):
    target = _membership(world.user("editor"), world.org)
    with pytest.raises(permissions.PermissionDenied):
        services.hand_over_lead(world.user(role), world.org, target.id)
    assert target.role == MemberRole.EDITOR


def test_handing_over_to_another_lead_makes_the_actor_an_editor(world):
    second = f.user("second.lead@example.org")
    membership = f.member(second, world.org, MemberRole.LEAD)
    services.hand_over_lead(world.user("lead"), world.org, membership.id)
    assert membership.role == MemberRole.LEAD
    assert _membership(world.user("lead"), world.org).role == MemberRole.EDITOR


# --- reading ----------------------------------------------------------------------------

def test_members_page_lists_leads_first_then_by_name(world):
    f.member(f.user("a@example.org", full_name="aaron"), world.org, MemberRole.EDITOR)
    f.member(f.user("z@example.org", full_name="Zed"), world.org, MemberRole.LEAD)
    page = services.members_page(world.org)
    assert [m.user.full_name for m in page.memberships] == ["Lead", "Zed", "aaron", "Editor"]
    assert page.lead_count == 2


def test_pending_invitations_leave_out_used_revoked_and_expired_ones(world):
    lead = world.user("lead")
    pending = make_invitation(world.org, lead, email="pending@example.org")
    make_invitation(world.org, lead, email="used@example.org", used_at=utcnow(),
                    used_by_id=lead.id)
    make_invitation(world.org, lead, email="revoked@example.org", revoked_at=utcnow())
    make_invitation(world.org, lead, email="expired@example.org",
                    expires_at=utcnow() - timedelta(seconds=1))
    make_invitation(world.other_org, world.user("other_lead"), email="elsewhere@example.org")
    assert services.pending_invitations(world.org) == [pending]


# --- the "at least one lead" rule under concurrent requests (PostgreSQL) --------------------

def _in_thread(app, fn, results, key, barrier):
    with app.app_context():
        try:
            barrier.wait(timeout=10)
            fn()
            time.sleep(0.3)  # hold the transaction open so the other request overlaps
            db.session.commit()
            results[key] = "ok"
        except services.MemberError as exc:
            db.session.rollback()
            results[key] = exc.message
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            db.session.rollback()
            results[key] = f"error: {exc!r}"
        finally:
            db.session.remove()


@pytest.mark.parametrize("second_action", ["demote", "remove"])
def test_two_leads_demoting_each_other_at_once_leave_one_lead(app, world, second_action):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    second = f.user("second.lead@example.org")
    f.member(second, world.org, MemberRole.LEAD)
    db.session.commit()
    org_id, lead_id, second_id = world.org.id, world.user("lead").id, second.id

    def act(actor_id, target_user_id, action):
        def run():
            from charter.models import Organisation

            org = db.session.get(Organisation, org_id)
            actor = db.session.get(User, actor_id)
            target = _membership(db.session.get(User, target_user_id), org)
            if action == "demote":
                services.change_role(actor, org, target.id, "editor")
            else:
                services.remove_member(actor, org, target.id)
        return run

    barrier = threading.Barrier(2)
    results: dict[str, str] = {}
    threads = [
        threading.Thread(target=_in_thread, args=(app, act(lead_id, second_id, "demote"),
                                                  results, "a", barrier)),
        threading.Thread(target=_in_thread, args=(app, act(second_id, lead_id, second_action),
                                                  results, "b", barrier)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == [
        "An organisation always keeps at least one lead. Make someone else lead first.", "ok",
    ], results
    db.session.expire_all()
    leads = db.session.scalar(select(func.count()).where(
        Membership.organisation_id == org_id, Membership.role == MemberRole.LEAD))
    assert leads == 1
