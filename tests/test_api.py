"""The open data API: what each resource answers, filters, pagination, bad parameters,
errors, the OpenAPI document, the /open-data page and the query count of every endpoint."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from charter.extensions import db
from charter.models import (
    Commitment,
    CommitmentStatus,
    Organisation,
    OrganisationStatus,
    ProgressReport,
    ReportStatus,
)
from tests.support import count_queries, text_of
from tests.test_api_data import build, grow


@pytest.fixture
def data(world):
    return build(world)


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True))
    assert response.headers["Content-Type"].startswith("application/json")
    return response.get_json()


def ids(payload):
    return [item["id"] for item in payload["data"]]


# --- what each resource answers -------------------------------------------------------------

def test_sites_count_only_public_records(client, data):
    site = data.world.site
    payload = get_json(client, "/api/v1/sites")
    cambridge = next(s for s in payload["data"] if s["slug"] == "cambridge")
    public_orgs = db.session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.site_id == site.id,
        Organisation.status.in_([OrganisationStatus.ACTIVE, OrganisationStatus.WITHDRAWN])))
    assert cambridge["organisations"] == public_orgs == 2
    assert cambridge["signatories"] == 1  # the other organisation withdrew its signature
    assert cambridge["commitments"] == 2  # published + retired; not the draft, not the pending org's
    assert cambridge["published_reports"] == 1
    assert cambridge["contact_email"] == "hello@cambridge-promise.example"
    assert cambridge["html_url"] == "http://localhost/sites/cambridge"
    assert get_json(client, "/api/v1/sites/cambridge") == cambridge
    assert get_json(client, "/api/v1/sites/CAMBRIDGE")["slug"] == "cambridge"


def test_a_site_with_no_data_yet_answers_zeros_and_empty_lists(client, world):
    brisbane = get_json(client, "/api/v1/sites/brisbane")
    assert {k: brisbane[k] for k in ("organisations", "signatories", "commitments",
                                     "published_reports")} == dict.fromkeys(
        ("organisations", "signatories", "commitments", "published_reports"), 0)
    for resource in ("organisations", "signatures", "commitments", "measurements", "reports"):
        payload = get_json(client, f"/api/v1/{resource}?site=brisbane")
        assert payload == {"data": [], "pagination": {"page": 1, "per_page": 25, "total": 0,
                                                      "total_pages": 0, "next": None}}


def test_organisations_are_only_the_public_ones(client, data):
    payload = get_json(client, "/api/v1/organisations?per_page=100")
    slugs = [o["slug"] for o in payload["data"]]
    assert slugs == ["fenland-trust", "mind-in-the-fens", "brisbane-mind"]
    fenland = payload["data"][0]
    assert fenland["is_signatory"] is True and fenland["signed_version"] == 1
    assert payload["data"][1]["is_signatory"] is False  # withdrew its signature
    assert payload["data"][1]["tier"] == "supporter"
    assert get_json(client, "/api/v1/organisations/fenland-trust") == fenland
    for hidden in (data.pending_org.slug, data.declined_org.slug):
        error = get_json(client, f"/api/v1/organisations/{hidden}", 404)["error"]
        assert hidden in error["message"]


def test_a_withdrawn_organisation_stays_public(client, data):
    data.world.other_org.status = OrganisationStatus.WITHDRAWN
    db.session.commit()
    payload = get_json(client, "/api/v1/organisations?status=withdrawn")
    assert [o["slug"] for o in payload["data"]] == ["mind-in-the-fens"]
    assert data.retired.id in ids(get_json(client, "/api/v1/commitments"))


def test_signatures_include_withdrawals(client, data):
    payload = get_json(client, "/api/v1/signatures")
    assert ids(payload) == [data.signature.id, data.withdrawn_signature.id]  # not the pending org's
    current, withdrawn = payload["data"]
    assert current["withdrawn"] is False and current["withdrawn_at"] is None
    assert current["signer_name"] == "Ada Signer"
    assert current["verification_code"] == data.signature.verification_code
    assert current["html_url"] == f"http://localhost/signatures/{data.signature.id}"
    assert withdrawn["withdrawn"] is True
    assert withdrawn["withdrawal_reason"] == "We merged with another trust."
    assert withdrawn["withdrawn_at"] == "2026-02-01T09:30:00+00:00"
    assert ids(get_json(client, "/api/v1/signatures?state=current")) == [data.signature.id]
    assert ids(get_json(client, "/api/v1/signatures?state=withdrawn")) == [data.withdrawn_signature.id]
    assert ids(get_json(client, "/api/v1/signatures?organisation=fenland-trust")) == [data.signature.id]


def test_commitments_are_published_and_retired_ones_of_public_organisations(client, data):
    payload = get_json(client, "/api/v1/commitments")
    expected = db.session.scalars(
        select(Commitment.id).join(Organisation, Organisation.id == Commitment.organisation_id)
        .where(Commitment.status != CommitmentStatus.DRAFT,
               Organisation.status.in_([OrganisationStatus.ACTIVE, OrganisationStatus.WITHDRAWN]))
        .order_by(Commitment.id)).all()
    assert ids(payload) == expected == [data.published.id, data.retired.id, data.brisbane_commitment.id]
    first = payload["data"][0]
    assert first["title"] == "Halve restraint on the wards"
    assert first["domain"] == {"slug": "least-restrictive-practice", "name": "Least restrictive practice"}
    assert first["organisation"] == {"slug": "fenland-trust", "name": "Fenland Trust"}
    assert (first["completion"], first["rag"], first["ambition"]) == ("substantial", "at_risk", "essential")
    assert (first["start_date"], first["target_date"]) == ("2026-01-01", "2027-12-31")
    # Only the partner that accepted, and never the pending organisation that "accepted".
    assert first["partners"] == [{"slug": "mind-in-the-fens", "name": "Mind in the Fens",
                                  "site": "cambridge", "sector": "third_sector",
                                  "role_note": "Runs the carers' forum"}]
    retired = payload["data"][1]
    assert retired["status"] == "retired" and retired["retired_reason"] == "Merged into a wider programme."
    assert retired["title"] == "Café for carers — 咖啡 ☕"


def test_one_commitment_has_its_milestones_and_indicators(client, data):
    item = get_json(client, f"/api/v1/commitments/{data.published.id}")
    assert item["milestones"] == [{"title": "Train every ward team", "due_date": "2026-06-30",
                                   "done_date": None}]
    catalogue, own = item["indicators"]
    assert catalogue["in_catalogue"] is True and own["in_catalogue"] is False
    assert (catalogue["baseline_value"], catalogue["target_value"]) == ("12.5", "6")
    assert own["name"] == "Ward debriefs held"
    assert get_json(client, f"/api/v1/commitments/{data.draft.id}", 404)["error"]["status"] == 404
    assert get_json(client, "/api/v1/commitments/2147483647", 404)
    assert get_json(client, "/api/v1/commitments/99999999999999999999", 404)


def test_domains_and_the_indicator_catalogue(client, data):
    domains = get_json(client, "/api/v1/domains")["data"]
    assert [(d["slug"], d["public_commitments"]) for d in domains] == [
        ("least-restrictive-practice", 1), ("accepting-communities", 2)]
    indicators = get_json(client, "/api/v1/indicators")["data"]
    assert [i["name"] for i in indicators] == ["Restrictive interventions per 1,000 bed days"]
    assert indicators[0]["public_commitments"] == 1  # the draft's attachment does not count
    assert indicators[0]["direction"] == "lower"


def test_measurements_are_those_of_public_commitments(client, data):
    payload = get_json(client, "/api/v1/measurements")
    assert ids(payload) == [m.id for m in data.measurements]
    assert [m["value"] for m in payload["data"]] == ["11.25", "-0.5", "14"]
    first = payload["data"][0]
    assert first["indicator_name"] == "Restrictive interventions per 1,000 bed days"
    assert (first["period_start"], first["period_end"]) == ("2026-01-01", "2026-01-31")
    assert (first["site"], first["domain"], first["organisation"]) == (
        "cambridge", "least-restrictive-practice", "fenland-trust")
    by_indicator = get_json(client, f"/api/v1/measurements?indicator={data.own_indicator.id}")
    assert [m["value"] for m in by_indicator["data"]] == ["14"]
    assert ids(get_json(client, f"/api/v1/measurements?commitment={data.draft.id}")) == []


def test_reports_are_published_ones_with_revisions_and_snapshot(client, data):
    payload = get_json(client, "/api/v1/reports")
    assert ids(payload) == [data.report.id]
    drafts = db.session.scalars(select(ProgressReport.id).where(
        ProgressReport.status != ReportStatus.PUBLISHED)).all()
    assert drafts and not set(drafts) & set(ids(payload))
    item = payload["data"][0]
    assert item["cycle"]["name"] == "2026 Q1"
    assert item["latest_revision"]["number"] == 1
    assert item["html_url"] == f"http://localhost/reports/{data.report.id}"
    assert item["pdf_url"] == f"http://localhost/reports/{data.report.id}.pdf"
    detail = get_json(client, f"/api/v1/reports/{data.report.id}")
    assert [r["number"] for r in detail["revisions"]] == [1]
    assert detail["snapshot"]["summary"] == "We reduced restraint on two wards."
    assert detail["snapshot"]["report_id"] == data.report.id
    pdf = client.get(item["pdf_url"].replace("http://localhost", ""))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    for private in drafts:
        assert get_json(client, f"/api/v1/reports/{private}", 404)


def test_the_latest_revision_is_the_newest_correction(client, data):
    grow(data, 1)
    payload = get_json(client, "/api/v1/reports?per_page=100")
    grown = payload["data"][-1]
    assert grown["latest_revision"]["number"] == 2
    assert grown["latest_revision"]["change_note"] == "Fixed a figure"
    detail = get_json(client, f"/api/v1/reports/{grown['id']}")
    assert [r["number"] for r in detail["revisions"]] == [1, 2]


# --- filters --------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), [
    ("site=cambridge", ["published", "retired"]),
    ("site=brisbane", ["brisbane_commitment"]),
    ("domain=accepting-communities", ["retired", "brisbane_commitment"]),
    ("domain=least-restrictive-practice&site=brisbane", []),
    ("sector=third_sector", ["retired"]),
    ("status=retired", ["retired"]),
    ("completion=substantial", ["published"]),
    ("rag=at_risk", ["published"]),
    ("rag=off_track", []),
    ("ambition=essential&organisation=mind-in-the-fens", ["retired"]),
])
def test_commitment_filters(client, data, query, expected):
    assert ids(get_json(client, f"/api/v1/commitments?{query}")) == [getattr(data, e).id for e in expected]


def test_other_filters(client, data):
    assert [o["slug"] for o in get_json(client, "/api/v1/organisations?site=brisbane")["data"]] == [
        "brisbane-mind"]
    assert [o["slug"] for o in get_json(
        client, "/api/v1/organisations?domain=least-restrictive-practice")["data"]] == ["fenland-trust"]
    assert [o["slug"] for o in get_json(client, "/api/v1/organisations?tier=supporter")["data"]] == [
        "mind-in-the-fens"]
    assert [o["slug"] for o in get_json(client, "/api/v1/organisations?sector=lived_experience")[
        "data"]] == ["brisbane-mind"]
    assert ids(get_json(client, "/api/v1/measurements?domain=accepting-communities")) == []
    assert len(get_json(client, "/api/v1/measurements?site=cambridge")["data"]) == 3
    cycle_id = data.report.cycle_id
    assert ids(get_json(client, f"/api/v1/reports?cycle={cycle_id}")) == [data.report.id]
    assert ids(get_json(client, f"/api/v1/reports?cycle={cycle_id + 100}")) == []
    assert ids(get_json(client, "/api/v1/reports?domain=least-restrictive-practice&sector=statutory")) == [
        data.report.id]
    assert ids(get_json(client, "/api/v1/reports?sector=academic")) == []


@pytest.mark.parametrize(("url", "parameter", "value"), [
    ("/api/v1/commitments?site=atlantis", "site", "atlantis"),
    ("/api/v1/commitments?domain=no-such-domain", "domain", "no-such-domain"),
    ("/api/v1/organisations?domain=Žluťoučký kůň", "domain", "Žluťoučký kůň"),
    ("/api/v1/measurements?organisation=pending-org-qx87", "organisation", "pending-org-qx87"),
    ("/api/v1/signatures?organisation=nobody", "organisation", "nobody"),
    ("/api/v1/reports?site=%F0%9F%98%80", "site", "😀"),
    ("/api/v1/reports?site=a%00b", "site", "a\x00b"),
    ("/api/v1/commitments?site=<script>alert(1)</script>", "site", "<script>alert(1)</script>"),
])
def test_an_unknown_name_in_a_filter_is_a_404_that_names_it(client, data, url, parameter, value):
    error = get_json(client, url, 404)["error"]
    assert error["status"] == 404
    assert value in error["message"]
    assert error["errors"] == {"query": {parameter: [error["message"]]}}


# --- pagination and bad parameters ----------------------------------------------------------

def test_pages_follow_the_id_order_and_a_page_past_the_end_is_empty(client, data):
    grow(data, 3)
    everything = ids(get_json(client, "/api/v1/commitments?per_page=100"))
    assert everything == sorted(everything) and len(everything) == 9
    paged = []
    for page in range(1, 5):
        payload = get_json(client, f"/api/v1/commitments?per_page=2&page={page}")
        assert payload["pagination"] == {
            "page": page, "per_page": 2, "total": 9, "total_pages": 5,
            "next": f"http://localhost/api/v1/commitments?per_page=2&after={ids(payload)[-1]}"}
        paged += ids(payload)
    paged += ids(get_json(client, "/api/v1/commitments?per_page=2&page=5"))
    assert paged == everything
    for page in (6, 2147483647):
        payload = get_json(client, f"/api/v1/commitments?per_page=2&page={page}")
        assert payload == {"data": [], "pagination": {"page": page, "per_page": 2, "total": 9,
                                                      "total_pages": 5, "next": None}}


def test_next_links_walk_the_whole_list_once_in_id_order(client, data):
    grow(data, 3)
    everything = ids(get_json(client, "/api/v1/commitments?per_page=100&status=published"))
    assert len(everything) > 6
    walked, url, hops = [], "/api/v1/commitments?per_page=2&status=published", 0
    while url and hops < 20:
        payload = get_json(client, url.removeprefix("http://localhost"))
        assert payload["pagination"]["total"] == len(everything)
        walked += ids(payload)
        url, hops = payload["pagination"]["next"], hops + 1
        if url:
            assert "status=published" in url and "&page=" not in url  # filters kept
    assert walked == everything  # no gap, no duplicate, in id order
    assert hops == -(-len(everything) // 2)
    after = get_json(client, f"/api/v1/commitments?per_page=3&status=published&after={everything[3]}")
    assert ids(after) == everything[4:7] and after["pagination"]["page"] is None


@pytest.mark.parametrize("after", ["x", "-1", "1.5", "2147483648", "%EF%BC%91", ""])
def test_a_bad_after_is_a_clear_422(client, data, after):
    error = get_json(client, f"/api/v1/commitments?after={after}", 422)["error"]
    assert list(error["errors"]["query"]) == ["after"]
    assert error["errors"]["query"]["after"][0]


@pytest.mark.parametrize(("query", "parameter"), [
    ("per_page=0", "per_page"),
    ("per_page=-5", "per_page"),
    ("per_page=101", "per_page"),
    ("per_page=100000000000000000000000000000", "per_page"),
    ("per_page=ten", "per_page"),
    ("per_page=1.5", "per_page"),
    ("per_page=%EF%BC%95", "per_page"),  # a full-width 5
    ("page=0", "page"),
    ("page=-1", "page"),
    ("page=2147483648", "page"),
    ("page=", "page"),
    ("sector=pirates", "sector"),
    ("rag=red", "rag"),
    ("status=draft", "status"),
    ("site=" + "x" * 121, "site"),
])
def test_bad_parameters_are_a_422_that_names_them(client, data, query, parameter):
    error = get_json(client, f"/api/v1/commitments?{query}", 422)["error"]
    assert error["status"] == 422
    assert error["title"] == "Invalid parameters"
    assert list(error["errors"]["query"]) == [parameter]
    assert error["errors"]["query"][parameter][0]


def test_unknown_parameters_are_ignored(client, data):
    assert len(get_json(client, "/api/v1/commitments?utm_source=newsletter")["data"]) == 3


def test_errors_outside_the_views_have_the_same_shape(client, data):
    error = get_json(client, "/api/v1/nothing-here", 404)["error"]
    assert set(error) == {"status", "title", "message"} and error["status"] == 404
    response = client.post("/api/v1/commitments", data={})
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(f"/api/v1/commitments/{data.published.id}").status_code == 405
    # The site's own pages keep their HTML error pages.
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")


def test_a_bug_answers_a_json_500_that_shows_nothing_of_the_inside(client, app, monkeypatch):
    from charter.api import queries

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(queries, "sites", broken)
    monkeypatch.setitem(app.config, "RENDER_500_IN_TESTS", True)
    response = client.get("/api/v1/sites")
    assert response.status_code == 500
    error = response.get_json()["error"]
    assert error["status"] == 500 and error["message"]
    assert "secret internal detail" not in response.get_data(as_text=True)


def test_nothing_is_written_by_reading(client, data):
    from charter.models import AuditEvent

    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for url in ("/api/v1/commitments", f"/api/v1/reports/{data.report.id}", "/api/v1/bulk.zip"):
        assert client.get(url).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


# --- the OpenAPI document and the /open-data page -------------------------------------------

def _walk_properties(schema, where):
    for name, prop in (schema.get("properties") or {}).items():
        yield f"{where}.{name}", prop


def test_the_openapi_document_is_generated_and_describes_everything(client):
    spec = get_json(client, "/api/v1/openapi.json")
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["version"] == "v1"
    assert spec["info"]["title"] == "PROMISE Charter open data API"
    expected = {"/api/v1/sites", "/api/v1/sites/{slug}", "/api/v1/organisations",
                "/api/v1/organisations/{slug}", "/api/v1/signatures", "/api/v1/commitments",
                "/api/v1/commitments/{commitment_id}", "/api/v1/domains", "/api/v1/indicators",
                "/api/v1/measurements", "/api/v1/reports", "/api/v1/reports/{report_id}",
                "/api/v1/bulk.zip"}
    assert set(spec["paths"]) == expected
    undescribed = []
    for name, schema in spec["components"]["schemas"].items():
        for where, prop in _walk_properties(schema, name):
            if not prop.get("description"):
                undescribed.append(where)
    for path, item in spec["paths"].items():
        assert set(item) <= {"get", "parameters"}, f"{path} must be read-only"
        operation = item["get"]
        assert operation.get("summary"), path
        for param in operation.get("parameters", []) + item.get("parameters", []):
            if not param.get("description"):
                undescribed.append(f"{path} {param['name']}")
        assert "default" in operation["responses"]
    assert not undescribed, undescribed
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert spec["components"]["responses"]["NOT_FOUND"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}


def test_no_documentation_ui_from_a_third_party(client, app):
    assert not [r for r in app.url_map.iter_rules() if r.endpoint.startswith("api-docs.")
                and r.endpoint != "api-docs.openapi_json"]
    for key in ("OPENAPI_SWAGGER_UI_URL", "OPENAPI_REDOC_URL", "OPENAPI_RAPIDOC_URL"):
        assert not app.config.get(key)


def test_the_open_data_page_explains_the_api_and_the_download(client, data):
    response = client.get("/open-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    assert html.count("<h1") == 1
    assert 'href="/api/v1/bulk.zip"' in html and 'href="/api/v1/openapi.json"' in html
    for path in ("/api/v1/commitments", "/api/v1/measurements", "/api/v1/reports/{report_id}"):
        assert path in text
    for name in ("measurements.csv", "data-dictionary.csv", "commitment_partners.csv"):
        assert name in text
    assert "List public commitments" in text  # the summaries come from the OpenAPI document
    assert html.count("<table") == html.count("<caption>")
    assert re.search(r'<th scope="col">', html)
    assert "<script" not in html and "style=" not in html


# --- a fixed number of queries ----------------------------------------------------------------

ENDPOINTS = [
    "/api/v1/sites", "/api/v1/sites/cambridge", "/api/v1/organisations?per_page=100",
    "/api/v1/organisations/fenland-trust",
    "/api/v1/signatures?per_page=100", "/api/v1/commitments?per_page=100",
    "/api/v1/commitments?site=cambridge&domain=least-restrictive-practice&organisation=fenland-trust",
    "/api/v1/domains", "/api/v1/indicators", "/api/v1/measurements?per_page=100",
    "/api/v1/measurements?site=cambridge&domain=least-restrictive-practice&organisation=fenland-trust",
    "/api/v1/reports?per_page=100", "/api/v1/reports?site=cambridge&domain=least-restrictive-practice",
    "/api/v1/openapi.json",
]


def _queries(client, url) -> int:
    with count_queries() as counter:
        response = client.get(url)
        assert response.status_code == 200, url
    return counter.count


def test_every_endpoint_runs_a_fixed_number_of_queries(client, data):
    small = {url: _queries(client, url) for url in ENDPOINTS}
    small[f"/api/v1/commitments/{data.published.id}"] = _queries(
        client, f"/api/v1/commitments/{data.published.id}")
    small[f"/api/v1/reports/{data.report.id}"] = _queries(client, f"/api/v1/reports/{data.report.id}")
    grow(data, 30)
    large = {url: _queries(client, url) for url in small}
    assert large == small
    assert max(small.values()) <= 6, small
