"""The Atom feeds stay well-formed XML whatever people typed: every feed (the overall one
and each site's) is parsed with a real XML parser, with hostile names and change notes."""

from __future__ import annotations

from datetime import timedelta

import defusedxml.ElementTree as SafeET
import pytest
from sqlalchemy import select

from charter.extensions import db
from charter.models import ReportRevision, ReportStatus, Site
from charter.models.base import utcnow
from tests import factories as f

ATOM = {"a": "http://www.w3.org/2005/Atom"}

HOSTILE = [
    "Mind & Body",
    "<b>Bold</b> & <script>alert('x')</script>",
    "CDATA ]]> end",
    'Quotes " and \' and &amp; &#x26; &nbsp;',
    "Emoji 🧠💚 and Čeština, 日本語, עברית",
    "Control \x01\x02\x0b\x0c\x1f\x7f characters",
    "Non-characters \ufffe\uffff here",
]


def _printable(text: str) -> str:
    """What XML 1.0 can carry of `text`."""
    from charter.reports.feeds import xml_text

    return xml_text(text)


def _revision(report, number: int, change_note: str = "", minutes: int = 0) -> ReportRevision:
    revision = ReportRevision(
        report=report, number=number, snapshot={}, snapshot_sha256="0" * 64, pdf=b"%PDF-",
        pdf_sha256="1" * 64, pdf_size=5, change_note=change_note,
        published_at=utcnow() - timedelta(minutes=minutes))
    db.session.add(revision)
    db.session.flush()
    return revision


def _feeds(client) -> dict[str, object]:
    urls = ["/reports/feed.atom"] + [
        f"/sites/{slug}/reports/feed.atom" for slug in db.session.scalars(select(Site.slug))]
    parsed = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "application/atom+xml"
        parsed[url] = SafeET.fromstring(response.data)  # raises on anything not well-formed
    return parsed


@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_feed_parses_with_hostile_names_and_change_notes(client, world, hostile):
    site = f.site("hostile", name=f"Site {hostile}")
    org = f.organisation(site, f"Org {hostile}")
    cycle = f.cycle(site, f"Cycle {hostile}")
    report = f.report(org, cycle, status=ReportStatus.PUBLISHED)
    _revision(report, 1, minutes=5)
    _revision(report, 2, change_note=f"Note {hostile}")
    db.session.commit()

    feeds = _feeds(client)
    overall = feeds["/reports/feed.atom"]
    entries = overall.findall("a:entry", ATOM)
    assert len(entries) == 2
    newest = entries[0]
    assert newest.find("a:title", ATOM).text == _printable(
        f"Org {hostile}: Cycle {hostile} (revision 2)")
    summary = newest.find("a:summary", ATOM).text
    assert _printable(f"Note {hostile}") in summary
    assert _printable(f"Org {hostile}") in summary
    category = newest.find("a:category", ATOM)
    assert category.get("label") == _printable(f"Site {hostile}")
    assert category.get("term") == "hostile"
    own = feeds["/sites/hostile/reports/feed.atom"]
    assert own.find("a:title", ATOM).text == _printable(f"PROMISE Charter Site {hostile}: progress reports")
    assert len(own.findall("a:entry", ATOM)) == 2
    assert feeds[f"/sites/{world.site.slug}/reports/feed.atom"].findall("a:entry", ATOM) == []


def test_markup_in_a_change_note_stays_text(client, world):
    cycle = f.cycle(world.site, "2026 Q1")
    report = f.report(world.org, cycle, status=ReportStatus.PUBLISHED)
    _revision(report, 1, change_note="<a href='https://evil.example'>click</a> & more")
    db.session.commit()
    body = client.get("/reports/feed.atom").get_data(as_text=True)
    assert "<a href" not in body
    assert "&lt;a href='https://evil.example'&gt;click&lt;/a&gt; &amp; more" in body
    entry = SafeET.fromstring(body.encode()).find("a:entry", ATOM)
    assert list(entry.find("a:summary", ATOM)) == []  # text only, no child elements


def test_an_empty_feed_is_valid(client, world):
    for url, feed in _feeds(client).items():
        assert feed.tag == "{http://www.w3.org/2005/Atom}feed", url
        assert feed.find("a:updated", ATOM).text == "1970-01-01T00:00:00+00:00"
        assert feed.find("a:link[@rel='self']", ATOM).get("href").endswith(url)


def test_xml_text_keeps_what_xml_allows_and_drops_the_rest():
    from charter.reports.feeds import xml_text

    assert xml_text("a\tb\nc\rd é 🧠 <&>") == "a\tb\nc\rd é 🧠 <&>"  # escaping is the builder's
    assert xml_text("x\x00\x08\x1f\ud800\ufffe\uffffy") == "xy"
    assert xml_text(None) == ""


def test_every_template_but_plain_text_email_is_autoescaped(app):
    """The class of the bug: a template outside Jinja's autoescape (feed.atom was one)."""
    names = app.jinja_env.list_templates()
    assert any(name.endswith(".txt") for name in names)
    for name in names:
        assert app.jinja_env.autoescape(name) == (not name.endswith(".txt")), name
    assert app.jinja_env.autoescape("reports/feed.atom") is True  # a future non-HTML template
