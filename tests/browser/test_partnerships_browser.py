"""Partnerships in a real browser: a Cambridge lead invites an organisation of another site
(Brisbane) to a commitment, that organisation's lead accepts from its partnerships page, and
the joint commitment shows on both profiles and on the public list; axe-core on each page,
and nothing wider than a 320px screen."""

from __future__ import annotations

from charter.models import CommitmentStatus, MemberRole, Sector
from charter.models.base import utcnow
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


def _data(committed):
    cambridge = f.site("cambridge", name="Cambridge")
    brisbane = f.site("brisbane", name="Brisbane", country="Australia",
                      timezone="Australia/Brisbane")
    trust = f.organisation(cambridge, "Fenland Trust", slug="fenland-trust")
    lead = f.user("lead@example.org", full_name="Amara Okafor", job_title="Chief nurse")
    f.member(lead, trust, MemberRole.LEAD)
    network = f.organisation(brisbane, "Brisbane Lived Experience Network", slug="blen",
                             sector=Sector.LIVED_EXPERIENCE)
    partner_lead = f.user("thandiwe@example.org", full_name="Thandiwe van der Merwe")
    f.member(partner_lead, network, MemberRole.LEAD)
    f.organisation(cambridge, "Mind in the Fens", slug="mind-in-the-fens",
                   sector=Sector.THIRD_SECTOR)
    domain = f.domain("Co-production and lived experience", slug="co-production")
    commitment = f.commitment(trust, domain, title="Co-produced debriefs after every restraint",
                              status=CommitmentStatus.PUBLISHED, published_at=utcnow(),
                              description="We will hold a **debrief** with the patient.")
    committed()
    return commitment.id


def _fits_small_screens(page, label: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "() => [...document.querySelectorAll('main *')]"
        ".filter(e => e.getBoundingClientRect().right > 321 && !e.closest('.table-responsive'))"
        ".slice(0, 5).map(e => e.tagName + ' ' + (e.innerText || '').slice(0, 40))"
    ) if width > 320 else []
    assert width <= 320, f"{label} is {width}px wide at a 320px screen: {wide}"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_lead_invites_another_sites_organisation_which_accepts(page, committed):
    commitment_id = _data(committed)
    sign_in(page, "lead@example.org", f.PASSWORD)

    page.goto(f"/commitments/{commitment_id}")
    assert "No partner organisation has joined this commitment yet." in page.locator(
        "#partners").inner_text()
    page.get_by_role("link", name="Manage partners").click()
    assert page.locator("h1").inner_text() == (
        "Partners of “Co-produced debriefs after every restraint”")
    assert_accessible(page, "partners page")
    _fits_small_screens(page, "partners page")

    # Nothing chosen: the message is beside the field and in the summary; the note is kept.
    page.get_by_label("Their role (optional)").fill("Leads the debrief design 🌏")
    page.get_by_role("button", name="Send the invitation").click()
    assert "Choose the organisation to invite." in page.locator("#error-summary").inner_text()
    assert page.get_by_label("Their role (optional)").input_value() == "Leads the debrief design 🌏"
    assert_accessible(page, "partners page with errors")

    # The search narrows the list, without JavaScript.
    page.get_by_label("Search by name").fill("lived experience")
    page.get_by_role("button", name="Search").click()
    options = page.get_by_label("Organisation to invite", exact=True).locator("option").all_inner_texts()
    assert options == ["Choose an organisation",
                       "Brisbane Lived Experience Network (Lived-experience group, Brisbane)"]
    assert_accessible(page, "partners page, searched")
    page.get_by_label("Organisation to invite", exact=True).select_option(
        label="Brisbane Lived Experience Network (Lived-experience group, Brisbane)")
    page.get_by_label("Their role (optional)").fill("Leads the debrief design 🌏")
    page.get_by_role("button", name="Send the invitation").click()
    assert "Brisbane Lived Experience Network is invited." in page.locator("main").inner_text()
    row = page.locator("#partnerships").inner_text()
    assert "Brisbane Lived Experience Network" in row and "Invited" in row
    assert_accessible(page, "partners page with an invitation")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "thandiwe@example.org", f.PASSWORD)
    page.goto("/organisations/blen/partnerships")
    assert page.locator("h1").inner_text() == "Partnerships of Brisbane Lived Experience Network"
    waiting = page.locator("#invitations-waiting").inner_text()
    assert "Co-produced debriefs after every restraint" in waiting
    assert "Leads the debrief design 🌏" in waiting
    assert_accessible(page, "partnerships page with an invitation")
    _fits_small_screens(page, "partnerships page")
    page.get_by_role("button", name="Accept the invitation to Co-produced debriefs").click()
    assert "is now a partner in “Co-produced debriefs after every restraint”" in page.locator(
        "main").inner_text()
    assert "Co-produced debriefs" in page.locator("#joint-commitments").inner_text()
    assert_accessible(page, "partnerships page after accepting")

    # Both profiles show the joint commitment.
    page.goto("/organisations/blen")
    assert "Joint commitment led by Fenland Trust" in page.locator("#commitments ~ section").first \
        .inner_text()
    assert_accessible(page, "partner's profile")
    page.goto("/organisations/fenland-trust")
    assert "Joint commitment with Brisbane Lived Experience Network" in page.locator(
        "main").inner_text()

    # The commitment page names the partner, its sector and site.
    page.goto(f"/commitments/{commitment_id}")
    assert ("Brisbane Lived Experience Network · Lived-experience group · Brisbane"
            in page.locator("#accepted-partners").inner_text())
    assert_accessible(page, "commitment page with a partner")

    # And anyone finds it on the public list, filtered by the sectors it brings together.
    page.get_by_role("button", name="Sign out").click()
    page.goto("/partnerships")
    assert page.locator("#joint-summary").inner_text() == (
        "1 joint commitment across 2 sectors.")
    assert "Co-produced debriefs after every restraint" in page.locator(
        "#joint-commitments").inner_text()
    assert_accessible(page, "joint commitments")
    _fits_small_screens(page, "joint commitments")
    page.get_by_label("Statutory").check()
    page.get_by_label("Lived-experience group").check()
    page.get_by_label("Site involved").select_option(label="Brisbane")
    page.get_by_role("button", name="Show").click()
    assert page.locator("#joint-summary").inner_text() == (
        "1 joint commitment across 2 sectors involving Brisbane.")
    assert page.get_by_label("Lived-experience group").is_checked()
    assert_accessible(page, "joint commitments, filtered")
    page.get_by_label("Third sector").check()
    page.get_by_role("button", name="Show").click()
    assert "No joint commitment matches these filters." in page.locator("main").inner_text()
