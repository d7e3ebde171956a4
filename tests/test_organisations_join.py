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
    JoinRequest,
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
from charter.organisations import invitations, joining, services
from charter.permissions import PermissionDenied
from tests import factories as f
from tests.support import text_of


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _details(name="Riverside Crisis Café", **kw):
    return services.OrganisationDetails(name=name, sector=kw.pop("sector", Sector.THIRD_SECTOR),
                                        tier=kw.pop("tier", Tier.SIGNATORY), **kw)


def _account(email="applicant@example.org"):
    return services.AccountDetails(full_name="Zuzana Šťastná", job_title="Ředitelka",
                                   email=email, password="a long password 123")


def _confirmation_token(email="applicant@example.org") -> str:
    """The token in the latest confirmation link emailed to `email`."""
    body = db.session.scalar(
        select(OutboxMessage.body_text).where(OutboxMessage.to_address == email,
                                              OutboxMessage.kind == "join_confirmation")
        .order_by(OutboxMessage.id.desc()).limit(1))
    assert body, f"no confirmation link was sent to {email}"
    return re.search(r"/join/confirm/(\S+)", body).group(1)


def _apply(site, details=None, account=None):
    """Apply without an account and follow the emailed link, as an applicant does:
    the pending organisation and its lead."""
    account = account or _account()
    joining.request_to_join(site, details or _details(), account)
    result = joining.confirm(_confirmation_token(account.email))
    db.session.commit()
    return result.organisation, result.user


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
    org, lead = _apply(world.site)
    assert org.status == OrganisationStatus.PENDING
    assert org.slug == "riverside-crisis-cafe"
    membership = db.session.scalar(select(Membership).where(Membership.organisation_id == org.id))
    assert membership.user_id == lead.id and membership.role == MemberRole.LEAD
    assert lead.check_password("a long password 123")
    assert lead.email_verified_at is not None
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
    # Fenland Trust takes part in the charter: the public may know the name is taken.
    with pytest.raises(services.OrganisationError) as exc:
        joining.request_to_join(world.site, _details(variant), _account())
    assert exc.value.field == "organisation_name"
    assert "already part of the charter" in exc.value.message
    db.session.rollback()
    assert _count(User, User.email == "applicant@example.org") == 0
    assert _count(JoinRequest) == 0


def test_the_same_name_on_another_site_is_fine(world):
    org, _ = _apply(world.other_site, _details("Fenland Trust"))
    assert org.site_id == world.other_site.id
    assert org.slug == "fenland-trust-2"


def test_an_existing_account_email_creates_nothing_and_tells_the_owner(world):
    lead = world.user("lead")
    address = joining.request_to_join(world.site, _details(), _account("  LEAD@example.org "))
    db.session.commit()
    assert address == lead.email
    assert _count(JoinRequest) == 0 and _count(Organisation) == 2 and _count(User) == 7
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == lead.email))
    assert message.kind == "join_address_has_account"
    assert "already a PROMISE Charter account with this address" in message.body_text
    assert "http://localhost/login" in message.body_text
    assert "If it was not you, ignore this message" in message.body_text
    # Nothing reaches the coordinators, and the owner's password is unchanged.
    assert _count(OutboxMessage, OutboxMessage.kind == "organisation_applied") == 0
    assert lead.check_password(f.PASSWORD)


def test_signed_in_applicant_uses_their_account(world):
    lead = world.user("other_lead")
    org = services.apply_to_join(lead, world.site, _details())
    assert org.memberships[0].user is lead
    assert _count(User) == 7
    assert _count(OutboxMessage, OutboxMessage.kind == "organisation_applied") == 1


def test_coordinator_approves_and_the_lead_is_told(world):
    org, lead = _apply(world.site)
    services.approve(world.user("coordinator"), org, org.version)
    db.session.commit()
    assert org.status == OrganisationStatus.ACTIVE
    assert org.decided_by_id == world.user("coordinator").id and org.decided_at is not None
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "organisation_approved"))
    assert message.to_address == lead.email
    assert f"/organisations/{org.slug}/sign" in message.body_text


