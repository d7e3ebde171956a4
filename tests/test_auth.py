"""Signing in and out, password resets and changes, and the bad input around them."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import func, select

from charter.auth import services
from charter.extensions import db
from charter.models import AuditEvent, OutboxMessage, User, UserSession
from tests import factories as f
from tests.support import form_csrf_token, text_of


@pytest.fixture
def member(world):
    return world.user("lead")


def _login(client, email, password, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def test_sign_in_with_the_right_password_records_the_time(client, member):
    response = _login(client, member.email.upper(), f.PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    db.session.refresh(member)
    assert member.last_login_at is not None
    page = client.get("/dashboard")
    assert "Signed in as Lead" in text_of(page)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.signed_in"))
    assert event.actor_id == member.id


def test_login_form_carries_a_csrf_token(client):
    page = client.get("/login")
    assert form_csrf_token(page.get_data(as_text=True))


@pytest.mark.parametrize(
    ("email", "password"),
    [("lead@example.org", "wrong password!"), ("nobody@example.org", f.PASSWORD)],
)
def test_wrong_password_or_unknown_email_gets_one_message_and_changes_nothing(
    client, member, email, password
):
    events_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = _login(client, email, password)
    assert response.status_code == 401
    assert "The email address or password is not right" in text_of(response)
    # The typed email stays in the form; the password does not.
    assert f'value="{email}"' in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.last_login_at is None
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events_before
    assert "Your dashboard" not in text_of(client.get("/"))


def test_empty_sign_in_form_shows_errors_beside_the_fields(client):
    response = _login(client, "", "")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert "Enter your email address." in html
    assert 'aria-invalid="true"' in html
    assert 'href="#email"' in html


def test_inactive_account_cannot_sign_in(client, member):
    member.active = False
    response = _login(client, member.email, f.PASSWORD)
    assert response.status_code == 401


def test_sign_in_is_rate_limited_with_a_clear_message(client, member):
    for _ in range(10):
        assert _login(client, member.email, "wrong password!").status_code == 401
    response = _login(client, member.email, f.PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in text_of(response)
    db.session.refresh(member)
    assert member.last_login_at is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/outbox", "/admin/outbox"),
        ("https://evil.example.com/", "/dashboard"),
        ("//evil.example.com/", "/dashboard"),
        ("/\\evil.example.com", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
    ],
)
def test_only_safe_next_targets_are_followed(client, member, target, expected):
    response = _login(client, member.email, f.PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_protected_page_sends_the_public_to_sign_in_and_back(client, member):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert 'name="next" type="hidden" value="/dashboard"' in page.get_data(as_text=True)


def test_sign_out_needs_post_and_csrf(client, member):
    client.login(member)
    assert client.get("/logout").status_code == 405
    refused = client.post("/logout", csrf=False)
    assert refused.status_code == 400
    assert "nothing was saved" in text_of(refused)
    assert client.get("/dashboard").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_missing_csrf_token_refuses_sign_in_without_changing_anything(client, member):
    response = client.post(
        "/login", data={"email": member.email, "password": f.PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    db.session.refresh(member)
    assert member.last_login_at is None


def test_session_cookie_is_httponly_and_samesite_lax(client, member):
    response = _login(client, member.email, f.PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def _reset_link(to: str) -> str:
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.to_address == to).order_by(OutboxMessage.id.desc())
    )
    assert message is not None, f"no message to {to}"
    match = re.search(r"http://localhost(/password/reset/\S+)", message.body_text)
    assert match
    return match.group(1)


def test_password_reset_journey(client, member):
    response = client.post("/password/forgot", data={"email": member.email})
    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    link = _reset_link(member.email)
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.check_password("a brand new password")
    # Single use: the same link now says it has been used.
    again = client.get(link)
    assert again.status_code == 400
    assert "already been used" in text_of(again)
    assert _login(client, member.email, "a brand new password").status_code == 302


def test_forgot_password_says_the_same_for_unknown_emails(client, member):
    response = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert response.status_code == 200
    assert "Check your email" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_tampered_reset_link_is_refused(client, member):
    token = services.make_reset_token(member)
    response = client.get(f"/password/reset/{token[:-2]}xx")
    assert response.status_code == 400
    assert "not valid" in text_of(response)
    response = client.post(f"/password/reset/{token[:-2]}xx",
                           data={"password": "another password 1", "confirm": "another password 1"})
    assert response.status_code == 400
    db.session.refresh(member)
    assert member.check_password(f.PASSWORD)


def test_expired_reset_link_is_refused(app, client, member, monkeypatch):
    token = services.make_reset_token(member)
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    response = client.get(f"/password/reset/{token}")
    assert response.status_code == 400
    assert "expired" in text_of(response)


def test_reset_with_mismatched_passwords_keeps_the_old_one(client, member):
    token = services.make_reset_token(member)
    response = client.post(f"/password/reset/{token}",
                           data={"password": "a brand new password", "confirm": "different"})
    assert response.status_code == 400
    assert "The two passwords do not match." in text_of(response)
    db.session.refresh(member)
    assert member.check_password(f.PASSWORD)


def test_changing_password_ends_other_sessions(app, client, member):
    other_device = app.test_client()
    other_device.login(member)
    client.login(member)
    response = client.post("/account/password", data={
        "current_password": f.PASSWORD, "password": "a changed password", "confirm": "a changed password"})
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert other_device.get("/dashboard").status_code == 302


def test_changing_password_needs_the_current_one(client, member):
    client.login(member)
    response = client.post("/account/password", data={
        "current_password": "not it at all",
        "password": "a changed password",
        "confirm": "a changed password",
    })
    assert response.status_code == 400
    assert "That is not your current password." in text_of(response)
    db.session.refresh(member)
    assert member.check_password(f.PASSWORD)


def test_oversized_body_is_refused_with_413(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = client.post("/login", data={"email": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert "larger than this service accepts" in text_of(response)


def test_passwords_are_stored_as_scrypt_hashes(member):
    member.set_password("a stored password")
    assert member.password_hash.startswith("scrypt:")
    assert "a stored password" not in member.password_hash


def test_unknown_emails_still_spend_a_password_check(member, monkeypatch):
    """So that the time taken does not reveal which emails have accounts."""
    calls = []
    monkeypatch.setattr(User, "spend_equal_time", staticmethod(lambda pw: calls.append(pw)))
    assert services.authenticate("nobody@example.org", "whatever it is") is None
    assert calls == ["whatever it is"]


def test_the_id_in_the_session_cookie_is_a_random_session_token(client, member):
    """Not the user's id: a forged or copied id is worth nothing once its session ends."""
    _login(client, member.email, f.PASSWORD)
    with client.session_transaction() as sess:
        token = sess["_user_id"]
    assert str(member.id) not in token.split(":")
    assert len(token) >= 40
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
