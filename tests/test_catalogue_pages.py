"""Indicator catalogue pages: /indicators for everyone, /admin/indicators… for admins."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from charter.catalogue.indicators import SEED_INDICATORS, seed_catalogue
from charter.extensions import db
from charter.models import (
    AuditEvent,
    CommitmentIndicator,
    CommitmentStatus,
    Direction,
    Indicator,
)
from charter.models.base import utcnow
from tests import factories as f
from tests.access.catalogue import catalogue_indicator
from tests.support import count_queries, text_of


def _form(**kw) -> dict:
    data = {"name": "Seclusion episodes", "definition": "Episodes of seclusion in the month.",
            "unit": "episodes", "direction": "lower", "reference": "MHA Code of Practice, chapter 26",
            "is_active": "y"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def _own_indicator(org, name):
    obj = Indicator(name=name, unit="hours", direction=Direction.HIGHER_IS_BETTER,
                    organisation_id=org.id)
    db.session.add(obj)
    db.session.flush()
    return obj


def _attach(commitment, indicator):
    db.session.add(CommitmentIndicator(commitment=commitment, indicator=indicator))
    db.session.flush()


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
    assert match, f"no hidden {name} field"
    return match.group(1)


@pytest.fixture
def admin(client, world):
    client.login(world.user("admin"))
    return world.user("admin")


# --- /indicators ----------------------------------------------------------------------------

def test_public_catalogue_shows_active_indicators_and_their_public_use(client, world):
    i = catalogue_indicator("Prone restraints", unit="restraints per month",
                            definition="Face-down restraints.", reference="Positive and Proactive Care")
    catalogue_indicator("Overall patient satisfaction", unit="%", direction=Direction.HIGHER_IS_BETTER)
    catalogue_indicator("Retired measure", is_active=False)
    _own_indicator(world.org, "Our own measure")
    d = f.domain()
    _attach(f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED, published_at=utcnow()), i)
    _attach(f.commitment(world.org, d, status=CommitmentStatus.DRAFT), i)
    page = text_of(client.get("/indicators"))
    assert "2 indicators in the catalogue" in page
    assert ("Prone restraints Face-down restraints. restraints per month Lower "
            "Positive and Proactive Care 1") in page
    assert "Overall patient satisfaction" in page and "% Higher" in page
    assert "Retired measure" not in page and "Our own measure" not in page
    assert "Manage the catalogue" not in page


def test_public_catalogue_after_seeding_shows_the_real_measures(client, world):
    seed_catalogue()
    page = text_of(client.get("/indicators"))
    assert f"{len(SEED_INDICATORS)} indicators in the catalogue" in page
    assert "NHS Mental Health Services Data Set, measure MHS96" in page
    assert "Restrictive interventions per 1,000 occupied bed days" in page


def test_catalogue_text_is_escaped(client, world):
    catalogue_indicator("<script>alert(1)</script>", definition="<img src=x onerror=alert(1)>")
    html = client.get("/indicators").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_public_catalogue_runs_a_fixed_number_of_queries(client, world):
    def measure():
        with count_queries() as counter:
            assert client.get("/indicators").status_code == 200
        return counter.count

    catalogue_indicator("One")
    db.session.commit()  # the setup's commit (and its rollups refresh) is not the page's
    small = measure()
    d = f.domain()
    for n in range(40):
        i = catalogue_indicator(f"Indicator {n}")
        c = f.commitment(world.org, d, status=CommitmentStatus.PUBLISHED, published_at=utcnow())
        _attach(c, i)
    db.session.commit()  # the setup's commit (and its rollups refresh) is not the page's
    assert measure() == small <= 3


# --- admin: list --------------------------------------------------------------------------

def test_admin_list_shows_catalogue_and_own_indicators_apart(client, world, admin):
    used = catalogue_indicator("Prone restraints")
    catalogue_indicator("Old measure", is_active=False)
    _own_indicator(world.other_org, "Peer support hours")
    _attach(f.commitment(world.org, f.domain(), status=CommitmentStatus.DRAFT), used)
    page = text_of(client.get("/admin/indicators"))
    catalogue_part, own_part = page.split("Organisations' own indicators", 1)
    assert ("Prone restraints episodes Lower Active 1 Edit Prone restraints Retire Prone restraints "
            "In use: cannot be deleted") in catalogue_part
    assert "Old measure episodes Lower Retired 0 Edit Old measure Restore Old measure Delete" in (
        catalogue_part)
    assert "Peer support hours" not in catalogue_part
    assert "Peer support hours Mind in the Fens (Cambridge) hours Higher Active" in own_part
    assert "Edit Peer support hours" not in own_part


def test_admin_list_runs_a_fixed_number_of_queries(client, world, admin):
    def measure():
        with count_queries() as counter:
            assert client.get("/admin/indicators").status_code == 200
        return counter.count

    _own_indicator(world.org, "Own 0")
    catalogue_indicator("Cat 0")
    db.session.commit()  # the setup's commit (and its rollups refresh) is not the page's
    small = measure()
    for n in range(1, 30):
        org = f.organisation(f.site())
        _own_indicator(org, f"Own {n}")
        catalogue_indicator(f"Cat {n}")
    db.session.commit()  # the setup's commit (and its rollups refresh) is not the page's
    assert measure() == small


@pytest.mark.parametrize("role", ["editor", "lead", "coordinator"])
def test_non_admins_are_refused(client, world, role):
    i = catalogue_indicator("Prone restraints")
    client.login(world.user(role))
    assert client.get("/admin/indicators").status_code == 403
    assert client.post("/admin/indicators/new", data=_form(name="Sneaky")).status_code == 403
    assert client.post(f"/admin/indicators/{i.id}/delete").status_code == 403
    assert client.post(f"/admin/indicators/{i.id}/retire").status_code == 403
    db.session.refresh(i)
    assert i.is_active is True
    assert db.session.scalar(select(Indicator).where(Indicator.name == "Sneaky")) is None


def test_the_public_is_sent_to_sign_in(client, world):
    response = client.get("/admin/indicators/new")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


# --- admin: adding and editing ----------------------------------------------------------------

def test_admin_adds_an_indicator(client, world, admin):
    response = client.post("/admin/indicators/new", data=_form(), follow_redirects=True)
    assert "“Seclusion episodes” is added to the catalogue." in text_of(response)
    i = db.session.scalar(select(Indicator))
    assert (i.name, i.unit, i.direction, i.reference, i.in_catalogue, i.is_active) == (
        "Seclusion episodes", "episodes", Direction.LOWER_IS_BETTER,
        "MHA Code of Practice, chapter 26", True, True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "indicator.created"))


@pytest.mark.parametrize(("data", "message"), [
    (_form(name=""), "Name: Enter the name of the indicator."),
    (_form(name="n" * 201), "Name: Use 200 characters or fewer."),
    (_form(unit=""), "Unit: Enter the unit"),
    (_form(unit="u" * 81), "Unit: Use 80 characters or fewer."),
    (_form(reference="r" * 301), "Reference: Use 300 characters or fewer."),
    (_form(direction=""), "Which direction is better: Say whether higher or lower values are better."),
    (_form(direction="sideways"), "Which direction is better:"),
])
def test_bad_input_is_shown_beside_the_field_and_kept(client, world, admin, data, message):
    response = client.post("/admin/indicators/new", data=data)
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page and message in page
    html = response.get_data(as_text=True)
    assert f'value="{data["name"][:5]}' in html
    assert "Episodes of seclusion in the month.</textarea>" in html
    assert db.session.scalar(select(Indicator)) is None


def test_a_duplicate_name_is_refused(client, world, admin):
    catalogue_indicator("Seclusion episodes")
    response = client.post("/admin/indicators/new", data=_form(name="SECLUSION EPISODES"))
    assert response.status_code == 400
    assert ("Name: The catalogue already has an indicator called “Seclusion episodes”."
            in text_of(response))


@pytest.mark.parametrize("name", ["Počet omezení 🛑", "Tevredenheid van pasiënte", "满意度",
                                  "<b>bold</b> & co"])
def test_any_unicode_or_html_is_saved_and_escaped(client, world, admin, name):
    client.post("/admin/indicators/new", data=_form(name=name, definition="<script>x</script>"))
    assert db.session.scalar(select(Indicator)).name == name
    html = client.get("/indicators").get_data(as_text=True)
    assert "<script>x</script>" not in html and "<b>bold</b>" not in html
    assert name in text_of(client.get("/indicators"))


def test_edit_form_is_filled_in_and_saves(client, world, admin):
    i = catalogue_indicator("Seclusion episodes", unit="episodes", direction=Direction.LOWER_IS_BETTER)
    html = client.get(f"/admin/indicators/{i.id}/edit").get_data(as_text=True)
    assert 'value="Seclusion episodes"' in html and '<option selected value="lower">' in html
    response = client.post(f"/admin/indicators/{i.id}/edit", data=_form(
        unit="episodes per month", loaded=_hidden(html, "loaded")), follow_redirects=True)
    assert "Your changes to “Seclusion episodes” are saved." in text_of(response)
    db.session.refresh(i)
    assert i.unit == "episodes per month"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "indicator.updated"))
    assert event.changes["unit"] == ["episodes", "episodes per month"]


def test_a_second_edit_from_an_old_form_gets_the_conflict_page(client, world, admin):
    i = catalogue_indicator("Seclusion episodes")
    loaded = _hidden(client.get(f"/admin/indicators/{i.id}/edit").get_data(as_text=True), "loaded")
    client.post(f"/admin/indicators/{i.id}/edit", data=_form(definition="Theirs.", loaded=loaded))
    response = client.post(f"/admin/indicators/{i.id}/edit",
                           data=_form(definition="My careful definition.", loaded=loaded))
    assert response.status_code == 409
    page = text_of(response)
    assert "Someone else changed this indicator" in page and "Theirs." in page
    assert "My careful definition.</textarea>" in response.get_data(as_text=True)
    db.session.refresh(i)
    assert i.definition == "Theirs."


def test_an_organisations_own_indicator_is_not_edited_here(client, world, admin):
    own = _own_indicator(world.org, "Our own measure")
    assert client.get(f"/admin/indicators/{own.id}/edit").status_code == 404
    assert client.post(f"/admin/indicators/{own.id}/retire").status_code == 404
    assert client.post(f"/admin/indicators/{own.id}/delete").status_code == 404
    assert client.get("/admin/indicators/999999/edit").status_code == 404


# --- admin: retire, restore, delete ------------------------------------------------------------

def test_retire_and_restore(client, world, admin):
    i = catalogue_indicator("Prone restraints")
    response = client.post(f"/admin/indicators/{i.id}/retire", follow_redirects=True)
    assert "“Prone restraints” is retired: it stays on the commitments that use it, and cannot be " \
           "newly attached." in text_of(response)
    assert "Prone restraints" not in text_of(client.get("/indicators"))
    client.post(f"/admin/indicators/{i.id}/restore", follow_redirects=True)
    db.session.refresh(i)
    assert i.is_active is True
    assert "Prone restraints" in text_of(client.get("/indicators"))


def test_deleting_an_indicator_in_use_is_refused_clearly(client, world, admin):
    i = catalogue_indicator("Prone restraints")
    _attach(f.commitment(world.org, f.domain(), status=CommitmentStatus.PUBLISHED,
                         published_at=utcnow()), i)
    response = client.post(f"/admin/indicators/{i.id}/delete", follow_redirects=True)
    assert "“Prone restraints” cannot be deleted: 1 commitment uses it. Retire it instead" in (
        text_of(response))
    assert db.session.get(Indicator, i.id) is not None


def test_deleting_an_unused_indicator(client, world, admin):
    i = catalogue_indicator("Mistake")
    response = client.post(f"/admin/indicators/{i.id}/delete", follow_redirects=True)
    assert "“Mistake” is deleted from the catalogue." in text_of(response)
    assert db.session.scalar(select(Indicator)) is None