def test_decline_needs_a_reason_that_the_applicant_sees(world):
    org, lead = _apply(world.site)
    with pytest.raises(services.OrganisationError):
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
    org, _ = _apply(world.site)
    with pytest.raises(PermissionDenied):
        services.approve(world.user(role), org)
    assert org.status == OrganisationStatus.PENDING


def test_a_decision_is_made_once(world):
    org, _ = _apply(world.site)
    version = org.version
    services.approve(world.user("coordinator"), org, version)
    db.session.commit()
    with pytest.raises(services.OrganisationError) as exc:
        services.decline(world.user("admin"), org, "Changed my mind", version)
    assert exc.value.status == 409
    with pytest.raises(services.OrganisationError):
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
    with pytest.raises(services.OrganisationError) as exc:
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

def _link_path(email="applicant@example.org") -> str:
    return f"/join/confirm/{_confirmation_token(email)}"


def test_join_page_journey_confirms_the_address_before_anyone_is_told(client, world):
    response = client.post("/join", data=_join_form())
    # Nobody is signed in, and nothing exists yet but the request and its email.
    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    assert "We have sent a message to applicant@example.org" in text_of(response)
    assert "Signed in as" not in text_of(client.get("/"))
    assert _count(Organisation) == 2 and _count(User) == 7 and _count(JoinRequest) == 1
    assert _count(OutboxMessage, OutboxMessage.kind == "organisation_applied") == 0

    # The link opens a page with a button (opening it alone confirms nothing).
    page = client.get(_link_path())
    assert page.status_code == 200
    assert "Confirm and send the application" in text_of(page)
    assert "Riverside Crisis Café" in text_of(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert _count(OutboxMessage, OutboxMessage.kind == "organisation_applied") == 0

    response = client.post(_link_path())
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "riverside-crisis-cafe"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/organisations/{org.slug}"
    assert org.status == OrganisationStatus.PENDING
    lead = db.session.scalar(select(User).where(User.email == "applicant@example.org"))
    assert lead.email_verified_at is not None
    page = client.get(response.headers["Location"])
    assert "waiting for a coordinator" in text_of(page)
    assert "Signed in as Zuzana Šťastná" in text_of(client.get("/dashboard"))
    coordinator = world.user("coordinator")
    told = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "organisation_applied")).all()
    assert [m.to_address for m in told] == [coordinator.email]  # the site's one coordinator

    # Following the link again (a second click, a mail scanner, a replay) changes nothing.
    client.logout()
    again = client.get(_link_path())
    assert again.status_code == 410 and "already been used" in text_of(again)
    again = client.post(_link_path())
    assert again.status_code == 410 and "already been used" in text_of(again)
    assert "Signed in as" not in text_of(client.get("/"))
    assert _count(OutboxMessage, OutboxMessage.kind == "organisation_applied") == 1
    assert _count(Organisation) == 3 and _count(User) == 8
    # Pending organisations are not public.
    assert client.get(f"/organisations/{org.slug}").status_code == 404
    assert "Riverside" not in text_of(client.get("/signatories"))


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "CSRF", html)


def _answer(response) -> tuple:
    # The rate limiter's headers count the attempts, whatever the address.
    headers = {k: v for k, v in response.headers.items()
               if k not in ("Set-Cookie", "Date", "Retry-After") and not k.startswith("X-RateLimit")}
    return response.status_code, headers, _without_csrf(response.get_data(as_text=True))


def test_join_answers_the_same_whether_or_not_the_address_has_an_account(client, world):
    new = client.post("/join", data=_join_form(email="someone@example.org"))
    f.user("someone@example.org", full_name="Someone Already")
    existing = client.post("/join", data=_join_form(email="someone@example.org"))
    assert new.status_code == 200
    assert _answer(new) == _answer(existing)  # byte for byte, the CSRF token apart
    # What happened went to the mailbox instead.
    kinds = db.session.scalars(select(OutboxMessage.kind).where(
        OutboxMessage.to_address == "someone@example.org").order_by(OutboxMessage.id)).all()
    assert kinds == ["join_confirmation", "join_address_has_account"]
    assert _count(JoinRequest) == 1


