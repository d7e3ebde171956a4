"""Change domains and the indicator catalogue in a real browser: an admin adds a domain
and an indicator and retires the domain; a visitor reads /domains, /domains/<slug> and
/indicators. axe-core on each page, and nothing wider than a 320px screen."""

from __future__ import annotations

from charter.models import CommitmentStatus, Completion, MemberRole, Partnership, PartnershipStatus, Sector
from charter.models.base import utcnow
from tests import factories as f
from tests.browser.conftest import assert_accessible, sign_in


def _data(committed):
    cambridge = f.site("cambridge", name="Cambridge")
    brisbane = f.site("brisbane", name="Brisbane", country="Australia", timezone="Australia/Brisbane")
    admin = f.user("admin@example.org", full_name="Alex Admin", is_admin=True)
    trust = f.organisation(cambridge, "Fenland Trust", slug="fenland-trust")
    mind = f.organisation(cambridge, "Mind in the Fens", slug="mind-in-the-fens",
                          sector=Sector.THIRD_SECTOR)
    metro = f.organisation(brisbane, "Metro North", slug="metro-north")
    f.member(f.user("lead@example.org"), trust, MemberRole.LEAD)
    lrp = f.domain("Least restrictive practice", slug="least-restrictive-practice", position=1,
                   summary="From physical intervention to all coercive and restrictive practice",
                   description="Reduce **every** form of coercion, not only restraint.",
                   source_note="PROMISE change agenda, first shift.")
    f.domain("Prevention and early detection", slug="prevention-early-detection", position=2,
             summary="From incidents to antecedents")
    joint = f.commitment(trust, lrp, title="Halve prone restraint by 2027",
                         status=CommitmentStatus.PUBLISHED, published_at=utcnow(),
                         completion=Completion.SUBSTANTIAL)
    joint.partnerships.append(Partnership(organisation=mind, status=PartnershipStatus.ACCEPTED))
    f.commitment(metro, lrp, title="Safewards on every ward", status=CommitmentStatus.PUBLISHED,
                 published_at=utcnow())
    f.commitment(trust, lrp, title="Private draft", status=CommitmentStatus.DRAFT)
    committed()
    return admin


def _fits_small_screens(page, label: str) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{label} is {width}px wide at a 320px screen"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_admin_adds_a_domain_and_an_indicator_then_retires_the_domain(page, committed):
    _data(committed)
    sign_in(page, "admin@example.org", f.PASSWORD)

    page.goto("/admin/domains")
    assert page.locator("h1").inner_text() == "Manage change domains"
    assert_accessible(page, "manage change domains")
    page.get_by_role("link", name="Add a change domain").click()
    assert page.locator("h1").inner_text() == "Add a change domain"
    assert page.get_by_label("Position in the list").input_value() == "3"
    assert_accessible(page, "new domain form")

    # A bad submit keeps what was typed and announces the problem.
    page.get_by_label("Summary").fill("Calm, safe and therapeutic places of care")
    page.get_by_role("button", name="Add the change domain").click()
    assert "Enter the name of the change domain." in page.locator("#error-summary").inner_text()
    assert page.get_by_label("Summary").input_value() == "Calm, safe and therapeutic places of care"
    assert_accessible(page, "new domain form with errors")

    page.get_by_label("Name", exact=True).fill("Healing environments")
    page.get_by_label("Description").fill("Design places of care that are *calm* and dignified.")
    page.get_by_label("Source note").fill("PROMISE programme: environments that prevent distress.")
    page.get_by_role("button", name="Add the change domain").click()
    assert page.locator("h1").inner_text() == "Manage change domains"
    assert "Its public page is /domains/healing-environments" in page.locator(".flash-messages").inner_text()
    row = page.locator("tr", has_text="Healing environments")
    assert "Active" in row.inner_text()

    page.goto("/admin/indicators")
    assert_accessible(page, "manage the catalogue")
    page.get_by_role("link", name="Add an indicator").click()
    assert_accessible(page, "new indicator form")
    page.get_by_label("Name", exact=True).fill("Restrictive interventions per 1,000 occupied bed days")
    page.get_by_label("Definition").fill("All restrictive interventions per 1,000 occupied bed days.")
    page.get_by_label("Unit").fill("per 1,000 occupied bed days")
    page.get_by_label("Which direction is better").select_option("lower")
    page.get_by_label("Reference").fill("NHS Mental Health Services Data Set, measure MHS96")
    page.get_by_role("button", name="Add the indicator").click()
    assert "is added to the catalogue" in page.locator(".flash-messages").inner_text()
    assert_accessible(page, "catalogue with the new indicator")

    page.goto("/admin/domains")
    page.get_by_role("button", name="Retire Healing environments").click()
    assert "“Healing environments” is retired" in page.locator(".flash-messages").inner_text()
    assert "Retired" in page.locator("tr", has_text="Healing environments").inner_text()
    assert_accessible(page, "manage change domains after retiring")
    _fits_small_screens(page, "manage change domains")

    # A domain in use offers no delete button, only editing and retiring.
    in_use = page.locator("tr", has_text="Least restrictive practice").inner_text()
    assert "In use: cannot be deleted" in in_use
    page.get_by_role("link", name="Edit Least restrictive practice").click()
    assert_accessible(page, "edit domain form")
    assert page.get_by_label("Name", exact=True).input_value() == "Least restrictive practice"


def test_a_visitor_reads_the_domains_and_the_catalogue(page, committed):
    _data(committed)
    from charter.catalogue.indicators import seed_catalogue

    seed_catalogue()
    committed()

    page.goto("/domains")
    assert page.locator("h1").inner_text() == "Change domains"
    text = page.locator("main").inner_text()
    assert "Least restrictive practice" in text and "2 published commitments" in text
    assert "Manage change domains" not in text
    assert_accessible(page, "domains")
    _fits_small_screens(page, "domains")

    page.get_by_role("link", name="Least restrictive practice").click()
    assert page.locator("h1").inner_text() == "Least restrictive practice"
    text = page.locator("main").inner_text()
    assert "Halve prone restraint by 2027" in text and "Safewards on every ward" in text
    assert "Joint commitment with Mind in the Fens (Third sector)" in text
    assert "Private draft" not in text
    assert_accessible(page, "one domain")
    _fits_small_screens(page, "one domain")

    page.get_by_label("Site").select_option("brisbane")
    page.get_by_role("button", name="Show").click()
    text = page.locator("main").inner_text()
    assert "Safewards on every ward" in text and "Halve prone restraint" not in text
    assert_accessible(page, "one domain filtered by site")

    page.goto("/indicators")
    assert page.locator("h1").inner_text() == "Indicator catalogue"
    assert "measure MHS96" in page.locator("main").inner_text()
    assert_accessible(page, "indicator catalogue")
    _fits_small_screens(page, "indicator catalogue")
