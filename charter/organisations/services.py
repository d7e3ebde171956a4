"""Joining the charter: applications, invitations for new organisations, approval and
decline, and the read side of the public register and profiles."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from charter import audit, mail, permissions, transaction
from charter.extensions import db
from charter.models import (
    AuditEvent,
    Invitation,
    InvitationKind,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    Sector,
    Site,
    SiteCoordinator,
    Tier,
    User,
    fold_name,
)
from charter.models.base import utcnow
from charter.organisations import invitations
from charter.pagination import Page, paginate
from charter.rules import RuleError
from charter.slugs import unique_slug
from charter.urls import external_url


class OrganisationError(RuleError):
    """A rule of joining refused the request. `field` names the form field the message
    belongs to."""


@dataclass
class OrganisationDetails:
    name: str
    sector: Sector
    tier: Tier
    website: str | None = None
    description: str = ""


@dataclass
class AccountDetails:
    full_name: str
    job_title: str
    email: str
    password: str


# --- helpers ------------------------------------------------------------------------

def find_account(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == User.normalise_email(email)))


def find_duplicate(site: Site, name: str) -> Organisation | None:
    """An organisation of the site whose name folds to the same key (case, accents,
    punctuation and spacing ignored)."""
    return db.session.scalar(
        select(Organisation).where(
            Organisation.site_id == site.id, Organisation.name_key == fold_name(name)
        )
    )


def duplicate_message(existing: Organisation) -> str:
    """Why a name cannot be used, for someone allowed to know about `existing`: shown beside
    the field when the public can see the organisation anyway or the applicant is signed in
    (their address is verified), otherwise emailed to the applicant's address."""
    if existing.status == OrganisationStatus.PENDING:
        return _("“%(name)s” has already applied to join this site and is waiting for approval. "
                 "If you work there, ask its lead to invite you.", name=existing.name)
    if existing.status == OrganisationStatus.DECLINED:
        return _("An application from “%(name)s” on this site was declined. Contact the site "
                 "coordinator before applying again.", name=existing.name)
    return _("“%(name)s” is already part of the charter on this site. If you work there, ask its "
             "lead to invite you.", name=existing.name)


def check_name(site: Site, name: str, *, reveal_hidden: bool = True) -> Organisation | None:
    """Refuse a name with no letter or digit, or one that folds to the name of another
    organisation of the site. With `reveal_hidden=False` (the public join form) a clash with
    an organisation the public may not see (pending or declined) is returned instead of
    refused, so that the caller can answer as if nothing were wrong."""
    if not fold_name(name):
        raise OrganisationError(_("Enter a name with at least one letter or number."),
                           "organisation_name")
    existing = find_duplicate(site, name)
    if existing is None:
        return None
    if not reveal_hidden and not permissions.can_view_organisation(None, existing):
        return existing
    raise OrganisationError(duplicate_message(existing), "organisation_name")


def _new_account(details: AccountDetails) -> User:
    """An account for someone who followed an invitation link (which proves the address)."""
    email = User.normalise_email(details.email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        # Only when an account was made with this address since the page was shown (the
        # page asks existing account holders to sign in instead).
        raise OrganisationError(
            _("There is already an account with this email address. Sign in first, then use "
              "the invitation."),
            "email",
        )
    now = utcnow()
    user = User(email=email, full_name=details.full_name, job_title=details.job_title,
                email_verified_at=now)
    user.set_password(details.password)
    db.session.add(user)
    db.session.flush()
    audit.record(user, "user.registered", user)
    return user


def _new_organisation(site: Site, details: OrganisationDetails, status: OrganisationStatus):
    org = Organisation(
        site=site,
        sector=details.sector,
        tier=details.tier,
        status=status,
        website=details.website or None,
        description=details.description or "",
        slug=unique_slug(Organisation, details.name),
    )
    org.set_name(details.name)
    db.session.add(org)
    return org


def _flush_or_duplicate(site: Site, name: str) -> None:
    """Flush; a concurrent application with the same name hits the unique constraint,
    and then the whole request's work is rolled back (nothing half saved)."""
    site_id, name_key = site.id, fold_name(name)

    def explain() -> OrganisationError | None:
        existing = db.session.scalar(select(Organisation).where(
            Organisation.site_id == site_id, Organisation.name_key == name_key))
        return None if existing is None else OrganisationError(duplicate_message(existing),
                                                                 "organisation_name")

    with transaction.refusing_duplicates(explain):
        db.session.flush()


def site_coordinators(site: Site) -> list[User]:
    return list(db.session.scalars(
        select(User).join(SiteCoordinator, SiteCoordinator.user_id == User.id)
        .where(SiteCoordinator.site_id == site.id, User.active)
        .order_by(User.full_name)
    ))


def organisation_leads(org: Organisation) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == org.id, Membership.role == MemberRole.LEAD, User.active)
        .order_by(User.full_name)
    ))


