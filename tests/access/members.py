"""Who may reach the members routes (merged into tests/access.py)."""

from __future__ import annotations

from tests.access.rules import ORG_LEADS, ORG_MEMBERS, SITE_MANAGERS, Route, everyone, only

MANAGERS = ORG_LEADS + SITE_MANAGERS


def _editor_membership_id(w) -> int:
    from sqlalchemy import select

    from charter.extensions import db
    from charter.models import Membership

    return db.session.scalar(
        select(Membership.id).where(Membership.user_id == w.user("editor").id,
                                    Membership.organisation_id == w.org.id)
    )


def _invitation(w):
    from charter.extensions import db
    from charter.models import Invitation, InvitationKind, MemberRole
    from charter.organisations import invitations

    invitation = Invitation(
        kind=InvitationKind.MEMBER, email="newcomer@example.org", site_id=w.site.id,
        organisation_id=w.org.id, role=MemberRole.EDITOR, message="",
        invited_by_id=w.user("lead").id, expires_at=invitations.new_expiry(),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def _token(w) -> str:
    from charter.organisations import invitations

    return invitations.token_for(_invitation(w))


ACCESS: dict[tuple[str, str], Route] = {
    ("organisations.members", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/members", only(ORG_MEMBERS + SITE_MANAGERS)
    ),
    # An empty form: managers get it back with the errors (400); everyone else is refused.
    ("organisations.invite_member", "POST"): Route(
        lambda w: f"/organisations/{w.org.slug}/members/invite", only(MANAGERS, ok=400)
    ),
    ("organisations.revoke_invitation", "POST"): Route(
        lambda w: f"/organisations/{w.org.slug}/invitations/{_invitation(w).id}/revoke",
        only(MANAGERS, ok=302),
    ),
    # Public: the page explains itself to whoever holds the link.
    ("organisations.accept_invitation", "GET"): Route(
        lambda w: f"/invitations/{_token(w)}", everyone(200)
    ),
    # Signed out: the empty account form comes back (400); signed in as someone other than
    # the invitee: refused (403).
    ("organisations.accept_invitation", "POST"): Route(
        lambda w: f"/invitations/{_token(w)}", {**everyone(403), "public": 400}
    ),
    ("organisations.remove_member", "POST"): Route(
        lambda w: f"/organisations/{w.org.slug}/members/{_editor_membership_id(w)}/remove",
        only(MANAGERS, ok=302),
    ),
    ("organisations.change_member_role", "POST"): Route(
        lambda w: f"/organisations/{w.org.slug}/members/{_editor_membership_id(w)}/role",
        only(MANAGERS, ok=302),
        data=lambda w: {"role": "lead"},
    ),
    # Only a lead hands over (and becomes an editor); coordinators change roles instead.
    ("organisations.hand_over_lead", "POST"): Route(
        lambda w: f"/organisations/{w.org.slug}/members/{_editor_membership_id(w)}/handover",
        only(ORG_LEADS, ok=302),
    ),
}
