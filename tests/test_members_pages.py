"""The members pages through the test client: what each role sees and may do, bad input,
Unicode and HTML, and a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from charter.extensions import db
from charter.models import (
    AuditEvent,
    Invitation,
    InvitationKind,
    MemberRole,
    Membership,
    OrganisationStatus,
    OutboxMessage,
    User,
)
from charter.models.base import utcnow
from charter.organisations import invitations
from tests import factories as f
from tests.support import count_queries, text_of
from tests.test_members_services import make_invitation

NASTY_NAME = '<script>alert("x")</script> Žluťoučký kůň 🐴 王小明 Ané Müller'


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _membership(user, org) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == org.id)
    )


def _members_url(org) -> str:
    return f"/organisations/{org.slug}/members"


def _invite(client, org, **data):
    form = {"email": "new.person@example.org", "role": "editor", "message": ""}
    form.update(data)
    return client.post(f"{_members_url(org)}/invite", data=form)


# --- the members page, per role -----------------------------------------------------------

def test_an_editor_sees_the_members_but_no_management(client, world):
    make_invitation(world.org, world.user("lead"), email="waiting@example.org")
    client.login(world.user("editor"))
    response = client.get(_members_url(world.org))
    assert response.status_code == 200
    text = text_of(response)
    assert "Members of Fenland Trust" in text
    assert "Lead lead@example.org Tester Lead" in text
    assert "Editor (you) editor@example.org Tester Editor" in text
    assert "waiting@example.org" in text
    html = response.get_data(as_text=True)
    assert "Invite a member" not in text
    assert "/remove" not in html and "/handover" not in html and "/revoke" not in html
    assert "Other_Editor" not in text  # another organisation's member


def test_a_lead_sees_the_invite_form_and_actions_for_each_member(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="waiting@example.org")
    editor_membership = _membership(world.user("editor"), world.org)
    client.login(world.user("lead"))
    response = client.get(_members_url(world.org))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    assert "Invite a member" in text
    assert f"/members/{editor_membership.id}/remove" in html
    assert f"/members/{editor_membership.id}/role" in html
    assert f"/members/{editor_membership.id}/handover" in html
    assert f"/invitations/{invitation.id}/revoke" in html
    assert "Hand over the lead to Editor" in text
    assert "Revoke the invitation to waiting@example.org" in text
    # No handing over to oneself; one's own row offers "Leave".
    own = _membership(world.user("lead"), world.org)
    assert f"/members/{own.id}/handover" not in html
    assert "Leave Fenland Trust" in text


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_manage_but_do_not_hand_over(client, world, role):
    client.login(world.user(role))
    response = client.get(_members_url(world.org))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Invite a member" in text_of(response)
    assert "/remove" in html and "/role" in html
    assert "/handover" not in html


@pytest.mark.parametrize("role", ["other_editor", "other_lead", "other_coordinator"])
def test_others_are_refused_the_members_page(client, world, role):
    client.login(world.user(role))
    response = client.get(_members_url(world.org))
    assert response.status_code == 403
    assert "editor@example.org" not in text_of(response)


def test_the_public_is_sent_to_sign_in(client, world):
    response = client.get(_members_url(world.org))
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_a_pending_organisation_is_not_found_by_outsiders(client, world):
    world.org.status = OrganisationStatus.PENDING
    client.login(world.user("other_lead"))
    assert client.get(_members_url(world.org)).status_code == 404
    client.login(world.user("lead"))
    assert client.get(_members_url(world.org)).status_code == 200
    client.login(world.user("coordinator"))
    assert client.get(_members_url(world.org)).status_code == 200


def test_an_unknown_organisation_is_not_found(client, world):
    client.login(world.user("admin"))
    assert client.get("/organisations/no-such-org/members").status_code == 404


def test_a_withdrawn_organisations_lead_is_told_why_there_is_no_invite_form(client, world):
    world.org.status = OrganisationStatus.WITHDRAWN
    client.login(world.user("lead"))
    text = text_of(client.get(_members_url(world.org)))
    assert "Members cannot be invited while the organisation is withdrawn." in text
    assert "Invite a member" not in text


def test_unicode_and_html_in_names_come_out_escaped(client, world):
    user = f.user("nasty@example.org", full_name=NASTY_NAME, job_title="<b>Chief</b> 🧠")
    f.member(user, world.org, MemberRole.EDITOR)
    client.login(world.user("lead"))
    response = client.get(_members_url(world.org))
    html = response.get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "<b>Chief</b>" not in html
    assert "&lt;script&gt;" in html
    text = text_of(response)
    assert NASTY_NAME in text
    assert "<b>Chief</b> 🧠" in text


# --- inviting through the page ------------------------------------------------------------

def test_a_lead_invites_through_the_page(client, world):
    client.login(world.user("lead"))
    response = _invite(client, world.org, email="Ana.Novak@Example.org", role="lead",
                       message="Vítejte! 欢迎 <b>welcome</b>")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_members_url(world.org))
    page = client.get(_members_url(world.org))
    text = text_of(page)
    assert "An invitation has been sent to ana.novak@example.org." in text
    assert "ana.novak@example.org Lead" in text
    invitation = db.session.scalar(select(Invitation))
    assert invitation.role == MemberRole.LEAD
    assert invitation.message == "Vítejte! 欢迎 <b>welcome</b>"
    message = db.session.scalar(select(OutboxMessage))
    link = re.search(r"http://localhost(/invitations/\S+)", message.body_text).group(1)
    client.logout()
    accept = client.get(link)
    assert accept.status_code == 200
    html = accept.get_data(as_text=True)
    assert "<b>welcome</b>" not in html and "&lt;b&gt;welcome&lt;/b&gt;" in html
    assert "Vítejte! 欢迎 <b>welcome</b>" in text_of(accept)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": ""}, "Enter an email address."),
        ({"email": "not an address"}, "Enter an email address in the form name@example.org."),
        ({"email": "a" * 250 + "@example.org"}, "An email address has at most 254 characters."),
        ({"role": "owner"}, "Not a valid choice"),
        ({"message": "ž" * 1001}, "Use 1000 characters or fewer."),
        ({"message": "bell \x07"}, "Remove the invisible control characters from this text."),
        ({"email": "editor@example.org"}, "editor@example.org is already a member of Fenland Trust."),
    ],
)
def test_bad_invitations_are_reshown_with_the_message_beside_the_field(client, world, data,
                                                                       message):
    client.login(world.user("lead"))
    typed = {"message": "Dobrý den, 你好 🌍", **data}
    response = _invite(client, world.org, **typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    text = text_of(response)
    assert "There is a problem" in text
    assert message in text
    assert '-error" class="invalid-feedback' in html  # beside the field
    if "message" not in data:
        assert "Dobrý den, 你好 🌍" in html  # what they typed is kept
    if data.get("email") and "@" in data["email"] and len(data["email"]) < 254:
        assert f'value="{data["email"]}"' in html
    assert _count(Invitation) == 0
    assert _count(OutboxMessage) == 0


def test_inviting_to_a_declined_organisation_is_refused_clearly(client, world):
    world.org.status = OrganisationStatus.DECLINED
    client.login(world.user("coordinator"))
    response = _invite(client, world.org, email="someone@example.org")
    assert response.status_code == 400
    assert "was declined, so no one can be invited" in text_of(response)
    assert 'value="someone@example.org"' in response.get_data(as_text=True)
    assert _count(Invitation) == 0


def test_a_second_invitation_revokes_the_first_through_the_page(client, world):
    client.login(world.user("lead"))
    _invite(client, world.org, email="twice@example.org")
    _invite(client, world.org, email="twice@example.org", role="lead")
    html = client.get(_members_url(world.org)).get_data(as_text=True)
    assert len(re.findall(r'<tr id="invitation-', html)) == 1
    assert db.session.scalar(select(func.count()).where(Invitation.revoked_at.is_not(None))) == 1


@pytest.mark.parametrize("role", ["editor", "other_lead", "other_coordinator"])
def test_others_cannot_invite(client, world, role):
    client.login(world.user(role))
    assert _invite(client, world.org).status_code == 403
    assert _count(Invitation) == 0


def test_revoking_through_the_page(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="gone@example.org")
    client.login(world.user("lead"))
    response = client.post(f"/organisations/{world.org.slug}/invitations/{invitation.id}/revoke")
    assert response.status_code == 302
    text = text_of(client.get(_members_url(world.org)))
    assert "The invitation to gone@example.org has been withdrawn." in text
    assert "There are no pending invitations." in text
    db.session.refresh(invitation)
    assert invitation.revoked_at is not None


def test_revoking_another_organisations_invitation(client, world):
    theirs = make_invitation(world.other_org, world.user("other_lead"))
    client.login(world.user("lead"))
    # Through B's address: not a manager of B.
    assert client.post(
        f"/organisations/{world.other_org.slug}/invitations/{theirs.id}/revoke"
    ).status_code == 403
    # Through A's address: there is no such invitation in A.
    assert client.post(
        f"/organisations/{world.org.slug}/invitations/{theirs.id}/revoke"
    ).status_code == 404
    db.session.refresh(theirs)
    assert theirs.revoked_at is None


# --- removing, roles, handing over through the page -------------------------------------

def test_a_lead_removes_an_editor_through_the_page(client, world):
    membership = _membership(world.user("editor"), world.org)
    client.login(world.user("lead"))
    response = client.post(f"{_members_url(world.org)}/{membership.id}/remove")
    assert response.status_code == 302
    text = text_of(client.get(_members_url(world.org)))
    assert "Editor is no longer a member of Fenland Trust." in text
    assert "editor@example.org" not in text
    assert _membership(world.user("editor"), world.org) is None
    client.login(world.user("editor"))
    assert client.get(_members_url(world.org)).status_code == 403


def test_removing_the_last_lead_is_refused_on_the_page(client, world):
    own = _membership(world.user("lead"), world.org)
    client.login(world.user("lead"))
    response = client.post(f"{_members_url(world.org)}/{own.id}/remove")
    assert response.status_code == 400
    text = text_of(response)
    assert "An organisation always keeps at least one lead. Make someone else lead first." in text
    assert "Members of Fenland Trust" in text
    assert _membership(world.user("lead"), world.org) is not None


def test_demoting_the_last_lead_is_refused_on_the_page(client, world):
    own = _membership(world.user("lead"), world.org)
    client.login(world.user("coordinator"))
    response = client.post(f"{_members_url(world.org)}/{own.id}/role", data={"role": "editor"})
    assert response.status_code == 400
    assert "always keeps at least one lead" in text_of(response)
    db.session.refresh(own)
    assert own.role == MemberRole.LEAD


def test_a_lead_leaves_when_another_lead_remains(client, world):
    second = f.user("second@example.org", full_name="Second Lead")
    f.member(second, world.org, MemberRole.LEAD)
    own = _membership(world.user("lead"), world.org)
    client.login(world.user("lead"))
    response = client.post(f"{_members_url(world.org)}/{own.id}/remove")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    assert "You are no longer a member of Fenland Trust." in text_of(client.get("/dashboard"))


def test_changing_a_role_through_the_page(client, world):
    membership = _membership(world.user("editor"), world.org)
    client.login(world.user("lead"))
    response = client.post(f"{_members_url(world.org)}/{membership.id}/role", data={"role": "lead"})
    assert response.status_code == 302
    assert "Editor is now lead." in text_of(client.get(_members_url(world.org)))
    db.session.refresh(membership)
    assert membership.role == MemberRole.LEAD


def test_an_invalid_role_is_refused_on_the_page(client, world):
    membership = _membership(world.user("editor"), world.org)
    client.login(world.user("lead"))
    response = client.post(f"{_members_url(world.org)}/{membership.id}/role",
                           data={"role": "<script>owner</script>"})
    assert response.status_code == 400
    assert "<script>owner" not in response.get_data(as_text=True)
    assert "Not a valid choice" in text_of(response)


def test_handing_over_through_the_page(client, world):
    membership = _membership(world.user("editor"), world.org)
    client.login(world.user("lead"))
    response = client.post(f"{_members_url(world.org)}/{membership.id}/handover")
    assert response.status_code == 302
    page = client.get(_members_url(world.org))
    text = text_of(page)
    assert "Editor is now lead of Fenland Trust, and you are an editor." in text
    assert "Invite a member" not in text  # the former lead is an editor now
    assert _membership(world.user("lead"), world.org).role == MemberRole.EDITOR
    assert _membership(world.user("editor"), world.org).role == MemberRole.LEAD


@pytest.mark.parametrize("action", ["remove", "role", "handover"])
def test_a_lead_of_a_cannot_act_on_bs_members(client, world, action):
    theirs = _membership(world.user("other_editor"), world.other_org)
    client.login(world.user("lead"))
    events = _count(AuditEvent)
    # B's address: not theirs to manage.
    response = client.post(f"{_members_url(world.other_org)}/{theirs.id}/{action}",
                           data={"role": "lead"})
    assert response.status_code == 403
    # A's address with B's membership: no such member in A.
    response = client.post(f"{_members_url(world.org)}/{theirs.id}/{action}",
                           data={"role": "lead"})
    assert response.status_code == 404
    assert _membership(world.user("other_editor"), world.other_org).role == MemberRole.EDITOR
    assert _count(AuditEvent) == events


@pytest.mark.parametrize("role", ["coordinator", "admin", "editor"])
def test_only_a_lead_hands_over_on_the_page(client, world, role):
    membership = _membership(world.user("editor"), world.org)
    client.login(world.user(role))
    assert client.post(f"{_members_url(world.org)}/{membership.id}/handover").status_code == 403


def test_a_post_without_a_csrf_token_changes_nothing(client, world):
    membership = _membership(world.user("editor"), world.org)
    client.login(world.user("lead"))
    response = client.post(f"{_members_url(world.org)}/{membership.id}/remove", csrf=False)
    assert response.status_code == 400
    assert _membership(world.user("editor"), world.org) is not None


# --- accepting an invitation -------------------------------------------------------------

def _token(invitation) -> str:
    return invitations.token_for(invitation)


def _account(**data):
    form = {"full_name": "Nia Newcomer", "job_title": "Ward manager",
            "password": "a long enough password", "confirm": "a long enough password"}
    form.update(data)
    return form


def test_signed_out_without_an_account_creates_one_and_lands_signed_in(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="nia@example.org",
                                 message="See you Monday")
    url = f"/invitations/{_token(invitation)}"
    page = client.get(url)
    assert page.status_code == 200
    text = text_of(page)
    assert "Join Fenland Trust" in text
    assert "Lead has invited you to join Fenland Trust (Cambridge) on PROMISE Charter as editor." in text
    assert "nia@example.org" in text and "See you Monday" in text
    assert "Create your account" in text
    assert 'name="email"' not in page.get_data(as_text=True)  # the address is fixed
    assert page.headers["Cache-Control"] == "no-store"

    response = client.post(url, data=_account(full_name="Nia Nováková 🌻", job_title="护士长"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_members_url(world.org))
    members_page = client.get(_members_url(world.org))
    assert members_page.status_code == 200
    text = text_of(members_page)
    assert "Welcome, Nia Nováková 🌻. Your account is ready and you are now editor of Fenland Trust." in text
    assert "Nia Nováková 🌻 (you)" in text
    user = db.session.scalar(select(User).where(User.email == "nia@example.org"))
    assert user.job_title == "护士长" and user.check_password("a long enough password")
    assert _membership(user, world.org).role == MemberRole.EDITOR
    assert "Signed in as Nia Nováková 🌻" in text_of(client.get("/dashboard"))


def test_the_link_is_single_use_on_post_too(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="nia@example.org")
    url = f"/invitations/{_token(invitation)}"
    assert client.post(url, data=_account()).status_code == 302
    client.logout()
    users, memberships = _count(User), _count(Membership)
    again = client.post(url, data=_account(full_name="Someone Else"))
    assert again.status_code == 410
    assert "This invitation has already been used." in text_of(again)
    assert (_count(User), _count(Membership)) == (users, memberships)
    assert client.get(url).status_code == 410


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"full_name": ""}, "Enter your full name."),
        ({"full_name": "x" * 121}, "Use 120 characters or fewer."),
        ({"job_title": ""}, "Enter your job title."),
        ({"password": "short", "confirm": "short"}, "Use between 10 and 128 characters."),
        ({"confirm": "something different"}, "The two passwords do not match."),
    ],
)
def test_bad_account_details_are_reshown(client, world, data, message):
    invitation = make_invitation(world.org, world.user("lead"), email="nia@example.org")
    url = f"/invitations/{_token(invitation)}"
    typed = _account(full_name=data.get("full_name", "Thandiwe van der Merwe"),
                     job_title=data.get("job_title", "Verpleegkundige <i>hoof</i>"))
    typed.update({k: v for k, v in data.items() if k in ("password", "confirm")})
    response = client.post(url, data=typed)
    assert response.status_code == 400
    text = text_of(response)
    assert "There is a problem" in text and message in text
    html = response.get_data(as_text=True)
    if "full_name" not in data:
        assert 'value="Thandiwe van der Merwe"' in html
    if "job_title" not in data:
        assert "Verpleegkundige &lt;i&gt;hoof&lt;/i&gt;" in html
    assert "a long enough password" not in html  # passwords are not sent back
    assert db.session.scalar(select(User).where(User.email == "nia@example.org")) is None
    db.session.refresh(invitation)
    assert invitation.used_at is None


def test_html_in_a_new_members_name_is_stored_as_text(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="nia@example.org")
    client.post(f"/invitations/{_token(invitation)}", data=_account(full_name=NASTY_NAME))
    page = client.get(_members_url(world.org))
    assert '<script>alert("x")</script>' not in page.get_data(as_text=True)
    assert NASTY_NAME in text_of(page)


def test_signed_out_with_an_existing_account_is_asked_to_sign_in(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="other.editor@example.org")
    url = f"/invitations/{_token(invitation)}"
    page = client.get(url)
    assert page.status_code == 200
    assert "There is already an account for other.editor@example.org." in text_of(page)
    html = page.get_data(as_text=True)
    assert f'href="/login?next=/invitations/{_token(invitation)}"' in html
    assert 'name="password"' not in html
    # A POST cannot create a second account for the address.
    response = client.post(url, data=_account())
    assert response.status_code == 400
    assert _membership(world.user("other_editor"), world.org) is None


def test_signed_in_as_the_invitee_accepts_with_one_button(client, world):
    other_editor = world.user("other_editor")
    invitation = make_invitation(world.org, world.user("lead"), email=other_editor.email,
                                 role=MemberRole.LEAD)
    url = f"/invitations/{_token(invitation)}"
    client.login(other_editor)
    page = client.get(url)
    assert page.status_code == 200
    text = text_of(page)
    assert "Accept the invitation" in text and "Lead" in text
    response = client.post(url)
    assert response.status_code == 302
    text = text_of(client.get(_members_url(world.org)))
    assert "Welcome to Fenland Trust. You are now lead." in text
    assert _membership(other_editor, world.org).role == MemberRole.LEAD
    assert _membership(other_editor, world.other_org).role == MemberRole.EDITOR
    assert client.post(url).status_code == 410


def test_signed_in_as_an_existing_member_is_told_so(client, world):
    editor = world.user("editor")
    invitation = make_invitation(world.org, world.user("lead"), email=editor.email)
    url = f"/invitations/{_token(invitation)}"
    client.login(editor)
    assert "You are already a member of Fenland Trust, as editor." in text_of(client.get(url))
    response = client.post(url)
    assert response.status_code == 302
    text = text_of(client.get(_members_url(world.org)))
    assert "You are already a member of Fenland Trust, as editor. Nothing has changed." in text
    assert db.session.scalar(select(func.count()).where(Membership.user_id == editor.id)) == 1
    db.session.refresh(invitation)
    assert invitation.used_at is not None


def test_signed_in_as_someone_else_is_offered_to_sign_out(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="nia@example.org")
    url = f"/invitations/{_token(invitation)}"
    client.login(world.user("other_lead"))
    page = client.get(url)
    assert page.status_code == 200
    text = text_of(page)
    assert ("This invitation was sent to nia@example.org, but you are signed in as "
            "other.lead@example.org.") in text
    assert "Sign out and continue" in text
    # Accepting as the wrong person is refused, and nothing changes.
    refused = client.post(url)
    assert refused.status_code == 403
    assert _membership(world.user("other_lead"), world.org) is None
    # Signing out comes back to the same link, now offering to create the account.
    response = client.post(url, data={"action": "sign_out"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url)
    after = client.get(url)
    assert "Create your account" in text_of(after)
    db.session.refresh(invitation)
    assert invitation.used_at is None


def test_signing_in_from_the_invitation_comes_back_to_it(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="other.editor@example.org")
    url = f"/invitations/{_token(invitation)}"
    response = client.post("/login", data={"email": "other.editor@example.org",
                                           "password": f.PASSWORD, "next": url})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url)
    assert "Accept the invitation" in text_of(client.get(url))


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"expires_at": utcnow() - timedelta(days=1)}, 410, "This invitation has expired."),
        ({"used_at": utcnow()}, 410, "This invitation has already been used."),
        ({"revoked_at": utcnow()}, 410, "This invitation was withdrawn by the person who sent it."),
        ({"kind": InvitationKind.ORGANISATION}, 400, "This invitation link is not valid here."),
    ],
)
def test_unusable_invitations_get_a_clear_page(client, world, change, status, message):
    invitation = make_invitation(world.org, world.user("lead"), email="nia@example.org", **change)
    url = f"/invitations/{_token(invitation)}"
    for method in ("get", "post"):
        response = getattr(client, method)(url, **({"data": _account()} if method == "post" else {}))
        assert response.status_code == status
        assert message in text_of(response)
    assert db.session.scalar(select(User).where(User.email == "nia@example.org")) is None


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "eyJpIjo5OTk5fQ.abc.def", "%F0%9F%90%B4"])
def test_tampered_or_made_up_tokens_get_a_clear_page(client, world, token):
    response = client.get(f"/invitations/{token}")
    assert response.status_code == 400
    assert "This invitation link is not valid." in text_of(response)


def test_a_token_for_a_deleted_invitation_is_invalid(client, world):
    invitation = make_invitation(world.org, world.user("lead"))
    token = _token(invitation)
    db.session.delete(invitation)
    response = client.get(f"/invitations/{token}")
    assert response.status_code == 400


def test_an_invitation_to_a_withdrawn_organisation_cannot_be_accepted(client, world):
    invitation = make_invitation(world.org, world.user("lead"), email="nia@example.org")
    world.org.status = OrganisationStatus.WITHDRAWN
    response = client.post(f"/invitations/{_token(invitation)}", data=_account())
    assert response.status_code == 410
    assert "no longer takes part in the charter" in text_of(response)
    assert db.session.scalar(select(User).where(User.email == "nia@example.org")) is None


# --- query counts -----------------------------------------------------------------------

def _members_page_queries(client, url) -> int:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


def test_members_page_query_count_does_not_grow_with_members(client, world):
    client.login(world.user("lead"))
    url = _members_url(world.org)
    small = _members_page_queries(client, url)
    for i in range(30):
        f.member(f.user(f"m{i}@example.org"), world.org,
                 MemberRole.LEAD if i % 5 == 0 else MemberRole.EDITOR)
        make_invitation(world.org, world.user("lead"), email=f"inv{i}@example.org")
    large = _members_page_queries(client, url)
    assert small == large, f"{small} queries with 2 members, {large} with 32"
    assert large <= 10
