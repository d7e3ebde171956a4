"""Change domain pages: /domains and /domains/<slug> for everyone, /admin/domains… for
admins; what each role sees, bad input, conflicts, and fixed query counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from charter.extensions import db
from charter.models import (
    AuditEvent,
    ChangeDomain,
    CommitmentStatus,
    Completion,
    OrganisationStatus,
    Partnership,
    PartnershipStatus,
    Sector,
)
from charter.models.base import utcnow
from tests import factories as f
from tests.support import count_queries, text_of

PUBLISHED = {"status": CommitmentStatus.PUBLISHED, "published_at": utcnow()}


def _domain(name="Least restrictive practice", **kw):
    kw.setdefault("slug", re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))
    kw.setdefault("summary", "From physical intervention to all restrictive practice")
    kw.setdefault("description", "Reduce **every** form of coercion.")
    kw.setdefault("source_note", "PROMISE change agenda, first shift.")
    return f.domain(name, **kw)


def _form(**kw) -> dict:
    data = {"name": "Healing environments", "summary": "Calm places", "description": "",
            "source_note": "", "position": "6", "is_active": "y"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
    assert match, f"no hidden {name} field"
    return match.group(1)


@pytest.fixture
def admin(client, world):
    client.login(world.user("admin"))
    return world.user("admin")


# --- /domains ---------------------------------------------------------------------------

def test_domains_page_lists_domains_in_order_with_their_counts(client, world):
    second = _domain("Prevention and early detection", position=2, summary="From incidents to antecedents")
    first = _domain("Least restrictive practice", position=1)
    _domain("Old heading", position=0, is_active=False, summary="No longer used")
    f.commitment(world.org, first, **PUBLISHED)
    f.commitment(world.other_org, first, completion=Completion.COMPLETED, **PUBLISHED)
    f.commitment(world.org, first, status=CommitmentStatus.DRAFT)
    f.commitment(world.org, second, status=CommitmentStatus.DRAFT)
    page = text_of(client.get("/domains"))
    assert page.index("Least restrictive practice") < page.index("Prevention and early detection")
    assert ("Least restrictive practice From physical intervention to all restrictive practice "
            "Reduce every form of coercion. Source: PROMISE change agenda, first shift. "
            "2 published commitments · 1 completed") in page
    assert "Prevention and early detection From incidents to antecedents" in page
    assert "0 published commitments · 0 completed" in page
    retired = page[page.index("Retired change domains"):]
    assert "Old heading Retired · No longer used · 0 public commitments" in retired
    assert "Old heading" not in page[:page.index("Retired change domains")]
    html = client.get("/domains").get_data(as_text=True)
    assert f'href="/domains/{second.slug}"' in html and "<strong>every</strong>" in html


def test_domains_page_offers_management_only_to_admins(client, world):
    _domain()
    assert "Manage change domains" not in text_of(client.get("/domains"))
    client.login(world.user("coordinator"))
    assert "Manage change domains" not in text_of(client.get("/domains"))
    client.login(world.user("admin"))
    assert "Manage change domains" in text_of(client.get("/domains"))


def test_domain_text_is_escaped(client, world):
    _domain("<script>alert(1)</script> Domain", slug="x", summary="<b>bold?</b>",
            description="<img src=x onerror=alert(1)>", source_note="<i>note</i>")
    html = client.get("/domains").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Domain" in html
    assert "<b>bold?</b>" not in html and "<img" not in html and "<i>note</i>" not in html


def test_domains_page_runs_a_fixed_number_of_queries(client, world):
    def measure():
        db.session.commit()  # the setup's commit (and the refresh it sends) is not the page's
        with count_queries() as counter:
            assert client.get("/domains").status_code == 200
        return counter.count

    for i in range(2):
        f.commitment(world.org, _domain(f"Domain {i}", position=i), **PUBLISHED)
    small = measure()
    for i in range(2, 30):
        d = _domain(f"Domain {i}", position=i, is_active=i % 5 != 0)
        for _ in range(3):
            f.commitment(world.org, d, **PUBLISHED)
            f.commitment(world.other_org, d, status=CommitmentStatus.DRAFT)
    assert measure() == small <= 3


# --- /domains/<slug> --------------------------------------------------------------------

def test_domain_page_explains_the_domain_and_groups_public_commitments(client, world):
    d = _domain()
    brisbane = f.organisation(world.other_site, "Metro North Mental Health", sector=Sector.STATUTORY)
    led = f.commitment(world.org, d, title="Halve prone restraint", rag="at_risk",
                       completion=Completion.SUBSTANTIAL, **PUBLISHED)
    db.session.add(Partnership(commitment=led, organisation=world.other_org,
                               status=PartnershipStatus.ACCEPTED))
    world.other_org.sector = Sector.THIRD_SECTOR
    f.commitment(brisbane, d, title="Safewards on every ward", **PUBLISHED)
    f.commitment(world.other_org, d, title="Old promise", status=CommitmentStatus.RETIRED,
                 published_at=utcnow())
    f.commitment(world.org, d, title="Secret draft plan", status=CommitmentStatus.DRAFT)
    pending = f.organisation(world.site, "Pending Hospital", status=OrganisationStatus.PENDING)
    f.commitment(pending, d, title="Pending org promise", **PUBLISHED)
    page = text_of(client.get(f"/domains/{d.slug}"))
    assert "Least restrictive practice From physical intervention to all restrictive practice" in page
    assert "Source: PROMISE change agenda, first shift." in page
    assert "3 public commitments" in page
    assert page.index("Brisbane") < page.index("Cambridge")
    assert ("Cambridge Fenland Trust (Statutory) Halve prone restraint Completion: Substantial "
            "Status: At risk Joint commitment with Mind in the Fens (Third sector)") in page
    assert "Mind in the Fens (Third sector) Old promise Retired" in page
    assert "Brisbane Metro North Mental Health (Statutory) Safewards on every ward" in page
    assert "Secret draft plan" not in page and "Pending org promise" not in page


@pytest.mark.parametrize("role", ["editor", "lead", "coordinator", "admin"])
def test_drafts_never_appear_on_the_domain_page_whoever_looks(client, world, role):
    d = _domain()
    f.commitment(world.org, d, title="Secret draft plan", status=CommitmentStatus.DRAFT)
    client.login(world.user(role))
    page = text_of(client.get(f"/domains/{d.slug}"))
    assert "Secret draft plan" not in page and "No public commitments under this domain yet." in page


def test_domain_page_filters_by_site(client, world):
    d = _domain()
    f.commitment(world.org, d, title="Cambridge promise", **PUBLISHED)
    f.commitment(f.organisation(world.other_site, "Metro North"), d, title="Brisbane promise",
                 **PUBLISHED)
    html = client.get(f"/domains/{d.slug}").get_data(as_text=True)
    assert '<label for="site"' in html and '<option value="brisbane"' in html
    page = text_of(client.get(f"/domains/{d.slug}?site=brisbane"))
    assert "Brisbane promise" in page and "Cambridge promise" not in page
    assert "1 public commitment at Brisbane" in page
    page = text_of(client.get(f"/domains/{d.slug}?site=<b>atlantis</b>"))
    assert "No site called “<b>atlantis</b>” has public commitments" in page
    assert "Brisbane promise" in page and "Cambridge promise" in page


def test_domain_page_for_a_retired_domain_says_so(client, world):
    d = _domain(is_active=False)
    f.commitment(world.org, d, title="Kept promise", **PUBLISHED)
    page = text_of(client.get(f"/domains/{d.slug}"))
    assert "This change domain is retired" in page and "Kept promise" in page


def test_unknown_domain_is_404(client, world):
    assert client.get("/domains/no-such-domain").status_code == 404
    assert client.get("/domains/" + "x" * 300).status_code == 404


def test_domain_page_is_paginated(client, world):
    d = _domain()
    for i in range(55):
        f.commitment(world.org, d, title=f"Promise {i:02d}", **PUBLISHED)
    first = text_of(client.get(f"/domains/{d.slug}"))
    assert "55 public commitments · showing 1 to 50" in first and "Page 1 of 2" in first
    second = text_of(client.get(f"/domains/{d.slug}?page=2"))
    assert "showing 51 to 55" in second
    assert client.get(f"/domains/{d.slug}?page=abc").status_code == 200
    assert client.get(f"/domains/{d.slug}?page=99999999999999999999").status_code == 200


def test_domain_page_runs_a_fixed_number_of_queries(client, world):
    d = _domain()

    def measure():
        db.session.commit()  # the setup's commit (and the refresh it sends) is not the page's
        with count_queries() as counter:
            assert client.get(f"/domains/{d.slug}").status_code == 200
        return counter.count

    f.commitment(world.org, d, **PUBLISHED)
    small = measure()
    for s in range(4):
        site = f.site(name=f"Site {s}")
        for _o in range(5):
            org = f.organisation(site)
            for _ in range(3):
                c = f.commitment(org, d, **PUBLISHED)
                db.session.add(Partnership(commitment=c, organisation=world.other_org,
                                           status=PartnershipStatus.ACCEPTED))
                f.commitment(org, d, status=CommitmentStatus.DRAFT)
    assert measure() == small <= 6


# --- admin: the list --------------------------------------------------------------------

def test_admin_list_shows_order_state_and_usage(client, world, admin):
    a = _domain("Least restrictive practice", position=1)
    _domain("Unused heading", position=2)
    _domain("Retired heading", position=3, is_active=False)
    f.commitment(world.org, a, status=CommitmentStatus.DRAFT)
    f.commitment(world.org, a, **PUBLISHED)
    page = text_of(client.get("/admin/domains"))
    assert ("1 Least restrictive practice /domains/least-restrictive-practice Active 2 "
            "Edit Least restrictive practice Retire Least restrictive practice "
            "In use: cannot be deleted") in page
    assert ("2 Unused heading /domains/unused-heading Active 0 Edit Unused heading Retire Unused "
            "heading Delete Unused heading") in page
    assert "Retired heading /domains/retired-heading Retired 0 Edit Retired heading Restore" in page


def test_admin_list_runs_a_fixed_number_of_queries(client, world, admin):
    def measure():
        with count_queries() as counter:
            assert client.get("/admin/domains").status_code == 200
        return counter.count

    f.commitment(world.org, _domain("Domain 0", position=0), status=CommitmentStatus.DRAFT)
    small = measure()
    for i in range(1, 25):
        d = _domain(f"Domain {i}", position=i, is_active=i % 3 != 0)
        f.commitment(world.org, d, status=CommitmentStatus.DRAFT)
    assert measure() == small


@pytest.mark.parametrize("role", ["editor", "lead", "coordinator"])
def test_non_admins_are_refused(client, world, role):
    d = _domain()
    client.login(world.user(role))
    assert client.get("/admin/domains").status_code == 403
    assert client.post("/admin/domains/new", data=_form()).status_code == 403
    assert client.post(f"/admin/domains/{d.id}/delete").status_code == 403
    assert client.post(f"/admin/domains/{d.id}/retire").status_code == 403
    assert db.session.get(ChangeDomain, d.id).is_active is True
    assert db.session.scalar(select(ChangeDomain).where(ChangeDomain.name == "Healing environments")) is None


def test_the_public_is_sent_to_sign_in(client, world):
    response = client.get("/admin/domains")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


# --- admin: adding ----------------------------------------------------------------------

def test_new_form_proposes_the_next_position(client, world, admin):
    _domain(position=7)
    html = client.get("/admin/domains/new").get_data(as_text=True)
    assert 'name="position" required type="number" value="8"' in html
    assert 'checked' in html


def test_admin_adds_a_domain(client, world, admin):
    response = client.post("/admin/domains/new", data=_form(source_note="PROMISE programme"),
                           follow_redirects=True)
    assert response.status_code == 200
    assert "“Healing environments” is added. Its public page is /domains/healing-environments." in (
        text_of(response))
    d = db.session.scalar(select(ChangeDomain).where(ChangeDomain.slug == "healing-environments"))
    assert (d.name, d.summary, d.source_note, d.position, d.is_active) == (
        "Healing environments", "Calm places", "PROMISE programme", 6, True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "domain.created"))
    assert event.actor_id == admin.id and event.object_id == d.id


def test_a_new_domain_can_start_retired(client, world, admin):
    client.post("/admin/domains/new", data=_form(is_active=None))
    assert db.session.scalar(select(ChangeDomain)).is_active is False


@pytest.mark.parametrize(("data", "message"), [
    (_form(name=""), "Name: Enter the name of the change domain."),
    (_form(name="n" * 121), "Name: Use 120 characters or fewer."),
    (_form(summary="s" * 301), "Summary: Use 300 characters or fewer."),
    (_form(name="Bell\x07"), "Name: Remove the invisible control characters from this text."),
    (_form(position="three"), "Position in the list: Enter a whole number from 0 to 9999, such as 3."),
    (_form(position="-1"), "Position in the list: Enter a whole number from 0 to 9999, such as 3."),
    (_form(position=""), "Position in the list: Enter a whole number from 0 to 9999, such as 3."),
    (_form(position="9" * 40), "Position in the list: Enter a whole number from 0 to 9999, such as 3."),
])
def test_bad_input_is_shown_beside_the_field_and_kept(client, world, admin, data, message):
    response = client.post("/admin/domains/new", data=data)
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page and message in page
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert f'value="{data["name"][:4]}' in html and f'value="{data["summary"][:4]}' in html
    assert db.session.scalar(select(ChangeDomain)) is None


def test_a_duplicate_name_is_refused_beside_the_name(client, world, admin):
    _domain("Healing environments")
    response = client.post("/admin/domains/new", data=_form(name="HEALING environments",
                                                            summary="Mine"))
    assert response.status_code == 400
    page = text_of(response)
    assert ("Name: There is already a change domain called “Healing environments”. Choose another "
            "name.") in page
    assert 'value="HEALING environments"' in response.get_data(as_text=True)
    assert len(list(db.session.scalars(select(ChangeDomain)))) == 1


@pytest.mark.parametrize("name", ["Zdravé prostředí", "Genesende omgewings", "疗愈环境", "Healing 🌿",
                                  "<script>alert('x')</script>"])
def test_any_unicode_or_html_name_is_saved_and_escaped(client, world, admin, name):
    response = client.post("/admin/domains/new", data=_form(name=name, description="<b>x</b>"),
                           follow_redirects=True)
    assert response.status_code == 200
    d = db.session.scalar(select(ChangeDomain))
    assert d.name == name and len(d.slug) > 0
    public = client.get(f"/domains/{d.slug}").get_data(as_text=True)
    assert "<script>alert" not in public and "<b>x</b>" not in public
    assert name in text_of(client.get(f"/domains/{d.slug}"))


# --- admin: editing ---------------------------------------------------------------------

def test_rename_keeps_the_public_address(client, world, admin):
    d = _domain("Healing environments", slug="healing-environments", position=6)
    html = client.get(f"/admin/domains/{d.id}/edit").get_data(as_text=True)
    assert "Its public address stays /domains/healing-environments" in text_of(client.get(
        f"/admin/domains/{d.id}/edit"))
    response = client.post(f"/admin/domains/{d.id}/edit", data=_form(
        name="Healing and calm environments", loaded=_hidden(html, "loaded")), follow_redirects=True)
    assert "Your changes to “Healing and calm environments” are saved." in text_of(response)
    db.session.refresh(d)
    assert (d.name, d.slug) == ("Healing and calm environments", "healing-environments")
    assert "Healing and calm environments" in text_of(client.get("/domains/healing-environments"))


def test_edit_form_is_filled_in(client, world, admin):
    d = _domain("Healing environments", position=6, summary="Calm <places>")
    html = client.get(f"/admin/domains/{d.id}/edit").get_data(as_text=True)
    assert 'value="Healing environments"' in html and 'value="Calm &lt;places&gt;"' in html
    assert 'value="6"' in html


def test_a_second_edit_from_an_old_form_gets_the_conflict_page(client, world, admin):
    d = _domain("Healing environments", position=6)
    html = client.get(f"/admin/domains/{d.id}/edit").get_data(as_text=True)
    loaded = _hidden(html, "loaded")
    client.post(f"/admin/domains/{d.id}/edit", data=_form(name="Their name", summary="Theirs",
                                                          loaded=loaded))
    response = client.post(f"/admin/domains/{d.id}/edit", data=_form(
        name="My name", summary="My careful summary", loaded=loaded))
    assert response.status_code == 409
    page = text_of(response)
    assert "Someone else changed this change domain" in page
    assert "The version saved now Name Their name Summary Theirs" in page
    conflict_html = response.get_data(as_text=True)
    assert 'value="My name"' in conflict_html and 'value="My careful summary"' in conflict_html
    db.session.refresh(d)
    assert d.name == "Their name"
    # Saving from the conflict page replaces theirs, deliberately.
    client.post(f"/admin/domains/{d.id}/edit", data=_form(
        name="My name", summary="My careful summary", loaded=_hidden(conflict_html, "loaded")))
    db.session.refresh(d)
    assert (d.name, d.summary) == ("My name", "My careful summary")


def test_edit_with_a_duplicate_name_is_refused(client, world, admin):
    _domain("Accepting communities")
    d = _domain("Healing environments")
    response = client.post(f"/admin/domains/{d.id}/edit", data=_form(name="accepting communities"))
    assert response.status_code == 400
    assert "There is already a change domain called “Accepting communities”" in text_of(response)
    assert "Edit: Healing environments" in text_of(response)


def test_editing_an_unknown_domain_is_404(client, world, admin):
    assert client.get("/admin/domains/999999/edit").status_code == 404
    assert client.post("/admin/domains/999999/retire").status_code == 404


# --- admin: retire, restore, delete ------------------------------------------------------

def test_retire_and_restore_from_the_list(client, world, admin):
    d = _domain("Healing environments")
    response = client.post(f"/admin/domains/{d.id}/retire", follow_redirects=True)
    assert "“Healing environments” is retired: it stays on the commitments that use it" in (
        text_of(response))
    db.session.refresh(d)
    assert d.is_active is False
    assert "Healing environments" in text_of(client.get("/domains")).split("Retired change domains")[1]
    response = client.post(f"/admin/domains/{d.id}/retire", follow_redirects=True)
    assert "“Healing environments” is already retired." in text_of(response)
    client.post(f"/admin/domains/{d.id}/restore")
    db.session.refresh(d)
    assert d.is_active is True


def test_a_retired_domain_cannot_be_chosen_for_a_new_commitment(client, world, admin):
    d = _domain("Healing environments")
    client.post(f"/admin/domains/{d.id}/retire", follow_redirects=True)
    client.login(world.user("lead"))
    html = client.get(f"/organisations/{world.org.slug}/commitments/new").get_data(as_text=True)
    assert "Healing environments" not in html


def test_deleting_a_domain_in_use_is_refused_clearly(client, world, admin):
    d = _domain("Healing environments")
    f.commitment(world.org, d, status=CommitmentStatus.DRAFT)
    response = client.post(f"/admin/domains/{d.id}/delete", follow_redirects=True)
    assert ("“Healing environments” cannot be deleted: 1 commitment uses it (drafts count too). "
            "Retire it instead") in text_of(response)
    assert db.session.get(ChangeDomain, d.id) is not None


def test_deleting_an_unused_domain(client, world, admin):
    d = _domain("Mistake")
    response = client.post(f"/admin/domains/{d.id}/delete", follow_redirects=True)
    assert "“Mistake” is deleted." in text_of(response)
    assert db.session.scalar(select(ChangeDomain)) is None


def test_buttons_without_a_csrf_token_change_nothing(client, world, admin):
    d = _domain("Healing environments")
    assert client.post(f"/admin/domains/{d.id}/retire", csrf=False).status_code == 400
    db.session.refresh(d)
    assert d.is_active is True