@pytest.mark.parametrize("status", [OrganisationStatus.PENDING, OrganisationStatus.DECLINED])
def test_a_name_taken_by_a_hidden_application_gets_the_same_answer(client, world, status):
    f.organisation(world.site, "Quiet Applicant", slug="quiet-applicant", status=status)
    db.session.commit()
    baseline = client.post("/join", data=_join_form(email="first@example.org"))
    clash = client.post("/join", data=_join_form(organisation_name="QUIET applicant",
                                                 email="first@example.org"))
    assert _answer(clash) == _answer(baseline)
    assert "Quiet" not in clash.get_data(as_text=True)
    # Nothing was made from the clashing application; the applicant's mailbox says why.
    assert _count(JoinRequest) == 1 and _count(Organisation) == 3
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "join_name_taken"))
    assert message.to_address == "first@example.org"
    expected = "waiting for approval" if status == OrganisationStatus.PENDING else "was declined"
    assert expected in message.body_text
    assert _count(OutboxMessage, OutboxMessage.kind == "organisation_applied") == 0


def test_every_branch_of_the_join_form_costs_one_password_hash(client, world, monkeypatch):
    """The answer takes as long whatever the address: one scrypt hash in every branch
    (making a password's hash, or checking one against a dummy hash)."""
    import hashlib

    hashes = []
    scrypt = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: (hashes.append(1), scrypt(*a, **k))[1])
    f.organisation(world.site, "Quiet Applicant", status=OrganisationStatus.PENDING)
    for data in [_join_form(email="new@example.org"),               # a new address
                 _join_form(email=world.user("lead").email),         # an existing account
                 _join_form(organisation_name="Quiet Applicant")]:   # a hidden name clash
        hashes.clear()
        assert client.post("/join", data=data).status_code == 200
        assert len(hashes) == 1, hashes


def test_unconfirmed_applications_are_not_in_the_coordinators_queue_or_counts(client, world):
    from charter.main.services import pending_counts, site_counts

    client.post("/join", data=_join_form())
    client.login(world.user("coordinator"))
    queue = text_of(client.get(f"/manage/sites/{world.site.slug}/applications"))
    assert "Riverside" not in queue
    assert pending_counts([world.site.id]) == {}
    assert [c.pending for c in site_counts()] == [0, 0]
    client.logout()
    client.post(_link_path())
    client.login(world.user("coordinator"))
    assert "Riverside Crisis Café" in text_of(client.get(f"/manage/sites/{world.site.slug}/applications"))
    assert pending_counts([world.site.id]) == {world.site.id: 1}


def test_an_unconfirmed_application_expires_and_is_deleted(app, client, world):
    client.post("/join", data=_join_form())
    request = db.session.scalar(select(JoinRequest))
    assert request.expires_at - request.created_at == timedelta(hours=48)
    request.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = client.get(_link_path())
    assert page.status_code == 410 and "This link has expired" in text_of(page)
    assert client.post(_link_path()).status_code == 410
    result = app.test_cli_runner().invoke(args=["charter", "purge-join-requests"])
    assert "Deleted 1 expired join request(s)." in result.output
    assert _count(JoinRequest) == 0 and _count(User) == 7 and _count(Organisation) == 2
    assert _count(AuditEvent, AuditEvent.action == "organisation.join_request_expired") == 1
    page = client.get(_link_path())  # the row is gone: still a clear answer
    assert page.status_code == 410 and "This link has expired" in text_of(page)


