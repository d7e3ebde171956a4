"""Joining the charter: applications, coordinator invitations, approval and decline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from charter.extensions import db
from charter.models import (
    AuditEvent,
    Invitation,
    MemberRole,
    Membership,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
    Sector,
    Tier,
    User,
)
from charter.models.base import utcnow
from charter.organisations import invitations, services
from charter.permissions import PermissionDenied
from tests.support import text_of


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _details(name="Riverside Crisis Café", **kw):
    return services.OrganisationDetails(name=name, sector=kw.pop("sector", Sector.THIRD_SECTOR),
                                        tier=kw.pop("tier", Tier.SIGNATORY), **kw)


def _account(email="applicant@example.org"):
    return services.AccountDetails(full_name="Zuzana Šťastná", job_title="Ředitelka",
                                   email=email, password="a long password 123")


def _join_form(site_slug="cambridge", **overrides):
    data = {
        "site": site_slug, "organisation_name": "Riverside Crisis Café", "sector": "third_sector",
        "tier": "signatory", "website": "https://riverside.example.org",
        "description": "A crisis café run with people who use services.",
        "full_name": "Zuzana Šťastná", "job_title": "Director", "email": "applicant@example.org",
        "password": "a long password 123", "confirm": "a long password 123",
    }
    data.update(overrides)
    return data


# --- services -----------------------------------------------------------------------

def test_application_starts_pending_with_the_applicant_as_lead(world):
    org, lead = services.apply_to_join(None, world.site, _details(), _account())
    db.session.commit()
    assert org.status == OrganisationStatus.PENDING
    assert org.slug == "riverside-crisis-cafe"
    membership = db.session.scalar(select(Membership).where(Membership.organisation_id == org.id))
    assert membership.user_id == lead.id and membership.role == MemberRole.LEAD
    assert lead.check_password("a long password 123")
    coordinator_mail = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.to_address == world.user("coordinator").email))
    assert "Riverside Crisis Café" in coordinator_mail.subject
    assert f"/manage/sites/{world.site.slug}/applications" in coordinator_mail.body_text
    # Only the site's coordinators are told, not Brisbane's.
    assert _count(OutboxMessage, OutboxMessage.to_address == world.user("other_coordinator").email) == 0
    assert _count(AuditEvent, AuditEvent.action == "organisation.applied",
                  AuditEvent.organisation_id == org.id) == 1


@pytest.mark.parametrize("variant", [
    "Fenland Trust", "FENLAND TRUST", "fenland   trust", "Fenland-Trust", "Fénland Trust"])
def test_duplicate_names_on_the_same_site_are_refused(world, variant):
    with pytest.raises(services.ServiceError) as exc:
        services.apply_to_join(None, world.site, _details(variant), _account())
    assert exc.value.field == "organisation_name"
    assert "already part of the charter" in exc.value.message
    db.session.rollback()
    assert _count(User, User.email == "applicant@example.org") == 0


def test_the_same_name_on_another_site_is_fine(world):
    org, _ = services.apply_to_join(None, world.other_site, _details("Fenland Trust"), _account())
    assert org.site_id == world.other_site.id
    assert org.slug == "fenland-trust-2"


def test_existing_account_email_must_sign_in_first(world):
    with pytest.raises(services.ServiceError) as exc:
        services.apply_to_join(None, world.site, _details(), _account(world.user("lead").email))
    assert exc.value.field == "email"


def test_signed_in_applicant_uses_their_account(world):
    lead = world.user("other_lead")
    org, applicant = services.apply_to_join(lead, world.site, _details(), None)
    assert applicant is lead
    assert _count(User) == 7


def test_coordinator_approves_and_the_lead_is_told(world):
    org, lead = services.apply_to_join(None, world.site, _details(), _account())
    db.session.commit()
    services.approve(world.user("coordinator"), org, org.version)
    db.session.commit()
    assert org.status == OrganisationStatus.ACTIVE
    assert org.decided_by_id == world.user("coordinator").id and org.decided_at is not None
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "organisation_approved"))
    assert message.to_address == lead.email
    assert f"/organisations/{org.slug}/sign" in message.body_text


def test_decline_needs_a_reason_that_the_applicant_sees(world):
    org, lead = services.apply_to_join(None, world.site, _details(), _account())
    with pytest.raises(services.ServiceError):
        services.decline(world.user("coordinator"), org, "   ")
    services.decline(world.user("coordinator"), org, "Not in the Cambridge area.")
    db.session.commit()
    assert org.status == OrganisationStatus.DECLINED
    assert org.decision_reason == "Not in the Cambridge area."
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "organisation_declined"))
    assert "Not in the Cambridge area." in message.body_text


@pytest.mark.parametrize("role", ["other_coordinator", "lead", "editor", "other_lead"])
def test_only_the_sites_coordinators_and_admins_decide(world, role):
    org, _ = services.apply_to_join(None, world.site, _details(), _account())
    with pytest.raises(PermissionDenied):
        services.approve(world.user(role), org)
    assert org.status == OrganisationStatus.PENDING


def test_a_decision_is_made_once(world):
    org, _ = services.apply_to_join(None, world.site, _details(), _account())
    version = org.version
    services.approve(world.user("coordinator"), org, version)
    db.session.commit()
    with pytest.raises(services.ServiceError) as exc:
        services.decline(world.user("admin"), org, "Changed my mind", version)
    assert exc.value.status == 409
    with pytest.raises(services.ServiceError):
        services.approve(world.user("admin"), org)
    assert org.status == OrganisationStatus.ACTIVE


def test_coordinator_invitation_creates_an_approved_organisation(world):
    invitation = services.invite_organisation(world.user("coordinator"), world.site,
                                              "Newcomer@Example.org", "Police Mental Health Unit", "")
    db.session.commit()
    assert invitation.email == "newcomer@example.org"
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "organisation_invitation"))
    token = re.search(r"/join/invited/(\S+)", message.body_text).group(1)
    org, lead = services.accept_organisation_invitation(
        None, token, _details("Police Mental Health Unit", sector=Sector.STATUTORY),
        _account("ignored@example.org"))
    db.session.commit()
    assert org.status == OrganisationStatus.ACTIVE
    assert lead.email == "newcomer@example.org"  # the invitation's address, not the typed one
    assert db.session.get(Invitation, invitation.id).used_at is not None
    with pytest.raises(services.ServiceError) as exc:
        services.accept_organisation_invitation(None, token, _details("Another"), _account("x@example.org"))
    assert "already been used" in exc.value.message


def test_coordinator_of_another_site_cannot_invite(world):
    with pytest.raises(PermissionDenied):
        services.invite_organisation(world.user("other_coordinator"), world.site, "a@example.org", "", "")


def test_expired_and_tampered_invitations_are_refused(world):
    invitation = services.invite_organisation(world.user("coordinator"), world.site,
                                              "late@example.org", None, "")
    token = invitations.token_for(invitation)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    assert invitations.check(token, invitation.kind).problem == "expired"
    assert invitations.check(token[:-3] + "abc", invitation.kind).problem == "invalid"
    assert invitations.check(token, "member").problem == "wrong_kind"


# --- pages --------------------------------------------------------------------------

def test_join_page_journey_signs_in_the_applicant(client, world):
    response = client.post("/join", data=_join_form())
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "riverside-crisis-cafe"))
    assert response.headers["Location"] == f"/organisations/{org.slug}"
    page = client.get(response.headers["Location"])
    assert "waiting for a coordinator" in text_of(page)
    assert "Signed in as Zuzana Šťastná" in text_of(client.get("/dashboard"))
    # Pending organisations are not public.
    client.logout()
    assert client.get(f"/organisations/{org.slug}").status_code == 404
    assert "Riverside" not in text_of(client.get("/signatories"))


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"organisation_name": ""}, "organisation_name", "Enter the organisation's name."),
    ({"organisation_name": "x" * 201}, "organisation_name", "Use 200 characters or fewer."),
    ({"sector": ""}, "sector", "Choose the organisation's sector."),
    ({"sector": "pirates"}, "sector", "Not a valid choice"),
    ({"site": "atlantis"}, "site", "Not a valid choice"),
    ({"website": "not a url"}, "website", "Enter a full web address"),
    ({"email": "nope"}, "email", "Enter an email address in the form"),
    ({"password": "short", "confirm": "short"}, "password", "Use between 10 and 128 characters."),
    ({"confirm": "something else"}, "confirm", "The two passwords do not match."),
    ({"organisation_name": "Fenland Trust"}, "organisation_name", "already part of the charter"),
    ({"email": "lead@example.org"}, "email", "already an account with this email"),
    ({"organisation_name": "Bad\x00Name"}, "organisation_name", "control characters"),
])
def test_bad_join_input_is_explained_beside_the_field_and_kept(client, world, overrides, field, message):
    response = client.post("/join", data=_join_form(**overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert f'href="#{field}"' in html or message in text_of(response)
    # What was typed is still there (except passwords).
    assert "A crisis café run with people who use services." in html
    assert _count(Organisation) == 2
    assert _count(User) == 7


@pytest.mark.parametrize("name", [
    "Národní ústav duševního zdraví", "Kaapse Gemeenskap Geestesgesondheid", "心理健康服务中心",
    "Mind 🧠 Matters", "<script>alert('x')</script> Trust"])
def test_any_unicode_or_html_name_is_accepted_and_escaped(client, world, name):
    response = client.post("/join", data=_join_form(organisation_name=name))
    assert response.status_code == 302, text_of(response)
    org = db.session.scalar(select(Organisation).where(Organisation.name == name))
    client.login(world.user("coordinator"))
    page = client.get(f"/manage/sites/{world.site.slug}/applications").get_data(as_text=True)
    assert "<script>alert" not in page
    if "<" in name:
        assert "&lt;script&gt;" in page
    else:
        assert name in page
    assert org.slug


def test_coordinator_queue_approve_and_decline_pages(client, world):
    services.apply_to_join(None, world.site, _details("First Applicant"), _account("a1@example.org"))
    second, _ = services.apply_to_join(None, world.site, _details("Second Applicant"),
                                       _account("a2@example.org"))
    db.session.commit()
    client.login(world.user("coordinator"))
    page = text_of(client.get(f"/manage/sites/{world.site.slug}/applications"))
    assert "First Applicant" in page and "Second Applicant" in page
    first = db.session.scalar(select(Organisation).where(Organisation.name == "First Applicant"))
    response = client.post(f"/manage/organisations/{first.slug}/approve", data={"version": first.version})
    assert response.status_code == 302
    # Declining without a reason keeps the application pending and says why.
    response = client.post(f"/manage/organisations/{second.slug}/decline",
                           data={f"decline-{second.id}-reason": "",
                                 f"decline-{second.id}-version": second.version})
    assert response.status_code == 400
    assert "Give a reason: the applicant will see it." in text_of(response)
    response = client.post(f"/manage/organisations/{second.slug}/decline",
                           data={f"decline-{second.id}-reason": "Outside the area",
                                 f"decline-{second.id}-version": second.version})
    assert response.status_code == 302
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == OrganisationStatus.ACTIVE
    assert second.status == OrganisationStatus.DECLINED
    # A second approval (a double click) changes nothing and says so.
    response = client.post(f"/manage/organisations/{first.slug}/approve",
                           data={"version": first.version - 1}, follow_redirects=True)
    assert "Someone else has just decided" in text_of(response)
    assert _count(AuditEvent, AuditEvent.action == "organisation.approved") == 1


def test_declined_applicant_sees_the_reason(client, world):
    org, lead = services.apply_to_join(None, world.site, _details(), _account())
    services.decline(world.user("coordinator"), org, "We need a named contact in Peterborough.")
    db.session.commit()
    client.login(lead)
    assert "We need a named contact in Peterborough." in text_of(client.get("/dashboard"))
    assert "We need a named contact in Peterborough." in text_of(client.get(f"/organisations/{org.slug}"))


def test_coordinator_of_another_site_gets_404_on_a_pending_application(client, world):
    org, _ = services.apply_to_join(None, world.site, _details(), _account())
    db.session.commit()
    client.login(world.user("other_coordinator"))
    assert client.post(f"/manage/organisations/{org.slug}/approve").status_code == 404
    assert client.get(f"/organisations/{org.slug}").status_code == 404
    db.session.refresh(org)
    assert org.status == OrganisationStatus.PENDING


def test_invitation_page_flow(client, world):
    client.login(world.user("coordinator"))
    response = client.post(f"/manage/sites/{world.site.slug}/invitations",
                           data={"email": "newcomer@example.org", "organisation_name": "Street Triage"})
    assert response.status_code == 302
    client.logout()
    body = db.session.scalar(select(OutboxMessage.body_text).where(
        OutboxMessage.kind == "organisation_invitation"))
    path = re.search(r"http://localhost(/join/invited/\S+)", body).group(1)
    page = client.get(path)
    assert page.status_code == 200
    assert 'value="Street Triage"' in page.get_data(as_text=True)
    assert 'value="newcomer@example.org" readonly' in page.get_data(as_text=True)
    data = _join_form(organisation_name="Street Triage", sector="statutory")
    data.pop("site")
    response = client.post(path, data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisations/street-triage/sign"
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "street-triage"))
    assert org.status == OrganisationStatus.ACTIVE
    again = client.get(path)
    assert again.status_code == 410
    assert "already been used" in text_of(again)


def test_invitation_for_an_existing_account_asks_to_sign_in(client, world):
    services.invite_organisation(world.user("coordinator"), world.site,
                                 world.user("other_lead").email, None, "")
    db.session.commit()
    token = invitations.token_for(db.session.scalar(select(Invitation)))
    page = client.get(f"/join/invited/{token}")
    assert "Sign in to accept" in text_of(page)
    client.login(world.user("lead"))
    wrong = client.get(f"/join/invited/{token}")
    assert wrong.status_code == 403 and "is for someone else" in text_of(wrong)
    client.login(world.user("other_lead"))
    assert client.get(f"/join/invited/{token}").status_code == 200


def test_junk_invitation_token_is_a_clear_400(client):
    response = client.get("/join/invited/not-a-token")
    assert response.status_code == 400
    assert "not valid" in text_of(response)


def test_the_error_summary_follows_the_order_of_the_join_page(client, world):
    page = client.post("/join", data={}).get_data(as_text=True)
    summary = page.split('id="error-summary"')[1].split("</ul>")[0]
    targets = re.findall(r'href="#([a-z_]+)"', summary)
    assert targets[:3] == ["site", "organisation_name", "sector"]
    form = page.split("</ul>", 1)[1]  # the page after the summary
    position = {t: re.search(rf' id="{t}(?:-0)?"', form).start() for t in targets}
    assert targets == sorted(targets, key=position.get)
