"""Access table: joining, approval, the register, profiles and history."""

from __future__ import annotations

from tests.access.rules import Route, everyone, only, signed_in


def _pending(w):
    from charter.models import OrganisationStatus
    from tests import factories as f

    return f.organisation(w.site, "Pending Applicant", slug="pending-applicant",
                          status=OrganisationStatus.PENDING)


def _org_invitation_token(w):
    from datetime import timedelta

    from charter.extensions import db
    from charter.models import Invitation, InvitationKind, MemberRole
    from charter.models.base import utcnow
    from charter.organisations import invitations

    inv = Invitation(kind=InvitationKind.ORGANISATION, email="newcomer@example.org",
                     site=w.site, role=MemberRole.LEAD, invited_by_id=w.user("coordinator").id,
                     expires_at=utcnow() + timedelta(days=3))
    db.session.add(inv)
    db.session.flush()
    return invitations.token_for(inv)


def _join_confirmation_token(w):
    from datetime import timedelta

    from charter.extensions import db
    from charter.models import JoinRequest, Sector, Tier
    from charter.models.base import utcnow
    from charter.organisations import joining

    request = JoinRequest(nonce="n", site=w.site, email="applicant@example.org",
                          full_name="Applicant", organisation_name="Applicant Trust",
                          sector=Sector.THIRD_SECTOR, tier=Tier.SIGNATORY,
                          expires_at=utcnow() + timedelta(hours=1))
    request.set_password("a long password 123")
    db.session.add(request)
    db.session.flush()
    return joining.token_for(request)


ACCESS = {
    ("organisations.join", "GET"): Route(lambda w: "/join", everyone(200)),
    ("organisations.join", "POST"): Route(lambda w: "/join", everyone(400)),
    # The emailed link: a page with a button for whoever holds it; the button confirms
    # (and signs in the account it makes).
    ("organisations.confirm_join", "GET"): Route(
        lambda w: f"/join/confirm/{_join_confirmation_token(w)}", everyone(200)),
    ("organisations.confirm_join", "POST"): Route(
        lambda w: f"/join/confirm/{_join_confirmation_token(w)}", everyone(302)),
    ("organisations.join_invited", "GET"): Route(
        lambda w: f"/join/invited/{_org_invitation_token(w)}", {**signed_in(403), "public": 200}),
    ("organisations.join_invited", "POST"): Route(
        lambda w: f"/join/invited/{_org_invitation_token(w)}", {**signed_in(403), "public": 400}),
    ("organisations.applications", "GET"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/applications", only(["coordinator", "admin"])),
    ("organisations.invite_organisation", "POST"): Route(
        lambda w: f"/manage/sites/{w.site.slug}/invitations",
        only(["coordinator", "admin"], ok=400)),
    ("organisations.approve", "POST"): Route(
        lambda w: f"/manage/organisations/{_pending(w).slug}/approve",
        only(["coordinator", "admin"], ok=302, denied=404)),
    ("organisations.decline", "POST"): Route(
        lambda w: f"/manage/organisations/{_pending(w).slug}/decline",
        only(["coordinator", "admin"], ok=400, denied=404)),
    ("organisations.signatories", "GET"): Route(lambda w: "/signatories", everyone(200)),
    ("organisations.profile", "GET"): Route(lambda w: f"/organisations/{w.org.slug}", everyone(200)),
    ("organisations.history", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/history",
        only(["lead", "coordinator", "admin"])),
}
