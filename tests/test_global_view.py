"""PROMISE Global (/global) and its PDF (/global.pdf): the sites side by side, each figure
against counts computed here from the records, the strongest site per change domain and
its examples, indicators compared only with themselves, nothing private, fixed queries."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from charter.dashboards import metrics
from charter.extensions import db
from charter.formatting import display_date
from charter.models import CharterStatus, Completion, Organisation, OrganisationStatus
from tests import factories as f
from tests.support import DOCUMENT_CACHE_QUERIES, text_of
from tests.test_dashboard_public_site import (
    LABEL_A,
    LABEL_B,
    SECRETS,
    _queries,
    build_scenario,
    compliance_by_status_module,
    current_signatories,
    grow,
    pdf_text,
    public_commitments,
    squashed,
)


def _site(view, slug):
    return next(s for s in view["sites"] if s["slug"] == slug)


def test_sites_side_by_side_equal_counts_from_the_records(world):
    build_scenario(world)
    view = metrics.global_view()
    assert [s["name"] for s in view["sites"]] == ["Brisbane", "Cambridge"]
    for site in (world.site, world.other_site):
        got = _site(view, site.slug)
        signatories = current_signatories(site)
        tiers = Counter(o.tier.value for o in signatories)
        assert (got["signatories"], got["supporters"]) == (tiers["signatory"], tiers["supporter"])
        commitments = public_commitments(site)
        assert got["commitments"] == len(commitments)
        assert got["completed"] == sum(c.completion == Completion.COMPLETED for c in commitments)
        by_domain = Counter(c.domain_id for c in commitments)
        assert got["by_domain"] == {d["id"]: by_domain.get(d["id"], 0) for d in view["domains"]}
        expected = compliance_by_status_module(site)
        assert [(c["name"], (c["owed"], c["published"], c["on_time"])) for c in got["cycles"]] == \
            list(expected.items())
    cam, bri = _site(view, "cambridge"), _site(view, "brisbane")
    assert (cam["signatories"], cam["supporters"], cam["commitments"], cam["completed"]) == (4, 1, 7, 3)
    assert (bri["signatories"], bri["supporters"], bri["commitments"], bri["completed"]) == (2, 1, 3, 2)
    assert cam["completed_percent"] == 43 and bri["completed_percent"] == 67
    # Latest past cycle, and the mean of the last four (here: two) cycles' rates.
    assert cam["latest_cycle"]["name"] == "Summer 2025"
    assert (cam["latest_cycle"]["on_time_percent"], cam["latest_cycle"]["published_percent"]) == (40, 40)
    # (25 + 40) / 2 and (50 + 40) / 2; Brisbane (33 + 33) / 2 and (67 + 33) / 2.
    assert (cam["average_on_time_percent"], cam["average_published_percent"]) == (33, 45)
    assert (bri["average_on_time_percent"], bri["average_published_percent"]) == (33, 50)


def test_strongest_site_per_domain_and_its_examples(world):
    s = build_scenario(world)
    view = metrics.global_view()
    rows = {r["slug"]: r for r in view["strength"]}
    assert list(rows) == ["least-restrictive", "integrated-pathways", "retired-history"]

    # Coverage computed from the records: active organisations with a public commitment in
    # the domain, over the site's active organisations.
    for row in view["strength"]:
        for cell in row["cells"]:
            site_id = cell["site_id"]
            active = list(db.session.scalars(select(Organisation).where(
                Organisation.site_id == site_id, Organisation.status == OrganisationStatus.ACTIVE)))
            site = world.site if site_id == world.site.id else world.other_site
            in_domain = [c for c in public_commitments(site) if c.domain_id == row["id"]]
            holders = {c.organisation_id for c in in_domain
                       if c.organisation.status == OrganisationStatus.ACTIVE}
            assert cell["active"] == len(active)
            assert cell["organisations"] == len(holders)
            assert cell["commitments"] == len(in_domain)
            assert cell["completed"] == sum(c.completion == Completion.COMPLETED for c in in_domain)

    d1, d2, d4 = rows["least-restrictive"], rows["integrated-pathways"], rows["retired-history"]
    # Least restrictive practice: Brisbane 2 of 3 organisations (67%), Cambridge 2 of 6.
    assert d1["strongest_site"] == "Brisbane"
    assert sorted(c["title"] for c in d1["examples"]) == ["Peer workers in crisis teams",
                                                          "Safewards on every ward"]
    assert {c["organisation"] for c in d1["examples"]} == {"Brisbane North Health", "Brisbane Peer Network"}
    # Integrated pathways: a tie on coverage (2 of 6, 1 of 3) goes to the larger share completed.
    cam_cell = next(c for c in d2["cells"] if c["site_slug"] == "cambridge")
    bri_cell = next(c for c in d2["cells"] if c["site_slug"] == "brisbane")
    assert cam_cell["coverage_percent"] == bri_cell["coverage_percent"] == 33
    assert (cam_cell["completed_percent"], bri_cell["completed_percent"]) == (50, 0)
    assert d2["strongest_site"] == "Cambridge" and cam_cell["strongest"] and not bri_cell["strongest"]
    # Published before retired, furthest along first; the draft never.
    assert [c["title"] for c in d2["examples"]] == ["Crisis line in every practice", "Joint discharge"]
    assert d4["strongest_site"] == "Cambridge"
    assert s.domains["d4"].is_active is False

    # Where each site could learn: Cambridge from Brisbane in least restrictive practice.
    cam = _site(view, "cambridge")
    assert cam["strongest_in"] == ["Integrated pathways", "Retired with history"]
    assert [(g["domain"], g["site"], g["theirs"], g["ours"]) for g in cam["learn_from"]] == [
        ("Least restrictive practice", "Brisbane", 67, 33)]
    bri = _site(view, "brisbane")
    assert bri["strongest_in"] == ["Least restrictive practice"]
    assert [(g["domain"], g["site"]) for g in bri["learn_from"]] == [("Retired with history", "Cambridge")]


def test_examples_are_at_most_three_per_domain(world):
    d = f.domain("Accepting communities", slug="accepting")
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    for i in range(5):
        f.commitment(world.org, d, title=f"Promise {i}", status=metrics.CommitmentStatus.PUBLISHED,
                     completion=Completion.COMPLETED if i == 3 else Completion.LIMITED)
    db.session.commit()
    row = metrics.global_view()["strength"][0]
    assert row["strongest_site"] == "Cambridge"
    assert len(row["examples"]) == 3 and row["examples"][0]["title"] == "Promise 3"


def test_catalogue_indicators_compared_in_the_same_quarter_or_labelled(world):
    build_scenario(world)
    view = metrics.global_view()
    indicators = {i["name"]: i for i in view["indicators"]}
    assert set(indicators) == {"Restrictive interventions per 1,000 OBD", "Staff trained in de-escalation"}
    rate = indicators["Restrictive interventions per 1,000 OBD"]
    # Both sites have both quarters: the later one, for both.
    assert rate["same_period"] and rate["period"] == LABEL_B
    assert [(v["site"], v["value"], v["organisations"], v["quarter_label"]) for v in rate["values"]] == [
        ("Brisbane", metrics.rounded(4), 2, LABEL_B),   # mean(5, 3)
        ("Cambridge", metrics.rounded(8), 2, LABEL_B),  # mean(9, 7)
    ]
    assert rate["unit"] == "per 1,000 OBD"
    # Staff trained: Brisbane only in the first quarter, Cambridge only in the second — each its
    # own latest, labelled.
    trained = indicators["Staff trained in de-escalation"]
    assert not trained["same_period"] and trained["period"] is None
    assert [(v["site"], v["value"], v["quarter_label"]) for v in trained["values"]] == [
        ("Brisbane", metrics.rounded(70), LABEL_A), ("Cambridge", metrics.rounded(55), LABEL_B)]


def test_global_page_shows_the_figures_and_nothing_private(client, world):
    build_scenario(world)
    response = client.get("/global")
    assert response.status_code == 200
    html, page = response.get_data(as_text=True), text_of(response)
    for secret in SECRETS:
        assert secret not in html, secret
    assert html.count("<h1") == 1
    assert "Brisbane 2 1 3 2 (67%)" in page
    assert "Cambridge 4 1 7 3 (43%)" in page
    assert "Summer 2025: 40% by the due date, 40% at all" in page
    assert "33% by the due date, 45% at all" in page
    assert f"All values for {LABEL_B}." in page
    assert "have no quarter in common" in page
    assert "the strongest site is the one where the largest share of organisations" in page
    assert "Strongest: 67% of organisations; 100% completed" in page
    assert ("Cambridge Strongest in: Integrated pathways, Retired with history. Could learn from: "
            "Brisbane in Least restrictive practice (67% against 33%).") in page
    assert 'href="/commitments/' in html and 'href="/sites/brisbane"' in html
    assert "Peer support &lt;script&gt;alert(1)&lt;/script&gt;" in html  # an example, escaped
    assert "<script>alert(1)</script>" not in html
    assert 'href="/global.pdf"' in html


def test_global_view_with_no_sites_or_no_data(client, world):
    page = text_of(client.get("/global"))
    assert "No organisation has published a commitment yet." in page
    assert "No site has a reporting cycle whose due date has passed yet." in page
    assert "No organisation reports a catalogue indicator on a public commitment yet." in page
    assert "There are no change domains yet." in page


@pytest.mark.pdf
def test_global_view_with_no_sites_at_all(client):
    response = client.get("/global")
    assert response.status_code == 200
    assert "There are no PROMISE sites yet." in text_of(response)
    pdf = client.get("/global.pdf")
    assert pdf.status_code == 200
    assert "TherearenoPROMISEsitesyet." in squashed(pdf_text(pdf.data))


@pytest.mark.pdf
def test_global_pdf_carries_the_site_names_and_key_figures(client, world):
    build_scenario(world)
    response = client.get("/global.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "inline" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = pdf_text(response.data)
    flat = squashed(text)
    assert "Brisbane" in text and "Cambridge" in text
    assert "PROMISEGlobal:thesitescompared" in flat
    assert "Generatedon" + squashed(display_date(datetime.now(UTC).date())) in flat
    assert "Cambridge4173(43%)" in flat and "Brisbane2132(67%)" in flat
    assert "Summer2025:40%bytheduedate,40%atall" in flat
    assert "Allvaluesfor" + squashed(LABEL_B) + "." in flat
    assert "Strongest:67%oforganisations;100%completed" in flat
    assert "Strongestin:Integratedpathways,Retiredwithhistory.Couldlearnfrom:Brisbane" in flat
    for secret in SECRETS:
        assert secret not in text, secret
    # The page and the PDF embed the very same charts.
    page = client.get("/global").get_data(as_text=True)
    assert metrics.global_view()["charts"]["compliance"]["url"] in page  # the PDF inlines the same SVG


# --- query counts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/global", "/global.pdf"])
def test_global_view_runs_a_fixed_number_of_queries(client, world, url):
    s = build_scenario(world)
    third_site = f.site("prague", name="Prague", country="Czechia", timezone="Europe/Prague")
    f.charter_version(third_site, 1, CharterStatus.OPEN)
    args = lambda site, cycles: (  # noqa: E731
        [s.domains["d1"], s.domains["d2"]], s.indicators["rate"], cycles,
        f.charter_version(site, 9, CharterStatus.SUPERSEDED), world.user("lead"))
    grow(world.site, 2, *args(world.site, [s.cycles["cam_a"]]))
    small = _queries(client, url)
    grow(world.other_site, 25, *args(world.other_site, [s.cycles["bri_a"], s.cycles["bri_b"]]))
    prague_cycle = f.cycle(third_site, "2025 Q1", period_start=date(2025, 1, 1),
                           period_end=date(2025, 3, 31), due_date=date(2025, 4, 30))
    grow(third_site, 25, *args(third_site, [prague_cycle]))
    large = _queries(client, url)
    assert small == large, f"{url} ran {small} queries with little data, {large} with more"
    # The PDF's fingerprint also reads each site's time zone (its "today").
    # The PDF: its kept copy, and when the rollups were refreshed (part of its fingerprint).
    assert large <= 10 + (DOCUMENT_CACHE_QUERIES + 2 if url.endswith(".pdf") else 0)
