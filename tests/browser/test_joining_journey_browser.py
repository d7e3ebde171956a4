"""The whole joining journey in a real browser, with axe-core on every page:
a visitor applies and confirms their address from the email, the coordinator approves,
the lead signs with a co-signatory and downloads the certificate, and the organisation
appears in the register and verifies."""

from __future__ import annotations

import re

from sqlalchemy import select

from charter.extensions import db
from charter.models import OutboxMessage
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


def test_apply_approve_sign_certificate_register_verify(page, committed):
    site = f.site("cambridge", name="Cambridge")
    f.site("brisbane", name="Brisbane", timezone="Australia/Brisbane")
    f.charter_version(site, 1, body="# The Cambridge PROMISE Charter\n\nWe promise to end reliance on force.")
    coordinator = f.user("coordinator@example.org", full_name="Cam Coordinator")
    f.coordinator(coordinator, site)
    committed()

    # A visitor applies to join.
    page.goto("/")
    page.get_by_role("link", name="Join the charter").first.click()
    assert_accessible(page, "join form")
    page.get_by_label("PROMISE site").select_option("cambridge")
    page.get_by_label("Organisation name").fill("Kaapse Crisis Café")
    page.get_by_label("Sector").select_option("third_sector")
    page.get_by_label("Signatory: records commitments").check()
    page.get_by_label("Short description").fill("A crisis café run with people who use services.")
    page.get_by_label("Your full name").fill("Thandiwe Mokoena")
    page.get_by_label("Your job title").fill("Director")
    page.get_by_label("Your email address").fill("thandiwe@example.org")
    page.get_by_label("Choose a password").fill("a long password 123")
    page.get_by_label("Repeat the password").fill("a long password 123")
    page.get_by_role("button", name="Send the application").click()
    # Nothing goes to the coordinator until the address is confirmed.
    assert "We have sent a message to thandiwe@example.org" in page.locator("main").inner_text()
    assert_accessible(page, "check your email")
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == "organisation_applied")) is None

    # The applicant follows the link in the email (held in the outbox) and confirms.
    body = db.session.scalar(select(OutboxMessage.body_text).where(
        OutboxMessage.to_address == "thandiwe@example.org",
        OutboxMessage.kind == "join_confirmation"))
    page.goto(re.search(r"http://localhost(/join/confirm/\S+)", body).group(1))
    assert "Kaapse Crisis Café" in page.locator("main").inner_text()
    assert_accessible(page, "confirm your address")
    page.get_by_role("button", name="Confirm and send the application").click()
    assert "has applied to join the Cambridge charter" in page.locator("main").inner_text()
    assert_accessible(page, "pending profile")
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.to_address).where(
        OutboxMessage.kind == "organisation_applied")) == "coordinator@example.org"
    page.get_by_role("button", name="Sign out").click()

    # The coordinator approves it.
    sign_in(page, "coordinator@example.org", f.PASSWORD)
    page.get_by_role("link", name="Applications and invitations").click()
    assert_accessible(page, "applications queue")
    page.get_by_role("button", name="Approve Kaapse Crisis Café").click()
    assert "is approved" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()

    # The lead signs, with a co-signatory with lived experience.
    sign_in(page, "thandiwe@example.org", "a long password 123")
    page.get_by_role("link", name="Sign the charter").first.click()
    assert_accessible(page, "sign page")
    page.get_by_label(re.compile("I have the authority to sign on behalf of Kaapse Crisis Café")).check()
    page.get_by_label(re.compile("^Co-signatory.*name", re.I)).fill("Sipho Ndlovu")
    page.get_by_label(re.compile("^Co-signatory.*role", re.I)).fill("Peer supporter")
    page.get_by_role("button", name=re.compile("Sign")).last.click()
    main_text = page.locator("main").inner_text()
    assert "Kaapse Crisis Café" in main_text
    assert_accessible(page, "signed confirmation")
    code = re.search(r"PRM-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", main_text).group(0)

    # The certificate downloads as a PDF.
    href = page.get_by_role("link", name=re.compile("certificate", re.I)).first.get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"

    # The organisation is in the register and verifies.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/signatories")
    assert page.get_by_role("link", name="Kaapse Crisis Café").count() == 1
    assert_accessible(page, "register")
    page.goto(f"/verify/{code}")
    assert "Kaapse Crisis Café" in page.locator("main").inner_text()
    assert_accessible(page, "verification")
    assert db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.to_address == "thandiwe@example.org",
        OutboxMessage.kind == "organisation_approved")) is not None
