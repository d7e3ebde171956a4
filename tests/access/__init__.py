"""Who may reach which route: the table behind tests/test_access.py.

Every rule in the app's url_map needs an entry, for every method it answers: here for
the foundation's routes, and in tests/access/<feature>.py for each feature (each of those
modules defines its own ACCESS dict, merged below). A route added without an entry fails
the suite, and so does a route whose permission check is missing.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from tests.access.rules import Route, everyone, only, signed_in


def _reset_token(w):
    from charter.auth.services import make_reset_token

    return make_reset_token(w.user("editor"))


def _outbox_message(w):
    from charter import mail

    return mail.queue("someone@example.org", "Hello", "Body", kind="test").id


def _session_of(user):
    from charter.auth.sessions import new_session

    return new_session(user, user_agent="another browser")[0].id


CORE_ACCESS: dict[tuple[str, str], Route] = {
    ("static", "GET"): Route(lambda w: "/static/css/charter.css", everyone(200)),
    ("main.index", "GET"): Route(lambda w: "/", everyone(200)),
    ("main.healthz", "GET"): Route(lambda w: "/healthz", everyone(200)),
    ("main.security_txt", "GET"): Route(lambda w: "/.well-known/security.txt", everyone(200)),
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
    ("auth.account", "GET"): Route(lambda w: "/account", signed_in(200)),
    # The editor's own other session: they may end it; no one else may see that it exists.
    ("auth.end_session", "POST"): Route(
        lambda w: f"/account/sessions/{_session_of(w.user('editor'))}/end",
        {**signed_in(404), "editor": 302},
    ),
    ("auth.end_all_sessions", "POST"): Route(lambda w: "/account/sessions/end-all",
                                             signed_in(302)),
    ("auth.change_password", "GET"): Route(lambda w: "/account/password", signed_in(200)),
    ("auth.change_password", "POST"): Route(lambda w: "/account/password", signed_in(400)),
    ("admin.outbox", "GET"): Route(lambda w: "/admin/outbox", only(["admin"])),
    ("admin.outbox_message", "GET"): Route(
        lambda w: f"/admin/outbox/{_outbox_message(w)}", only(["admin"])
    ),
    ("admin.audit_log", "GET"): Route(lambda w: "/admin/audit", only(["admin"])),
}


def _merge() -> dict[tuple[str, str], Route]:
    merged = dict(CORE_ACCESS)
    folder = Path(__file__).parent
    for info in pkgutil.iter_modules([str(folder)]):
        if info.name != "rules":
            module = importlib.import_module(f"tests.access.{info.name}")
            overlap = set(module.ACCESS) & set(merged)
            assert not overlap, f"{info.name} repeats entries: {sorted(overlap)}"
            merged.update(module.ACCESS)
    return merged


ACCESS = _merge()
