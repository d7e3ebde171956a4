"""Rate limits on what makes the app email someone: applying to join, and invitations.

Both come from the configuration (JOIN_RATE_LIMIT, INVITE_RATE_LIMIT). Joining is counted
per client address (nobody is signed in); invitations per signed-in user, organisation and
member invitations together, so that one person cannot spread a flood over both forms.
Going over the limit answers 429 with the app's "Too many attempts" page.
"""

from __future__ import annotations

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from charter.extensions import limiter


def _join_limit() -> str:
    return current_app.config["JOIN_RATE_LIMIT"]


def _invite_limit() -> str:
    return current_app.config["INVITE_RATE_LIMIT"]


def user_or_address() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


join_limit = limiter.limit(_join_limit, methods=["POST"])
invitation_limit = limiter.shared_limit(_invite_limit, scope="invitations",
                                        key_func=user_or_address, methods=["POST"])
