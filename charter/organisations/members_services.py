"""Members of an organisation: invitations, acceptance, removal, roles and handing over
the lead.

Every change checks permissions here (again, after the route), writes an audit event
with the organisation's id (so coordinators see it in the organisation's history) and
flushes; the request layer commits once (charter.transaction).

An organisation always keeps at least one lead. Changes that could take away a lead
lock the organisation's row and re-read its memberships inside the transaction
(SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers anyway), so two requests
that interleave cannot both remove "the other" lead.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from charter import audit, mail, permissions, transaction
from charter.extensions import db
from charter.models import (
    Invitation,
    InvitationKind,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    User,
)
from charter.models.base import utcnow
from charter.organisations import invitations
from charter.organisations.services import own_address_message, self_invitation_message
from charter.rules import RuleError
from charter.urls import external_url

CLOSED_STATUSES = (OrganisationStatus.DECLINED, OrganisationStatus.WITHDRAWN)


class MemberError(RuleError):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field)


class MemberNotFound(Exception):  # noqa: N818 - reads better at call sites
    """The membership or invitation is not part of this organisation (the route answers 404)."""


def last_lead_message() -> str:
    return _("An organisation always keeps at least one lead. Make someone else lead first.")


# --- reading --------------------------------------------------------------------------

@dataclass
class MembersPage:
    memberships: list[Membership]
    invitations: list[Invitation]
    lead_count: int


def members_page(organisation: Organisation) -> MembersPage:
    """The members (leads first, then by name) and the pending invitations: two queries,
    whatever their number."""
    memberships = list(db.session.scalars(
        select(Membership)
        .where(Membership.organisation_id == organisation.id)
        .options(selectinload(Membership.user))
    ))
    # Leads first, then by name (folded the same way on every database).
    memberships.sort(key=lambda m: (m.role != MemberRole.LEAD, m.user.full_name.casefold(), m.id))
    return MembersPage(
        memberships=memberships,
        invitations=pending_invitations(organisation),
        lead_count=sum(1 for m in memberships if m.role == MemberRole.LEAD),
    )


def _open_invitations_query(organisation: Organisation):
    return select(Invitation).where(
        Invitation.kind == InvitationKind.MEMBER,
        Invitation.organisation_id == organisation.id,
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
    )


def pending_invitations(organisation: Organisation) -> list[Invitation]:
    return list(db.session.scalars(
        _open_invitations_query(organisation)
        .where(Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ))


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == User.normalise_email(email)))


def membership_of(user: User, organisation: Organisation) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    )


# --- telling the leads ------------------------------------------------------------------

def _leads(organisation: Organisation) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id,
               Membership.role == MemberRole.LEAD, User.active)
        .order_by(User.id)
    ))


def tell_leads_of_new_member(organisation: Organisation, membership: Membership, *,
                             actor: User, inviter: User | None = None) -> int:
    """Email the organisation's leads that someone is now one of its leads or editors
    (whichever way it happened), except the person concerned and whoever made the change.
    Leads are accountable for who acts for the organisation: a member they did not expect
    (say, a coordinator who had themselves invited) is something they must hear about."""
    member = membership.user
    skip = {member.id, actor.id}
    link = external_url("organisations.members", slug=organisation.slug)
    told = 0
    for lead in _leads(organisation):
        if lead.id in skip:
            continue
        mail.queue(
            lead.email,
            _("%(name)s is now %(role)s of %(org)s", name=member.full_name,
              role=membership.role.label.lower(), org=organisation.name),
            render_template("email/member_added.txt", lead=lead, member=member,
                            role=membership.role, organisation=organisation, actor=actor,
                            inviter=inviter, link=link),
            kind="member_added",
            user=lead,
        )
        told += 1
    return told


# --- invitations -------------------------------------------------------------------------

def invite_member(actor: User, organisation: Organisation, email: str, role: MemberRole | str,
                  message: str = "") -> Invitation:
    """Invite `email` to join as lead or editor. An earlier open invitation to the same
    address is revoked; an address that is already a member is refused."""
    permissions.require(permissions.can_manage_members(actor, organisation))
    if organisation.status == OrganisationStatus.DECLINED:
        raise MemberError(_("The application of %(name)s was declined, so no one can be invited "
                            "to join it.", name=organisation.name))
    if organisation.status == OrganisationStatus.WITHDRAWN:
        raise MemberError(_("%(name)s has withdrawn from the charter, so no one can be invited "
                            "to join it.", name=organisation.name))
    role = MemberRole(role)
    email = User.normalise_email(email)
    existing = find_user(email)
    if existing is not None and membership_of(existing, organisation) is not None:
        raise MemberError(
            _("%(email)s is already a member of %(name)s.", email=email, name=organisation.name),
            field="email",
        )
    if not permissions.can_invite_address(actor, email):
        raise MemberError(own_address_message(), field="email")
    now = utcnow()
    earlier = db.session.scalars(
        _open_invitations_query(organisation).where(Invitation.email == email).with_for_update()
    ).all()
    for old in earlier:
        old.revoked_at = now
        audit.record(actor, "invitation.revoked", old, {"revoked_at": [None, now],
                                                        "reason": "replaced by a new invitation"},
                     organisation_id=organisation.id)
    invitation = Invitation(
        kind=InvitationKind.MEMBER,
        email=email,
        site_id=organisation.site_id,
        organisation_id=organisation.id,
        role=role,
        message=(message or "").strip(),
        invited_by_id=actor.id,
        expires_at=invitations.new_expiry(),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor, "member.invited", invitation,
                 {"email": email, "role": role, "expires_at": invitation.expires_at},
                 organisation_id=organisation.id)
    link = external_url("organisations.accept_invitation", token=invitations.token_for(invitation))
    mail.queue(
        email,
        _("You are invited to join %(name)s on PROMISE Charter", name=organisation.name),
        render_template("email/member_invite.txt", invitation=invitation, organisation=organisation,
                        inviter=actor, link=link, site=organisation.site),
        kind="member_invite",
        user=existing,
    )
    return invitation


def revoke_invitation(actor: User, organisation: Organisation, invitation_id: int) -> Invitation:
    permissions.require(permissions.can_manage_members(actor, organisation))
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.id == invitation_id,
            Invitation.kind == InvitationKind.MEMBER,
            Invitation.organisation_id == organisation.id,
        ).with_for_update()
    )
    if invitation is None:
        raise MemberNotFound
    if invitation.used_at is not None:
        raise MemberError(_("That invitation has already been accepted, so it cannot be withdrawn."))
    if invitation.revoked_at is not None:
        return invitation  # already withdrawn: nothing to do, nothing to record
    now = utcnow()
    invitation.revoked_at = now
    audit.record(actor, "invitation.revoked", invitation, {"revoked_at": [None, now]},
                 organisation_id=organisation.id)
    return invitation


# --- accepting ------------------------------------------------------------------------------

def _lock_invitation(invitation: Invitation) -> Invitation:
    """Re-read the invitation under a row lock and check it is still usable, so two
    submissions of the same link cannot both succeed."""
    locked = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation.id)
        .with_for_update().execution_options(populate_existing=True)
    )
    if locked is None:
        raise MemberError(str(invitations.PROBLEMS["invalid"]))
    if locked.revoked_at is not None:
        raise MemberError(str(invitations.PROBLEMS["revoked"]))
    if locked.used_at is not None:
        raise MemberError(str(invitations.PROBLEMS["used"]))
    if locked.expires_at <= utcnow():
        raise MemberError(str(invitations.PROBLEMS["expired"]))
    organisation = locked.organisation
    if organisation is None or organisation.status in CLOSED_STATUSES:
        raise MemberError(_("This organisation no longer takes part in the charter, so the "
                            "invitation cannot be accepted."))
    return locked


@dataclass
class Acceptance:
    membership: Membership
    created: bool  # False: they were already a member, and nothing changed but the link


def accept_invitation(user: User, invitation: Invitation) -> Acceptance:
    """A signed-in user whose email the invitation was sent to joins the organisation, and
    its leads are told."""
    if not permissions.is_authenticated(user) or user.email != invitation.email:
        raise permissions.PermissionDenied(
            _("This invitation was sent to %(email)s.", email=invitation.email)
        )
    if not permissions.can_accept_invitation(user, invitation):
        raise permissions.PermissionDenied(self_invitation_message())
    with transaction.refusing_duplicates(_link_used_meanwhile):
        return _join(user, _lock_invitation(invitation))


def _link_used_meanwhile() -> MemberError:
    """A simultaneous submission of the same link (or a registration of the same address)
    won: this one's work is rolled back."""
    return MemberError(str(invitations.PROBLEMS["used"]))


