"""The coordinator dashboard and its lists through the test client: every number on the page
links to a list with exactly that many rows, bad filters answer 400 with a message, and each
page runs the same number of queries with small and large data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from charter import audit
from charter.extensions import db
from charter.models import CommitmentStatus, OrganisationStatus, Sector
from tests import factories as f
from tests.support import count_queries, text_of
from tests.test_dashboard_coordinator_data import add_bulk, build

DASHBOARD = "/manage/sites/cambridge/dashboard"
ORGS = f"{DASHBOARD}/organisations"
COMMITMENTS = f"{DASHBOARD}/commitments"
NUMBER_LINK = re.compile(
    r'<a href="(/manage/sites/cambridge/dashboard/(organisations|commitments)[^"]*)">(\d+)<span')


@pytest.fixture
def varied(world):
    return build(world)


def _rows(html: str, kind: str) -> list[str]:
    attribute = "data-org" if kind == "organisations" else "data-commitment"
    table = re.search(rf'<table class="table" id="{kind}">(.*?)</table>', html, re.S)
    return re.findall(rf'<tr {attribute}="([^"]+)"', table.group(1)) if table else []


def test_every_number_links_to_a_list_with_that_many_rows(client, varied):
    client.login(varied.world.user("coordinator"))
    html = client.get(DASHBOARD).get_data(as_text=True)
    links = NUMBER_LINK.findall(html)
    assert len(links) > 60  # pipeline, statuses, coverage, gaps, completion, RAG, pairs, joint
    checked = set()
    for href, kind, number in links:
        href = unescape(href)
        if href in checked:
            continue
        checked.add(href)
        response = client.get(href)
        assert response.status_code == 200, href
        page = response.get_data(as_text=True)
        assert len(_rows(page, kind)) == int(number), href
        total = re.search(r'id="result-count">(\d+)', page)
        assert total and int(total.group(1)) == int(number), href
    kinds = {kind for _h, kind, _n in links}
    assert kinds == {"organisations", "commitments"}


def test_dashboard_shows_each_section(client, varied):
    client.login(varied.world.user("coordinator"))
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    page = text_of(response)
    for heading in ("Pipeline", "Reporting this cycle", "Coverage of change domains",
                    "Completion and RAG by change domain", "Partnerships across sectors",
                    "Recent activity"):
        assert heading in page
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    # Gaps say "none", not blank.
    coverage = re.search(r'id="coverage-table">(.*?)</table>', html, re.S).group(1)
    row = re.search(r'<tr data-org="late-joiners">(.*?)</tr>', coverage, re.S).group(1)
    assert row.count("<em>none</em>") == 3
    # The chart is an image with a text alternative, with its numbers in a table.
    assert 'src="/charts/' in html and 'id="completion-table"' in html
    assert "Current cycle" in page
    # Drafts are never counted or named.
    assert "Fenland draft, private" not in page


def test_overdue_first_in_the_list(client, varied):
    # An organisation that signed long ago owes the current cycle's report, now past due.
    peer = varied.orgs["peer-support"]
    version = next(s.charter_version for s in varied.signatures if s.organisation is peer)
    early = f.organisation(varied.site, "Zebra Early Signers", slug="zebra")
    f.signature(early, version, varied.world.user("lead"),
                signed_at=datetime.now(UTC) - timedelta(days=400))
    varied.cycle_now.period_start = varied.cycle_prev.period_start
    varied.cycle_now.period_end = varied.cycle_prev.period_end
    varied.cycle_now.due_date = varied.cycle_prev.due_date + timedelta(days=1)
    db.session.commit()
    client.login(varied.world.user("coordinator"))
    html = client.get(f"{ORGS}?step=approved").get_data(as_text=True)
    assert _rows(html, "organisations")[0] == "zebra"
    page = text_of(client.get(DASHBOARD))
    assert page.index("Zebra Early Signers") < page.index("Fenland Trust")
    assert "The due date has passed." in page


def test_recent_activity_in_the_sites_time_zone(client, world):
    v = build(world, with_events=False)
    audit.record(world.user("coordinator"), "organisation.approved", v.orgs["peer-support"],
                 {"status": ["pending", "active"]})
    brisbane_event = audit.record(world.user("other_coordinator"), "organisation.approved",
                                  v.other_orgs["brisbane-health"], {"status": ["pending", "active"]})
    db.session.commit()
    client.login(world.user("admin"))
    page = text_of(client.get("/manage/sites/brisbane/dashboard"))
    assert "Brisbane Health" in page and "AEST" in page  # Australia/Brisbane
    assert "Peer Support Network" not in page.split("Recent activity")[-1]
    assert brisbane_event.actor_label in page


@pytest.mark.parametrize(("url", "message"), [
    (f"{ORGS}?step=bogus", "“bogus” is not one of the choices"),
    (f"{ORGS}?status=late", "“late” is not one of the choices"),
    (f"{ORGS}?sector=pirates", "“pirates” is not one of the choices"),
    (f"{ORGS}?domain=no-such-domain&coverage=none", "“no-such-domain” is not one of the choices"),
    (f"{ORGS}?coverage=none", "Choose a change domain"),
    (f"{ORGS}?coverage=all&domain=least-restrictive", "“all” is not one of the choices"),
    (f"{COMMITMENTS}?completion=half", "“half” is not one of the choices"),
    (f"{COMMITMENTS}?rag=purple", "“purple” is not one of the choices"),
    (f"{COMMITMENTS}?min_sectors=99", "“99” is not one of the choices"),
    (f"{COMMITMENTS}?lead_sector=x&partner_sector=statutory", "“x” is not one of the choices"),
    (f"{COMMITMENTS}?organisation=brisbane-health", "There is no organisation “brisbane-health”"),
    (f"{COMMITMENTS}?organisation=%3Cscript%3E", "There is no organisation “<script>”"),
])
def test_unknown_filter_values_answer_400_with_a_message(client, varied, url, message):
    client.login(varied.world.user("coordinator"))
    response = client.get(url)
    assert response.status_code == 400
    assert message in text_of(response)
    assert "There is a problem" in text_of(response)
    assert "<script>" not in response.get_data(as_text=True)


def test_page_numbers_out_of_range_are_clamped(client, varied):
    client.login(varied.world.user("coordinator"))
    for page in ("999999", "-3", "abc", "0"):
        response = client.get(f"{ORGS}?page={page}")
        assert response.status_code == 200
        assert "9 organisations match" in text_of(response)


def test_filters_that_match_nothing_show_an_empty_state(client, varied):
    client.login(varied.world.user("coordinator"))
    page = text_of(client.get(f"{ORGS}?sector=commissioner&step=approved"))
    assert "0 organisations match" in page and "No organisation matches these filters." in page
    page = text_of(client.get(f"{COMMITMENTS}?lead_sector=commissioner"))
    assert "0 accepted partnerships match" in page


def test_unknown_site_is_404_and_other_sites_are_403(client, world):
    client.login(world.user("coordinator"))
    assert client.get("/manage/sites/atlantis/dashboard").status_code == 404
    assert client.get("/manage/sites/atlantis/dashboard/organisations").status_code == 404
    assert client.get("/manage/sites/brisbane/dashboard").status_code == 403
    assert client.get("/manage/sites/brisbane/dashboard/commitments").status_code == 403
    client.logout()
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_a_site_with_no_data_shows_empty_states(client, world):
    f.site("cape-town", name="Cape Town", timezone="Africa/Johannesburg")
    db.session.commit()
    client.login(world.user("admin"))
    response = client.get("/manage/sites/cape-town/dashboard")
    assert response.status_code == 200
    page = text_of(response)
    assert "No organisation has applied to Cape Town yet" in page
    assert "There is no reporting cycle yet." in page
    assert "No public commitments yet." in page
    assert "Nothing recorded yet." in page
    for url in ("/manage/sites/cape-town/dashboard/organisations?status=overdue",
                "/manage/sites/cape-town/dashboard/commitments?min_sectors=3"):
        response = client.get(url)
        assert response.status_code == 200 and "match" in text_of(response)


def test_names_are_escaped(client, world):
    evil = f.organisation(world.site, '<script>alert("x")</script> Trust', slug="evil",
                          sector=Sector.THIRD_SECTOR)
    d = f.domain('<img src=x onerror=alert(1)> domain', slug="evil-domain")
    f.commitment(evil, d, status=CommitmentStatus.PUBLISHED, title="<b>bold</b> promise 中文 ✊")
    db.session.commit()
    client.login(world.user("coordinator"))
    for url in (DASHBOARD, f"{ORGS}?sector=third_sector", f"{COMMITMENTS}?domain=evil-domain"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; promise 中文 ✊" in client.get(
        f"{COMMITMENTS}?domain=evil-domain").get_data(as_text=True)


def test_commitment_list_for_one_organisation_and_domain(client, varied):
    client.login(varied.world.user("coordinator"))
    page = text_of(client.get(f"{COMMITMENTS}?organisation=fenland-trust&domain=least-restrictive"))
    assert "Led by Fenland Trust." in page
    assert "2 commitments match" in page
    assert "+SUM(1,2) formula title" in page


def test_the_main_dashboard_links_to_the_site_dashboard(client, world):
    client.login(world.user("coordinator"))
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/manage/sites/cambridge/dashboard"' in html


# --- a fixed number of queries ------------------------------------------------------------------------

PAGES = [
    DASHBOARD,
    f"{ORGS}?step=approved",
    f"{ORGS}?status=not_started&sector=statutory",
    f"{ORGS}?step=approved&domain=least-restrictive&coverage=none",
    f"{COMMITMENTS}",
    f"{COMMITMENTS}?domain=least-restrictive&completion=limited",
    f"{COMMITMENTS}?lead_sector=statutory&partner_sector=third_sector",
    f"{COMMITMENTS}?min_sectors=3",
    f"{COMMITMENTS}?organisation=fenland-trust",
]


def _query_counts(client) -> dict[str, int]:
    counts = {}
    for url in PAGES:
        client.get(url)  # warm up
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = counter.count
    return counts


def test_pages_run_a_fixed_number_of_queries(client, world):
    v = build(world)
    client.login(world.user("coordinator"))
    small = _query_counts(client)
    add_bulk(world, v, 70)  # 70 more organisations, 280 commitments, partners, reports, events
    large = _query_counts(client)
    assert small == large
    assert small[DASHBOARD] <= 16
    assert all(n <= 10 for url, n in small.items() if url != DASHBOARD)
    # The large site really is larger.
    client.get(DASHBOARD)
    assert "76" in text_of(client.get(f"{ORGS}?step=approved"))


def test_withdrawn_organisations_keep_their_public_commitments_in_the_figures(client, varied):
    gone = varied.orgs["gone-away"]
    assert gone.status == OrganisationStatus.WITHDRAWN
    client.login(varied.world.user("coordinator"))
    page = text_of(client.get(f"{COMMITMENTS}?organisation=gone-away"))
    assert "1 commitment matches" in page