def _notify_coordinators_of_application(org: Organisation, lead: User) -> None:
    link = external_url("organisations.applications", slug=org.site.slug)
    for coordinator in site_coordinators(org.site):
        mail.queue(
            coordinator.email,
            _("New application to join the %(site)s charter: %(name)s", site=org.site.name,
              name=org.name),
            render_template("email/organisation_applied.txt", org=org, lead=lead, link=link,
                            coordinator=coordinator),
            kind="organisation_applied",
            user=coordinator,
            # Once per application and coordinator, however often a link is followed.
            dedupe_key=f"organisation_applied:{org.id}:{coordinator.id}",
        )


# --- applying and inviting ------------------------------------------------------------

def own_address_message() -> str:
    return _("You cannot invite your own address. Site coordinators and admins do not become "
             "members of organisations they oversee through their own invitations: ask the "
             "organisation's lead, or another coordinator, to invite you.")


def self_invitation_message() -> str:
    return _("You sent this invitation yourself, so you cannot accept it. Site coordinators "
             "and admins do not become members of organisations they oversee through their "
             "own invitations: ask the organisation's lead, or another coordinator, to "
             "invite you.")


def apply_to_join(actor, site: Site, details: OrganisationDetails) -> Organisation:
    """An application by someone signed in: their account (its address verified when it
    was made) leads the new organisation. People without an account apply through
    `charter.organisations.joining`, which calls `create_application` once they have
    confirmed their address."""
    permissions.require(permissions.is_authenticated(actor))
    return create_application(actor, site, details)


def create_application(lead: User, site: Site, details: OrganisationDetails) -> Organisation:
    """The organisation starts pending with `lead` as its lead, and the site's coordinators
    are told (once)."""
    check_name(site, details.name)
    org = _new_organisation(site, details, OrganisationStatus.PENDING)
    _flush_or_duplicate(site, details.name)
    db.session.add(Membership(user=lead, organisation=org, role=MemberRole.LEAD))
    audit.record(lead, "organisation.applied", org, {
        "name": [None, org.name], "sector": [None, org.sector], "tier": [None, org.tier],
        "status": [None, org.status], "lead": lead.email,
    })
    _notify_coordinators_of_application(org, lead)
    mail.queue(
        lead.email,
        _("We have your application to join the %(site)s PROMISE charter", site=site.name),
        render_template("email/organisation_application_received.txt", org=org, lead=lead),
        kind="organisation_application_received",
        user=lead,
    )
    return org


