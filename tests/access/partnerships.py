"""Access table: partnerships (inviting partners, an organisation's partnerships page,
answering and ending, and the public list of joint commitments)."""

from __future__ import annotations

from tests.access.commitments import commitment
from tests.access.rules import Route, everyone, only

MEMBERS = ["editor", "lead"]


def partnership(w, status: str = "invited"):
    """The world's other organisation invited to (or partnered in) a published commitment of
    the world's organisation."""
    from charter.extensions import db
    from charter.models import Partnership, PartnershipStatus

    obj = Partnership(commitment=commitment(w), organisation=w.other_org,
                      status=PartnershipStatus(status), invited_by_id=w.user("lead").id)
    db.session.add(obj)
    db.session.flush()
    return obj


ACCESS = {
    ("commitments.partners", "GET"): Route(
        lambda w: f"/commitments/{commitment(w).id}/partners", only(MEMBERS)),
    ("commitments.partners", "POST"): Route(
        lambda w: f"/commitments/{commitment(w).id}/partners", only(MEMBERS, ok=400)),
    ("commitments.partnership_inbox", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/partnerships",
        only(["editor", "lead", "coordinator", "admin"])),
    # Only the invited organisation's lead answers; an invitation is invisible (404) to those
    # who are neither side's members nor coordinators.
    ("commitments.accept_partnership", "POST"): Route(
        lambda w: f"/partnerships/{partnership(w).id}/accept",
        {**only(["other_lead"], ok=302), "other_coordinator": 404}),
    ("commitments.decline_partnership", "POST"): Route(
        lambda w: f"/partnerships/{partnership(w).id}/decline",
        {**only(["other_lead"], ok=302), "other_coordinator": 404}),
    # Either side's lead ends an accepted partnership (public, so visible to everyone).
    ("commitments.end_partnership", "POST"): Route(
        lambda w: f"/partnerships/{partnership(w, 'accepted').id}/end",
        only(["lead", "other_lead"], ok=302)),
    ("commitments.partnerships", "GET"): Route(lambda w: "/partnerships", everyone(200)),
}
