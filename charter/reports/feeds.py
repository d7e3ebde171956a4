"""Atom feeds of published reports, built with an XML builder.

ElementTree escapes every text and attribute (`&`, `<`, `>`, quotes), so an organisation
called "Mind & Body" or a change note with markup stays text. What escaping cannot fix,
characters that XML 1.0 does not allow at all (most control characters, lone surrogates,
U+FFFE/U+FFFF), is removed, so the feed always parses.
"""

from __future__ import annotations

import re
from datetime import datetime
from xml.etree import ElementTree

from flask_babel import gettext as _

from charter.urls import external_url

ATOM = "http://www.w3.org/2005/Atom"
EPOCH = "1970-01-01T00:00:00+00:00"

# Everything outside XML 1.0's Char production.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value) -> str:
    """`value` as text that may appear in an XML 1.0 document (escaping is the builder's)."""
    return _NOT_XML.sub("", "" if value is None else str(value))


def _add(parent, tag: str, text: str | None = None, **attributes) -> ElementTree.Element:
    element = ElementTree.SubElement(
        parent, tag, {k: xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment else EPOCH


def build_feed(entries, title: str, self_url: str) -> bytes:
    """`entries`: (revision, report) pairs, newest first, as `queries.feed_entries` gives."""
    feed = ElementTree.Element("feed", {"xmlns": ATOM})
    _add(feed, "title", title)
    _add(feed, "id", self_url)
    _add(feed, "link", rel="self", href=self_url)
    _add(feed, "link", rel="alternate", href=external_url("reports.index"))
    _add(feed, "updated", _when(entries[0][0].published_at if entries else None))
    author = _add(feed, "author")
    _add(author, "name", "PROMISE Charter")
    for revision, report in entries:
        organisation, cycle = report.organisation, report.cycle
        site = organisation.site
        url = external_url("reports.revision", report_id=report.id, number=revision.number)
        entry_title = f"{organisation.name}: {cycle.name}"
        if revision.number > 1:
            entry_title += " (" + _("revision %(n)d", n=revision.number) + ")"
        summary = _("Progress report of %(org)s (%(site)s) for %(cycle)s.",
                    org=organisation.name, site=site.name, cycle=cycle.name)
        if revision.change_note:
            summary += " " + _("Correction:") + " " + revision.change_note
        entry = _add(feed, "entry")
        _add(entry, "title", entry_title)
        _add(entry, "id", url)
        _add(entry, "link", rel="alternate", href=url)
        _add(entry, "link", rel="enclosure", type="application/pdf",
             href=external_url("reports.revision_pdf", report_id=report.id,
                               number=revision.number))
        _add(entry, "updated", _when(revision.published_at))
        _add(entry, "published", _when(revision.published_at))
        _add(entry, "category", term=site.slug, label=site.name)
        _add(entry, "summary", summary)
    return ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
