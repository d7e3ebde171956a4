"""Public pages: the site page, /charter, the charter page, one version, the exact text."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from charter.extensions import db
from charter.models import (
    CharterStatus,
    MemberRole,
    OrganisationStatus,
    Sector,
    SignatureWithdrawal,
    Tier,
)
from tests import factories as f
from tests.conftest import ROLES
from tests.support import count_queries, text_of


def _withdraw(signature, by):
    db.session.add(SignatureWithdrawal(signature=signature, withdrawn_by_id=by.id, reason="Left",
                                       withdrawn_at=datetime.now(UTC)))
    db.session.flush()


# --- the site page --------------------------------------------------------------------

def test_site_page_shows_the_site_its_coordinators_charter_and_signatories(client, world):
    site = world.site
    site.description = "Cambridgeshire and **Peterborough**."
    site.contact_email = "promise@cambridge.example.org"
    world.user("coordinator").full_name = "Chidi Coordinator"
    v1 = f.charter_version(site, 1, CharterStatus.SUPERSEDED, superseded_at=datetime.now(UTC))
    v2 = f.charter_version(site, 2, CharterStatus.OPEN, title="The Cambridge PROMISE Charter",
                           opened_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    f.signature(world.org, v1, world.user("lead"))            # signed v1 only
    f.signature(world.other_org, v2, world.user("other_lead"))  # signed the open one
    supporter = f.organisation(site, "Voices Together", tier=Tier.SUPPORTER,
                               sector=Sector.LIVED_EXPERIENCE)
    f.signature(supporter, v2, world.user("lead"))
    pending = f.organisation(site, "Pending Org", status=OrganisationStatus.PENDING)
    f.signature(pending, v2, world.user("lead"))
    gone = f.organisation(site, "Withdrawn Org")
    _withdraw(f.signature(gone, v2, world.user("lead")), world.user("lead"))
    f.organisation(world.other_site, "Brisbane Org")

    response = client.get("/sites/cambridge")
    assert response.status_code == 200
    page = text_of(response)
    html = response.get_data(as_text=True)
    assert "Cambridge" in page and "United Kingdom" in page
    assert "<strong>Peterborough</strong>" in html
    assert "Chidi Coordinator" in page
    assert 'href="mailto:promise@cambridge.example.org"' in html
    assert "The Cambridge PROMISE Charter , version 2" in page
    assert "open for signature since 1 April 2026" in page  # shown in London time (BST)
    assert 'href="/sites/cambridge/charter"' in html
    assert "2 signatories, 1 supporter." in page
    assert "Fenland Trust Statutory Signatory Signed version 1 — invited to re-affirm version 2" in page
    assert "Mind in the Fens Statutory Signatory Signed version 2" in page
    assert "Lived-experience group 1" in page and "Statutory 2" in page
    for absent in ("Pending Org", "Withdrawn Org", "Brisbane Org"):
        assert absent not in page
    assert "Commitments and progress" in page


def test_site_page_empty_state(client, world):
    page = text_of(client.get("/sites/brisbane"))
    assert "The Brisbane charter is not open for signature yet." in page
    assert "No organisation has signed the Brisbane charter yet." in page
    assert "This site has no coordinator yet." not in page  # other_coordinator runs Brisbane


def test_unknown_site_is_not_found(client, world):
    assert client.get("/sites/atlantis").status_code == 404
    assert client.get("/sites/atlantis/charter").status_code == 404
    assert client.get("/sites/" + "x" * 500).status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_site_managers_see_a_link_to_manage_the_charter(client, world, role):
    client.login(world.user(role))
    assert "Manage the charter versions" in text_of(client.get("/sites/cambridge"))


@pytest.mark.parametrize("role", ["public", "lead", "other_coordinator"])
def test_others_see_no_link_to_manage(client, world, role):
    if world.user(role):
        client.login(world.user(role))
    assert "Manage the charter versions" not in text_of(client.get("/sites/cambridge"))


def _populate(site, n: int, version) -> None:
    for i in range(n):
        org = f.organisation(site, tier=Tier.SUPPORTER if i % 3 == 0 else Tier.SIGNATORY,
                             sector=list(Sector)[i % len(Sector)])
        lead = f.user()
        f.member(lead, org, MemberRole.LEAD)
        f.signature(org, version, lead)
    db.session.commit()


def _site_queries(client) -> int:
    with count_queries() as counter:
        response = client.get("/sites/cambridge")
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("role", ["public", "coordinator"])
def test_site_page_query_count_does_not_grow_with_organisations(client, world, role):
    if world.user(role):
        client.login(world.user(role))
    v1 = f.charter_version(world.site, 1, CharterStatus.SUPERSEDED, superseded_at=datetime.now(UTC))
    v2 = f.charter_version(world.site, 2, CharterStatus.OPEN)
    f.signature(world.org, v1, world.user("lead"))
    _populate(world.site, 2, v2)
    small = _site_queries(client)
    _populate(world.site, 40, v2)
    _populate(world.site, 10, v1)
    large = _site_queries(client)
    assert small == large, f"site page ran {small} queries with little data, {large} with more"
    # The first 25 signatories and, from the dashboards, one grouped count by sector and
    # tier (the page no longer loads every signatory to count them). Signed in, two more:
    # the lookup of the server-side session (charter.auth.sessions) and the coordinator's
    # sites (for the links to manage this one).
    assert large <= (11 if role == "public" else 13)


# --- /charter and the charter page -----------------------------------------------------

def test_current_charter_is_the_default_sites(client, world):
    f.charter_version(world.site, 1, CharterStatus.OPEN, title="Cambridge text",
                      body="# Cambridge\n\nWe promise.")
    f.charter_version(world.other_site, 1, CharterStatus.OPEN, title="Brisbane text")
    response = client.get("/charter")
    assert response.status_code == 200
    page = text_of(response)
    assert "Cambridge text" in page and "Brisbane text" not in page


def test_current_charter_falls_back_to_the_first_site(app, client, world):
    app.config["DEFAULT_SITE"] = "no-such-site"
    try:
        page = text_of(client.get("/charter"))
    finally:
        app.config["DEFAULT_SITE"] = "cambridge"
    assert "No version of the Cambridge charter is open for signature yet." in page


def test_current_charter_with_no_sites_is_a_friendly_page(client):
    response = client.get("/charter")
    assert response.status_code == 200
    assert "No PROMISE site has been set up yet" in text_of(response)


def test_charter_page_shows_text_hash_history_and_compare_form(client, world):
    v1 = f.charter_version(world.site, 1, CharterStatus.SUPERSEDED, title="First",
                           opened_at=datetime(2025, 1, 10, 12, tzinfo=UTC),
                           superseded_at=datetime(2026, 2, 1, 12, tzinfo=UTC))
    v2 = f.charter_version(world.site, 2, CharterStatus.OPEN, title="Second",
                           body="# The charter\n\nWe **promise**.\n\n<script>alert(1)</script>",
                           change_summary="Adds a promise on data.",
                           opened_at=datetime(2026, 2, 1, 12, tzinfo=UTC))
    f.charter_version(world.site, 3, CharterStatus.DRAFT, title="Secret draft")
    f.signature(world.org, v1, world.user("lead"))
    f.signature(world.other_org, v2, world.user("other_lead"))
    f.signature(world.org, v2, world.user("lead"))
    response = client.get("/sites/cambridge/charter")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "<h1>Second</h1>" in html
    assert "<h2>The charter</h2>" in html  # user headings never add a second h1
    assert "<strong>promise</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert v2.body_sha256 in page
    assert "Open for signature since 1 February 2026" in page
    assert "Version 2 Second Open for signature 1 February 2026 Adds a promise on data. 2" in page
    assert "Version 1 First Superseded 10 January 2025 1 February 2026 1" in page
    assert "Secret draft" not in page and "Version 3" not in page
    assert 'name="from"' in html and 'name="to"' in html
    assert html.count("<h1") == 1


def test_charter_page_of_a_site_without_versions(client, world):
    response = client.get("/sites/brisbane/charter")
    assert response.status_code == 200
    page = text_of(response)
    assert "No version of the Brisbane charter is open for signature yet." in page
    assert "Version history" not in page


def test_a_lead_who_has_not_signed_sees_a_sign_link(client, world):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    client.login(world.user("lead"))
    response = client.get("/sites/cambridge/charter")
    assert "Sign this version for Fenland Trust" in text_of(response)
    assert 'href="/organisations/fenland-trust/sign"' in response.get_data(as_text=True)


def test_a_lead_who_signed_an_earlier_version_is_asked_to_reaffirm(client, world):
    v1 = f.charter_version(world.site, 1, CharterStatus.SUPERSEDED, superseded_at=datetime.now(UTC))
    f.charter_version(world.site, 2, CharterStatus.OPEN)
    f.signature(world.org, v1, world.user("lead"))
    client.login(world.user("lead"))
    page = text_of(client.get("/sites/cambridge/charter"))
    assert "Re-affirm version 2 for Fenland Trust" in page
    assert "Sign this version" not in page


def test_no_sign_link_once_signed_for_editors_or_pending_organisations(client, world):
    v1 = f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.signature(world.org, v1, world.user("lead"))
    world.other_org.status = OrganisationStatus.PENDING
    for role in ("lead", "editor", "other_lead", "coordinator", "public"):
        client.logout()
        if world.user(role):
            client.login(world.user(role))
        page = text_of(client.get("/sites/cambridge/charter"))
        assert "Sign this version" not in page and "Re-affirm" not in page, role


def test_a_lead_of_another_sites_organisation_sees_no_sign_link_here(client, world):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.charter_version(world.other_site, 1, CharterStatus.OPEN)
    client.login(world.user("lead"))
    assert "Sign this version" not in text_of(client.get("/sites/brisbane/charter"))


# --- one version ----------------------------------------------------------------------

def test_a_superseded_version_says_so_and_links_to_the_open_one(client, world):
    f.charter_version(world.site, 1, CharterStatus.SUPERSEDED, body="Old words",
                      superseded_at=datetime(2026, 6, 1, 9, tzinfo=UTC))
    f.charter_version(world.site, 2, CharterStatus.OPEN)
    response = client.get("/sites/cambridge/charter/v1")
    page = text_of(response)
    assert "This version was superseded on 1 June 2026" in page
    assert "Read version 2, open for signature now" in page
    assert "Old words" in page


def test_an_open_version_links_to_what_changed(client, world):
    f.charter_version(world.site, 1, CharterStatus.SUPERSEDED, superseded_at=datetime.now(UTC))
    f.charter_version(world.site, 2, CharterStatus.OPEN)
    html = client.get("/sites/cambridge/charter/v2").get_data(as_text=True)
    assert 'href="/sites/cambridge/charter/diff?from=1&amp;to=2"' in html


@pytest.mark.parametrize("role", ROLES)
def test_drafts_are_private_to_the_sites_coordinators_and_admins(client, world, role):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.charter_version(world.site, 2, CharterStatus.DRAFT, body="Draft words")
    if world.user(role):
        client.login(world.user(role))
    for url in ("/sites/cambridge/charter/v2", "/sites/cambridge/charter/v2.md"):
        response = client.get(url)
        if role in ("coordinator", "admin"):
            assert response.status_code == 200
            assert "Draft words" in response.get_data(as_text=True)
        else:
            assert response.status_code == 404


def test_the_draft_page_offers_the_coordinator_edit_and_open(client, world):
    f.charter_version(world.site, 1, CharterStatus.DRAFT)
    client.login(world.user("coordinator"))
    page = text_of(client.get("/sites/cambridge/charter/v1"))
    assert "This is a draft. Only the site's coordinators can see it" in page
    assert "Edit this draft" in page and "Open version 1 for signature" in page


@pytest.mark.parametrize("number", ["9", "0", "99999999999999999999"])
def test_unknown_version_numbers_are_not_found(client, world, number):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    assert client.get(f"/sites/cambridge/charter/v{number}").status_code == 404


def test_the_exact_text_can_be_downloaded_and_checked(client, world):
    body = "# Charta\n\nSlibujeme — 我们承诺 — Ons belowe 🤝"
    v1 = f.charter_version(world.site, 1, CharterStatus.OPEN, body=body)
    response = client.get("/sites/cambridge/charter/v1.md")
    assert response.status_code == 200
    assert response.mimetype == "text/markdown"
    assert hashlib.sha256(response.get_data()).hexdigest() == v1.body_sha256


def test_charter_page_query_count_does_not_grow_with_versions_or_signatures(client, world):
    client.login(world.user("lead"))
    v1 = f.charter_version(world.site, 1, CharterStatus.SUPERSEDED, superseded_at=datetime.now(UTC))
    f.charter_version(world.site, 2, CharterStatus.OPEN)
    f.signature(world.org, v1, world.user("lead"))
    db.session.commit()

    def queries() -> int:
        with count_queries() as counter:
            response = client.get("/sites/cambridge/charter")
        assert response.status_code == 200
        return counter.count

    small = queries()
    for number in range(3, 12):
        older = f.charter_version(world.site, number, CharterStatus.SUPERSEDED,
                                  superseded_at=datetime.now(UTC))
        _populate(world.site, 3, older)
    large = queries()
    assert small == large, f"charter page ran {small} queries with little data, {large} with more"
