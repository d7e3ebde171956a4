"""Invitation links: signed, expiring and single-use.

The emailed link carries a signed token naming the invitation; the invitation row holds
its expiry and whether it has been used or revoked, so a link works once and only
until it expires, whatever happens to the signing key's own age check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from charter.extensions import db
from charter.models import Invitation, InvitationKind
from charter.models.base import utcnow
from charter.tokens import TokenError, make_token, read_token

PURPOSE = "invitation"

PROBLEMS = {
    "invalid": _l("This invitation link is not valid. It may have been copied incompletely."),
    "expired": _l("This invitation has expired. Ask the person who invited you to send a new one."),
    "used": _l("This invitation has already been used. If that was you, sign in instead."),
    "revoked": _l("This invitation was withdrawn by the person who sent it."),
    "wrong_kind": _l("This invitation link is not valid here."),
}


def new_expiry():
    return utcnow() + timedelta(seconds=current_app.config["INVITATION_MAX_AGE"])


def token_for(invitation: Invitation) -> str:
    return make_token(PURPOSE, {"i": invitation.id})


@dataclass
class InvitationCheck:
    invitation: Invitation | None
    problem: str | None

    @property
    def message(self) -> str | None:
        return str(PROBLEMS[self.problem]) if self.problem else None


def check(token: str, kind: InvitationKind) -> InvitationCheck:
    """The invitation a token names, or why it cannot be used."""
    try:
        data = read_token(PURPOSE, token, current_app.config["INVITATION_MAX_AGE"])
    except TokenError as exc:
        return InvitationCheck(None, exc.reason)
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        return InvitationCheck(None, "invalid")
    invitation = db.session.get(Invitation, data["i"])
    if invitation is None:
        return InvitationCheck(None, "invalid")
    if invitation.kind != kind:
        return InvitationCheck(None, "wrong_kind")
    if invitation.revoked_at is not None:
        return InvitationCheck(invitation, "revoked")
    if invitation.used_at is not None:
        return InvitationCheck(invitation, "used")
    if invitation.expires_at <= utcnow():
        return InvitationCheck(invitation, "expired")
    return InvitationCheck(invitation, None)


def mark_used(invitation: Invitation, user) -> None:
    invitation.used_at = utcnow()
    invitation.used_by_id = user.id