def test_each_new_application_clears_expired_requests(client, world):
    client.post("/join", data=_join_form(email="old@example.org"))
    db.session.scalar(select(JoinRequest)).expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    client.post("/join", data=_join_form(email="new@example.org"))
    assert db.session.scalars(select(JoinRequest.email)).all() == ["new@example.org"]


def test_a_tampered_or_junk_confirmation_link_is_refused(client, world):
    client.post("/join", data=_join_form())
    token = _confirmation_token()
    for bad in [token[:-3] + "abc", "junk", invitations.token_for(
            Invitation(id=1, kind="member", email="x@example.org"))]:
        page = client.get(f"/join/confirm/{bad}")
        assert page.status_code == 400 and "not valid" in text_of(page)
    assert _count(User) == 7


def test_confirming_when_the_address_got_an_account_meanwhile(client, world):
    client.post("/join", data=_join_form(email="later@example.org"))
    someone = f.user("later@example.org", full_name="Later Person")
    db.session.commit()
    response = client.post(_link_path("later@example.org"), follow_redirects=False)
    # The application is made with that account, whose password stays; they sign in.
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "riverside-crisis-cafe"))
    assert org.memberships[0].user_id == someone.id
    assert someone.check_password(f.PASSWORD) and someone.email_verified_at is not None
    assert "Signed in as" not in text_of(client.get("/"))


def test_when_the_name_was_taken_meanwhile_the_account_is_made_but_not_the_application(client, world):
    client.post("/join", data=_join_form(email="one@example.org"))
    client.post("/join", data=_join_form(email="two@example.org"))
    client.post(_link_path("one@example.org"))
    client.logout()
    response = client.post(_link_path("two@example.org"), follow_redirects=True)
    assert "Your email address is confirmed, but the application was not sent" in text_of(response)
    assert "waiting for approval" in text_of(response)
    assert _count(Organisation) == 3 and _count(User) == 9
    assert _count(OutboxMessage, OutboxMessage.kind == "organisation_applied") == 1


def test_one_address_gets_a_few_joining_emails_a_day_at_most(client, world):
    for _ in range(7):
        assert client.post("/join", data=_join_form(email="victim@example.org")).status_code == 200
    assert _count(OutboxMessage, OutboxMessage.to_address == "victim@example.org") == 5


def test_the_eleventh_join_in_a_minute_is_refused_with_the_429_page(client, world):
    for i in range(10):
        response = client.post("/join", data=_join_form(email=f"a{i}@example.org"))
        assert response.status_code == 200
    response = client.post("/join", data=_join_form(email="a10@example.org"))
    assert response.status_code == 429
    assert "Too many attempts" in text_of(response)
    assert _count(JoinRequest) == 10
    assert client.get("/join").status_code == 200  # reading the form is not limited


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
    assert _count(JoinRequest) == 0


@pytest.mark.parametrize("name", [
    "Národní ústav duševního zdraví", "Kaapse Gemeenskap Geestesgesondheid", "心理健康服务中心",
    "Mind 🧠 Matters", "<script>alert('x')</script> Trust"])
def test_any_unicode_or_html_name_is_accepted_and_escaped(client, world, name):
    response = client.post("/join", data=_join_form(organisation_name=name))
    assert response.status_code == 200, text_of(response)
    confirm_page = client.get(_link_path()).get_data(as_text=True)
    assert "<script>alert" not in confirm_page
    assert client.post(_link_path()).status_code == 302
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
    _apply(world.site, _details("First Applicant"), _account("a1@example.org"))
    second, _ = _apply(world.site, _details("Second Applicant"), _account("a2@example.org"))
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
    org, lead = _apply(world.site)
    services.decline(world.user("coordinator"), org, "We need a named contact in Peterborough.")
    db.session.commit()
    client.login(lead)
    assert "We need a named contact in Peterborough." in text_of(client.get("/dashboard"))
    assert "We need a named contact in Peterborough." in text_of(client.get(f"/organisations/{org.slug}"))


def test_coordinator_of_another_site_gets_404_on_a_pending_application(client, world):
    org, _ = _apply(world.site)
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
