"""The signing pages through the test client: what each role sees, and bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from charter import formatting
from charter.extensions import db
from charter.models import (
    CharterStatus,
    Organisation,
    OrganisationStatus,
    Signature,
    SignatureWithdrawal,
)
from charter.signing import queries
from tests import factories as f
from tests.support import count_queries, text_of


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def v1(world):
    version = f.charter_version(
        world.site, 1, CharterStatus.OPEN,
        body="# The Cambridge charter\n\nWe promise to **reduce** restrictive practice.\n\n"
             "<script>alert('charter')</script>",
    )
    db.session.commit()
    return version


def sign_data(version, **kw) -> dict:
    data = {
        "version_id": str(version.id),
        "authority": "y",
        "signer_name": "Amara Okafor",
        "signer_job_title": "Chief Executive",
        "co_signatory_name": "",
        "co_signatory_role": "",
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def one_h1(response) -> str:
    headings = re.findall(r"<h1\b[^>]*>(.*?)</h1>", response.get_data(as_text=True), flags=re.S)
    assert len(headings) == 1, headings
    return " ".join(re.sub(r"<[^>]+>", " ", headings[0]).split())


def sign_url(world) -> str:
    return f"/organisations/{world.org.slug}/sign"


def withdraw(signature, user, reason="Reason."):
    db.session.add(SignatureWithdrawal(signature=signature, withdrawn_by=user, reason=reason,
                                       withdrawn_at=datetime.now(UTC)))
    db.session.commit()


# --- the sign page ----------------------------------------------------------------------

def test_a_lead_reads_the_open_version_and_sees_the_form(client, world, v1):
    client.login(world.user("lead"))
    response = client.get(sign_url(world))
    assert response.status_code == 200
    assert one_h1(response) == "Sign the charter"
    text = text_of(response)
    assert "Version 1: Cambridge charter v1" in text
    assert v1.body_sha256 in text
    html = response.get_data(as_text=True)
    assert "<strong>reduce</strong>" in html  # Markdown rendered
    assert "<h2>The Cambridge charter</h2>" in html  # headings demoted under the page's h1
    assert "<script>alert" not in html  # and raw HTML never passed through
    assert "I have the authority to sign on behalf of Fenland Trust" in text
    assert f'name="version_id" type="hidden" value="{v1.id}"' in html
    assert 'value="Lead"' in html  # the signer's name, pre-filled from the account
    assert 'value="Tester"' in html
    assert "Co-signatory with lived experience (optional)" in text
    assert response.headers["Cache-Control"] == "private, no-store"  # signed in


def test_signing_leads_to_the_confirmation_page(client, world, v1):
    client.login(world.user("lead"))
    response = client.post(sign_url(world), data=sign_data(
        v1, co_signatory_name="Thandi Nkosi", co_signatory_role="Peer support worker"))
    assert response.status_code == 302
    signature = db.session.scalar(select(Signature))
    assert response.headers["Location"].endswith(f"/signatures/{signature.id}")
    assert signature.co_signatory_name == "Thandi Nkosi"
    assert signature.authority_statement == "I have the authority to sign on behalf of Fenland Trust"

    page = client.get(response.headers["Location"])
    text = text_of(page)
    assert "Fenland Trust has signed version 1 of the charter. Thank you." in text
    assert one_h1(page) == "Signature of Fenland Trust"
    assert "Valid" in text
    assert "Amara Okafor, Chief Executive" in text
    assert "Thandi Nkosi, Peer support worker" in text
    assert signature.verification_code in text
    html = page.get_data(as_text=True)
    assert f'href="/signatures/{signature.id}/certificate.pdf"' in html
    assert f'href="/verify/{signature.verification_code}"' in html
    assert "Withdraw this signature" in text  # the lead may


def test_missing_confirmation_and_names_are_shown_beside_the_fields(client, world, v1):
    client.login(world.user("lead"))
    response = client.post(sign_url(world), data=sign_data(
        v1, authority=None, signer_name="Zuzana Dvořáková", signer_job_title=""))
    assert response.status_code == 400
    text = text_of(response)
    assert "There is a problem" in text
    assert "Confirm that you have the authority to sign on behalf of Fenland Trust." in text
    assert "Enter your job title." in text
    html = response.get_data(as_text=True)
    assert 'value="Zuzana Dvořáková"' in html  # what they typed is kept
    assert 'id="authority-error"' in html and 'id="signer_job_title-error"' in html
    assert count(Signature) == 0


@pytest.mark.parametrize(("name", "role", "error_field"), [
    ("Thandi Nkosi", "", "co_signatory_role"),
    ("", "Peer support worker", "co_signatory_name"),
])
def test_co_signatory_both_or_neither_is_explained_beside_the_empty_field(
        client, world, v1, name, role, error_field):
    client.login(world.user("lead"))
    response = client.post(sign_url(world), data=sign_data(
        v1, co_signatory_name=name, co_signatory_role=role))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    error = re.search(rf'id="{error_field}-error"[^>]*>(.*?)</div>', html, flags=re.S)
    assert error and "or leave both co-signatory fields empty" in error.group(1)
    assert count(Signature) == 0


def test_over_long_names_are_refused_without_an_error_page(client, world, v1):
    client.login(world.user("lead"))
    response = client.post(sign_url(world), data=sign_data(
        v1, signer_name="x" * 121, co_signatory_name="y" * 500, co_signatory_role="z"))
    assert response.status_code == 400
    assert text_of(response).count("Use 120 characters or fewer.") >= 2
    assert count(Signature) == 0


def test_junk_in_the_hidden_version_field_is_refused_clearly(client, world, v1):
    client.login(world.user("lead"))
    for junk in ["", "abc", "1e9999"]:
        response = client.post(sign_url(world), data=sign_data(v1, version_id=junk))
        assert response.status_code == 400, junk
        assert "did not say which version of the charter you read" in text_of(response)
    assert count(Signature) == 0


def test_a_version_superseded_while_reading_shows_the_new_one_and_keeps_the_typing(client, world, v1):
    v1.status = CharterStatus.SUPERSEDED
    db.session.flush()
    v2 = f.charter_version(world.site, 2, CharterStatus.OPEN, body="We promise even more.")
    db.session.commit()
    client.login(world.user("lead"))
    response = client.post(sign_url(world), data=sign_data(
        v1, signer_name="Amara Okafor", signer_job_title="Chief Executive",
        co_signatory_name="Thandi Nkosi", co_signatory_role="Peer"))
    assert response.status_code == 409
    text = text_of(response)
    assert "The charter changed while you were reading it. Read version 2 and sign again." in text
    assert "Version 2: Cambridge charter v2" in text and "We promise even more." in text
    html = response.get_data(as_text=True)
    assert f'name="version_id" type="hidden" value="{v2.id}"' in html
    assert 'value="Amara Okafor"' in html and 'value="Chief Executive"' in html
    assert 'value="Thandi Nkosi"' in html
    assert not re.search(r'<input[^>]*id="authority"[^>]*checked', html)  # confirm again
    assert count(Signature) == 0

    response = client.post(sign_url(world), data=sign_data(v2))
    assert response.status_code == 302
    assert db.session.scalar(select(Signature.charter_version_id)) == v2.id


def test_a_draft_version_id_is_refused(client, world, v1):
    draft = f.charter_version(world.site, 2, CharterStatus.DRAFT)
    db.session.commit()
    client.login(world.user("lead"))
    response = client.post(sign_url(world), data=sign_data(draft))
    assert response.status_code == 409
    assert "Read version 1 and sign again." in text_of(response)
    assert count(Signature) == 0


def test_signing_twice_is_refused_with_the_date(client, world, v1):
    client.login(world.user("lead"))
    assert client.post(sign_url(world), data=sign_data(v1)).status_code == 302
    signature = db.session.scalar(select(Signature))
    date = formatting.local_date(signature.signed_at, world.site)

    response = client.post(sign_url(world), data=sign_data(v1))
    assert response.status_code == 409
    assert f"Fenland Trust signed version 1 on {date}." in text_of(response)
    assert count(Signature) == 1

    response = client.get(sign_url(world))
    assert response.status_code == 200
    assert f"Fenland Trust signed version 1 on {date}." in text_of(response)
    assert 'name="signer_name"' not in response.get_data(as_text=True)
    assert f'href="/signatures/{signature.id}"' in response.get_data(as_text=True)


def test_no_open_version_is_explained(client, world):
    old = f.charter_version(world.site, 1, CharterStatus.SUPERSEDED)
    db.session.commit()
    client.login(world.user("lead"))
    response = client.get(sign_url(world))
    assert response.status_code == 200
    assert "has no version open for signature at the moment" in text_of(response)
    assert 'name="signer_name"' not in response.get_data(as_text=True)
    response = client.post(sign_url(world), data=sign_data(old))
    assert response.status_code == 409
    assert "has no version open for signature at the moment" in text_of(response)
    assert count(Signature) == 0


def test_reaffirming_page_is_titled_and_names_the_earlier_version(client, world, v1):
    first = f.signature(world.org, v1, world.user("lead"))
    v1.status = CharterStatus.SUPERSEDED
    db.session.flush()
    v2 = f.charter_version(world.site, 2, CharterStatus.OPEN)
    db.session.commit()
    client.login(world.user("lead"))
    response = client.get(sign_url(world))
    assert response.status_code == 200
    assert one_h1(response) == "Re-affirm the charter"
    date = formatting.local_date(first.signed_at, world.site)
    text = text_of(response)
    assert f"Fenland Trust signed version 1 on {date}." in text
    assert "Version 2 is now open for signature" in text
    response = client.post(sign_url(world), data=sign_data(v2))
    assert response.status_code == 302
    assert not queries.signing_status(world.org).needs_reaffirming


@pytest.mark.parametrize("role", ["editor", "other_lead", "other_editor", "coordinator",
                                  "other_coordinator", "admin"])
def test_only_the_lead_may_open_the_sign_page(client, world, v1, role):
    client.login(world.user(role))
    for response in (client.get(sign_url(world)), client.post(sign_url(world), data=sign_data(v1))):
        assert response.status_code == 403
        assert "Only a lead of Fenland Trust can sign the charter for it." in text_of(response)
    assert count(Signature) == 0


def test_the_public_is_sent_to_sign_in(client, world, v1):
    response = client.get(sign_url(world))
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert client.post(sign_url(world), data=sign_data(v1)).status_code == 302
    assert count(Signature) == 0


def test_unknown_organisation_is_404(client, world, v1):
    client.login(world.user("lead"))
    assert client.get("/organisations/no-such-org/sign").status_code == 404


@pytest.mark.parametrize(("status", "words"), [
    (OrganisationStatus.PENDING, "is waiting for a coordinator of Cambridge to approve it"),
    (OrganisationStatus.DECLINED, "was declined"),
    (OrganisationStatus.WITHDRAWN, "has withdrawn from the charter"),
])
def test_a_lead_of_an_organisation_that_is_not_active_gets_a_clear_403(
        client, world, v1, status, words):
    world.org.status = status
    db.session.commit()
    client.login(world.user("lead"))
    response = client.get(sign_url(world))
    assert response.status_code == 403
    assert words in text_of(response)
    assert client.post(sign_url(world), data=sign_data(v1)).status_code == 403
    assert count(Signature) == 0


def test_a_pending_organisation_is_not_found_by_outsiders(client, world, v1):
    world.org.status = OrganisationStatus.PENDING
    db.session.commit()
    client.login(world.user("other_lead"))
    assert client.get(sign_url(world)).status_code == 404


UNICODE_NAME = "Zuzana Dvořáková <script>alert('x')</script>"
UNICODE_TITLE = "Ředitelka & \"CEO\" 心理健康 😀"
AFRIKAANS_NAME = "Thandi van der Merwe-Nkosi"
AFRIKAANS_ROLE = "Ervaringsdeskundige ê ë <b>bold</b>"


def test_unicode_and_html_in_names_are_stored_as_typed_and_escaped_on_pages(client, world, v1):
    org = f.organisation(world.site, "Národní ústav <i>duševního</i> zdraví", slug="nudz")
    f.member(world.user("lead"), org, f.MemberRole.LEAD)
    db.session.commit()
    client.login(world.user("lead"))
    response = client.post(f"/organisations/{org.slug}/sign", data=sign_data(
        v1, signer_name=UNICODE_NAME, signer_job_title=UNICODE_TITLE,
        co_signatory_name=AFRIKAANS_NAME, co_signatory_role=AFRIKAANS_ROLE))
    assert response.status_code == 302, text_of(response)
    signature = db.session.scalar(select(Signature))
    assert signature.signer_name == UNICODE_NAME
    assert signature.signer_job_title == UNICODE_TITLE
    assert signature.authority_statement == (
        "I have the authority to sign on behalf of Národní ústav <i>duševního</i> zdraví")

    for url in (f"/signatures/{signature.id}", f"/verify/{signature.verification_code}"):
        page = client.get(url)
        html = page.get_data(as_text=True)
        assert "<script>alert('x')" not in html and "<b>bold</b>" not in html
        assert "<i>duševního</i>" not in html
        assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
        text = text_of(page)
        for typed in (UNICODE_NAME, UNICODE_TITLE, AFRIKAANS_NAME, AFRIKAANS_ROLE):
            assert typed in text, (url, typed)


def test_control_characters_in_names_are_refused(client, world, v1):
    client.login(world.user("lead"))
    response = client.post(sign_url(world), data=sign_data(v1, signer_name="Amara\x00Okafor"))
    assert response.status_code == 400
    assert "invisible control characters" in text_of(response)
    assert count(Signature) == 0


# --- the signature page -------------------------------------------------------------------

@pytest.mark.parametrize("role", ["public", "editor", "other_lead", "other_coordinator", "admin"])
def test_the_signature_page_is_public_record(client, world, v1, role):
    signature = f.signature(world.org, v1, world.user("lead"), signer_name="Amara Okafor")
    db.session.commit()
    if world.user(role):
        client.login(world.user(role))
    response = client.get(f"/signatures/{signature.id}")
    assert response.status_code == 200
    text = text_of(response)
    assert "Valid" in text and "Amara Okafor" in text and signature.verification_code in text
    assert "Fenland Trust signed version 1 of the Cambridge charter." in text
    assert ("Withdraw this signature" in text) == (role == "admin")


def test_a_withdrawn_signature_shows_when_and_why(client, world, v1):
    signature = f.signature(world.org, v1, world.user("lead"))
    withdraw(signature, world.user("coordinator"), "Left the partnership.\nSecond line.")
    response = client.get(f"/signatures/{signature.id}")
    text = text_of(response)
    date = formatting.local_date(signature.withdrawal.withdrawn_at, world.site)
    assert f"Withdrawn on {date}." in text
    assert "Left the partnership. Second line." in text
    assert "Withdraw this signature" not in text
    assert client.get("/signatures/999999").status_code == 404


def test_signature_and_verify_pages_run_a_fixed_number_of_queries(client, world, v1):
    def queries_for(url: str) -> int:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    signature = f.signature(world.org, v1, world.user("lead"))
    db.session.commit()
    small = (queries_for(f"/signatures/{signature.id}"),
             queries_for(f"/verify/{signature.verification_code}"))
    for _ in range(30):
        org = f.organisation(world.site)
        f.signature(org, v1, world.user("lead"))
    withdraw(signature, world.user("lead"))
    large = (queries_for(f"/signatures/{signature.id}"),
             queries_for(f"/verify/{signature.verification_code}"))
    assert small == large
    assert max(large) <= 2


# --- verification -------------------------------------------------------------------------

def test_the_verify_form_sends_a_typed_code_to_its_page(client, world, v1):
    f.signature(world.org, v1, world.user("lead"), verification_code="PRM-0K1Q-2XHD-M4TB")
    db.session.commit()
    response = client.get("/verify")
    assert response.status_code == 200 and one_h1(response) == "Verify a signature"
    assert 'for="code"' in response.get_data(as_text=True)
    response = client.get("/verify?code=prm+okiq+2xhd+m4tb")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/verify/PRM-0K1Q-2XHD-M4TB")

    response = client.get("/verify?code=")
    assert response.status_code == 400
    assert "Enter the verification code from the certificate." in text_of(response)
    response = client.get("/verify?code=%3Cb%3Enot+a+code%3C%2Fb%3E")
    assert response.status_code == 400
    assert "That is not a verification code." in text_of(response)
    assert "<b>not a code</b>" not in response.get_data(as_text=True)
    response = client.get("/verify?code=" + "x" * 5000)
    assert response.status_code == 400


def test_verify_shows_a_valid_signature(client, world, v1):
    signature = f.signature(world.org, v1, world.user("lead"), signer_name="Amara Okafor",
                            signer_job_title="Chief Executive")
    db.session.commit()
    response = client.get(f"/verify/{signature.verification_code.lower()}")
    assert response.status_code == 200
    assert one_h1(response) == "Valid signature"
    text = text_of(response)
    date = formatting.local_date(signature.signed_at, world.site)
    assert (f"Fenland Trust signed version 1 of the Cambridge charter on {date}, and the signature "
            "has not been withdrawn.") in text
    assert "Amara Okafor, Chief Executive" in text and "Cambridge" in text


def test_verify_shows_a_withdrawn_signature_with_when_and_why(client, world, v1):
    signature = f.signature(world.org, v1, world.user("lead"))
    withdraw(signature, world.user("lead"), "We merged with another trust.")
    response = client.get(f"/verify/{signature.verification_code}")
    assert response.status_code == 200
    assert one_h1(response) == "Withdrawn signature"
    text = text_of(response)
    date = formatting.local_date(signature.withdrawal.withdrawn_at, world.site)
    assert f"the signature was withdrawn on {date}" in text
    assert "We merged with another trust." in text


@pytest.mark.parametrize("junk", [
    "PRM-0000-0000-0000", "not-a-code", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "x" * 3000,
    "%00%00", "%E4%B8%AD%E6%96%87", "%F0%9F%98%80", "PRM-%27%3B%20DROP%20TABLE", "%FF%FE",
])
def test_unknown_and_junk_codes_get_a_friendly_404(client, world, v1, junk):
    f.signature(world.org, v1, world.user("lead"), verification_code="PRM-1111-1111-1111")
    db.session.commit()
    response = client.get(f"/verify/{junk}")
    assert response.status_code == 404
    assert one_h1(response) == "Unknown verification code"
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert "Check the code on the certificate" in text_of(response)


# --- withdrawal ---------------------------------------------------------------------------

@pytest.fixture
def signature(world, v1):
    signature = f.signature(world.org, v1, world.user("lead"))
    db.session.commit()
    return signature


@pytest.mark.parametrize("role", ["lead", "coordinator", "admin"])
def test_withdrawing_through_the_page(client, world, signature, role):
    client.login(world.user(role))
    response = client.get(f"/signatures/{signature.id}/withdraw")
    assert response.status_code == 200
    assert one_h1(response) == "Withdraw the signature of Fenland Trust"
    assert "leaves the list of signatories" in text_of(response)
    response = client.post(f"/signatures/{signature.id}/withdraw",
                           data={"reason": "Our board voted to leave."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/signatures/{signature.id}")
    withdrawal = db.session.scalar(select(SignatureWithdrawal))
    assert withdrawal.reason == "Our board voted to leave."
    assert withdrawal.withdrawn_by_id == world.user(role).id
    assert db.session.get(Organisation, world.org.id).status == OrganisationStatus.WITHDRAWN
    assert world.org not in db.session.scalars(queries.signatories_query()).all()
    page = client.get(response.headers["Location"])
    assert "has been withdrawn" in text_of(page) and "Our board voted to leave." in text_of(page)


def test_a_reason_is_required_and_kept_when_too_long(client, world, signature):
    client.login(world.user("lead"))
    url = f"/signatures/{signature.id}/withdraw"
    response = client.post(url, data={"reason": "   "})
    assert response.status_code == 400
    assert "Enter the reason for withdrawing." in text_of(response)
    long_reason = "Důvod 理由 <b>why</b> " * 150
    response = client.post(url, data={"reason": long_reason})
    assert response.status_code == 400
    assert "Use 2000 characters or fewer." in text_of(response)
    html = response.get_data(as_text=True)
    assert "Důvod 理由 &lt;b&gt;why&lt;/b&gt;" in html and "<b>why</b>" not in html
    assert count(SignatureWithdrawal) == 0


def test_withdrawing_twice_is_refused_and_changes_nothing(client, world, signature):
    withdraw(signature, world.user("lead"), "First.")
    client.login(world.user("coordinator"))
    url = f"/signatures/{signature.id}/withdraw"
    response = client.get(url)
    assert response.status_code == 200
    assert "already been withdrawn" in text_of(response)
    assert 'name="reason"' not in response.get_data(as_text=True)
    response = client.post(url, data={"reason": "Second."})
    assert response.status_code == 409
    assert "This signature was already withdrawn on" in text_of(response)
    assert db.session.scalars(select(SignatureWithdrawal.reason)).all() == ["First."]


@pytest.mark.parametrize("role", ["editor", "other_lead", "other_editor", "other_coordinator"])
def test_others_may_not_withdraw(client, world, signature, role):
    client.login(world.user(role))
    url = f"/signatures/{signature.id}/withdraw"
    response = client.get(url)
    assert response.status_code == 403
    assert "Only a lead of Fenland Trust or a coordinator of its site" in text_of(response)
    assert client.post(url, data={"reason": "No."}).status_code == 403
    assert count(SignatureWithdrawal) == 0


def test_the_public_is_sent_to_sign_in_to_withdraw(client, world, signature):
    response = client.get(f"/signatures/{signature.id}/withdraw")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    assert client.post(f"/signatures/{signature.id}/withdraw",
                       data={"reason": "No."}).status_code == 302
    assert count(SignatureWithdrawal) == 0


def test_withdrawing_an_unknown_signature_is_404(client, world):
    client.login(world.user("admin"))
    assert client.get("/signatures/424242/withdraw").status_code == 404
