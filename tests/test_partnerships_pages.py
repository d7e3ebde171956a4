"""Partnership pages through the test client: what each role sees and may do, bad input,
Unicode and HTML, joint commitments on both profiles, and fixed query counts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from charter.extensions import db
from charter.models import (
    AuditEvent,
    CommitmentStatus,
    MemberRole,
    OrganisationStatus,
    OutboxMessage,
    Partnership,
    PartnershipStatus,
    Sector,
    User,
)
from charter.models.base import utcnow
from tests import factories as f
from tests.support import count_queries, text_of
from tests.test_partnerships_services import make_commitment, make_partnership

NASTY = '<script>alert("x")</script> Žluťoučký kůň 🐴 王小明 Ané Müller'


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _partners_url(c) -> str:
    return f"/commitments/{c.id}/partners"


def _partnership(c, org) -> Partnership | None:
    return db.session.scalar(select(Partnership).where(Partnership.commitment_id == c.id,
                                                       Partnership.organisation_id == org.id))


@pytest.fixture
def brisbane_org(world):
    org = f.organisation(world.other_site, "Queensland Police Service", slug="qps",
                         sector=Sector.STATUTORY)
    lead = f.user("inspector@example.org", full_name="Inspector Aroha")
    f.member(lead, org, MemberRole.LEAD)
    db.session.commit()
    return org


# --- the partners page --------------------------------------------------------------------

def test_a_lead_sees_partnerships_and_the_invite_form(client, world, brisbane_org):
    c = make_commitment(world.org, title="Fewer restraints on Ward 4")
    make_partnership(c, world.other_org, role_note="Peer support on the ward",
                     responded_at=utcnow())
    client.login(world.user("lead"))
    response = client.get(_partners_url(c))
    assert response.status_code == 200
    text = text_of(response)
    assert "Partners of “Fewer restraints on Ward 4”" in text
    assert ("Mind in the Fens Cambridge Statutory Accepted Peer support on the ward Accepted on"
            in text)
    assert "Invite a partner" in text
    html = response.get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)">([^<]*)</option>', html)
    # Any site; not the lead organisation itself, nor one already partnered.
    assert options == [(str(brisbane_org.id), "Queensland Police Service (Statutory, Brisbane)")]
    assert f"/partnerships/{c.partnerships[0].id}/end" in html


def test_an_editor_may_invite_but_not_end(client, world):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org)
    client.login(world.user("editor"))
    response = client.get(_partners_url(c))
    assert response.status_code == 200
    assert "Send the invitation" in text_of(response)
    assert f"/partnerships/{p.id}/end" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["other_lead", "other_editor", "coordinator", "admin"])
def test_others_may_not_manage_partners(client, world, role):
    c = make_commitment(world.org)
    client.login(world.user(role))
    assert client.get(_partners_url(c)).status_code == 403
    response = client.post(_partners_url(c), data={"organisation": str(world.other_org.id)})
    assert response.status_code == 403
    assert _count(Partnership) == 0


def test_a_draft_is_hidden_from_outsiders_and_shown_to_its_coordinators(client, world):
    c = make_commitment(world.org, status=CommitmentStatus.DRAFT)
    client.login(world.user("other_lead"))
    assert client.get(_partners_url(c)).status_code == 404
    client.login(world.user("coordinator"))
    assert client.get(_partners_url(c)).status_code == 403
    client.login(world.user("lead"))
    response = client.get(_partners_url(c))
    assert "Invited organisations see only its title" in text_of(response)


def test_a_number_too_large_for_an_id_is_not_found(client, world):
    client.login(world.user("lead"))
    assert client.get(f"/commitments/{'9' * 30}/partners").status_code == 404


def test_the_public_is_sent_to_sign_in(client, world):
    c = make_commitment(world.org)
    response = client.get(_partners_url(c))
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_the_search_narrows_the_list_by_name_site_and_sector(client, world, brisbane_org):
    c = make_commitment(world.org)
    f.organisation(world.other_site, "Národní ústav duševního zdraví", slug="nudz",
                   sector=Sector.ACADEMIC)
    client.login(world.user("lead"))

    def names(**args):
        response = client.get(_partners_url(c), query_string=args)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return [n.split(" (")[0] for n in re.findall(r'<option value="\d+">([^<]*)</option>', html)]

    assert names() == ["Mind in the Fens", "Národní ústav duševního zdraví",
                       "Queensland Police Service"]
    assert names(q="narodni USTAV") == ["Národní ústav duševního zdraví"]
    assert names(site="cambridge") == ["Mind in the Fens"]
    assert names(sector="academic") == ["Národní ústav duševního zdraví"]
    response = client.get(_partners_url(c), query_string={"q": "nobody like this"})
    assert "No organisation that can be invited matches this search" in text_of(response)
    # The invite form keeps the search, so a refused invitation re-shows the same list.
    response = client.get(_partners_url(c), query_string={"q": "police"})
    assert f'action="/commitments/{c.id}/partners?q=police"' in response.get_data(as_text=True)


def test_a_search_that_cannot_be_used_is_explained(client, world):
    c = make_commitment(world.org)
    client.login(world.user("lead"))
    response = client.get(_partners_url(c), query_string={"q": "x" * 101, "site": "atlantis"})
    assert response.status_code == 400
    text = text_of(response)
    assert "Use 100 characters or fewer." in text
    assert "so every organisation is listed" in text
    assert "Mind in the Fens" in text


def test_inviting_through_the_page(client, world, brisbane_org):
    c = make_commitment(world.org)
    client.login(world.user("lead"))
    response = client.post(_partners_url(c), data={"organisation": str(brisbane_org.id),
                                                    "role_note": NASTY})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_partners_url(c))
    p = _partnership(c, brisbane_org)
    assert p.status == PartnershipStatus.INVITED and p.role_note == NASTY
    assert _count(OutboxMessage) == 1
    page = client.get(_partners_url(c))
    text = text_of(page)
    assert "Queensland Police Service is invited." in text
    assert "Waiting for a lead of Queensland Police Service to answer" in text
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert NASTY.split("</script> ")[1] in html


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Choose the organisation to invite."),
    ({"organisation": "not-a-number"}, "Choose an organisation from the list."),
    ({"organisation": "99999"}, "Choose an organisation from the list."),
    ({"organisation": "9" * 40}, "Choose an organisation from the list."),
    ({"organisation": "-5"}, "Choose an organisation from the list."),
    ({"organisation": "OWN"}, "Fenland Trust leads this commitment: invite another organisation."),
    ({"organisation": "OTHER", "role_note": "é" * 301}, "Use 300 characters or fewer."),
    ({"organisation": "OTHER", "role_note": "tab\x00here"},
     "Remove the invisible control characters from this text."),
])
def test_bad_invitations_are_refused_beside_the_field_keeping_the_input(client, world, data,
                                                                         message):
    c = make_commitment(world.org)
    ids = {"OWN": str(world.org.id), "OTHER": str(world.other_org.id)}
    data = {k: ids.get(v, v) for k, v in data.items()}
    data.setdefault("role_note", "Kept: Zdraví 🌿")
    client.login(world.user("lead"))
    response = client.post(_partners_url(c), data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert message in text_of(response)
    assert re.search(r'id="(organisation|role_note)-error"', html)
    if data["role_note"] == "Kept: Zdraví 🌿":
        assert 'value="Kept: Zdraví 🌿"' in html
    assert _count(Partnership) == 0 and _count(OutboxMessage) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "commitment.partner_invited")) == 0


def test_inactive_organisations_are_refused_with_a_clear_message(client, world):
    c = make_commitment(world.org)
    gone = f.organisation(world.site, "Gone Away Trust", status=OrganisationStatus.WITHDRAWN)
    client.login(world.user("lead"))
    response = client.post(_partners_url(c), data={"organisation": str(gone.id)})
    assert response.status_code == 400
    assert "Gone Away Trust has withdrawn from the charter, so it cannot be invited." in text_of(
        response)
    # It is not offered in the list either.
    assert f'value="{gone.id}"' not in response.get_data(as_text=True)


def test_inviting_twice_is_refused_as_a_conflict(client, world):
    c = make_commitment(world.org)
    client.login(world.user("lead"))
    assert client.post(_partners_url(c), data={"organisation": str(world.other_org.id)}
                       ).status_code == 302
    response = client.post(_partners_url(c), data={"organisation": str(world.other_org.id)})
    assert response.status_code == 409
    assert "Mind in the Fens has already been invited and has not answered yet." in text_of(response)
    assert _count(Partnership) == 1


def test_re_inviting_after_a_decline(client, world):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org, PartnershipStatus.DECLINED)
    client.login(world.user("lead"))
    page = client.get(_partners_url(c))
    assert "Can be invited again below" in text_of(page)
    assert f'<option value="{world.other_org.id}">' in page.get_data(as_text=True)
    response = client.post(_partners_url(c), data={"organisation": str(world.other_org.id)})
    assert response.status_code == 302
    db.session.refresh(p)
    assert p.status == PartnershipStatus.INVITED and _count(Partnership) == 1


# --- the partnerships page of an organisation -------------------------------------------

def _inbox(org) -> str:
    return f"/organisations/{org.slug}/partnerships"


def test_the_partners_lead_sees_the_invitation_and_can_answer(client, world):
    c = make_commitment(world.org, title="Joint crisis line")
    p = make_partnership(c, world.other_org, PartnershipStatus.INVITED, role_note="Run the line",
                         invited_by_id=world.user("lead").id)
    client.login(world.user("other_lead"))
    response = client.get(_inbox(world.other_org))
    assert response.status_code == 200
    text = text_of(response)
    assert "Partnerships of Mind in the Fens" in text
    assert "Joint crisis line" in text and "Fenland Trust Statutory · Cambridge" in text
    assert "Run the line" in text and "Lead" in text
    html = response.get_data(as_text=True)
    assert f"/partnerships/{p.id}/accept" in html and f"/partnerships/{p.id}/decline" in html


def test_an_editor_of_the_partner_can_look_but_not_answer(client, world):
    c = make_commitment(world.org, title="Joint crisis line")
    p = make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    client.login(world.user("other_editor"))
    response = client.get(_inbox(world.other_org))
    assert response.status_code == 200
    assert "Joint crisis line" in text_of(response)
    assert "Only a lead of Mind in the Fens can accept" in text_of(response)
    assert f"/partnerships/{p.id}/accept" not in response.get_data(as_text=True)
    assert client.post(f"/partnerships/{p.id}/accept").status_code == 403
    db.session.refresh(p)
    assert p.status == PartnershipStatus.INVITED


def test_an_inbox_is_private_to_the_organisation_and_its_coordinators(client, world):
    for role, status in [("lead", 403), ("editor", 403), ("other_coordinator", 403),
                         ("coordinator", 200), ("admin", 200)]:
        client.login(world.user(role))
        assert client.get(_inbox(world.other_org)).status_code == status, role
    pending = f.organisation(world.site, "Pending Org", slug="pending-org",
                             status=OrganisationStatus.PENDING)
    client.login(world.user("lead"))
    assert client.get(_inbox(pending)).status_code == 404
    assert client.get("/organisations/no-such-org/partnerships").status_code == 404


def test_the_invited_organisation_sees_only_the_title_of_a_draft(client, world):
    c = make_commitment(world.org, status=CommitmentStatus.DRAFT, title="Quiet plan",
                        description="CONFIDENTIAL ward figures")
    make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    client.login(world.user("other_lead"))
    response = client.get(_inbox(world.other_org))
    text = text_of(response)
    assert "Quiet plan" in text and "Fenland Trust" in text
    assert "Its details are shown once Fenland Trust publishes it." in text
    assert "CONFIDENTIAL" not in response.get_data(as_text=True)
    assert f'href="/commitments/{c.id}"' not in response.get_data(as_text=True)
    assert client.get(f"/commitments/{c.id}").status_code == 404


def test_accepting_from_the_inbox_makes_a_joint_commitment_on_both_profiles(client, world,
                                                                             brisbane_org):
    c = make_commitment(world.org, title="Safer transport to hospital")
    client.login(world.user("lead"))
    client.post(_partners_url(c), data={"organisation": str(brisbane_org.id)})
    p = _partnership(c, brisbane_org)
    client.login(db.session.scalar(select(User).where(User.email == "inspector@example.org")))
    response = client.post(f"/partnerships/{p.id}/accept")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_inbox(brisbane_org))
    page = client.get(_inbox(brisbane_org))
    text = text_of(page)
    assert "Queensland Police Service is now a partner in “Safer transport to hospital”" in text
    assert "1 joint commitment Queensland Police Service takes part in" in text
    assert f"/partnerships/{p.id}/end" in page.get_data(as_text=True)
    # Both profiles, for anyone.
    client.logout()
    own = text_of(client.get("/organisations/fenland-trust"))
    assert ("Safer transport to hospital Completion: Not started Status: On track "
            "Joint commitment with Queensland Police Service (Statutory)") in own
    theirs = text_of(client.get("/organisations/qps"))
    assert "Safer transport to hospital" in theirs
    assert "Joint commitment led by Fenland Trust" in theirs
    assert [m.kind for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))] \
        == ["partnership_invited", "partnership_answered"]


def test_declining_from_the_inbox(client, world):
    c = make_commitment(world.org, title="Joint crisis line")
    p = make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    client.login(world.user("other_lead"))
    response = client.post(f"/partnerships/{p.id}/decline", follow_redirects=True)
    assert response.status_code == 200
    text = text_of(response)
    assert "You declined the invitation to “Joint crisis line”. Fenland Trust has been told." in text
    assert "Declined and ended" in text and "Declined by Other_Lead" in text
    assert "Joint crisis line" not in text_of(client.get("/organisations/mind-in-the-fens"))


def test_answering_twice_says_what_happened(client, world):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    client.login(world.user("other_lead"))
    assert client.post(f"/partnerships/{p.id}/accept").status_code == 302
    response = client.post(f"/partnerships/{p.id}/decline")
    assert response.status_code == 409
    assert "Mind in the Fens has already accepted this invitation." in text_of(response)
    db.session.refresh(p)
    assert p.status == PartnershipStatus.ACCEPTED


def test_a_missing_csrf_token_changes_nothing(client, world):
    c = make_commitment(world.org)
    p = make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    client.login(world.user("other_lead"))
    assert client.post(f"/partnerships/{p.id}/accept", csrf=False).status_code == 400
    db.session.refresh(p)
    assert p.status == PartnershipStatus.INVITED


def test_unknown_partnerships_are_not_found(client, world):
    client.login(world.user("other_lead"))
    for action in ("accept", "decline", "end"):
        assert client.post(f"/partnerships/424242/{action}").status_code == 404
        assert client.post(f"/partnerships/{'9' * 30}/{action}").status_code == 404


@pytest.mark.parametrize(("role", "back"), [("lead", "/partners"), ("other_lead", "/partnerships")])
def test_either_side_ends_and_returns_to_its_own_page(client, world, role, back):
    c = make_commitment(world.org, title="Joint crisis line")
    p = make_partnership(c, world.other_org)
    client.login(world.user(role))
    response = client.post(f"/partnerships/{p.id}/end")
    assert response.status_code == 302 and response.headers["Location"].endswith(back)
    db.session.refresh(p)
    assert p.status == PartnershipStatus.ENDED
    again = client.post(f"/partnerships/{p.id}/end")
    assert again.status_code == 409
    assert "This partnership has already ended." in text_of(again)


def test_the_partners_page_and_the_inbox_run_a_fixed_number_of_queries(client, world):
    def queries(role, url):
        client.login(world.user(role))
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    own = make_commitment(world.org)
    make_partnership(own, world.other_org, PartnershipStatus.INVITED)
    make_partnership(make_commitment(world.org), world.other_org)
    db.session.commit()
    small = (queries("lead", _partners_url(own)), queries("other_lead", _inbox(world.other_org)))
    for i in range(15):
        site = world.site if i % 2 else world.other_site
        org = f.organisation(site, f"Partner {i}", sector=list(Sector)[i % 6])
        make_partnership(own, org, list(PartnershipStatus)[i % 4],
                         invited_by_id=world.user(("lead", "editor")[i % 2]).id)
        other = make_commitment(f.organisation(site, f"Inviter {i}"),
                                status=(CommitmentStatus.DRAFT, CommitmentStatus.PUBLISHED)[i % 2])
        make_partnership(other, world.other_org, list(PartnershipStatus)[i % 4],
                         invited_by_id=world.user("admin").id)
    db.session.commit()
    large = (queries("lead", _partners_url(own)), queries("other_lead", _inbox(world.other_org)))
    assert large == small


# --- the commitment page's partners section ------------------------------------------------

def test_the_commitment_page_shows_accepted_partners_with_sector_and_site(client, world,
                                                                          brisbane_org):
    c = make_commitment(world.org)
    make_partnership(c, brisbane_org, role_note=NASTY)
    make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    response = client.get(f"/commitments/{c.id}")
    text = text_of(response)
    assert "Partners A joint commitment of Fenland Trust (Statutory, Cambridge) with:" in text
    assert "Queensland Police Service · Statutory · Brisbane" in text
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    # The public does not see invitations waiting, nor the manage link.
    assert "Mind in the Fens" not in text
    assert "Manage partners" not in text
    assert "See joint commitments across sectors and sites" in text


def test_the_lead_organisation_sees_pending_invitations_and_the_manage_link(client, world):
    c = make_commitment(world.org)
    make_partnership(c, world.other_org, PartnershipStatus.INVITED)
    client.login(world.user("editor"))
    text = text_of(client.get(f"/commitments/{c.id}"))
    assert "Invitations waiting for an answer Only members of Fenland Trust see these." in text
    assert "Mind in the Fens · Statutory · Cambridge" in text
    assert "Manage partners" in text
    # The invited organisation is pointed to its partnerships page.
    client.login(world.user("other_editor"))
    response = client.get(f"/commitments/{c.id}")
    assert "Mind in the Fens is invited to share this commitment." in text_of(response)
    assert f'href="{_inbox(world.other_org)}"' in response.get_data(as_text=True)


def test_the_commitment_page_query_count_does_not_grow_with_partners(client, world):
    def queries_for(c):
        with count_queries() as counter:
            assert client.get(f"/commitments/{c.id}").status_code == 200
        return counter.count

    small = make_commitment(world.org)
    make_partnership(small, f.organisation(world.other_site, "Partner A"))
    large = make_commitment(world.org)
    for i in range(12):
        site = world.site if i % 2 else world.other_site
        make_partnership(large, f.organisation(site, f"Partner {i}"),
                         PartnershipStatus.ACCEPTED if i % 3 else PartnershipStatus.INVITED)
    db.session.commit()
    client.login(world.user("lead"))
    assert queries_for(large) == queries_for(small)


# --- the public list of joint commitments --------------------------------------------------

def _joint(world, title, *, sectors, site=None, domain=None):
    c = make_commitment(world.org, title=title, domain=domain)
    for sector in sectors:
        make_partnership(c, f.organisation(site or world.site, f"{sector.label} org {f.n()}",
                                           sector=sector))
    return c


def test_the_list_shows_joint_commitments_with_a_summary(client, world):
    _joint(world, "Street triage", sectors=[Sector.THIRD_SECTOR, Sector.LIVED_EXPERIENCE],
           site=world.other_site)
    _joint(world, "Crisis café", sectors=[Sector.THIRD_SECTOR])
    make_commitment(world.org, title="Alone")
    response = client.get("/partnerships")
    assert response.status_code == 200
    text = text_of(response)
    assert "2 joint commitments across 3 sectors." in text
    assert text.index("Street triage") < text.index("Crisis café")
    assert "Fenland Trust Statutory · Cambridge" in text
    assert "Lived-experience group · Brisbane" in text
    assert "3 sectors Statutory, Third sector, Lived-experience group" in text
    assert "Alone" not in text


def test_the_list_filters_by_site_sector_domain_and_number(client, world):
    domain = f.domain("Accepting communities", slug="accepting-communities")
    _joint(world, "Street triage", sectors=[Sector.THIRD_SECTOR, Sector.LIVED_EXPERIENCE],
           site=world.other_site, domain=domain)
    _joint(world, "Crisis café", sectors=[Sector.THIRD_SECTOR])

    def titles(query):
        response = client.get("/partnerships", query_string=query)
        assert response.status_code == 200
        return re.findall(r'<a href="/commitments/\d+">([^<]+)</a>', response.get_data(as_text=True))

    assert titles({"site": "brisbane"}) == ["Street triage"]
    assert titles({"site": "cambridge"}) == ["Street triage", "Crisis café"]
    assert titles([("sector", "statutory"), ("sector", "lived_experience")]) == ["Street triage"]
    assert titles({"sector": "academic"}) == []
    assert titles({"domain": "accepting-communities"}) == ["Street triage"]
    assert titles({"min_sectors": "3"}) == ["Street triage"]
    text = text_of(client.get("/partnerships", query_string={"site": "brisbane"}))
    assert "1 joint commitment across 3 sectors involving Brisbane." in text


def test_unknown_filters_show_everything_with_a_warning(client, world):
    _joint(world, "Crisis café", sectors=[Sector.THIRD_SECTOR])
    response = client.get("/partnerships", query_string={"site": "atlantis", "sector": "police",
                                                         "min_sectors": "<b>"})
    assert response.status_code == 400
    text = text_of(response)
    assert "Some filters were not recognised" in text and "Crisis café" in text
    assert "<b>" not in response.get_data(as_text=True)


def test_the_list_pages_keep_every_sector_filter(client, world):
    for i in range(25):
        _joint(world, f"Joint {i}", sectors=[Sector.THIRD_SECTOR])
    response = client.get("/partnerships", query_string=[("sector", "statutory"),
                                                         ("sector", "third_sector")])
    html = response.get_data(as_text=True)
    assert "Showing 1 to 20 of 25" in text_of(response)
    next_link = re.search(r'href="([^"]+)" rel="next"', html).group(1)
    assert "sector=statutory" in next_link and "sector=third_sector" in next_link
    second = client.get(next_link.replace("&amp;", "&"))
    assert "Showing 21 to 25 of 25" in text_of(second)


def test_the_list_runs_a_fixed_number_of_queries(client, world):
    def queries():
        with count_queries() as counter:
            response = client.get("/partnerships", query_string=[("sector", "third_sector")])
            assert response.status_code == 200
        return counter.count

    _joint(world, "Small", sectors=[Sector.THIRD_SECTOR])
    db.session.commit()
    small = queries()
    for i in range(30):
        site = world.site if i % 2 else world.other_site
        _joint(world, f"Large {i}", sectors=[Sector.THIRD_SECTOR, Sector.ACADEMIC, Sector.COMMISSIONER],
               site=site, domain=f.domain(f"Large domain {i}"))
    db.session.commit()
    assert queries() == small
    client.login(world.user("lead"))
    signed_in = queries()
    assert signed_in <= small + 2  # the signed-in user and their roles
