"""Members in a real browser: a lead invites an editor, who opens the emailed link signed
out, creates an account and lands signed in as a member; axe-core on each page."""

from __future__ import annotations

import re

from sqlalchemy import select

from charter.extensions import db
from charter.models import MemberRole, OutboxMessage
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


def _lead_and_organisation(committed):
    site = f.site("cambridge", name="Cambridge")
    org = f.organisation(site, "Fenland Trust", slug="fenland-trust")
    lead = f.user("lead@example.org", full_name="Amara Okafor", job_title="Chief nurse")
    f.member(lead, org, MemberRole.LEAD)
    editor = f.user("editor@example.org", full_name="Jiří Novák 🌿", job_title="Ward manager")
    f.member(editor, org, MemberRole.EDITOR)
    committed()
    return org


def _invitation_path() -> str:
    db.session.expire_all()
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "member_invite").order_by(OutboxMessage.id.desc())
    )
    assert message is not None, "no invitation in the outbox"
    match = re.search(r"http://localhost(/invitations/\S+)", message.body_text)
    assert match, message.body_text
    return match.group(1)


def test_a_lead_invites_an_editor_who_joins_with_a_new_account(page, committed):
    _lead_and_organisation(committed)
    sign_in(page, "lead@example.org", f.PASSWORD)
    page.goto("/organisations/fenland-trust/members")
    assert page.locator("h1").inner_text() == "Members of Fenland Trust"
    assert "Jiří Novák 🌿" in page.locator("#members").inner_text()
    assert_accessible(page, "members page (lead)")

    # A mistyped address comes back with the message beside the field, accessibly.
    page.get_by_label("Email address").fill("thandiwe at example")
    page.get_by_role("button", name="Send the invitation").click()
    assert "Enter an email address in the form name@example.org." in page.locator(
        "#error-summary").inner_text()
    assert page.get_by_label("Email address").input_value() == "thandiwe at example"
    assert_accessible(page, "members page with errors")

    page.get_by_label("Email address").fill("thandiwe@example.org")
    page.get_by_label("Editor", exact=True).check()
    page.get_by_label("Message (optional)").fill("Welkom! Looking forward to working together.")
    page.get_by_role("button", name="Send the invitation").click()
    assert "An invitation has been sent to thandiwe@example.org." in page.locator("main").inner_text()
    assert "thandiwe@example.org" in page.locator("#invitations").inner_text()
    assert_accessible(page, "members page with a pending invitation")

    path = _invitation_path()
    page.get_by_role("button", name="Sign out").click()
    assert "You are signed out." in page.locator("main").inner_text()

    page.goto(path)
    assert page.locator("h1").inner_text() == "Join Fenland Trust"
    assert page.locator("#invited-email").inner_text() == "thandiwe@example.org"
    assert page.locator("#invited-role").inner_text() == "Editor"
    assert "Welkom!" in page.locator("#invitation-message").inner_text()
    assert_accessible(page, "acceptance page")

    # Passwords that do not match are refused; the typed name is kept.
    page.get_by_label("Full name").fill("Thandiwe van der Merwe")
    page.get_by_label("Job title").fill("Verpleegkundige")
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat the password").fill("something else entirely")
    page.get_by_role("button", name="Create the account and join").click()
    assert "The two passwords do not match." in page.locator("#error-summary").inner_text()
    assert page.get_by_label("Full name").input_value() == "Thandiwe van der Merwe"
    assert_accessible(page, "acceptance page with errors")

    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat the password").fill("a long enough password")
    page.get_by_role("button", name="Create the account and join").click()
    assert page.url.endswith("/organisations/fenland-trust/members")
    main = page.locator("main").inner_text()
    assert "Your account is ready and you are now editor of Fenland Trust." in main
    assert "Thandiwe van der Merwe (you)" in page.locator("#members").inner_text()
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert_accessible(page, "members page (new editor)")

    # The link is spent.
    response = page.goto(path)
    assert response.status == 410
    assert "already been used" in page.locator("main").inner_text()
    assert_accessible(page, "used invitation")

    page.goto("/dashboard")
    assert "Signed in as Thandiwe van der Merwe" in page.locator("main").inner_text()


def test_members_page_fits_a_small_screen(page, committed):
    _lead_and_organisation(committed)
    sign_in(page, "lead@example.org", f.PASSWORD)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/organisations/fenland-trust/members")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the members page scrolls sideways by {overflow}px at 320px"
