"""Every "may this user …" question, answered in one place.

Views call these to decide what to show and whether to answer 403/404; services call
them again before they change anything, so a rule cannot be skipped by a new route.
`user` may be Flask-Login's anonymous user or None (the public).
"""

from __future__ import annotations

from typing import Any

from charter.models import PUBLIC_ORGANISATION_STATUSES, MemberRole, Organisation, OrganisationStatus, Site


class PermissionDenied(Exception):  # noqa: N818 - reads better at call sites
    """Raised by services when the actor may not do what was asked."""


def require(allowed: bool, message: str = "You do not have permission to do that.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def is_authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_admin(user: Any) -> bool:
    return is_authenticated(user) and bool(user.is_admin)


def _site_id(site: Site | int) -> int:
    return site if isinstance(site, int) else site.id


def coordinated_site_ids(user: Any) -> set[int]:
    if not is_authenticated(user):
        return set()
    return {role.site_id for role in user.coordinator_roles}


def is_coordinator(user: Any, site: Site | int) -> bool:
    return _site_id(site) in coordinated_site_ids(user)


def can_manage_site(user: Any, site: Site | int) -> bool:
    """Coordinators of the site, and admins everywhere."""
    return is_admin(user) or is_coordinator(user, site)


def membership_role(user: Any, organisation: Organisation | int) -> MemberRole | None:
    if not is_authenticated(user):
        return None
    org_id = organisation if isinstance(organisation, int) else organisation.id
    for membership in user.memberships:
        if membership.organisation_id == org_id:
            return membership.role
    return None


def is_member(user: Any, organisation: Organisation | int) -> bool:
    return membership_role(user, organisation) is not None


def is_lead(user: Any, organisation: Organisation | int) -> bool:
    return membership_role(user, organisation) == MemberRole.LEAD


def can_view_organisation_private(user: Any, organisation: Organisation) -> bool:
    """Members see their own organisation's drafts; coordinators see their site's."""
    return is_member(user, organisation) or can_manage_site(user, organisation.site_id)


def can_view_organisation(user: Any, organisation: Organisation) -> bool:
    """Active and withdrawn organisations are public; pending and declined ones are not."""
    if organisation.status in PUBLIC_ORGANISATION_STATUSES:
        return True
    return can_view_organisation_private(user, organisation)


def can_view_outbox(user: Any) -> bool:
    return is_admin(user)


def can_view_all_audit(user: Any) -> bool:
    return is_admin(user)


def can_end_session(user: Any, user_session: Any) -> bool:
    """A signed-in person may end their own sessions (the account page), no one else's."""
    return is_authenticated(user) and user_session.user_id == user.id


def can_end_sessions_of(actor: Any, user: Any) -> bool:
    """Sign `user` out everywhere: they themselves, or an admin."""
    return is_authenticated(actor) and (actor.id == user.id or is_admin(actor))


# --- joining, approval and charters (sites) -----------------------------------------

def can_review_applications(user: Any, site: Site | int) -> bool:
    """Approve or decline organisations that applied to join a site."""
    return can_manage_site(user, site)


def can_decide_application(user: Any, organisation: Organisation) -> bool:
    """Approve or decline one application: the site's coordinators and admins, except a
    member of the applying organisation (a coordinator who applied for an organisation
    does not approve it: another coordinator or an admin does)."""
    return (can_review_applications(user, organisation.site_id)
            and not is_member(user, organisation))


def can_invite_organisation(user: Any, site: Site | int) -> bool:
    """Invite someone to bring a new (already approved) organisation to a site."""
    return can_manage_site(user, site)


def can_manage_charter(user: Any, site: Site | int) -> bool:
    """Write, preview and open charter versions of a site."""
    return can_manage_site(user, site)


def can_view_charter_version(user: Any, version) -> bool:
    """Open and superseded versions are public; drafts are for the site's coordinators."""
    from charter.models import CharterStatus

    if version.status != CharterStatus.DRAFT:
        return True
    return can_manage_charter(user, version.site_id)


# --- signing ------------------------------------------------------------------------

def can_sign(user: Any, organisation: Organisation) -> bool:
    """Only a lead of an approved (active) organisation signs for it."""
    return organisation.status == OrganisationStatus.ACTIVE and is_lead(user, organisation)


def can_withdraw_signature(user: Any, signature) -> bool:
    """The organisation's lead, or a coordinator of its site (and admins)."""
    organisation = signature.organisation
    return is_lead(user, organisation) or can_manage_site(user, organisation.site_id)


# --- members ------------------------------------------------------------------------

def can_view_members(user: Any, organisation: Organisation) -> bool:
    return is_member(user, organisation) or can_manage_site(user, organisation.site_id)


def can_manage_members(user: Any, organisation: Organisation) -> bool:
    """Invite, remove and change the role of members: leads, and the site's coordinators
    (who step in when a lead has left without handing over)."""
    if organisation.status not in (OrganisationStatus.ACTIVE, OrganisationStatus.PENDING):
        return can_manage_site(user, organisation.site_id)
    return is_lead(user, organisation) or can_manage_site(user, organisation.site_id)


def can_view_organisation_history(user: Any, organisation: Organisation) -> bool:
    """The audit history of an organisation: its leads and its site's coordinators."""
    return is_lead(user, organisation) or can_manage_site(user, organisation.site_id)


def can_invite_address(user: Any, email: str) -> bool:
    """Nobody sends an invitation (to bring an organisation, or to join one) to their own
    address: a coordinator or admin who did would make themselves a member, or the lead,
    of an organisation they oversee."""
    own = (getattr(user, "email", "") or "").strip().lower() if is_authenticated(user) else ""
    return not own or (email or "").strip().lower() != own


def can_accept_invitation(user: Any, invitation) -> bool:
    """Nobody becomes a member of an organisation, or the lead of a new one, through an
    invitation they sent themselves. Invitations are sent by leads (who are members
    already) and by site coordinators and admins, who oversee the organisations of their
    sites and must not sign, submit and approve for one of them. Someone else (the lead,
    or another coordinator) has to invite them."""
    if not is_authenticated(user):
        return True  # a new account is never the sender
    return invitation.invited_by_id != user.id


def can_hand_over_lead(user: Any, organisation: Organisation) -> bool:
    """A lead passes the lead role to another member and becomes an editor; coordinators,
    who are not members, change roles instead."""
    return is_lead(user, organisation) and can_manage_members(user, organisation)


# --- commitments (issue: commitments, partnerships and indicators) ------------------------

def _is_active_member(user: Any, organisation: Organisation) -> bool:
    return organisation.status == OrganisationStatus.ACTIVE and is_member(user, organisation)


def accepted_partner_ids(commitment) -> set[int]:
    from charter.models import PartnershipStatus

    return {p.organisation_id for p in commitment.partnerships
            if p.status == PartnershipStatus.ACCEPTED}


def can_view_commitment(user: Any, commitment) -> bool:
    """Published and retired commitments are public; drafts are for the organisation's
    members and its site's coordinators (and admins)."""
    if commitment.is_public:
        return True
    return can_view_organisation_private(user, commitment.organisation)


def can_create_commitment(user: Any, organisation: Organisation) -> bool:
    """Leads and editors of an approved organisation."""
    return _is_active_member(user, organisation)


def can_edit_commitment(user: Any, commitment) -> bool:
    """Leads and editors of the lead organisation, while the commitment is not retired."""
    from charter.models import CommitmentStatus

    if commitment.status == CommitmentStatus.RETIRED:
        return False
    return _is_active_member(user, commitment.organisation)


def can_publish_commitment(user: Any, commitment) -> bool:
    return can_edit_commitment(user, commitment)


def can_retire_commitment(user: Any, commitment) -> bool:
    return can_edit_commitment(user, commitment)


def can_add_progress_update(user: Any, commitment) -> bool:
    """Members of the lead organisation, and of partners that accepted (on public ones)."""
    from charter.models import CommitmentStatus

    if commitment.status == CommitmentStatus.RETIRED:
        return False
    if _is_active_member(user, commitment.organisation):
        return True
    if not commitment.is_public:
        return False
    return any(
        is_member(user, org_id) for org_id in accepted_partner_ids(commitment)
    )


def can_invite_partner(user: Any, commitment) -> bool:
    return can_edit_commitment(user, commitment)


def can_respond_to_partnership(user: Any, partnership) -> bool:
    """A partner organisation's lead accepts or declines."""
    return is_lead(user, partnership.organisation_id) and (
        partnership.organisation.status == OrganisationStatus.ACTIVE
    )


def can_manage_commitment_indicators(user: Any, commitment) -> bool:
    """Attach indicators, set baselines and targets, record measurements."""
    return can_edit_commitment(user, commitment)


def can_manage_domains(user: Any) -> bool:
    return is_admin(user)


def can_manage_indicator_catalogue(user: Any) -> bool:
    return is_admin(user)


def can_export_commitments(user: Any, organisation: Organisation) -> bool:
    """Download the organisation's commitments (drafts included) as a spreadsheet."""
    return can_view_organisation_private(user, organisation)


def can_import_commitments(user: Any, organisation: Organisation) -> bool:
    return _is_active_member(user, organisation)


# --- partnerships -----------------------------------------------------------------------

def can_view_partnership(user: Any, partnership) -> bool:
    """Members and coordinators of either organisation; everyone once it is accepted on a
    public commitment."""
    from charter.models import PartnershipStatus

    commitment = partnership.commitment
    if partnership.status == PartnershipStatus.ACCEPTED and commitment.is_public:
        return True
    return (can_view_organisation_private(user, partnership.organisation)
            or can_view_organisation_private(user, commitment.organisation))


def can_end_partnership(user: Any, partnership) -> bool:
    """A lead of either side ends an accepted partnership."""
    return is_lead(user, partnership.organisation_id) or is_lead(
        user, partnership.commitment.organisation_id)


# --- reporting cycles and progress reports --------------------------------------------------

def can_manage_reporting(user: Any, site: Site | int) -> bool:
    """Create and change a site's cycles and settings, review and publish its reports."""
    return can_manage_site(user, site)


def can_view_report(user: Any, report) -> bool:
    """Published reports are public; the rest are for the organisation and its site's
    coordinators (and admins)."""
    from charter.models import ReportStatus

    if report.status == ReportStatus.PUBLISHED:
        return True
    return can_view_organisation_private(user, report.organisation)


def can_start_report(user: Any, organisation: Organisation) -> bool:
    return _is_active_member(user, organisation)


def can_edit_report(user: Any, report) -> bool:
    """Leads and editors write drafts, and fix reports returned to them."""
    from charter.models import ReportStatus

    return report.status in (ReportStatus.DRAFT, ReportStatus.RETURNED) and _is_active_member(
        user, report.organisation)


def can_submit_report(user: Any, report) -> bool:
    """Only a lead submits."""
    from charter.models import ReportStatus

    return (report.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)
            and report.organisation.status == OrganisationStatus.ACTIVE
            and is_lead(user, report.organisation))