def _join(user: User, invitation: Invitation) -> Acceptance:
    organisation = invitation.organisation
    existing = membership_of(user, organisation)
    invitations.mark_used(invitation, user)
    user.mark_email_verified(utcnow())  # the link reached them at this address
    if existing is not None:
        audit.record(user, "invitation.accepted", invitation,
                     {"already_member": True, "role": existing.role}, organisation_id=organisation.id)
        return Acceptance(existing, created=False)
    membership = Membership(user=user, organisation=organisation, role=invitation.role)
    db.session.add(membership)
    db.session.flush()
    inviter = invitation.invited_by
    audit.record(user, "member.joined", membership, {
        "role": invitation.role, "email": user.email, "invitation_id": invitation.id,
        "invited_by": inviter.email if inviter else None,
    })
    tell_leads_of_new_member(organisation, membership, actor=user, inviter=inviter)
    return Acceptance(membership, created=True)


def accept_with_new_account(invitation: Invitation, full_name: str, job_title: str,
                            password: str) -> Acceptance:
    """An invitee without an account creates one (email from the invitation) and joins."""
    invitation = _lock_invitation(invitation)
    if find_user(invitation.email) is not None:
        raise MemberError(_("An account with %(email)s already exists. Sign in to accept the "
                            "invitation.", email=invitation.email), field="account")
    user = User(email=invitation.email, full_name=full_name.strip(), job_title=job_title.strip(),
                email_verified_at=utcnow())  # the invitation link reached them there
    user.set_password(password)
    db.session.add(user)
    with transaction.refusing_duplicates(_link_used_meanwhile):  # the same address, just now
        db.session.flush()
    audit.record(user, "user.created", user, {"email": user.email, "via": "member invitation"},
                 organisation_id=invitation.organisation_id)
    return accept_invitation(user, invitation)


