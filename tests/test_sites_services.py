"""The rules of charter versions, at the service level: numbering, one draft, one open
version, supersede on open, the hash, re-affirm invitations, private drafts, edits only
on drafts, conflicts, audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from charter.extensions import db
from charter.models import (
    AuditEvent,
    CharterStatus,
    CharterVersion,
    MemberRole,
    OrganisationStatus,
    OutboxMessage,
    SignatureWithdrawal,
)
from charter.models.charter import sha256_text
from charter.permissions import PermissionDenied
from charter.sites import services
from tests import factories as f


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _versions(site) -> list[CharterVersion]:
    return list(db.session.scalars(
        select(CharterVersion).where(CharterVersion.site_id == site.id)
        .order_by(CharterVersion.number)))


# --- numbering and one draft at a time ------------------------------------------------

def test_first_draft_is_version_one_and_needs_no_change_summary(world):
    coordinator = world.user("coordinator")
    draft = services.create_draft(coordinator, world.site, " The charter ", "# Text\n\nWe promise.")
    assert (draft.number, draft.status, draft.title) == (1, CharterStatus.DRAFT, "The charter")
    assert draft.opened_at is None
    assert draft.created_by_id == coordinator.id
    assert draft.body_sha256 == sha256_text("# Text\n\nWe promise.")
    [event] = _events("charter_version.draft_created")
    assert event.actor_id == coordinator.id and event.site_id == world.site.id
    assert event.changes["number"] == [None, 1]


def test_a_new_draft_is_numbered_after_every_version_of_its_site(world):
    f.charter_version(world.site, 1, CharterStatus.SUPERSEDED)
    f.charter_version(world.site, 2, CharterStatus.OPEN)
    f.charter_version(world.other_site, 7, CharterStatus.OPEN)
    draft = services.create_draft(world.user("coordinator"), world.site, "T", "Body",
                                  "Clearer wording.")
    assert draft.number == 3


def test_change_summary_is_required_once_a_version_exists(world):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    with pytest.raises(services.CharterVersionError) as exc:
        services.create_draft(world.user("coordinator"), world.site, "T", "Body", "  ")
    assert exc.value.field == "change_summary"
    assert len(_versions(world.site)) == 1


def test_only_one_draft_at_a_time(world):
    coordinator = world.user("coordinator")
    first = services.create_draft(coordinator, world.site, "T", "Body")
    with pytest.raises(services.DraftExists) as exc:
        services.create_draft(coordinator, world.site, "T2", "Body 2", "Another")
    assert exc.value.draft is first
    assert "Version 1 is already being drafted" in exc.value.message
    assert len(_versions(world.site)) == 1


def test_two_drafts_with_one_number_are_refused_by_the_database(world):
    f.charter_version(world.site, 1, CharterStatus.DRAFT)
    with pytest.raises(IntegrityError):
        f.charter_version(world.site, 1, CharterStatus.DRAFT)


def test_a_number_taken_by_a_concurrent_draft_gives_a_clear_message(world, monkeypatch):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    db.session.commit()
    # Another coordinator saved version 2 between our look-up and our insert.
    monkeypatch.setattr(services, "current_draft", lambda site: None)
    f.charter_version(world.site, 2, CharterStatus.DRAFT)
    monkeypatch.setattr(services, "next_number", lambda site: 2)
    with pytest.raises(services.CharterVersionError) as exc:
        services.create_draft(world.user("coordinator"), world.site, "T", "Body", "Summary")
    assert exc.value.status == 409
    assert "at the same moment" in exc.value.message


@pytest.mark.parametrize("role", ["public", "editor", "lead", "other_coordinator"])
def test_only_the_sites_coordinators_and_admins_write_its_charter(world, role):
    with pytest.raises(PermissionDenied):
        services.create_draft(world.user(role), world.site, "T", "Body")
    assert _versions(world.site) == []


def test_admins_write_any_sites_charter(world):
    draft = services.create_draft(world.user("admin"), world.other_site, "T", "Body")
    assert draft.site_id == world.other_site.id


def test_line_endings_are_normalised_so_the_hash_can_be_checked(world):
    draft = services.create_draft(world.user("coordinator"), world.site, "T",
                                  "# Title\r\n\r\nLine one.\r\nLine two.\r\n")
    assert draft.body_markdown == "# Title\n\nLine one.\nLine two."
    assert draft.body_sha256 == sha256_text(draft.body_markdown)


def test_overlong_text_is_refused_by_the_service_too(world):
    with pytest.raises(services.CharterVersionError) as exc:
        services.create_draft(world.user("coordinator"), world.site, "T",
                              "x" * (services.BODY_MAX + 1))
    assert exc.value.field == "body"
    with pytest.raises(services.CharterVersionError) as exc:
        services.create_draft(world.user("coordinator"), world.site, "x" * 201, "Body")
    assert exc.value.field == "title"


# --- private drafts -------------------------------------------------------------------

@pytest.mark.parametrize(("role", "sees"), [
    ("public", False), ("editor", False), ("lead", False), ("other_lead", False),
    ("other_coordinator", False), ("coordinator", True), ("admin", True),
])
def test_drafts_are_visible_only_to_the_sites_coordinators_and_admins(world, role, sees):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.charter_version(world.site, 2, CharterStatus.DRAFT)
    user = world.user(role)
    assert (services.visible_version(user, world.site, 2) is not None) is sees
    assert services.visible_version(user, world.site, 1) is not None
    assert services.visible_version(user, world.site, 3) is None
    assert services.visible_version(user, world.site, 10**12) is None


# --- editing --------------------------------------------------------------------------

def test_a_draft_is_edited_and_the_change_audited(world):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT, body="Old text")
    db.session.commit()
    loaded = draft.version
    services.update_draft(world.user("coordinator"), draft, loaded, "New title", "New text", "")
    db.session.commit()
    assert (draft.title, draft.body_markdown) == ("New title", "New text")
    assert draft.body_sha256 == sha256_text("New text")
    assert draft.version == loaded + 1
    [event] = _events("charter_version.draft_updated")
    assert event.changes["title"][1] == "New title"
    assert event.changes["body_sha256"] == [sha256_text("Old text"), sha256_text("New text")]
    assert "body_markdown" not in event.changes


def test_saving_an_unchanged_draft_records_nothing(world):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT, body="Text", title="T")
    db.session.commit()
    services.update_draft(world.user("coordinator"), draft, draft.version, "T", "Text", "")
    assert _events("charter_version.draft_updated") == []


@pytest.mark.parametrize("status", [CharterStatus.OPEN, CharterStatus.SUPERSEDED])
def test_open_and_superseded_versions_are_never_edited(world, status):
    version = f.charter_version(world.site, 1, status, body="Signed text")
    with pytest.raises(services.NotADraft) as exc:
        services.update_draft(world.user("coordinator"), version, version.version, "T",
                              "Changed", "")
    assert exc.value.status == 409
    db.session.rollback()
    assert db.session.get(CharterVersion, version.id) is None or version.body_markdown == "Signed text"


def test_an_edit_based_on_an_old_row_version_is_a_conflict(world):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT, body="First")
    db.session.commit()
    loaded = draft.version
    services.update_draft(world.user("admin"), draft, loaded, draft.title, "Admin's text", "")
    db.session.commit()
    with pytest.raises(services.EditConflict) as exc:
        services.update_draft(world.user("coordinator"), draft, loaded, draft.title,
                              "Coordinator's text", "")
    assert exc.value.current.body_markdown == "Admin's text"
    db.session.rollback()
    assert db.session.get(CharterVersion, draft.id).body_markdown == "Admin's text"
    assert len(_events("charter_version.draft_updated")) == 1


def test_an_edit_without_the_loaded_version_is_a_conflict(world):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT)
    with pytest.raises(services.EditConflict):
        services.update_draft(world.user("coordinator"), draft, None, "T", "Body", "")


def test_other_sites_coordinator_cannot_edit(world):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT)
    with pytest.raises(PermissionDenied):
        services.update_draft(world.user("other_coordinator"), draft, draft.version, "T", "B", "")


# --- opening --------------------------------------------------------------------------

def test_opening_supersedes_the_open_version_and_records_both(world):
    v1 = f.charter_version(world.site, 1, CharterStatus.OPEN,
                           opened_at=datetime(2025, 1, 1, tzinfo=UTC))
    v2 = f.charter_version(world.site, 2, CharterStatus.DRAFT, body="Second text")
    v2.body_sha256 = "0" * 64  # whatever it says, opening hashes the exact text again
    db.session.commit()
    services.open_for_signature(world.user("coordinator"), v2, v2.version)
    db.session.commit()
    assert v1.status == CharterStatus.SUPERSEDED and v1.superseded_at is not None
    assert v2.status == CharterStatus.OPEN and v2.opened_at is not None
    assert v2.opened_at == v1.superseded_at
    assert v2.body_sha256 == sha256_text("Second text")
    assert v1.opened_at == datetime(2025, 1, 1, tzinfo=UTC)
    [superseded] = _events("charter_version.superseded")
    [opened] = _events("charter_version.opened")
    assert superseded.object_id == v1.id and superseded.changes["status"] == ["open", "superseded"]
    assert opened.object_id == v2.id and opened.changes["body_sha256"][1] == v2.body_sha256


def test_opening_the_first_version(world):
    v1 = f.charter_version(world.site, 1, CharterStatus.DRAFT)
    assert services.open_for_signature(world.user("admin"), v1) == 0
    assert v1.status == CharterStatus.OPEN
    assert _events("charter_version.superseded") == []


@pytest.mark.parametrize("status", [CharterStatus.OPEN, CharterStatus.SUPERSEDED])
def test_only_a_draft_can_be_opened(world, status):
    version = f.charter_version(world.site, 1, status)
    with pytest.raises(services.NotADraft) as exc:
        services.open_for_signature(world.user("coordinator"), version)
    assert "only a draft can be opened" in exc.value.message


def test_opening_a_draft_that_changed_since_it_was_shown_is_refused(world):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT)
    db.session.commit()
    with pytest.raises(services.EditConflict):
        services.open_for_signature(world.user("coordinator"), draft, draft.version + 1)
    assert draft.status == CharterStatus.DRAFT


def test_the_database_allows_one_open_version_per_site(world):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.charter_version(world.other_site, 1, CharterStatus.OPEN)  # another site: fine
    with pytest.raises(IntegrityError):
        f.charter_version(world.site, 2, CharterStatus.OPEN)


def test_a_race_to_open_gives_a_clear_message(world, monkeypatch):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    draft = f.charter_version(world.site, 2, CharterStatus.DRAFT)
    db.session.commit()
    # As if another coordinator's request opened version 1 after we looked.
    monkeypatch.setattr(services.queries, "open_version", lambda site_id: None)
    with pytest.raises(services.CharterVersionError) as exc:
        services.open_for_signature(world.user("coordinator"), draft)
    assert exc.value.status == 409
    assert "opened at the same moment" in exc.value.message
    db.session.rollback()
    statuses = [v.status for v in _versions(world.site)]
    assert statuses == [CharterStatus.OPEN, CharterStatus.DRAFT]


def test_other_sites_coordinator_cannot_open(world):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT)
    with pytest.raises(PermissionDenied):
        services.open_for_signature(world.user("other_coordinator"), draft)
    assert draft.status == CharterStatus.DRAFT


def test_opening_invites_only_leads_of_earlier_current_signatories(app, world):
    site = world.site
    v1 = f.charter_version(site, 1, CharterStatus.OPEN)
    # world.org (lead + editor) signed v1: its lead is invited, not its editor.
    f.signature(world.org, v1, world.user("lead"))
    second_lead = f.user("second.lead@example.org")
    f.member(second_lead, world.org, MemberRole.LEAD)
    # world.other_org signed, then withdrew: not invited.
    withdrawn = f.signature(world.other_org, v1, world.user("other_lead"))
    db.session.add(SignatureWithdrawal(signature=withdrawn, withdrawn_by_id=world.user("other_lead").id,
                                       reason="Left", withdrawn_at=datetime.now(UTC)))
    # An organisation that never signed, and one that signed but is no longer active.
    never = f.organisation(site, "Never Signed")
    f.member(f.user("never.lead@example.org"), never, MemberRole.LEAD)
    gone = f.organisation(site, "Gone Away", status=OrganisationStatus.WITHDRAWN)
    gone_lead = f.user("gone.lead@example.org")
    f.member(gone_lead, gone, MemberRole.LEAD)
    f.signature(gone, v1, gone_lead)
    # A signatory on another site.
    elsewhere = f.organisation(world.other_site, "Brisbane Org")
    elsewhere_lead = f.user("brisbane.lead@example.org")
    f.member(elsewhere_lead, elsewhere, MemberRole.LEAD)
    f.signature(elsewhere, f.charter_version(world.other_site, 1, CharterStatus.OPEN), elsewhere_lead)
    v2 = f.charter_version(site, 2, CharterStatus.DRAFT, change_summary="Adds a promise on data.")
    db.session.commit()

    invited = services.open_for_signature(world.user("coordinator"), v2)
    db.session.commit()

    messages = list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "charter_reaffirm")))
    assert invited == 2
    assert sorted(m.to_address for m in messages) == ["lead@example.org", "second.lead@example.org"]
    body = messages[0].body_text
    assert f"/organisations/{world.org.slug}/sign" in body
    assert body.startswith("Hello ")
    assert "Version 2 of the Cambridge PROMISE charter is now open" in body
    assert "Adds a promise on data." in body
    assert "Fenland Trust" in body
    assert "re-affirm" in messages[0].subject


def test_delete_draft_only_drafts_and_audited(world):
    v1 = f.charter_version(world.site, 1, CharterStatus.OPEN)
    draft = f.charter_version(world.site, 2, CharterStatus.DRAFT)
    db.session.commit()
    with pytest.raises(services.NotADraft):
        services.delete_draft(world.user("coordinator"), v1)
    with pytest.raises(PermissionDenied):
        services.delete_draft(world.user("lead"), draft)
    services.delete_draft(world.user("coordinator"), draft, draft.version)
    db.session.commit()
    assert [v.number for v in _versions(world.site)] == [1]
    [event] = _events("charter_version.draft_deleted")
    assert event.changes["number"] == [2, None]
    # The number is free again: the next draft is version 2.
    again = services.create_draft(world.user("coordinator"), world.site, "T", "B", "Summary")
    assert again.number == 2


def test_default_site_follows_the_configuration_then_the_first_site(app, world):
    assert services.default_site().slug == "cambridge"
    app.config["DEFAULT_SITE"] = "brisbane"
    try:
        assert services.default_site().slug == "brisbane"
        app.config["DEFAULT_SITE"] = "nowhere"
        assert services.default_site().slug == "cambridge"  # created first
    finally:
        app.config["DEFAULT_SITE"] = "cambridge"


def test_signature_counts_leave_out_withdrawn_signatures(world):
    v1 = f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.signature(world.org, v1, world.user("lead"))
    gone = f.signature(world.other_org, v1, world.user("other_lead"))
    db.session.add(SignatureWithdrawal(signature=gone, withdrawn_by_id=world.user("other_lead").id,
                                       reason="Left", withdrawn_at=datetime.now(UTC)))
    db.session.flush()
    assert services.signature_counts([v1.id]) == {v1.id: 1}
    assert services.signature_counts([]) == {}
