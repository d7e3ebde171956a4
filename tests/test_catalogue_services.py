"""The indicator catalogue: the rules in charter/catalogue/indicators.py and the seed list."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from charter.catalogue import indicators as catalogue
from charter.catalogue.indicators import SEED_INDICATORS, CatalogueError, IndicatorValues
from charter.extensions import db
from charter.models import (
    AuditEvent,
    CommitmentIndicator,
    CommitmentStatus,
    Direction,
    Indicator,
)
from charter.models.base import utcnow
from charter.permissions import PermissionDenied
from tests import factories as f
from tests.access.catalogue import catalogue_indicator


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _values(**kw) -> IndicatorValues:
    base = {"name": "Seclusion episodes", "unit": "episodes", "direction": Direction.LOWER_IS_BETTER,
            "definition": "Episodes of seclusion.", "reference": "MHA Code of Practice"}
    return IndicatorValues(**{**base, **kw})


def _own_indicator(org, name="Seclusion episodes"):
    obj = Indicator(name=name, unit="episodes", direction=Direction.LOWER_IS_BETTER,
                    organisation_id=org.id)
    db.session.add(obj)
    db.session.flush()
    return obj


def _attach(commitment, indicator):
    link = CommitmentIndicator(commitment=commitment, indicator=indicator)
    db.session.add(link)
    db.session.flush()
    return link


@pytest.fixture
def admin(world):
    return world.user("admin")


def test_create_puts_the_indicator_in_the_catalogue_with_an_audit_event(admin):
    i = catalogue.create_indicator(admin, _values(name="  Seclusion   episodes "))
    assert (i.name, i.organisation_id, i.in_catalogue, i.is_active, i.created_by_id) == (
        "Seclusion episodes", None, True, True, admin.id)
    [event] = _events("indicator.created")
    assert event.object_type == "Indicator" and event.object_id == i.id
    assert event.changes["direction"] == [None, "lower"]


def test_names_are_unique_in_the_catalogue_ignoring_case(admin):
    catalogue.create_indicator(admin, _values(name="Prone restraints"))
    with pytest.raises(CatalogueError) as error:
        catalogue.create_indicator(admin, _values(name="PRONE  restraints"))
    assert error.value.field == "name"
    assert "already has an indicator called “Prone restraints”" in error.value.message


def test_an_organisations_own_indicator_does_not_block_a_catalogue_name(admin, world):
    _own_indicator(world.org, "Seclusion episodes")
    assert catalogue.create_indicator(admin, _values(name="seclusion episodes")).in_catalogue


@pytest.mark.parametrize(("values", "field"), [
    (_values(name=" "), "name"),
    (_values(name="n" * 201), "name"),
    (_values(unit=""), "unit"),
    (_values(unit="u" * 81), "unit"),
    (_values(reference="r" * 301), "reference"),
    (_values(direction="sideways"), "direction"),
])
def test_bad_values_are_refused_with_the_field_named(admin, values, field):
    with pytest.raises(CatalogueError) as error:
        catalogue.create_indicator(admin, values)
    assert error.value.field == field
    assert db.session.scalar(select(func.count()).select_from(Indicator)) == 0


@pytest.mark.parametrize("role", ["public", "lead", "coordinator"])
def test_only_admins_manage_the_catalogue(world, role):
    i = catalogue_indicator()
    user = world.user(role)
    with pytest.raises(PermissionDenied):
        catalogue.create_indicator(user, _values(name="New"))
    with pytest.raises(PermissionDenied):
        catalogue.update_indicator(user, i, _values(name="Renamed"), None)
    for action in (catalogue.retire_indicator, catalogue.restore_indicator,
                   catalogue.delete_indicator):
        with pytest.raises(PermissionDenied):
            action(user, i)
    with pytest.raises(PermissionDenied):  # (None is the system, as the demo loader runs it)
        catalogue.seed_catalogue(user or AnonymousUserMixin())


def test_update_audits_what_changed_and_detects_a_stale_form(admin):
    i = catalogue_indicator("Seclusion episodes", unit="episodes")
    loaded = catalogue.fingerprint(i)
    catalogue.update_indicator(admin, i, _values(unit="episodes per month",
                                                 definition=i.definition, reference=""), loaded)
    [event] = _events("indicator.updated")
    assert event.changes == {"unit": ["episodes", "episodes per month"]}
    with pytest.raises(catalogue.EditConflict):
        catalogue.update_indicator(admin, i, _values(unit="hours"), loaded)
    assert i.unit == "episodes per month"


def test_rename_onto_another_catalogue_name_is_refused(admin):
    catalogue_indicator("Prone restraints")
    i = catalogue_indicator("Seclusion episodes")
    with pytest.raises(CatalogueError):
        catalogue.update_indicator(admin, i, _values(name="prone RESTRAINTS"), None)
    catalogue.update_indicator(admin, i, _values(name="SECLUSION episodes"), None)
    assert i.name == "SECLUSION episodes"


def test_retired_indicators_stay_attached_but_cannot_be_newly_attached(admin, world):
    i = catalogue_indicator("Seclusion episodes")
    other = catalogue_indicator("Prone restraints")
    c = f.commitment(world.org, f.domain(), status=CommitmentStatus.PUBLISHED, published_at=utcnow())
    _attach(c, i)
    catalogue.retire_indicator(admin, i)
    assert i.is_active is False
    assert catalogue.is_attachable(i) is False and catalogue.is_attachable(other) is True
    assert catalogue.attachable_indicators() == [other]
    assert [ci.indicator for ci in c.indicators] == [i]
    with pytest.raises(CatalogueError) as error:
        catalogue.retire_indicator(admin, i)
    assert error.value.status == 409
    catalogue.restore_indicator(admin, i)
    assert catalogue.is_attachable(i) and len(_events("indicator.restored")) == 1


def test_own_indicators_are_not_attachable_from_the_catalogue(world):
    own = _own_indicator(world.org)
    assert catalogue.is_attachable(own) is False
    assert catalogue.attachable_indicators() == []


def test_own_indicators_are_not_managed_here(admin, world):
    own = _own_indicator(world.org)
    assert catalogue.catalogue_indicator(own.id) is None
    for action in (catalogue.retire_indicator, catalogue.delete_indicator):
        with pytest.raises(CatalogueError) as error:
            action(admin, own)
        assert error.value.status == 404
    with pytest.raises(CatalogueError):
        catalogue.update_indicator(admin, own, _values(), None)


def test_an_indicator_in_use_cannot_be_deleted(admin, world):
    i = catalogue_indicator("Seclusion episodes")
    draft = f.commitment(world.org, f.domain(), status=CommitmentStatus.DRAFT)
    _attach(draft, i)
    with pytest.raises(CatalogueError) as error:
        catalogue.delete_indicator(admin, i)
    assert error.value.message == (
        "“Seclusion episodes” cannot be deleted: 1 commitment uses it. Retire it instead: it "
        "stays on that commitment but cannot be newly attached.")
    assert db.session.get(Indicator, i.id) is not None


def test_an_unused_indicator_is_deleted_with_an_audit_event(admin):
    i = catalogue_indicator("Mistake")
    indicator_id = i.id
    catalogue.delete_indicator(admin, i)
    assert db.session.get(Indicator, indicator_id) is None
    [event] = _events("indicator.deleted")
    assert event.object_id == indicator_id


def test_public_usage_counts_only_public_commitments(world):
    i = catalogue_indicator("Seclusion episodes")
    d = f.domain()
    _attach(f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED, published_at=utcnow()), i)
    _attach(f.commitment(world.other_org, d, status=CommitmentStatus.RETIRED, published_at=utcnow()), i)
    _attach(f.commitment(world.org, d, status=CommitmentStatus.DRAFT), i)
    assert catalogue.public_usage_counts() == {i.id: 2}
    assert catalogue.usage_counts() == {i.id: 3}


def test_the_public_catalogue_lists_active_indicators_by_name(world):
    b = catalogue_indicator("Seclusion episodes")
    a = catalogue_indicator("Prone restraints")
    catalogue_indicator("Old measure", is_active=False)
    _own_indicator(world.org, "Our own")
    indicators, usage = catalogue.public_catalogue()
    assert indicators == [a, b] and usage == {}


def test_own_indicators_page_names_their_organisation(world):
    _own_indicator(world.other_org, "Peer support hours")
    _own_indicator(world.org, "Debriefs held")
    catalogue_indicator("Catalogue one")
    page = catalogue.own_indicators_page(1)
    assert [(i.organisation.name, i.name) for i in page.items] == [
        ("Fenland Trust", "Debriefs held"), ("Mind in the Fens", "Peer support hours")]


# --- the seed list ---------------------------------------------------------------------------

def test_the_seed_list_has_the_real_measures_asked_for():
    names = [s["name"] for s in SEED_INDICATORS]
    assert len(names) == len({n.casefold() for n in names}) >= 11
    by_name = {s["name"]: s for s in SEED_INDICATORS}
    assert by_name["Restrictive interventions per 1,000 occupied bed days"]["reference"] == (
        "NHS Mental Health Services Data Set, measure MHS96")
    assert by_name["People subject to restrictive intervention"]["reference"].endswith("MHS76")
    for expected in ("Prone restraints", "Seclusion episodes",
                     "Rapid tranquillisation per 1,000 occupied bed days",
                     "Incidents with a post-incident review held with the patient",
                     "Overall patient satisfaction", "Staff engagement score",
                     "Mechanical restraint episodes", "Average length of seclusion",
                     "Use of police powers under section 136 per month"):
        assert expected in by_name
    assert by_name["Overall patient satisfaction"]["unit"] == "%"
    assert by_name["Overall patient satisfaction"]["direction"] == Direction.HIGHER_IS_BETTER
    assert by_name["Prone restraints"]["direction"] == Direction.LOWER_IS_BETTER
    for seed in SEED_INDICATORS:
        assert set(seed) == {"name", "definition", "unit", "direction", "reference"}
        assert isinstance(seed["direction"], Direction)
        assert len(seed["name"]) <= 200 and len(seed["unit"]) <= 80 and len(seed["reference"]) <= 300
        assert len(seed["definition"]) > 40 and seed["definition"].endswith(".")


def test_seed_catalogue_adds_what_is_missing_and_is_idempotent(world):
    catalogue_indicator("PRONE restraints")  # already there, in another case
    added = catalogue.seed_catalogue()
    assert added == len(SEED_INDICATORS) - 1
    assert catalogue.seed_catalogue() == 0
    assert catalogue.seed_catalogue(world.user("admin")) == 0
    names = db.session.scalars(select(Indicator.name).where(Indicator.organisation_id.is_(None)))
    assert len(list(names)) == len(SEED_INDICATORS)
    events = _events("indicator.created")
    assert len(events) == added and all(e.actor_label == "system" for e in events)


def test_seeded_indicators_can_be_attached(world):
    catalogue.seed_catalogue()
    assert len(catalogue.attachable_indicators()) == len(SEED_INDICATORS)
