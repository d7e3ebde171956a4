"""Server-side sessions: signing out, "sign out of all devices", password changes and
expiry end a session for every copy of its cookies (issue 10, point 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from charter.auth import sessions
from charter.extensions import db
from charter.models import AuditEvent, UserSession
from charter.models.base import utcnow
from tests import factories as f
from tests.support import text_of

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def member(world):
    return world.user("lead")


def _sign_in(client, user, remember=False, user_agent=FIREFOX):
    data = {"email": user.email, "password": f.PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data, headers={"User-Agent": user_agent})
    assert response.status_code == 302, text_of(response)
    return response


def _cookies(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value
            for name in ("session", "remember_token") if client.get_cookie(name)}


def _replay(app, cookies: dict[str, str]):
    """A different browser presenting copies of the cookies."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief


def _on_sign_in_page(client, path="/dashboard") -> bool:
    response = client.get(path)
    if response.status_code != 302 or "/login?next=" not in response.headers["Location"]:
        return False
    page = client.get(response.headers["Location"])
    return "Please sign in to see that page." in text_of(page) and "Signed in as" not in text_of(page)


def _sees_dashboard(client) -> bool:
    response = client.get("/dashboard")
    return response.status_code == 200 and "Signed in as" in text_of(response)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


# --- signing out ----------------------------------------------------------------------

@pytest.mark.parametrize("copied", [("session", "remember_token"), ("session",), ("remember_token",)])
def test_copied_cookies_stop_working_after_sign_out(app, client, member, copied):
    _sign_in(client, member, remember=True)
    cookies = _cookies(client)
    assert set(cookies) == {"session", "remember_token"}
    copy = {name: cookies[name] for name in copied}
    # The copies work while the session lasts (so the replay below is a real test) ...
    assert _sees_dashboard(_replay(app, copy))

    response = client.post("/logout")
    assert response.status_code == 302
    assert _on_sign_in_page(client)
    # ... and not after signing out: the server has ended the session they belong to.
    assert _on_sign_in_page(_replay(app, copy))
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    assert row.revoked_at is not None and row.end_reason == "signed_out"


def test_sign_in_and_sign_out_are_audited_with_the_session(client, member):
    _sign_in(client, member, remember=True)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    signed_in = _events("user.signed_in")
    assert [(e.actor_id, e.changes["session"], e.changes["remember"]) for e in signed_in] == [
        (member.id, row.id, True)]
    assert signed_in[0].changes["device"] == "Firefox on Linux"
    client.post("/logout")
    assert [(e.actor_id, e.changes) for e in _events("user.signed_out")] == [
        (member.id, {"session": row.id})]


def test_remember_me_lasts_at_most_30_days(client, member):
    before = datetime.now(UTC)
    _sign_in(client, member, remember=True)
    cookie = client.get_cookie("remember_token")
    expires = cookie.expires if cookie.expires.tzinfo else cookie.expires.replace(tzinfo=UTC)
    assert expires <= before + timedelta(days=30, minutes=1)
    assert expires >= before + timedelta(days=29)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    assert row.remember is True
    assert abs(row.expires_at - expires) < timedelta(minutes=1)


def test_a_session_without_remember_me_ends_after_12_hours(app, client, member):
    _sign_in(client, member)
    assert client.get_cookie("remember_token") is None
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    assert timedelta(hours=11, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=12)
    assert _sees_dashboard(client)
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert _on_sign_in_page(client)


def test_an_expired_remembered_session_does_not_sign_in_again(app, client, member):
    _sign_in(client, member, remember=True)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert _on_sign_in_page(_replay(app, {"remember_token": _cookies(client)["remember_token"]}))


def test_a_deactivated_account_is_signed_out_at_once(client, member):
    _sign_in(client, member)
    member.active = False
    assert _on_sign_in_page(client)


def test_signing_in_again_ends_the_session_the_browser_had(client, world, member):
    _sign_in(client, member)
    first = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    _sign_in(client, world.user("editor"))
    db.session.refresh(first)
    assert first.revoked_at is not None


# --- sign out of all devices, and the list of sessions ------------------------------------

def test_sign_out_of_all_devices_ends_every_session_of_the_user(app, client, world, member):
    laptop = app.test_client()
    _sign_in(laptop, member, remember=True)
    laptop_cookies = _cookies(laptop)
    phone = app.test_client()
    _sign_in(phone, member, user_agent=SAFARI_IPHONE)
    someone_else = app.test_client()
    someone_else.login(world.user("editor"))

    _sign_in(client, member)
    page = client.get("/account")
    assert "Sign out of all devices" in text_of(page)
    response = client.post("/account/sessions/end-all")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login")
    assert "You are signed out on every device, this one included." in text_of(page)

    assert _on_sign_in_page(client)
    assert _on_sign_in_page(laptop)
    assert _on_sign_in_page(_replay(app, laptop_cookies))
    assert _on_sign_in_page(phone)
    assert _sees_dashboard(someone_else)
    live = sessions.active_sessions(member)
    assert live == []
    [event] = _events("user.sessions_ended")
    assert event.actor_id == member.id and event.changes["reason"] == "all_devices"
    assert event.changes["count"] == 3


def test_sign_out_of_all_devices_needs_csrf(app, client, member):
    other = app.test_client()
    other.login(member)
    client.login(member)
    refused = client.post("/account/sessions/end-all", csrf=False)
    assert refused.status_code == 400
    assert _sees_dashboard(other)


