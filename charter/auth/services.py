"""Accounts: signing in, password resets and changes."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import select

from charter import audit, mail
from charter.auth import sessions
from charter.extensions import db
from charter.models import User, UserSession
from charter.rules import RuleError
from charter.tokens import TokenError, make_token, read_token
from charter.urls import external_url

RESET_PURPOSE = "password-reset"


class AuthError(RuleError):
    """A password reset link cannot be used; the message is why ('expired', 'invalid' or
    'used')."""


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == User.normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The user when email and password match an active account, else None.

    Changes nothing in the database (only the rate-limit counter moves): signing in,
    with its time and audit event, is `sessions.start_session`.
    """
    user = find_user_by_email(email)
    if user is None:
        User.spend_equal_time(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def make_reset_token(user: User) -> str:
    return make_token(RESET_PURPOSE, {"u": user.id, "e": user.auth_epoch})


def request_password_reset(email: str) -> None:
    """Queue a reset link when the account exists. The caller says the same either way,
    so the page does not reveal who has an account."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    link = external_url("auth.reset_password", token=make_reset_token(user))
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    mail.queue(
        user.email,
        _("Reset your PROMISE Charter password"),
        render_template("email/password_reset.txt", user=user, link=link, minutes=minutes),
        kind="password_reset",
        user=user,
    )
    audit.record(None, "user.password_reset_requested", user)


@dataclass
class ResetCheck:
    user: User | None
    problem: str | None  # 'expired', 'invalid' or 'used'


def check_reset_token(token: str) -> ResetCheck:
    try:
        data = read_token(RESET_PURPOSE, token, current_app.config["PASSWORD_RESET_MAX_AGE"])
    except TokenError as exc:
        return ResetCheck(None, exc.reason)
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return ResetCheck(None, "invalid")
    user = db.session.get(User, data["u"])
    if user is None or not user.active:
        return ResetCheck(None, "invalid")
    if user.auth_epoch != data.get("e"):
        return ResetCheck(None, "used")  # the password changed since: single use
    return ResetCheck(user, None)


def reset_password(token: str, new_password: str) -> User:
    check = check_reset_token(token)
    if check.user is None:
        raise AuthError(check.problem)
    user = check.user
    user.set_password(new_password)
    user.auth_epoch += 1  # the link is used up
    audit.record(user, "user.password_reset", user)
    sessions.end_all_sessions(user, user, reason="password_reset")
    return user


def change_password(user: User, current_password: str, new_password: str,
                    keep: UserSession | None = None) -> bool:
    """Set a new password; every session of the user but `keep` (the one in use) ends."""
    if not user.check_password(current_password):
        return False
    user.set_password(new_password)
    user.auth_epoch += 1  # outstanding reset links stop working
    audit.record(user, "user.password_changed", user)
    sessions.end_all_sessions(user, user, reason="password_changed", keep=keep)
    return True
