"""Access table: commitments (reading, creating, editing, publishing, retiring, milestones)."""

from __future__ import annotations

from tests.access.rules import Route, everyone, only

MEMBERS = ["editor", "lead"]


def commitment(w, *, published: bool = True):
    """A commitment of the world's organisation (published by default)."""
    from charter.models import CommitmentStatus
    from charter.models.base import utcnow
    from tests import factories as f

    domain = f.domain("Least restrictive practice", slug=f"lrp-{f.n()}")
    return f.commitment(w.org, domain, status=CommitmentStatus.PUBLISHED if published
                        else CommitmentStatus.DRAFT,
                        published_at=utcnow() if published else None)


def _milestone(w):
    from tests import factories as f

    c = commitment(w)
    return c.id, f.milestone(c).id


ACCESS = {
    ("commitments.view", "GET"): Route(
        lambda w: f"/commitments/{commitment(w).id}", everyone(200)),
    ("commitments.new", "GET"): Route(
        lambda w: f"/organisations/{w.org.slug}/commitments/new", only(MEMBERS)),
    ("commitments.new", "POST"): Route(
        lambda w: f"/organisations/{w.org.slug}/commitments/new", only(MEMBERS, ok=400)),
    ("commitments.edit", "GET"): Route(
        lambda w: f"/commitments/{commitment(w).id}/edit", only(MEMBERS)),
    ("commitments.edit", "POST"): Route(
        lambda w: f"/commitments/{commitment(w).id}/edit", only(MEMBERS, ok=400)),
    ("commitments.publish", "POST"): Route(
        lambda w: f"/commitments/{commitment(w, published=False).id}/publish",
        # A draft is invisible to outsiders (404); its site's coordinators see it but may not publish.
        {**only(MEMBERS, ok=302, denied=404), "coordinator": 403, "admin": 403}),
    ("commitments.delete", "POST"): Route(
        lambda w: f"/commitments/{commitment(w, published=False).id}/delete",
        {**only(MEMBERS, ok=302, denied=404), "coordinator": 403, "admin": 403}),
    ("commitments.retire", "GET"): Route(
        lambda w: f"/commitments/{commitment(w).id}/retire", only(MEMBERS)),
    ("commitments.retire", "POST"): Route(
        lambda w: f"/commitments/{commitment(w).id}/retire", only(MEMBERS, ok=400)),
    ("commitments.add_milestone", "POST"): Route(
        lambda w: f"/commitments/{commitment(w).id}/milestones", only(MEMBERS, ok=400)),
    ("commitments.milestone_done", "POST"): Route(
        lambda w: "/commitments/{}/milestones/{}/done".format(*_milestone(w)), only(MEMBERS, ok=302)),
    ("commitments.delete_milestone", "POST"): Route(
        lambda w: "/commitments/{}/milestones/{}/delete".format(*_milestone(w)),
        only(MEMBERS, ok=302)),
}