def can_review_report(user: Any, report) -> bool:
    """Return or publish a submitted report (or a correction): the site's coordinators and
    admins, except a member of the reporting organisation. Whoever writes or submits a
    report does not approve it too: another coordinator or an admin does."""
    return (can_manage_site(user, report.organisation.site_id)
            and not is_member(user, report.organisation))


def can_see_publishing(user: Any, report) -> bool:
    """See that a report is being published (or that publishing failed): the organisation
    and its site's coordinators."""
    return can_view_organisation_private(user, report.organisation)


def can_retry_publication(user: Any, report) -> bool:
    """Try again a publication whose every try failed: the site's coordinators and admins."""
    return can_manage_site(user, report.organisation.site_id)


def can_correct_report(user: Any, report) -> bool:
    """Publish a corrected revision of a published report: its lead, or a coordinator."""
    from charter.models import ReportStatus

    if report.status != ReportStatus.PUBLISHED:
        return False
    return is_lead(user, report.organisation) or can_manage_site(user, report.organisation.site_id)


def correction_needs_review(user: Any, report) -> bool:
    """A lead's correction follows the same rule as a first submission: when the cycle
    reviews reports, a coordinator publishes it; coordinators and admins publish their own."""
    return report.cycle.review_required and not can_review_report(user, report)


def can_view_correction(user: Any, correction) -> bool:
    """A correction waiting for review (or decided) is for the organisation and its site's
    coordinators; the public reads the published revisions."""
    return can_view_organisation_private(user, correction.report.organisation)


def can_review_correction(user: Any, correction) -> bool:
    """Publish or return a lead's correction: the site's coordinators and admins."""
    return can_review_report(user, correction.report)


# --- coordinator dashboard and exports ------------------------------------------------------

def can_view_site_dashboard(user: Any, site: Site | int) -> bool:
    """The coordinator dashboard and the lists behind its numbers (drafts and pending
    organisations included): the site's coordinators and admins."""
    return can_manage_site(user, site)


def can_export_site(user: Any, site: Site | int) -> bool:
    """Download a site's data (private fields of that site included) as CSV or XLSX."""
    return can_manage_site(user, site)


def can_export_all_sites(user: Any) -> bool:
    """Download every site's data at once: admins only."""
    return is_admin(user)
