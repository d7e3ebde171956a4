"""Coordinators' pages: the versions list, drafting with preview, editing with conflicts,
opening and deleting; bad input of every kind."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from charter.extensions import db
from charter.models import AuditEvent, CharterStatus, CharterVersion, MemberRole, OutboxMessage
from charter.models.charter import sha256_text
from tests import factories as f
from tests.support import text_of

NEW = "/manage/sites/cambridge/charter/new"


def _versions(world) -> list[CharterVersion]:
    return list(db.session.scalars(
        select(CharterVersion).where(CharterVersion.site_id == world.site.id)
        .order_by(CharterVersion.number)))


def _hidden_version(html: str) -> str:
    match = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', html)
    assert match, "the form carries no row version"
    return match.group(1)


@pytest.fixture
def coordinator(client, world):
    client.login(world.user("coordinator"))
    return world.user("coordinator")


# --- the versions list ----------------------------------------------------------------

def test_manage_page_lists_every_version_with_actions(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.SUPERSEDED)
    f.charter_version(world.site, 2, CharterStatus.OPEN)
    f.charter_version(world.site, 3, CharterStatus.DRAFT, title="Work in progress")
    f.charter_version(world.other_site, 1, CharterStatus.DRAFT, title="Brisbane draft")
    page = text_of(client.get("/manage/sites/cambridge/charter"))
    assert "Version 3 Work in progress Draft" in page
    assert "Open version 3 for signature" in page and "Delete draft version 3" in page
    assert "Open now; it cannot be changed." in page
    assert "Carry on with draft version 3" in page
    assert "Brisbane draft" not in page


def test_other_sites_coordinator_is_refused(client, world):
    client.login(world.user("other_coordinator"))
    assert client.get("/manage/sites/cambridge/charter").status_code == 403
    assert client.get(NEW).status_code == 403


def test_public_is_sent_to_sign_in(client, world):
    response = client.get("/manage/sites/cambridge/charter")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


# --- drafting a new version -----------------------------------------------------------

def test_the_first_draft_form_is_empty_and_says_version_one(client, world, coordinator):
    page = text_of(client.get(NEW))
    assert "This will be version 1, the first version of the charter." in page


def test_a_new_draft_starts_from_the_latest_version(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.OPEN, title="Current title",
                      body="Current <b>body</b>")
    response = client.get(NEW)
    html = response.get_data(as_text=True)
    assert 'value="Current title"' in html
    assert "Current &lt;b&gt;body&lt;/b&gt;</textarea>" in html
    assert "This will be version 2. The form starts from the text of version 1." in text_of(response)


def test_preview_shows_the_sanitised_text_and_saves_nothing(client, world, coordinator):
    response = client.post(NEW, data={
        "title": "Draft", "body": "# Heading\n\nSome **bold** text.\n\n<script>alert(1)</script>",
        "preview": "1",
    })
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Preview (not saved yet)" in text_of(response)
    assert "<h2>Heading</h2>" in html and "<strong>bold</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html  # kept in the form
    assert _versions(world) == []


def test_save_creates_a_draft_and_goes_to_it(client, world, coordinator):
    response = client.post(NEW, data={"title": "The charter", "body": "Text\r\nmore", "save": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage/sites/cambridge/charter/1/edit")
    [draft] = _versions(world)
    assert (draft.number, draft.status, draft.body_markdown) == (1, CharterStatus.DRAFT, "Text\nmore")
    page = text_of(client.get(response.headers["Location"]))
    assert "Version 1 is saved as a draft" in page
    assert "Edit draft version 1" in page
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "charter_version.draft_created")) is not None


def test_when_a_draft_exists_new_sends_to_it(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.charter_version(world.site, 2, CharterStatus.DRAFT)
    response = client.get(NEW)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/manage/sites/cambridge/charter/2/edit")
    assert "Version 2 is already being drafted" in text_of(client.get(response.headers["Location"]))


def test_saving_a_second_draft_keeps_the_typed_text_and_says_why(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.charter_version(world.site, 2, CharterStatus.DRAFT)
    response = client.post(NEW, data={"title": "Mine", "body": "My careful words",
                                      "change_summary": "Mine", "save": "1"})
    assert response.status_code == 409
    page = text_of(response)
    assert "Version 2 is already being drafted" in page
    assert "Open draft version 2" in page
    assert "My careful words" in response.get_data(as_text=True)
    assert len(_versions(world)) == 2


@pytest.mark.parametrize(("data", "messages"), [
    ({}, ["Enter a title", "Enter the text of the charter."]),
    ({"title": "  ", "body": "   "}, ["Enter a title", "Enter the text of the charter."]),
    ({"title": "T", "body": "x" * 100_001}, ["Use 100000 characters or fewer."]),
    ({"title": "T" * 201, "body": "Text"}, ["Use 200 characters or fewer."]),
    ({"title": "T", "body": "Text", "change_summary": "s" * 2001}, ["Use 2000 characters or fewer."]),
    ({"title": "T\x00", "body": "Text"}, ["Remove the invisible control characters"]),
])
def test_bad_input_is_refused_beside_the_field_and_kept(client, world, coordinator, data, messages):
    response = client.post(NEW, data={**data, "save": "1"})
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page
    for message in messages:
        assert message in page
    assert _versions(world) == []


def test_change_summary_is_required_after_the_first_version(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    response = client.post(NEW, data={"title": "T", "body": "New text", "save": "1"})
    assert response.status_code == 400
    assert "Say in a sentence or two what changed" in text_of(response)
    assert "New text</textarea>" in response.get_data(as_text=True)
    assert len(_versions(world)) == 1


def test_exactly_the_longest_text_is_accepted(client, world, coordinator):
    response = client.post(NEW, data={"title": "T", "body": "x" * 100_000, "save": "1"})
    assert response.status_code == 302
    assert len(_versions(world)[0].body_markdown) == 100_000


def test_any_unicode_is_kept_and_html_escaped(client, world, coordinator):
    title = 'Charta <em>PROMISE</em> — Příbram, Kaapstad "ons" 我们 🤝'
    body = "Slibujeme. Ons belowe. 我们承诺。 🤝\n\n<img src=x onerror=alert(1)>"
    response = client.post(NEW, data={"title": title, "body": body, "save": "1"})
    assert response.status_code == 302
    [draft] = _versions(world)
    assert (draft.title, draft.body_markdown) == (title, body)
    html = client.get("/sites/cambridge/charter/v1").get_data(as_text=True)
    assert "<em>PROMISE</em>" not in html and "&lt;em&gt;PROMISE&lt;/em&gt;" in html
    assert "<img" not in html and "Příbram" in html and "🤝" in html


@pytest.mark.parametrize("role", ["lead", "editor", "other_coordinator"])
def test_others_cannot_post_a_draft(client, world, role):
    client.login(world.user(role))
    response = client.post(NEW, data={"title": "T", "body": "B", "save": "1"})
    assert response.status_code == 403
    assert _versions(world) == []


def test_a_post_without_a_csrf_token_saves_nothing(client, world, coordinator):
    response = client.post(NEW, data={"title": "T", "body": "B", "save": "1"}, csrf=False)
    assert response.status_code == 400
    assert _versions(world) == []


# --- editing a draft ------------------------------------------------------------------

def test_edit_form_is_filled_and_saves(client, world, coordinator):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT, title="Old", body="Old body")
    url = "/manage/sites/cambridge/charter/1/edit"
    html = client.get(url).get_data(as_text=True)
    loaded = _hidden_version(html)
    assert 'value="Old"' in html and "Old body</textarea>" in html
    response = client.post(url, data={"title": "New", "body": "New body", "version": loaded,
                                      "save": "1"})
    assert response.status_code == 302
    db.session.refresh(draft)
    assert (draft.title, draft.body_markdown) == ("New", "New body")
    assert draft.body_sha256 == sha256_text("New body")


def test_edit_preview_saves_nothing(client, world, coordinator):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT, body="Old body")
    response = client.post("/manage/sites/cambridge/charter/1/edit", data={
        "title": "T", "body": "*Previewed*", "version": str(draft.version), "preview": "1"})
    assert response.status_code == 200
    assert "<em>Previewed</em>" in response.get_data(as_text=True)
    db.session.refresh(draft)
    assert draft.body_markdown == "Old body"


@pytest.mark.parametrize("status", [CharterStatus.OPEN, CharterStatus.SUPERSEDED])
def test_open_and_superseded_versions_cannot_be_edited(client, world, coordinator, status):
    version = f.charter_version(world.site, 1, status, body="Signed words")
    url = "/manage/sites/cambridge/charter/1/edit"
    response = client.get(url)
    assert response.status_code == 409
    assert "can no longer be changed" in text_of(response)
    response = client.post(url, data={"title": "T", "body": "Changed", "version": "1", "save": "1"})
    assert response.status_code == 409
    db.session.refresh(version)
    assert version.body_markdown == "Signed words"


def test_editing_an_unknown_version_is_not_found(client, world, coordinator):
    assert client.get("/manage/sites/cambridge/charter/7/edit").status_code == 404
    assert client.get("/manage/sites/cambridge/charter/99999999999999/edit").status_code == 404


def test_an_edit_missing_its_version_is_refused_and_kept(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.DRAFT, body="Old body")
    response = client.post("/manage/sites/cambridge/charter/1/edit",
                           data={"title": "T", "body": "Mine", "save": "1"})
    assert response.status_code == 400
    assert "This form is missing some of its information" in text_of(response)
    assert "Mine</textarea>" in response.get_data(as_text=True)


def test_concurrent_edits_show_a_conflict_page_with_both_texts(client, world, app):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT, title="Draft",
                              body="Line one\nLine two")
    url = "/manage/sites/cambridge/charter/1/edit"
    client.login(world.user("coordinator"))
    loaded = _hidden_version(client.get(url).get_data(as_text=True))

    other = app.test_client()
    other.login(world.user("admin"))
    other_loaded = _hidden_version(other.get(url).get_data(as_text=True))
    response = other.post(url, data={"title": "Draft", "body": "Line one\nAdmin's line two",
                                     "version": other_loaded, "save": "1"})
    assert response.status_code == 302

    response = client.post(url, data={"title": "Draft", "body": "Line one\nMy <b>line</b> two",
                                      "version": loaded, "save": "1"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "This draft changed while you were editing it" in page
    assert "Save my text" in page
    assert "Someone else saved this draft while you were editing it" in page
    assert "Admin&#39;s line two</textarea>" in html           # their text, read only
    assert "My &lt;b&gt;line&lt;/b&gt; two</textarea>" in html  # mine, kept in the form
    assert "<b>line</b>" not in html
    db.session.refresh(draft)
    assert draft.body_markdown == "Line one\nAdmin's line two"

    # Saving from the conflict page is a deliberate choice to replace their text.
    newer = _hidden_version(html)
    assert newer == str(draft.version)
    response = client.post(url, data={"title": "Draft", "body": "Merged text", "version": newer,
                                      "save": "1"})
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.body_markdown == "Merged text"


# --- opening and deleting -------------------------------------------------------------

def test_opening_from_the_manage_page(client, world, coordinator):
    v1 = f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.signature(world.org, v1, world.user("lead"))
    v2 = f.charter_version(world.site, 2, CharterStatus.DRAFT, change_summary="Better.")
    response = client.post("/manage/sites/cambridge/charter/2/open",
                           data={"version": str(v2.version)})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "Version 2 is open for signature." in page
    assert "1 lead of an organisation that signed an earlier version was invited to re-affirm." in page
    db.session.refresh(v1)
    db.session.refresh(v2)
    assert (v1.status, v2.status) == (CharterStatus.SUPERSEDED, CharterStatus.OPEN)
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_address == "lead@example.org"
    assert "http://localhost/organisations/fenland-trust/sign" in message.body_text


def test_opening_a_version_that_is_not_a_draft_is_refused_clearly(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    response = client.post("/manage/sites/cambridge/charter/1/open")
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    assert "Version 1 is open for signature already; only a draft can be opened" in page


def test_opening_a_draft_changed_since_it_was_shown_is_refused(client, world, coordinator):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT)
    response = client.post("/manage/sites/cambridge/charter/1/open",
                           data={"version": str(draft.version + 5)})
    assert response.status_code == 303
    assert "changed after you last looked at it" in text_of(client.get(response.headers["Location"]))
    db.session.refresh(draft)
    assert draft.status == CharterStatus.DRAFT


def test_deleting_a_draft(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.charter_version(world.site, 2, CharterStatus.DRAFT)
    response = client.post("/manage/sites/cambridge/charter/2/delete")
    assert response.status_code == 302
    assert "Draft version 2 is deleted." in text_of(client.get(response.headers["Location"]))
    assert [v.number for v in _versions(world)] == [1]


def test_deleting_an_open_version_is_refused(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    response = client.post("/manage/sites/cambridge/charter/1/delete")
    assert response.status_code == 303
    assert "only drafts can be deleted" in text_of(client.get(response.headers["Location"]))
    assert len(_versions(world)) == 1


@pytest.mark.parametrize("role", ["lead", "other_coordinator"])
def test_others_cannot_open_or_delete(client, world, role):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT)
    client.login(world.user(role))
    assert client.post("/manage/sites/cambridge/charter/1/open").status_code == 403
    assert client.post("/manage/sites/cambridge/charter/1/delete").status_code == 403
    db.session.refresh(draft)
    assert draft.status == CharterStatus.DRAFT


def test_a_lead_of_two_organisations_gets_one_invitation_for_each(client, world, coordinator):
    v1 = f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.member(world.user("lead"), world.other_org, MemberRole.LEAD)
    f.signature(world.org, v1, world.user("lead"))
    f.signature(world.other_org, v1, world.user("other_lead"))
    v2 = f.charter_version(world.site, 2, CharterStatus.DRAFT)
    client.post("/manage/sites/cambridge/charter/2/open", data={"version": str(v2.version)})
    addresses = sorted(m.to_address for m in db.session.scalars(select(OutboxMessage)))
    assert addresses == ["lead@example.org", "lead@example.org", "other.lead@example.org"]


def test_a_race_to_open_is_a_clear_message_not_an_error_page(client, world, coordinator,
                                                             monkeypatch):
    from charter.sites import services

    f.charter_version(world.site, 1, CharterStatus.OPEN)
    draft = f.charter_version(world.site, 2, CharterStatus.DRAFT)
    # As if another coordinator's request had opened version 1 just after our look-up.
    monkeypatch.setattr(services.queries, "open_version", lambda site_id: None)
    response = client.post("/manage/sites/cambridge/charter/2/open",
                           data={"version": str(draft.version)})
    monkeypatch.undo()
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]))
    assert "Another version of this charter was opened at the same moment" in page
    assert [v.status for v in _versions(world)] == [CharterStatus.OPEN, CharterStatus.DRAFT]
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "charter_version.opened")) is None


def test_a_preview_does_not_need_the_change_summary_yet(client, world, coordinator):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    response = client.post(NEW, data={"title": "T", "body": "Next *text*", "preview": "1"})
    assert response.status_code == 200
    assert "<em>text</em>" in response.get_data(as_text=True)
    assert "Say in a sentence or two" not in text_of(response)
    assert len(_versions(world)) == 1
