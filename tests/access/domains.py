"""Access table: change domains (public pages and admins' management)."""

from __future__ import annotations

from tests.access.rules import Route, everyone, only

ADMIN = ["admin"]


def domain(w, *, active: bool = True):
    """A change domain (used by a public commitment of the world's organisation, so the
    domain's page has something to show)."""
    from charter.models import CommitmentStatus
    from charter.models.base import utcnow
    from tests import factories as f

    d = f.domain(f"Healing environments {f.n()}", is_active=active)
    f.commitment(w.org, d, status=CommitmentStatus.PUBLISHED, published_at=utcnow())
    return d


def unused_domain(w):
    from tests import factories as f

    return f.domain(f"Unused domain {f.n()}")


ACCESS = {
    ("catalogue.domains", "GET"): Route(lambda w: "/domains", everyone(200)),
    ("catalogue.domain", "GET"): Route(lambda w: f"/domains/{domain(w).slug}", everyone(200)),
    ("catalogue.admin_domains", "GET"): Route(lambda w: "/admin/domains", only(ADMIN)),
    ("catalogue.new_domain", "GET"): Route(lambda w: "/admin/domains/new", only(ADMIN)),
    ("catalogue.new_domain", "POST"): Route(
        lambda w: "/admin/domains/new", only(ADMIN, ok=400)),
    ("catalogue.edit_domain", "GET"): Route(
        lambda w: f"/admin/domains/{domain(w).id}/edit", only(ADMIN)),
    ("catalogue.edit_domain", "POST"): Route(
        lambda w: f"/admin/domains/{domain(w).id}/edit", only(ADMIN, ok=400)),
    ("catalogue.retire_domain", "POST"): Route(
        lambda w: f"/admin/domains/{domain(w).id}/retire", only(ADMIN, ok=302)),
    ("catalogue.restore_domain", "POST"): Route(
        lambda w: f"/admin/domains/{domain(w, active=False).id}/restore", only(ADMIN, ok=302)),
    ("catalogue.delete_domain", "POST"): Route(
        lambda w: f"/admin/domains/{unused_domain(w).id}/delete", only(ADMIN, ok=302)),
}