# --- removal, roles and handing over ---------------------------------------------------

def _locked_memberships(organisation: Organisation) -> list[Membership]:
    """Lock the organisation, then read its memberships fresh (and locked) inside this
    transaction: the lead count used for the rule is the committed one."""
    db.session.execute(
        select(Organisation.id).where(Organisation.id == organisation.id).with_for_update()
    )
    return list(db.session.scalars(
        select(Membership).where(Membership.organisation_id == organisation.id)
        .order_by(Membership.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ))


def _find(memberships: list[Membership], membership_id: int) -> Membership:
    for membership in memberships:
        if membership.id == membership_id:
            return membership
    raise MemberNotFound


def _lead_count(memberships: list[Membership]) -> int:
    return sum(1 for m in memberships if m.role == MemberRole.LEAD)


def remove_member(actor: User, organisation: Organisation, membership_id: int) -> Membership:
    permissions.require(permissions.can_manage_members(actor, organisation))
    memberships = _locked_memberships(organisation)
    target = _find(memberships, membership_id)
    if target.role == MemberRole.LEAD and _lead_count(memberships) <= 1:
        raise MemberError(last_lead_message())
    removed_user = target.user
    audit.record(actor, "member.removed", target,
                 {"email": removed_user.email, "role": [target.role, None]})
    mail.queue(
        removed_user.email,
        _("You are no longer a member of %(name)s", name=organisation.name),
        render_template("email/member_removed.txt", user=removed_user, organisation=organisation,
                        actor=actor, self_removal=removed_user.id == actor.id),
        kind="member_removed",
        user=removed_user,
    )
    db.session.delete(target)
    db.session.flush()
    # Loaded collections would still hold the deleted row (permissions read them).
    db.session.expire(removed_user, ["memberships"])
    db.session.expire(organisation, ["memberships"])
    return target


def change_role(actor: User, organisation: Organisation, membership_id: int,
                role: MemberRole | str) -> Membership:
    permissions.require(permissions.can_manage_members(actor, organisation))
    role = MemberRole(role)
    memberships = _locked_memberships(organisation)
    target = _find(memberships, membership_id)
    if target.role == role:
        return target
    if target.role == MemberRole.LEAD and _lead_count(memberships) <= 1:
        raise MemberError(last_lead_message())
    changes = audit.apply_changes(target, {"role": role})
    changes["email"] = target.user.email
    audit.record(actor, "member.role_changed", target, changes)
    if role == MemberRole.LEAD:
        tell_leads_of_new_member(organisation, target, actor=actor)
    return target


def hand_over_lead(actor: User, organisation: Organisation, membership_id: int) -> Membership:
    """The acting lead makes another member lead and becomes an editor, in one go."""
    permissions.require(permissions.can_hand_over_lead(actor, organisation),
                        _("Only a lead of %(name)s can hand over the lead.", name=organisation.name))
    memberships = _locked_memberships(organisation)
    target = _find(memberships, membership_id)
    own = next((m for m in memberships if m.user_id == actor.id), None)
    if own is None or own.role != MemberRole.LEAD:
        # The row said otherwise when the page was loaded; the committed state wins.
        raise MemberError(_("You are no longer a lead of %(name)s.", name=organisation.name))
    if target.id == own.id:
        raise MemberError(_("You are already the lead. Choose another member to hand over to."))
    target_changes = audit.apply_changes(target, {"role": MemberRole.LEAD})
    own_changes = audit.apply_changes(own, {"role": MemberRole.EDITOR})
    audit.record(actor, "member.lead_handed_over", target, {
        **target_changes,
        "email": target.user.email,
        "previous_lead": actor.email,
        "previous_lead_role": own_changes.get("role", [MemberRole.LEAD, MemberRole.EDITOR]),
    })
    tell_leads_of_new_member(organisation, target, actor=actor)
    return target
