"""Change domains: the rules in charter/catalogue/domains.py (names unique ignoring case,
slugs made once and kept, positions, retire/restore, delete refused when in use, audit)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from charter.catalogue import domains
from charter.catalogue.domains import DomainError, DomainValues
from charter.extensions import db
from charter.models import (
    AuditEvent,
    ChangeDomain,
    CommitmentStatus,
    Completion,
    OrganisationStatus,
)
from charter.models.base import utcnow
from charter.permissions import PermissionDenied
from tests import factories as f


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def admin(world):
    return world.user("admin")


# --- creating ---------------------------------------------------------------------------

def test_create_makes_the_slug_from_the_name_and_records_an_audit_event(admin):
    d = domains.create_domain(admin, DomainValues(
        name="  Healing   environments ", summary="Calm, safe places", description="Design *well*.",
        source_note="PROMISE programme", position=6))
    assert (d.slug, d.name, d.summary, d.position, d.is_active) == (
        "healing-environments", "Healing environments", "Calm, safe places", 6, True)
    [event] = _events("domain.created")
    assert event.object_type == "ChangeDomain" and event.object_id == d.id
    assert event.actor_id == admin.id
    assert event.changes["name"] == [None, "Healing environments"]
    assert event.changes["slug"] == [None, "healing-environments"]


def test_names_are_unique_ignoring_case_and_spacing(admin):
    domains.create_domain(admin, DomainValues(name="Accepting communities"))
    for clash in ("accepting COMMUNITIES", "Accepting  communities", " ACCEPTING communities "):
        with pytest.raises(DomainError) as error:
            domains.create_domain(admin, DomainValues(name=clash))
        assert error.value.field == "name"
        assert "There is already a change domain called “Accepting communities”" in error.value.message


def test_names_are_unique_ignoring_case_in_every_alphabet(admin):
    domains.create_domain(admin, DomainValues(name="Čistá péče"))
    with pytest.raises(DomainError):
        domains.create_domain(admin, DomainValues(name="ČISTÁ PÉČE"))


def test_a_retired_namesake_suggests_restoring_it(admin):
    f.domain("Co-production", is_active=False)
    with pytest.raises(DomainError) as error:
        domains.create_domain(admin, DomainValues(name="co-production"))
    assert "(retired). Restore it instead" in error.value.message


def test_slugs_stay_unique_when_names_differ_only_in_punctuation(admin):
    a = domains.create_domain(admin, DomainValues(name="Co-production"))
    b = domains.create_domain(admin, DomainValues(name="Co production!"))
    assert (a.slug, b.slug) == ("co-production", "co-production-2")


def test_a_name_without_latin_letters_gets_a_fallback_slug(admin):
    d = domains.create_domain(admin, DomainValues(name="心理健康 🌱"))
    assert d.slug == "domain"
    assert domains.create_domain(admin, DomainValues(name="社区")).slug == "domain-2"


def test_a_long_name_gets_a_slug_that_fits_its_column(admin):
    name = "Positive and proactive workforce " * 3
    d = domains.create_domain(admin, DomainValues(name=name[:120]))
    assert len(d.slug) <= 80
    other = domains.create_domain(admin, DomainValues(name=name[:119] + "X"))
    assert len(other.slug) <= 80 and other.slug != d.slug


@pytest.mark.parametrize(("values", "field"), [
    (DomainValues(name="   "), "name"),
    (DomainValues(name="x" * 121), "name"),
    (DomainValues(name="Fine", summary="s" * 301), "summary"),
    (DomainValues(name="Fine", position=-1), "position"),
    (DomainValues(name="Fine", position=10_000), "position"),
])
def test_bad_values_are_refused_with_the_field_named(admin, values, field):
    with pytest.raises(DomainError) as error:
        domains.create_domain(admin, values)
    assert error.value.field == field
    assert db.session.scalar(select(ChangeDomain).where(ChangeDomain.name == "Fine")) is None


@pytest.mark.parametrize("role", ["public", "lead", "coordinator"])
def test_only_admins_manage_domains(world, role):
    d = f.domain("Existing")
    user = world.user(role)
    with pytest.raises(PermissionDenied):
        domains.create_domain(user, DomainValues(name="New"))
    with pytest.raises(PermissionDenied):
        domains.update_domain(user, d, DomainValues(name="Renamed"), None)
    for action in (domains.retire_domain, domains.restore_domain, domains.delete_domain):
        with pytest.raises(PermissionDenied):
            action(user, d)
    assert _events("domain.created") == []


def test_next_position_follows_the_last_one(admin):
    assert domains.next_position() == 1
    f.domain("A", position=4)
    f.domain("B", position=2)
    assert domains.next_position() == 5


# --- editing ----------------------------------------------------------------------------

def test_rename_keeps_the_slug_and_audits_what_changed(admin):
    d = domains.create_domain(admin, DomainValues(name="Healing environments", position=3))
    domains.update_domain(admin, d, DomainValues(name="Healing and calm environments",
                                                 summary="New summary", position=3),
                          domains.fingerprint(d))
    assert (d.slug, d.name) == ("healing-environments", "Healing and calm environments")
    [event] = _events("domain.updated")
    assert event.changes == {"name": ["Healing environments", "Healing and calm environments"],
                             "summary": ["", "New summary"]}


def test_a_domain_may_keep_its_own_name_in_another_case(admin):
    d = f.domain("Healing environments", position=4)
    domains.update_domain(admin, d, DomainValues(name="Healing Environments", position=d.position), None)
    assert d.name == "Healing Environments"


def test_rename_to_another_domains_name_is_refused(admin):
    f.domain("Accepting communities")
    d = f.domain("Healing environments")
    with pytest.raises(DomainError) as error:
        domains.update_domain(admin, d, DomainValues(name="ACCEPTING communities", position=1), None)
    assert error.value.field == "name"


def test_saving_nothing_new_records_nothing(admin):
    d = f.domain("Healing environments", position=2)
    domains.update_domain(admin, d, DomainValues(name="Healing environments", position=2), None)
    assert _events("domain.updated") == []


def test_a_stale_form_is_an_edit_conflict(admin):
    d = f.domain("Healing environments", position=2)
    loaded = domains.fingerprint(d)
    domains.update_domain(admin, d, DomainValues(name="Healing places", position=2), loaded)
    with pytest.raises(domains.EditConflict) as conflict:
        domains.update_domain(admin, d, DomainValues(name="Calm wards", position=2), loaded)
    assert conflict.value.current is d and d.name == "Healing places"


def test_positions_set_the_order(admin):
    c = f.domain("Third", position=30)
    a = f.domain("First", position=0)
    b = f.domain("Second", position=10)
    assert domains.all_domains() == [a, b, c]
    domains.update_domain(admin, c, DomainValues(name="Third", position=5), None)
    assert domains.all_domains() == [a, c, b]
    # Equal positions fall back to the order they were added.
    d = f.domain("Also five", position=5)
    assert domains.all_domains() == [a, c, d, b]


# --- retiring, restoring, deleting --------------------------------------------------------

def test_retire_and_restore(admin):
    d = f.domain("Healing environments")
    domains.retire_domain(admin, d)
    assert d.is_active is False
    with pytest.raises(DomainError) as error:
        domains.retire_domain(admin, d)
    assert error.value.status == 409
    domains.restore_domain(admin, d)
    assert d.is_active is True
    with pytest.raises(DomainError):
        domains.restore_domain(admin, d)
    assert [e.changes for e in _events("domain.retired")] == [{"is_active": [True, False]}]
    assert [e.changes for e in _events("domain.restored")] == [{"is_active": [False, True]}]


def test_unticking_active_in_the_form_is_audited_as_retiring(admin):
    d = f.domain("Healing environments", position=1)
    domains.update_domain(admin, d, DomainValues(name="Healing environments", position=1,
                                                 is_active=False), None)
    assert d.is_active is False and len(_events("domain.retired")) == 1


def test_a_domain_used_by_a_draft_cannot_be_deleted(admin, world):
    d = f.domain("Healing environments")
    f.commitment(world.org, d, status=CommitmentStatus.DRAFT)
    with pytest.raises(DomainError) as error:
        domains.delete_domain(admin, d)
    assert error.value.status == 409
    assert error.value.message == (
        "“Healing environments” cannot be deleted: 1 commitment uses it (drafts count too). "
        "Retire it instead: it stays on that commitment but cannot be chosen for new ones.")
    assert db.session.get(ChangeDomain, d.id) is not None


def test_the_refusal_counts_every_commitment(admin, world):
    d = f.domain("Healing environments")
    for _ in range(3):
        f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED, published_at=utcnow())
    with pytest.raises(DomainError) as error:
        domains.delete_domain(admin, d)
    assert "3 commitments use it" in error.value.message


def test_an_unused_domain_is_deleted_with_an_audit_event(admin):
    d = f.domain("Mistake", slug="mistake")
    domain_id = d.id
    domains.delete_domain(admin, d)
    db.session.flush()
    assert db.session.get(ChangeDomain, domain_id) is None
    [event] = _events("domain.deleted")
    assert event.object_id == domain_id and event.changes == {"name": ["Mistake", None],
                                                              "slug": ["mistake", None]}


# --- reading ------------------------------------------------------------------------------

def test_public_counts_leave_out_drafts_and_hidden_organisations(world):
    d = f.domain("Least restrictive practice")
    published = {"status": CommitmentStatus.PUBLISHED, "published_at": utcnow()}
    f.commitment(world.org, d, **published)
    f.commitment(world.org, d, completion=Completion.COMPLETED, **published)
    f.commitment(world.other_org, d, status=CommitmentStatus.RETIRED, published_at=utcnow(),
                 completion=Completion.COMPLETED)
    f.commitment(world.org, d, status=CommitmentStatus.DRAFT, completion=Completion.COMPLETED)
    pending = f.organisation(world.site, "Pending Org", status=OrganisationStatus.PENDING)
    f.commitment(pending, d, **published)
    counts = domains.public_counts()[d.id]
    assert (counts.published, counts.completed, counts.retired, counts.public) == (2, 2, 1, 3)
    assert domains.usage_counts()[d.id] == 5


def test_overview_separates_retired_domains(world):
    a = f.domain("Active one", position=2)
    b = f.domain("Retired one", position=1, is_active=False)
    overview = domains.public_overview()
    assert overview.active == [a] and overview.retired == [b]
    assert overview.count(a).public == 0


def test_domain_by_slug_is_forgiving_of_case_and_refuses_nonsense(world):
    d = f.domain("Healing", slug="healing")
    assert domains.domain_by_slug("HEALING") is d
    assert domains.domain_by_slug("x" * 500) is None
    assert domains.domain_by_slug("") is None


def test_domain_commitments_are_grouped_by_site_then_organisation(world):
    d = f.domain("Integrated pathways")
    published = {"status": CommitmentStatus.PUBLISHED, "published_at": utcnow()}
    brisbane_org = f.organisation(world.other_site, "Metro North")
    c1 = f.commitment(world.other_org, d, title="B", **published)
    c2 = f.commitment(world.org, d, title="A", **published)
    c3 = f.commitment(brisbane_org, d, title="C", **published)
    c4 = f.commitment(world.org, d, title="Z", status=CommitmentStatus.RETIRED, published_at=utcnow())
    f.commitment(world.org, d, title="Draft", status=CommitmentStatus.DRAFT)
    listing = domains.domain_commitments(d)
    shape = [(g.site.name, [(og.organisation.name, [c.title for c in og.commitments])
                            for og in g.organisations]) for g in listing.groups]
    assert shape == [
        ("Brisbane", [("Metro North", ["C"])]),
        ("Cambridge", [("Fenland Trust", ["A", "Z"]), ("Mind in the Fens", ["B"])]),
    ]
    assert listing.page.total == 4
    assert [s.name for s in listing.sites] == ["Brisbane", "Cambridge"]
    only_cambridge = domains.domain_commitments(d, site_slug="cambridge")
    assert only_cambridge.site == world.site
    assert {c.id for c in only_cambridge.page.items} == {c1.id, c2.id, c4.id}
    assert c3.id not in {c.id for c in only_cambridge.page.items}
    unknown = domains.domain_commitments(d, site_slug="atlantis")
    assert unknown.site is None and unknown.page.total == 4


def test_domain_commitments_are_paginated(world):
    d = f.domain("Integrated pathways")
    for i in range(7):
        f.commitment(world.org, d, title=f"C{i}", status=CommitmentStatus.PUBLISHED,
                     published_at=utcnow())
    first = domains.domain_commitments(d, per_page=5)
    second = domains.domain_commitments(d, page=2, per_page=5)
    assert (first.page.pages, len(first.page.items), len(second.page.items)) == (2, 5, 2)
    assert domains.domain_commitments(d, page=99, per_page=5).page.page == 2