def test_account_page_lists_sessions_and_ends_one(app, client, member):
    phone = app.test_client()
    _sign_in(phone, member, user_agent=SAFARI_IPHONE, remember=True)
    phone_cookies = _cookies(phone)
    _sign_in(client, member)
    page = text_of(client.get("/account"))
    assert "Firefox on Linux (this device)" in page
    assert "Safari on iPhone" in page
    assert "Stays signed in until" in page

    phone_row = db.session.scalar(select(UserSession).where(
        UserSession.user_id == member.id, UserSession.remember.is_(True)))
    response = client.post(f"/account/sessions/{phone_row.id}/end")
    assert response.status_code == 302
    assert "That session has ended" in text_of(client.get("/account"))
    assert "Safari on iPhone" not in text_of(client.get("/account"))
    assert _on_sign_in_page(phone)
    assert _on_sign_in_page(_replay(app, phone_cookies))
    assert _sees_dashboard(client)
    [event] = _events("user.session_ended")
    assert event.changes == {"session": phone_row.id, "device": "Safari on iPhone"}


def test_nobody_can_end_someone_elses_session(app, client, world, member):
    victim = app.test_client()
    victim.login(world.user("editor"))
    row = db.session.scalar(select(UserSession).where(
        UserSession.user_id == world.user("editor").id))
    client.login(member)
    assert client.post(f"/account/sessions/{row.id}/end").status_code == 404
    assert _sees_dashboard(victim)


def test_ending_this_session_from_the_list_signs_out(client, member):
    _sign_in(client, member)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    response = client.post(f"/account/sessions/{row.id}/end")
    assert response.headers["Location"] == "/login"
    assert _on_sign_in_page(client)


# --- passwords ------------------------------------------------------------------------

def test_password_change_ends_the_other_sessions_but_not_this_one(app, client, member):
    other = app.test_client()
    _sign_in(other, member, remember=True)
    other_cookies = _cookies(other)
    _sign_in(client, member)
    response = client.post("/account/password", data={
        "current_password": f.PASSWORD, "password": "a changed password",
        "confirm": "a changed password"})
    assert response.status_code == 302
    assert _sees_dashboard(client)
    assert _on_sign_in_page(other)
    assert _on_sign_in_page(_replay(app, other_cookies))
    [event] = _events("user.sessions_ended")
    assert event.changes["reason"] == "password_changed" and event.changes["count"] == 1


def test_password_reset_ends_every_session(app, client, member):
    from charter.auth.services import make_reset_token

    other = app.test_client()
    _sign_in(other, member, remember=True)
    other_cookies = _cookies(other)
    token = make_reset_token(member)
    response = client.post(f"/password/reset/{token}", data={
        "password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 302
    assert _on_sign_in_page(other)
    assert _on_sign_in_page(_replay(app, other_cookies))
    [event] = _events("user.sessions_ended")
    assert event.changes["reason"] == "password_reset"


def test_create_admin_with_a_new_password_ends_the_users_sessions(app, client, member):
    _sign_in(client, member)
    result = app.test_cli_runner().invoke(args=[
        "charter", "create-admin", "--email", member.email, "--name", "Lead",
        "--password", "a very new password"])
    assert result.exit_code == 0, result.output
    assert _on_sign_in_page(client)


# --- last seen, and tidying up ----------------------------------------------------------

def test_last_seen_is_written_at_most_every_few_minutes(client, member):
    _sign_in(client, member)
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == member.id))
    recent = utcnow() - timedelta(minutes=2)
    row.last_seen_at = recent
    assert _sees_dashboard(client)
    db.session.refresh(row)
    assert row.last_seen_at == recent  # not on every request

    stale = utcnow() - timedelta(minutes=6)
    row.last_seen_at = stale
    assert _sees_dashboard(client)
    db.session.refresh(row)
    assert row.last_seen_at > stale + timedelta(minutes=5)


def test_prune_sessions_deletes_ended_sessions_only(app, member):
    now = utcnow()
    live, _ = sessions.new_session(member)
    signed_out, _ = sessions.new_session(member)
    signed_out.revoked_at = now - timedelta(days=2)
    expired, _ = sessions.new_session(member)
    expired.expires_at = now - timedelta(hours=1)
    db.session.commit()
    live_id = live.id

    result = app.test_cli_runner().invoke(args=["charter", "prune-sessions",
                                                "--older-than-days", "1"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1 ended session(s)." in result.output
    result = app.test_cli_runner().invoke(args=["charter", "prune-sessions"])
    assert "Deleted 1 ended session(s)." in result.output
    assert db.session.scalars(select(UserSession.id)).all() == [live_id]


def test_signing_in_tidies_away_the_users_ended_sessions(client, member):
    old, _ = sessions.new_session(member)
    old.revoked_at = utcnow()
    db.session.commit()
    _sign_in(client, member)
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1


@pytest.mark.parametrize(("user_agent", "label"), [
    (FIREFOX, "Firefox on Linux"),
    (SAFARI_IPHONE, "Safari on iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36", "Chrome on macOS"),
    ("curl/8.5.0", "Unknown browser"),
    ("", "Unknown browser"),
])
def test_devices_are_described_briefly(user_agent, label):
    assert sessions.describe_device(user_agent) == label
