"""Who may reach which route: the table behind tests/test_access.py.

Every rule in the app's url_map needs an entry here, for every method it answers.
A route added without one fails the suite, and so does a route whose permission
check is missing (a role that should be refused would get 200).

An expectation is a status or a set of statuses, per role. For the public, 302 means
"sent to the sign-in page".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.conftest import ROLES

SIGNED_IN = [r for r in ROLES if r != "public"]
ORG_MEMBERS = ["editor", "lead"]
ORG_LEADS = ["lead"]
SITE_MANAGERS = ["coordinator", "admin"]
FORM_OUTCOMES = {200, 302, 400}  # shown, done and redirected, or refused for bad input


@dataclass
class Route:
    url: Callable
    expect: dict[str, int | set[int]]
    data: Callable | None = None
    setup: Callable | None = field(default=None)


def everyone(status: int | set[int] = 200) -> dict:
    return dict.fromkeys(ROLES, status)


def signed_in(status: int | set[int] = 200) -> dict:
    return {"public": 302, **dict.fromkeys(SIGNED_IN, status)}


def only(allowed: list[str], ok: int | set[int] = 200, denied: int | set[int] = 403,
         public: int | set[int] = 302) -> dict:
    out = {"public": public}
    for role in SIGNED_IN:
        out[role] = ok if role in allowed else denied
    return out


def _reset_token(w):
    from charter.auth.services import make_reset_token

    return make_reset_token(w.user("editor"))


def _outbox_message(w):
    from charter import mail

    return mail.queue("someone@example.org", "Hello", "Body", kind="test").id


ACCESS: dict[tuple[str, str], Route] = {
    ("static", "GET"): Route(lambda w: "/static/css/charter.css", everyone(200)),
    ("main.index", "GET"): Route(lambda w: "/", everyone(200)),
    ("main.healthz", "GET"): Route(lambda w: "/healthz", everyone(200)),
    ("main.dashboard", "GET"): Route(lambda w: "/dashboard", signed_in(200)),
    ("auth.login", "GET"): Route(lambda w: "/login", {**signed_in(302), "public": 200}),
    ("auth.login", "POST"): Route(lambda w: "/login", everyone(400)),
    ("auth.logout", "POST"): Route(lambda w: "/logout", everyone(302)),
    ("auth.forgot_password", "GET"): Route(lambda w: "/password/forgot", everyone(200)),
    ("auth.forgot_password", "POST"): Route(lambda w: "/password/forgot", everyone(400)),
    ("auth.reset_password", "GET"): Route(
        lambda w: f"/password/reset/{_reset_token(w)}", everyone(200)
    ),
    ("auth.reset_password", "POST"): Route(
        lambda w: f"/password/reset/{_reset_token(w)}", everyone(400)
    ),
    ("auth.change_password", "GET"): Route(lambda w: "/account/password", signed_in(200)),
    ("auth.change_password", "POST"): Route(lambda w: "/account/password", signed_in(400)),
    ("admin.outbox", "GET"): Route(lambda w: "/admin/outbox", only(["admin"])),
    ("admin.outbox_message", "GET"): Route(
        lambda w: f"/admin/outbox/{_outbox_message(w)}", only(["admin"])
    ),
    ("admin.audit_log", "GET"): Route(lambda w: "/admin/audit", only(["admin"])),
}
