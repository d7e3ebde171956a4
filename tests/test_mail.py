"""The outbox: stored first, held without a mail server, delivered over SMTP with one."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import select

from charter import mail
from charter.extensions import db
from charter.models import OutboxMessage, OutboxStatus
from tests.support import text_of


class FakeSMTP:
    sent: list = []
    fail_with: Exception | None = None

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        if FakeSMTP.fail_with:
            raise FakeSMTP.fail_with
        FakeSMTP.sent.append(message)


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.sent = []
    FakeSMTP.fail_with = None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.test")
    return FakeSMTP


def test_without_a_mail_server_messages_are_held_for_admins():
    message = mail.queue("a@example.org", "Subject", "Body", kind="test")
    assert message.status == OutboxStatus.HELD
    assert mail.deliver() == (0, 0)


def test_with_a_mail_server_queued_messages_are_delivered(smtp):
    message = mail.queue("a@example.org", "Hello there", "The body", kind="test")
    db.session.commit()
    assert message.status == OutboxStatus.QUEUED
    assert mail.deliver() == (1, 0)
    db.session.refresh(message)
    assert message.status == OutboxStatus.SENT
    assert message.sent_at is not None
    assert smtp.sent[0]["To"] == "a@example.org"
    assert smtp.sent[0]["Subject"] == "Hello there"


def test_failed_delivery_is_retried_then_marked_failed(smtp):
    smtp.fail_with = smtplib.SMTPServerDisconnected("gone")
    message = mail.queue("a@example.org", "S", "B", kind="test")
    db.session.commit()
    for _ in range(mail.MAX_ATTEMPTS):
        mail.deliver()
    db.session.refresh(message)
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == mail.MAX_ATTEMPTS
    assert "gone" in message.last_error


def test_a_request_delivers_what_it_queued(client, world, smtp):
    response = client.post("/password/forgot", data={"email": world.user("lead").email})
    assert response.status_code == 200
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.SENT
    assert len(smtp.sent) == 1


def test_dedupe_key_queues_a_message_once():
    first = mail.queue("a@example.org", "S", "B", kind="reminder", dedupe_key="k1")
    second = mail.queue("a@example.org", "S", "B", kind="reminder", dedupe_key="k1")
    assert first is not None
    assert second is None
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 1


def test_admin_reads_held_messages_at_the_outbox(client, world):
    mail.queue("someone@example.org", "Reset your password", "Open http://localhost/x", kind="t")
    client.login(world.user("admin"))
    page = client.get("/admin/outbox")
    assert "Reset your password" in text_of(page)
    assert "No mail server is configured" in text_of(page)
    message_id = db.session.scalar(select(OutboxMessage.id))
    detail = client.get(f"/admin/outbox/{message_id}")
    assert 'href="http://localhost/x"' in detail.get_data(as_text=True)


def test_outbox_filter_and_unknown_message(client, world):
    mail.queue("alpha@example.org", "For alpha", "B", kind="t")
    mail.queue("beta@example.org", "For beta", "B", kind="t")
    client.login(world.user("admin"))
    page = text_of(client.get("/admin/outbox?to=ALPHA"))
    assert "For alpha" in page and "For beta" not in page
    assert client.get("/admin/outbox?page=999").status_code == 200
    assert client.get("/admin/outbox?page=-3").status_code == 200
    assert client.get("/admin/outbox/99999").status_code == 404
