"""Keyset pagination of the public lists: Next/Previous links a user follows, no duplicate
and no gap across pages, old ?page=N links, unreadable cursors, and the totals kept per
data version (charter.pagination)."""

from __future__ import annotations

import re

import pytest

from charter import audit, pagination
from charter.extensions import db
from charter.signing.queries import open_version
from tests import factories as f


def _register_names(html: str) -> list[str]:
    table = html.split('id="register"')[1].split("</table>")[0]
    return re.findall(r'<th scope="row"><a href="/organisations/[^"]+">([^<]+)</a>', table)


def _link(html: str, rel: str) -> str | None:
    found = re.search(r'<a class="page-link" href="([^"]+)" rel="' + rel + '">', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def many(world):
    version = f.charter_version(world.site)
    lead = world.user("lead")
    for i in range(60):
        # names that sort differently from their ids, some sharing a name key on two sites
        org = f.organisation(world.site if i % 2 else world.other_site, f"Org {(i * 37) % 60:02d}")
        f.signature(org, version, lead)
    db.session.commit()
    return world


def test_walking_the_register_by_next_and_back_by_previous(client, many):
    first = client.get("/signatories").get_data(as_text=True)
    assert "Page 1 of 3" in first and _link(first, "prev") is None
    pages, url, html = [_register_names(first)], _link(first, "next"), first
    assert "after=" in url and "page=" not in url
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(_register_names(html))
        url = _link(html, "next")
    assert "Page 3 of 3" in html
    walked = [name for page in pages for name in page]
    assert len(walked) == 60 == len(set(walked))  # no gap, no duplicate
    assert walked == sorted(walked, key=str.casefold)  # the register's order
    back, url = [], _link(html, "prev")
    while url:
        html = client.get(url).get_data(as_text=True)
        back.insert(0, _register_names(html))
        url = _link(html, "prev")
    assert back == pages[:-1] and "Page 1 of 3" in html


def test_old_page_links_and_filters_keep_working(client, many):
    by_page = client.get("/signatories?page=2").get_data(as_text=True)
    assert "Page 2 of 3" in by_page
    by_cursor = client.get(_link(client.get("/signatories").get_data(as_text=True), "next"))
    assert _register_names(by_page) == _register_names(by_cursor.get_data(as_text=True))
    filtered = client.get(f"/signatories?site={many.site.slug}").get_data(as_text=True)
    assert f"site={many.site.slug}" in _link(filtered, "next")


@pytest.mark.parametrize("cursor", ["x", "!!!", "W10", "WzEsMl0", "a" * 5000, "WzAsIngiLDFd",
                                    "WzEsMSwxXQ", "WyJ4IiwieCIsMV0"])
@pytest.mark.parametrize("name", ["after", "before"])
def test_an_unreadable_cursor_is_the_first_page(client, many, cursor, name):
    response = client.get(f"/signatories?{name}={cursor}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Page 1 of 3" in html
    assert _register_names(html) == _register_names(client.get("/signatories").get_data(as_text=True))


@pytest.mark.parametrize("path", ["/reports", "/partnerships", "/domains/{slug}"])
@pytest.mark.parametrize("cursor", ["x", "WzEsMl0", "b" * 700])
def test_other_lists_answer_unreadable_cursors_with_their_first_page(client, world, path, cursor):
    domain = f.domain("Healing environments")
    db.session.commit()
    response = client.get(path.format(slug=domain.slug) + f"?after={cursor}&before={cursor}")
    assert response.status_code == 200


def test_the_site_page_lists_25_and_links_to_the_register(client, many):
    html = client.get(f"/sites/{many.site.slug}").get_data(as_text=True)
    table = html.split('id="site-signatory-list"')[1].split("</table>")[0]
    assert table.count('<th scope="row">') == 25
    assert "See all 30 signatories in the register" in html
    assert f'href="/signatories?site={many.site.slug}"' in html


def test_cached_totals_change_with_the_data_version(app, client, many):
    app.config["LIST_COUNT_CACHE"] = True
    try:
        assert "60 signatories" in client.get("/signatories").get_data(as_text=True)
        org = f.organisation(many.site, "Newcomer")
        f.signature(org, open_version(many.site.id), many.user("lead"))
        db.session.commit()
        # the factories wrote without an audit event: the data version, and so the kept
        # total, is unchanged (what a real write never does)
        assert "60 signatories" in client.get("/signatories").get_data(as_text=True)
        audit.record(many.user("lead"), "organisation.test", org, {})
        db.session.commit()
        assert "61 signatories" in client.get("/signatories").get_data(as_text=True)
    finally:
        app.config["LIST_COUNT_CACHE"] = False


def test_cursors_round_trip_and_refuse_other_shapes():
    keys = (pagination.Key(None, kind="str"), pagination.Key(None))
    cursor = pagination.make_cursor(3, ["ab", 7])
    assert pagination.read_cursor(cursor, keys) == pagination.Cursor(3, ("ab", 7))
    for bad in (None, "", pagination.make_cursor(0, ["ab", 7]), pagination.make_cursor(3, ["ab"]),
                pagination.make_cursor(3, [7, "ab"]), pagination.make_cursor(3, ["ab", 2**31]),
                pagination.make_cursor(3, ["ab", True]), pagination.make_cursor(3, ["x" * 500, 1])):
        assert pagination.read_cursor(bad, keys) is None
