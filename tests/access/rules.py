"""Building blocks for the access tables (tests/access/__init__.py and the feature modules beside it).

Who may reach which route: the tables behind tests/test_access.py.

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



# --- objects that routes need, created on demand inside the test's world ---------------

def open_charter(w):
    """The first site's open charter version (created once per test)."""
    from charter.models import CharterStatus
    from charter.signing.queries import open_version
    from tests import factories as f

    return open_version(w.site.id) or f.charter_version(w.site, 1, CharterStatus.OPEN)


def signature_of(w, org=None):
    """A current signature of `org` (default: the world's organisation) on the open version."""
    from sqlalchemy import select

    from charter.extensions import db
    from charter.models import Signature
    from tests import factories as f

    org = org or w.org
    version = open_charter(w)
    existing = db.session.scalar(
        select(Signature).where(Signature.organisation_id == org.id,
                                Signature.charter_version_id == version.id)
    )
    return existing or f.signature(org, version, w.user("lead" if org is w.org else "other_lead"))