def invite_organisation(actor, site: Site, email: str, organisation_name: str | None,
                        message: str) -> Invitation:
    """A coordinator invites someone to bring a new organisation; it will be approved
    on arrival."""
    permissions.require(permissions.can_invite_organisation(actor, site))
    email = User.normalise_email(email)
    if not permissions.can_invite_address(actor, email):
        raise OrganisationError(own_address_message(), "email")
    if organisation_name:
        existing = find_duplicate(site, organisation_name)
        if existing is not None:
            raise OrganisationError(duplicate_message(existing), "organisation_name")
    invitation = Invitation(
        kind=InvitationKind.ORGANISATION, email=email, site=site, role=MemberRole.LEAD,
        organisation_name=organisation_name or None, message=message or "",
        invited_by_id=actor.id, expires_at=invitations.new_expiry(),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(actor, "invitation.organisation_sent", invitation,
                 {"email": [None, email], "organisation_name": [None, organisation_name]},
                 site_id=site.id)
    link = external_url("organisations.join_invited", token=invitations.token_for(invitation))
    mail.queue(
        email,
        _("%(name)s invites you to join the %(site)s PROMISE charter", name=actor.full_name,
          site=site.name),
        render_template("email/organisation_invitation.txt", invitation=invitation, link=link,
                        inviter=actor, site=site),
        kind="organisation_invitation",
    )
    return invitation


def accept_organisation_invitation(
    actor, token: str, details: OrganisationDetails, account: AccountDetails | None
) -> tuple[Organisation, User]:
    """Use an organisation invitation: the organisation is created already approved."""
    check = invitations.check(token, InvitationKind.ORGANISATION)
    if check.problem:
        raise OrganisationError(check.message, status=400)
    invitation = check.invitation
    site = invitation.site
    if not permissions.can_accept_invitation(actor, invitation):
        raise OrganisationError(self_invitation_message(), status=403)
    check_name(site, details.name)
    if permissions.is_authenticated(actor):
        if actor.email != invitation.email:
            raise OrganisationError(_("This invitation was sent to %(email)s. Sign out and open the "
                                 "link again, or ask for an invitation to your address.",
                                 email=invitation.email), status=403)
        lead = actor
        lead.mark_email_verified(utcnow())  # the link reached them at this address
    else:
        if account is None:
            raise OrganisationError(_("Enter your account details."))
        account.email = invitation.email
        lead = _new_account(account)
    org = _new_organisation(site, details, OrganisationStatus.ACTIVE)
    org.decided_at = utcnow()
    org.decided_by_id = invitation.invited_by_id
    _flush_or_duplicate(site, details.name)
    db.session.add(Membership(user=lead, organisation=org, role=MemberRole.LEAD))
    invitations.mark_used(invitation, lead)
    audit.record(lead, "organisation.joined_by_invitation", org, {
        "name": [None, org.name], "status": [None, org.status], "invitation": [None, invitation.id],
    })
    return org, lead


# --- approval -------------------------------------------------------------------------

def _decide(actor, org: Organisation, expected_version: int | None, new_status, reason=None):
    permissions.require(permissions.can_review_applications(actor, org.site_id))
    permissions.require(permissions.can_decide_application(actor, org), _(
        "You are a member of %(name)s, so you cannot decide on its application: another "
        "coordinator of the site or an admin does.", name=org.name))
    if expected_version is not None and org.version != expected_version:
        raise OrganisationError(_("Someone else has just decided on this application: see its new "
                             "status below."), status=409)
    if org.status != OrganisationStatus.PENDING:
        raise OrganisationError(_("This application has already been decided (%(status)s).",
                             status=org.status.label), status=409)
    changes = audit.apply_changes(org, {
        "status": new_status, "decision_reason": reason, "decided_at": utcnow(),
        "decided_by_id": actor.id,
    })
    action = "organisation.approved" if new_status == OrganisationStatus.ACTIVE else "organisation.declined"
    audit.record(actor, action, org, changes)
    return org


def approve(actor, org: Organisation, expected_version: int | None = None) -> Organisation:
    _decide(actor, org, expected_version, OrganisationStatus.ACTIVE)
    for lead in organisation_leads(org):
        mail.queue(
            lead.email,
            _("%(name)s is approved: you can now sign the %(site)s charter", name=org.name,
              site=org.site.name),
            render_template("email/organisation_approved.txt", org=org, lead=lead,
                            link=external_url("signing.sign", slug=org.slug)),
            kind="organisation_approved", user=lead,
        )
    return org


def decline(actor, org: Organisation, reason: str, expected_version: int | None = None):
    if not (reason or "").strip():
        raise OrganisationError(_("Give a reason: the applicant will see it."), "reason")
    _decide(actor, org, expected_version, OrganisationStatus.DECLINED, reason.strip())
    for lead in organisation_leads(org):
        mail.queue(
            lead.email,
            _("Your application to join the %(site)s charter", site=org.site.name),
            render_template("email/organisation_declined.txt", org=org, lead=lead, reason=reason),
            kind="organisation_declined", user=lead,
        )
    return org


# --- read side ------------------------------------------------------------------------

def pending_applications(site: Site) -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation)
        .where(Organisation.site_id == site.id, Organisation.status == OrganisationStatus.PENDING)
        .options(selectinload(Organisation.memberships).joinedload(Membership.user))
        .order_by(Organisation.created_at, Organisation.id)
    ))


def recent_decisions(site: Site, limit: int = 10) -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation)
        .where(Organisation.site_id == site.id,
               Organisation.status.in_([OrganisationStatus.ACTIVE, OrganisationStatus.DECLINED]),
               Organisation.decided_at.is_not(None))
        .order_by(Organisation.decided_at.desc()).limit(limit)
    ))


def open_organisation_invitations(site: Site) -> list[Invitation]:
    return list(db.session.scalars(
        select(Invitation)
        .where(Invitation.site_id == site.id, Invitation.kind == InvitationKind.ORGANISATION,
               Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
               Invitation.expires_at > utcnow())
        .options(joinedload(Invitation.invited_by))
        .order_by(Invitation.created_at.desc())
    ))


def organisation_history(org: Organisation, page: int) -> Page:
    query = (select(AuditEvent).where(AuditEvent.organisation_id == org.id)
             .order_by(AuditEvent.id.desc()))
    return paginate(query, page, 50)


def members_of(org: Organisation) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).where(Membership.organisation_id == org.id)
        .options(joinedload(Membership.user)).order_by(Membership.role, Membership.id)
    ))
