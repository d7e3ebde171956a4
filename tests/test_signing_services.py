"""The rules of signing, withdrawing and verifying, tested at the service level."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from charter import formatting
from charter.extensions import db
from charter.models import (
    AuditEvent,
    CharterStatus,
    OrganisationStatus,
    OutboxMessage,
    Signature,
    SignatureState,
    SignatureWithdrawal,
)
from charter.models.guards import ImmutableRecordError
from charter.permissions import PermissionDenied
from charter.signing import queries, services
from tests import factories as f

CODE_PATTERN = re.compile(r"^PRM-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


@pytest.fixture(autouse=True)
def _english():
    # Services word their messages in the request's language; outside a request, English.
    with force_locale("en"):
        yield


def details(version, **kw) -> services.SignatureDetails:
    values = {
        "version_id": version.id if version is not None else None,
        "signer_name": "Amara Okafor",
        "signer_job_title": "Chief Executive",
        "co_signatory_name": None,
        "co_signatory_role": None,
        "confirmed_authority": True,
    }
    values.update(kw)
    return services.SignatureDetails(**values)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def v1(world):
    version = f.charter_version(world.site, 1, CharterStatus.OPEN)
    db.session.commit()
    return version


def open_v2(world, v1):
    v1.status = CharterStatus.SUPERSEDED
    v1.superseded_at = datetime.now(UTC)
    db.session.flush()
    v2 = f.charter_version(world.site, 2, CharterStatus.OPEN,
                           body="# Charter 2\n\nWe promise more, and report on it.")
    db.session.commit()
    return v2


# --- signing ----------------------------------------------------------------------------

def test_a_lead_signs_the_open_version(world, v1):
    lead = world.user("lead")
    signature = services.sign(lead, world.org, details(v1))
    db.session.commit()

    stored = db.session.get(Signature, signature.id)
    assert stored.organisation_id == world.org.id
    assert stored.charter_version_id == v1.id
    assert stored.signer_id == lead.id
    assert stored.signer_name == "Amara Okafor"
    assert stored.signer_job_title == "Chief Executive"
    assert stored.authority_statement == "I have the authority to sign on behalf of Fenland Trust"
    assert stored.text_sha256 == v1.body_sha256
    assert CODE_PATTERN.match(stored.verification_code)
    assert abs(stored.signed_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert stored.co_signatory_name is None and stored.co_signatory_role is None
    assert stored.withdrawal is None

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signature.created"))
    assert event.actor_id == lead.id
    assert event.object_type == "Signature" and event.object_id == stored.id
    assert event.organisation_id == world.org.id and event.site_id == world.site.id
    assert event.changes["charter_version"] == 1
    assert event.changes["verification_code"] == stored.verification_code

    status = queries.signing_status(world.org)
    assert status.is_signatory and status.signed_open_version
    listed = db.session.scalars(queries.signatories_query(site_id=world.site.id)).all()
    assert world.org in listed


def test_signing_emails_the_signer_and_the_sites_coordinators(world, v1):
    signature = services.sign(world.user("lead"), world.org, details(v1))
    db.session.commit()
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    by_address = {m.to_address: m for m in messages}
    assert set(by_address) == {"lead@example.org", "coordinator@example.org"}
    to_signer = by_address["lead@example.org"]
    assert to_signer.kind == "signature_signed"
    assert f"http://localhost/signatures/{signature.id}/certificate.pdf" in to_signer.body_text
    assert f"http://localhost/verify/{signature.verification_code}" in to_signer.body_text
    to_coordinator = by_address["coordinator@example.org"]
    assert to_coordinator.kind == "signature_signed_coordinator"
    assert "Fenland Trust has signed version 1 of the Cambridge charter." in to_coordinator.body_text
    assert f"http://localhost/signatures/{signature.id}" in to_coordinator.body_text


def test_a_co_signatory_with_lived_experience_is_stored(world, v1):
    signature = services.sign(world.user("lead"), world.org, details(
        v1, co_signatory_name="  Thandi Nkosi ", co_signatory_role="Peer support worker"))
    db.session.commit()
    assert signature.co_signatory_name == "Thandi Nkosi"
    assert signature.co_signatory_role == "Peer support worker"
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "lead@example.org"))
    assert "Thandi Nkosi, Peer support worker" in mail.body_text


@pytest.mark.parametrize(("name", "role", "field"), [
    ("Thandi Nkosi", "", "co_signatory_role"),
    ("", "Peer support worker", "co_signatory_name"),
    ("Thandi Nkosi", "   ", "co_signatory_role"),
])
def test_co_signatory_needs_both_name_and_role_or_neither(world, v1, name, role, field):
    with pytest.raises(services.InvalidSignatureInput) as refused:
        services.sign(world.user("lead"), world.org,
                      details(v1, co_signatory_name=name, co_signatory_role=role))
    assert refused.value.field == field
    assert "or leave both co-signatory fields empty" in refused.value.message
    assert count(Signature) == 0


def test_the_statement_of_authority_must_be_confirmed(world, v1):
    with pytest.raises(services.InvalidSignatureInput) as refused:
        services.sign(world.user("lead"), world.org, details(v1, confirmed_authority=False))
    assert refused.value.field == "authority"
    assert "Fenland Trust" in refused.value.message
    assert count(Signature) == 0


@pytest.mark.parametrize(("field", "value"), [
    ("signer_name", ""), ("signer_name", "x" * 121), ("signer_job_title", "  "),
    ("signer_job_title", "y" * 121), ("co_signatory_name", "z" * 121),
])
def test_names_are_required_and_at_most_120_characters(world, v1, field, value):
    extra = {"co_signatory_role": "Peer"} if field == "co_signatory_name" else {}
    with pytest.raises(services.InvalidSignatureInput) as refused:
        services.sign(world.user("lead"), world.org, details(v1, **{field: value}, **extra))
    assert refused.value.field == field
    assert count(Signature) == 0


def test_signing_the_same_version_twice_is_refused(world, v1):
    first = services.sign(world.user("lead"), world.org, details(v1))
    db.session.commit()
    events = count(AuditEvent)
    with pytest.raises(services.AlreadySigned) as refused:
        services.sign(world.user("lead"), world.org, details(v1))
    date = formatting.local_date(first.signed_at, world.site)
    assert refused.value.message == f"Fenland Trust signed version 1 on {date}."
    assert refused.value.signature.id == first.id
    assert count(Signature) == 1
    assert count(AuditEvent) == events


def test_the_database_refuses_a_second_signature_of_the_same_version(world, v1):
    f.signature(world.org, v1, world.user("lead"))
    db.session.commit()
    with pytest.raises(IntegrityError):
        f.signature(world.org, v1, world.user("lead"))
    db.session.rollback()
    assert count(Signature) == 1


def test_two_signings_at_once_the_second_is_told_clearly(world, v1, monkeypatch):
    """The race: both pass the check before either has written; the unique constraint
    stops the second, which gets the same message as a plain second signing."""
    f.signature(world.org, v1, world.user("lead"))  # the one that won
    db.session.commit()
    events = count(AuditEvent)
    monkeypatch.setattr(services, "existing_signature", lambda org, version: None)
    with pytest.raises(services.AlreadySigned) as refused:
        services.sign(world.user("lead"), world.org, details(v1))
    assert refused.value.message.startswith("Fenland Trust signed version 1 on ")
    db.session.commit()
    assert count(Signature) == 1
    assert count(AuditEvent) == events
    assert count(OutboxMessage) == 0


def test_a_superseded_version_is_refused_and_the_new_one_named(world, v1):
    v2 = open_v2(world, v1)
    with pytest.raises(services.VersionChanged) as refused:
        services.sign(world.user("lead"), world.org, details(v1))
    assert refused.value.message == (
        "The charter changed while you were reading it. Read version 2 and sign again.")
    assert refused.value.current.id == v2.id
    assert count(Signature) == 0


def test_a_draft_version_is_refused(world, v1):
    draft = f.charter_version(world.site, 2, CharterStatus.DRAFT)
    db.session.commit()
    with pytest.raises(services.VersionChanged) as refused:
        services.sign(world.user("lead"), world.org, details(draft))
    assert refused.value.current.id == v1.id
    assert "Read version 1 and sign again." in refused.value.message
    assert count(Signature) == 0


def test_another_sites_version_and_a_made_up_id_are_refused(world, v1):
    brisbane = f.charter_version(world.other_site, 1, CharterStatus.OPEN)
    db.session.commit()
    for version_id in (brisbane.id, 999_999, None):
        with pytest.raises(services.VersionChanged) as refused:
            services.sign(world.user("lead"), world.org, details(None, version_id=version_id))
        assert refused.value.current.id == v1.id
    assert count(Signature) == 0


def test_no_open_version_is_refused(world):
    old = f.charter_version(world.site, 1, CharterStatus.SUPERSEDED)
    f.charter_version(world.site, 2, CharterStatus.DRAFT)
    db.session.commit()
    with pytest.raises(services.NoOpenVersion) as refused:
        services.sign(world.user("lead"), world.org, details(old))
    assert "has no version open for signature" in refused.value.message
    assert count(Signature) == 0


@pytest.mark.parametrize("role", ["editor", "other_lead", "other_editor", "coordinator",
                                  "other_coordinator", "admin"])
def test_only_a_lead_of_the_organisation_signs(world, v1, role):
    with pytest.raises(PermissionDenied) as refused:
        services.sign(world.user(role), world.org, details(v1))
    assert "Only a lead of Fenland Trust can sign" in str(refused.value)
    assert count(Signature) == 0


def test_the_public_cannot_sign(world, v1):
    with pytest.raises(PermissionDenied):
        services.sign(None, world.org, details(v1))


@pytest.mark.parametrize(("status", "words"), [
    (OrganisationStatus.PENDING, "waiting for a coordinator"),
    (OrganisationStatus.DECLINED, "was declined"),
    (OrganisationStatus.WITHDRAWN, "has withdrawn from the charter"),
])
def test_an_organisation_that_is_not_active_cannot_sign(world, v1, status, words):
    world.org.status = status
    db.session.commit()
    with pytest.raises(PermissionDenied) as refused:
        services.sign(world.user("lead"), world.org, details(v1))
    assert words in str(refused.value)
    assert count(Signature) == 0


def test_reaffirming_after_a_new_version_opens(world, v1):
    lead = world.user("lead")
    first = services.sign(lead, world.org, details(v1))
    db.session.commit()
    v2 = open_v2(world, v1)

    status = queries.signing_status(world.org)
    assert status.needs_reaffirming and status.signed_version_number == 1
    assert services.previous_signature(world.org, v2).id == first.id

    second = services.sign(lead, world.org, details(v2))
    db.session.commit()
    assert second.charter_version_id == v2.id
    assert second.text_sha256 == v2.body_sha256 != first.text_sha256
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signature.reaffirmed"))
    assert event.changes["reaffirms_version"] == 1
    assert event.changes["charter_version"] == 2
    status = queries.signing_status(world.org)
    assert not status.needs_reaffirming and status.signed_version_number == 2
    assert services.previous_signature(world.org, v2) is None
    mail = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == "lead@example.org").order_by(OutboxMessage.id.desc())).first()
    assert "re-affirmed" in mail.body_text and "signed version 1 before" in mail.body_text


def test_signatures_are_never_changed_or_deleted(world, v1):
    signature = services.sign(world.user("lead"), world.org, details(v1))
    db.session.commit()
    signature.signer_name = "Someone else"
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(Signature, signature.id))
    with pytest.raises(ImmutableRecordError):
        db.session.flush()
    db.session.rollback()


# --- withdrawal -------------------------------------------------------------------------

@pytest.fixture
def signed(world, v1):
    signature = services.sign(world.user("lead"), world.org, details(v1))
    db.session.commit()
    db.session.query(OutboxMessage).delete()
    db.session.commit()
    return signature


def test_a_lead_withdraws_and_the_organisation_leaves_the_signatories(world, signed):
    lead = world.user("lead")
    withdrawal = services.withdraw(lead, signed, "  Our board withdrew its support.  ")
    db.session.commit()

    stored = db.session.get(SignatureWithdrawal, withdrawal.id)
    assert stored.signature_id == signed.id
    assert stored.withdrawn_by_id == lead.id
    assert stored.reason == "Our board withdrew its support."
    assert abs(stored.withdrawn_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert db.session.get(Signature, signed.id) is not None  # kept on record

    assert db.session.get(type(world.org), world.org.id).status == OrganisationStatus.WITHDRAWN
    actions = audit_actions()
    assert actions[-2:] == ["signature.withdrawn", "organisation.withdrawn"]
    org_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organisation.withdrawn"))
    assert org_event.changes == {"status": ["active", "withdrawn"]}
    sig_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "signature.withdrawn"))
    assert sig_event.changes["reason"] == "Our board withdrew its support."

    assert world.org not in db.session.scalars(queries.signatories_query()).all()
    assert world.org not in db.session.scalars(queries.signatories_query(site_id=world.site.id)).all()
    assert queries.signing_status(world.org).is_signatory is False


def test_withdrawal_emails_the_leads_and_the_coordinators(world, signed):
    second_lead = f.user("second.lead@example.org", full_name="Second Lead")
    f.member(second_lead, world.org, f.MemberRole.LEAD)
    db.session.commit()
    services.withdraw(world.user("coordinator"), signed, "No longer taking part.")
    db.session.commit()
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert sorted(m.to_address for m in messages) == [
        "coordinator@example.org", "lead@example.org", "second.lead@example.org"]
    assert all(m.kind == "signature_withdrawn" for m in messages)
    body = messages[0].body_text
    assert "No longer taking part." in body
    assert "left the list of signatories" in body
    assert f"http://localhost/signatures/{signed.id}" in body


def test_withdrawing_an_older_signature_keeps_a_current_one(world, v1, signed):
    v2 = open_v2(world, v1)
    services.sign(world.user("lead"), world.org, details(v2))
    db.session.commit()
    services.withdraw(world.user("lead"), signed, "Replaced by our signature of version 2.")
    db.session.commit()
    assert db.session.get(type(world.org), world.org.id).status == OrganisationStatus.ACTIVE
    assert "organisation.withdrawn" not in audit_actions()
    assert world.org in db.session.scalars(queries.signatories_query()).all()


def test_withdrawing_twice_is_refused_and_changes_nothing(world, signed):
    services.withdraw(world.user("lead"), signed, "First reason.")
    db.session.commit()
    events, mails = count(AuditEvent), count(OutboxMessage)
    with pytest.raises(services.AlreadyWithdrawn) as refused:
        services.withdraw(world.user("coordinator"), signed, "Second reason.")
    assert refused.value.status == 409
    assert refused.value.message.startswith("This signature was already withdrawn on ")
    db.session.commit()
    assert count(SignatureWithdrawal) == 1
    assert db.session.scalar(select(SignatureWithdrawal.reason)) == "First reason."
    assert (count(AuditEvent), count(OutboxMessage)) == (events, mails)


def test_two_withdrawals_at_once_the_database_refuses_the_second(world, signed):
    """The race: this request loaded the signature before another one withdrew it."""
    now = datetime.now(UTC)
    db.session.execute(insert(SignatureWithdrawal).values(
        signature_id=signed.id, withdrawn_by_id=world.user("coordinator").id,
        reason="Withdrawn elsewhere.", withdrawn_at=now, created_at=now))
    db.session.commit()
    set_committed_value(signed, "withdrawal", None)  # what this request saw
    events, mails = count(AuditEvent), count(OutboxMessage)
    with pytest.raises(services.AlreadyWithdrawn) as refused:
        services.withdraw(world.user("lead"), signed, "At the same moment.")
    assert refused.value.message.startswith("This signature was already withdrawn on ")
    db.session.commit()
    assert db.session.scalars(select(SignatureWithdrawal.reason)).all() == ["Withdrawn elsewhere."]
    assert (count(AuditEvent), count(OutboxMessage)) == (events, mails)


def test_the_database_allows_one_withdrawal_per_signature(world, signed):
    now = datetime.now(UTC)
    row = {"signature_id": signed.id, "withdrawn_by_id": world.user("lead").id, "reason": "x",
           "withdrawn_at": now, "created_at": now}
    db.session.execute(insert(SignatureWithdrawal).values(**row))
    with pytest.raises(IntegrityError):
        db.session.execute(insert(SignatureWithdrawal).values(**row))
    db.session.rollback()


@pytest.mark.parametrize("role", ["lead", "coordinator", "admin"])
def test_lead_coordinator_and_admin_may_withdraw(world, signed, role):
    services.withdraw(world.user(role), signed, "Reason.")
    db.session.commit()
    assert count(SignatureWithdrawal) == 1


@pytest.mark.parametrize("role", ["editor", "other_lead", "other_editor", "other_coordinator"])
def test_others_may_not_withdraw(world, signed, role):
    with pytest.raises(PermissionDenied):
        services.withdraw(world.user(role), signed, "Reason.")
    assert count(SignatureWithdrawal) == 0


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_a_reason_is_required_and_at_most_2000_characters(world, signed, reason):
    with pytest.raises(services.InvalidSignatureInput) as refused:
        services.withdraw(world.user("lead"), signed, reason)
    assert refused.value.field == "reason"
    assert count(SignatureWithdrawal) == 0


def test_a_reason_of_2000_characters_is_accepted(world, signed):
    services.withdraw(world.user("lead"), signed, "é" * 2000)
    db.session.commit()
    assert len(db.session.scalar(select(SignatureWithdrawal.reason))) == 2000


# --- verification -----------------------------------------------------------------------

def test_verify_a_valid_a_withdrawn_and_an_unknown_code(world, signed):
    result = services.verify(signed.verification_code)
    assert result.state == SignatureState.VALID and result.signature.id == signed.id

    services.withdraw(world.user("lead"), signed, "Reason.")
    db.session.commit()
    result = services.verify(signed.verification_code)
    assert result.state == SignatureState.WITHDRAWN
    assert result.signature.withdrawal.reason == "Reason."

    unknown = next(code for code in ("PRM-0000-0000-0000", "PRM-1111-1111-1111")
                   if code != signed.verification_code)
    result = services.verify(unknown)
    assert result.state == SignatureState.UNKNOWN and result.signature is None
    assert result.code == unknown


def test_codes_are_normalised_when_typed(world, v1):
    f.signature(world.org, v1, world.user("lead"), verification_code="PRM-0K1Q-2XHD-M4TB")
    db.session.commit()
    for typed in [
        "PRM-0K1Q-2XHD-M4TB", "prm-0k1q-2xhd-m4tb", " prm 0k1q 2xhd m4tb ", "0K1Q2XHDM4TB",
        "PRM-OK1Q-2XHD-M4TB",  # O for 0
        "PRM-0KIQ-2XHD-M4TB", "PRM-0KLQ-2XHD-M4TB", "prm-0klq-2xhd-m4tb",  # I and L for 1
        "PRM—0K1Q—2XHD—M4TB", "PRM.0K1Q.2XHD.M4TB",
    ]:
        assert services.clean_code(typed) == "PRM-0K1Q-2XHD-M4TB", typed
        assert services.verify(typed).state == SignatureState.VALID, typed


@pytest.mark.parametrize("junk", [
    "", None, "PRM", "PRM-0000", "x" * 5000, "PRM-UUUU-UUUU-UUUU", "ÄÖÜ-ÉÈÊ-ÇÑ", "中文中文中文中文中文中文",
    "😀😀😀😀😀😀😀😀😀😀😀😀", "'; DROP TABLE signature; --", "<script>alert(1)</script>", "\x00" * 12,
    "PRM-0000-0000-0000-0000", "１２３４５６７８９０１２",
])
def test_junk_is_unknown_and_never_an_error(world, junk):
    result = services.verify(junk)
    assert result.state == SignatureState.UNKNOWN
    assert result.signature is None
