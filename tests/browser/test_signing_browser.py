"""Signing in a real browser, with axe-core on each page: a lead signs with a co-signatory,
downloads the certificate, and verifies the code; errors and withdrawal stay accessible."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from charter.extensions import db
from charter.models import Signature, User
from charter.signing.queries import open_version
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


def _world(committed):
    site = f.site("cambridge", name="Cambridge")
    f.charter_version(site, 1, title="The Cambridge PROMISE Charter",
                      body="# Our promise\n\nWe promise to end reliance on force.\n\n"
                           "## Seamless care\n\n- Integrated pathways\n- Accepting communities")
    lead = f.user("lead@example.org", full_name="Amara Okafor", job_title="Chief Executive")
    org = f.organisation(site, "Fenland Trust", slug="fenland-trust")
    f.member(lead, org, f.MemberRole.LEAD)
    coordinator = f.user("coordinator@example.org", full_name="Cam Coordinator")
    f.coordinator(coordinator, site)
    committed()
    return org


@pytest.mark.pdf
def test_lead_signs_with_a_co_signatory_downloads_and_verifies(page, committed):
    _world(committed)
    sign_in(page, "lead@example.org", f.PASSWORD)
    page.goto("/organisations/fenland-trust/sign")
    assert page.locator("h1").inner_text() == "Sign the charter"
    assert "We promise to end reliance on force." in page.locator("#charter-text").inner_text()
    assert page.get_by_label("Your full name").input_value() == "Amara Okafor"
    assert_accessible(page, "sign page")

    # Forgetting the statement of authority and half a co-signatory: errors, typing kept.
    page.get_by_label("Co-signatory's full name").fill("Thandi Nkosi")
    page.get_by_role("button", name="Sign the charter").click()
    summary = page.locator("#error-summary").inner_text()
    assert "Confirm that you have the authority to sign on behalf of Fenland Trust." in summary
    assert "Enter the co-signatory's role too" in summary
    assert page.get_by_label("Co-signatory's full name").input_value() == "Thandi Nkosi"
    assert_accessible(page, "sign page with errors")

    page.get_by_label("I have the authority to sign on behalf of Fenland Trust").check()
    page.get_by_label("Co-signatory's role").fill("Peer support worker")
    page.get_by_role("button", name="Sign the charter").click()
    main = page.locator("main").inner_text()
    assert "Fenland Trust has signed version 1 of the charter. Thank you." in main
    assert "Thandi Nkosi, Peer support worker" in main
    assert page.locator("h1").inner_text() == "Signature of Fenland Trust"
    assert_accessible(page, "confirmation page")
    code = page.locator("#verification-code").inner_text()
    assert re.fullmatch(r"PRM-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert db.session.scalar(select(Signature.verification_code)) == code

    # The certificate is a PDF holding the organisation and the code.
    href = page.locator("#certificate-link").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body[:5] == b"%PDF-"
    text = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert "Fenland Trust" in text and code in text

    # Anyone can verify it, however they type the code.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/verify")
    assert_accessible(page, "verify form")
    page.get_by_label("Verification code").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Check the code").click()
    assert page.url.endswith(f"/verify/{code}")
    assert page.locator("h1").inner_text() == "Valid signature"
    assert "Fenland Trust signed version 1 of the Cambridge charter" in page.locator("main").inner_text()
    assert_accessible(page, "verify page")

    page.goto("/verify/PRM-0000-0000-0000")
    assert page.locator("h1").inner_text() == "Unknown verification code"
    assert_accessible(page, "unknown code page")


def test_withdrawal_pages_are_accessible(page, committed):
    org = _world(committed)
    lead = db.session.scalar(select(User).where(User.email == "lead@example.org"))
    signature = f.signature(org, open_version(org.site_id), lead)
    committed()
    sign_in(page, "coordinator@example.org", f.PASSWORD)
    page.goto(f"/signatures/{signature.id}")
    page.get_by_role("link", name="Withdraw this signature").click()
    assert_accessible(page, "withdraw form")
    page.get_by_role("button", name="Withdraw the signature").click()
    assert "Enter the reason for withdrawing." in page.locator("#error-summary").inner_text()
    assert_accessible(page, "withdraw form with errors")
    page.get_by_label("Reason for withdrawing").fill("The trust merged with another.")
    page.get_by_role("button", name="Withdraw the signature").click()
    main = page.locator("main").inner_text()
    assert "has been withdrawn" in main and "The trust merged with another." in main
    assert_accessible(page, "withdrawn signature page")
    page.goto(f"/verify/{signature.verification_code}")
    assert page.locator("h1").inner_text() == "Withdrawn signature"
    assert_accessible(page, "withdrawn verify page")


def test_signing_pages_fit_a_320_pixel_screen(page, committed):
    org = _world(committed)
    sign_in(page, "lead@example.org", f.PASSWORD)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/organisations/{org.slug}/sign")
    page.get_by_label(re.compile("I have the authority")).check()
    page.get_by_role("button", name="Sign the charter").click()
    signature_url = page.url
    code = page.locator("#verification-code").inner_text()
    for path in [f"/organisations/{org.slug}/sign", signature_url, f"/verify/{code}", "/verify"]:
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320px"
