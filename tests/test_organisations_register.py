"""The public register of signatories, organisation profiles and their history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from charter import audit
from charter.extensions import db
from charter.models import (
    CharterStatus,
    OrganisationStatus,
    Sector,
    SignatureWithdrawal,
    Tier,
)
from tests import factories as f
from tests.support import count_queries, text_of


@pytest.fixture
def register(world):
    """Signatories and supporters on two sites, plus organisations that must not be listed."""
    version = f.charter_version(world.site)
    brisbane_v1 = f.charter_version(world.other_site)
    lead = world.user("lead")
    f.signature(world.org, version, lead)                                  # listed
    f.signature(world.other_org, version, world.user("other_lead"))        # listed
    voices = f.organisation(world.site, "Voices of Experience", slug="voices",
                            tier=Tier.SUPPORTER, sector=Sector.LIVED_EXPERIENCE)
    f.signature(voices, version, lead)                                     # listed (supporter)
    qas = f.organisation(world.other_site, "Queensland Ambulance", slug="qas")
    f.signature(qas, brisbane_v1, lead)                                    # listed, Brisbane
    f.organisation(world.site, "Pending Place", slug="pending-place",
                   status=OrganisationStatus.PENDING)                      # not listed
    f.organisation(world.site, "Declined Place", slug="declined-place",
                   status=OrganisationStatus.DECLINED)                     # not listed
    f.organisation(world.site, "Approved Not Signed", slug="approved-not-signed")  # not listed
    gone = f.organisation(world.site, "Gone Away", slug="gone-away")
    sig = f.signature(gone, version, lead)
    db.session.add(SignatureWithdrawal(signature=sig, withdrawn_by=lead, reason="Service closed",
                                       withdrawn_at=datetime.now(UTC)))    # not listed
    gone.status = OrganisationStatus.WITHDRAWN
    db.session.commit()
    return world


def _names(response) -> list[str]:
    html = response.get_data(as_text=True)
    if 'id="register"' not in html:
        return []
    table = html.split('id="register"')[1].split("</table>")[0]
    import re

    return re.findall(r'<th scope="row"><a href="/organisations/[^"]+">([^<]+)</a>', table)


def test_register_lists_only_current_signatories_and_supporters(client, register):
    response = client.get("/signatories")
    assert response.status_code == 200
    assert _names(response) == ["Fenland Trust", "Mind in the Fens", "Queensland Ambulance",
                                "Voices of Experience"]
    assert "3 signatories, 1 supporter" in text_of(response)


@pytest.mark.parametrize(("query", "expected"), [
    ("site=brisbane", ["Queensland Ambulance"]),
    ("site=cambridge&tier=supporter", ["Voices of Experience"]),
    ("sector=lived_experience", ["Voices of Experience"]),
    ("q=FENS", ["Mind in the Fens"]),
    ("q=queensland+ambulance", ["Queensland Ambulance"]),
    ("q=nothing+like+this", []),
    # Punctuation folds away: "%" is no search (and never a SQL wildcard).
    ("q=%25", ["Fenland Trust", "Mind in the Fens", "Queensland Ambulance", "Voices of Experience"]),
    ("q=%25fens", ["Mind in the Fens"]),
])
def test_register_filters_and_search(client, register, query, expected):
    response = client.get(f"/signatories?{query}")
    assert response.status_code == 200
    assert _names(response) == expected
    if not expected:
        assert "No organisation matches these filters." in text_of(response)


def test_unknown_filter_values_are_a_clear_400(client, register):
    response = client.get("/signatories?site=atlantis&sector=pirates")
    assert response.status_code == 400
    assert "Some filters were not recognised" in text_of(response)


def test_register_pages_and_clamps_out_of_range_pages(client, world):
    version = f.charter_version(world.site)
    for i in range(30):
        f.signature(f.organisation(world.site, f"Org {i:02d}"), version, world.user("lead"))
    db.session.commit()
    first = client.get("/signatories")
    assert len(_names(first)) == 25
    assert "Page 1 of 2" in text_of(first)
    second = client.get("/signatories?page=2")
    assert len(_names(second)) == 5
    assert _names(client.get("/signatories?page=999")) == _names(second)
    assert _names(client.get("/signatories?page=-1")) == _names(first)


def test_register_shows_organisations_invited_to_reaffirm(client, register):
    v1 = db.session.scalar(select(f.CharterVersion).where(
        f.CharterVersion.site_id == register.site.id))
    v1.status = CharterStatus.SUPERSEDED
    db.session.flush()
    v2 = f.charter_version(register.site, 2)
    f.signature(register.org, v2, register.user("lead"))
    db.session.commit()
    page = text_of(client.get("/signatories?site=cambridge"))
    assert "Signed version 2" in page
    assert "Invited to re-affirm version 2" in page  # Mind in the Fens signed version 1 only


def test_register_query_count_does_not_grow(client, world):
    version = f.charter_version(world.site)
    f.signature(world.org, version, world.user("lead"))
    db.session.commit()
    with count_queries() as small:
        client.get("/signatories")
    for i in range(40):
        f.signature(f.organisation(world.site, f"Bulk {i}"), version, world.user("lead"))
    db.session.commit()
    with count_queries() as large:
        client.get("/signatories")
    assert small.count == large.count, large


def test_profile_shows_signature_history_with_withdrawals(client, register):
    page = text_of(client.get("/organisations/gone-away"))
    assert "Withdrawn on" in page and "Service closed" in page
    assert "No current signature." in page
    page = text_of(client.get("/organisations/fenland-trust"))
    assert "Signed version 1 of the Cambridge charter" in page


def test_profile_management_links_follow_roles(client, register):
    client.login(register.user("lead"))
    page = text_of(client.get("/organisations/fenland-trust"))
    assert "Members" in page and "History" in page
    client.login(register.user("other_lead"))
    page = text_of(client.get("/organisations/fenland-trust"))
    assert "History" not in page


@pytest.mark.parametrize(("role", "status"), [
    ("public", 404), ("other_lead", 404), ("other_coordinator", 404),
    ("coordinator", 200), ("admin", 200)])
def test_pending_and_declined_profiles_are_private(client, register, role, status):
    user = register.user(role)
    if user:
        client.login(user)
    assert client.get("/organisations/pending-place").status_code == status
    assert client.get("/organisations/declined-place").status_code == status


def test_unknown_organisation_is_404(client):
    assert client.get("/organisations/no-such-org").status_code == 404


def test_coordinator_sees_the_history_of_an_organisation(client, world):
    audit.record(world.user("lead"), "organisation.updated", world.org, {"website": [None, "https://x.org"]})
    audit.record(world.user("other_lead"), "organisation.updated", world.other_org, {"name": ["A", "B"]})
    db.session.commit()
    client.login(world.user("coordinator"))
    page = text_of(client.get(f"/organisations/{world.org.slug}/history"))
    assert "organisation.updated" in page and "https://x.org" in page
    assert "lead@example.org" in page
    assert "other.lead@example.org" not in page
    client.login(world.user("other_coordinator"))
    assert client.get(f"/organisations/{world.org.slug}/history").status_code == 403
