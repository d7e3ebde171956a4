"""Every route, for every role, against the explicit table in tests/access.py."""

from __future__ import annotations

import pytest

from tests.access import ACCESS
from tests.conftest import ROLES

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - IGNORED_METHODS:
            routes.add((rule.endpoint, method))
    return routes


def test_every_route_has_an_entry_in_the_access_table(app):
    missing = sorted(_app_routes(app) - set(ACCESS))
    assert not missing, (
        "Routes without an entry in tests/access.py (say who may reach them): "
        + ", ".join(f"{m} {e}" for e, m in missing)
    )


def test_the_access_table_names_no_route_that_does_not_exist(app):
    stale = sorted(set(ACCESS) - _app_routes(app))
    assert not stale, f"Entries for routes that no longer exist: {stale}"


def test_every_entry_covers_every_role():
    for key, route in ACCESS.items():
        assert set(route.expect) == set(ROLES), f"{key} does not say what every role gets"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("endpoint", "method"), sorted(ACCESS))
def test_role_reaches_route_as_the_table_says(client, world, endpoint, method, role):
    route = ACCESS[(endpoint, method)]
    url = route.url(world)
    user = world.user(role)
    if user is not None:
        client.login(user)
    if method == "GET":
        response = client.get(url)
    else:
        data = route.data(world) if route.data else {}
        response = client.open(url, method=method, data={**data, "csrf_token": client.csrf_token()})
    expected = route.expect[role]
    allowed = expected if isinstance(expected, set) else {expected}
    assert response.status_code in allowed, (
        f"{role} {method} {url}: got {response.status_code}, expected {sorted(allowed)}"
    )
    if role == "public" and response.status_code == 302 and allowed == {302}:
        location = response.headers["Location"]
        if "/login" in location:
            assert "next=" in location
