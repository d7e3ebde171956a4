"""Exports of a site's data (CSV and XLSX): contents per role, formula neutralisation, real
dates, and speed without ORM objects."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from charter.dashboards import exports
from charter.extensions import db
from charter.models import (
    RAG,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Direction,
    Indicator,
    Measurement,
    ReportingStatus,
    Site,
    User,
)
from charter.permissions import PermissionDenied
from charter.reports.status import site_reporting
from tests import factories as f
from tests.support import text_of
from tests.test_dashboard_coordinator_data import FORMULA_NAME, build

SITE_EXPORT = "/manage/sites/cambridge/export"


@pytest.fixture
def varied(world):
    v = build(world)
    indicator = Indicator(name="Restraint per 1,000 OBD", unit="per 1,000 OBD",
                          direction=Direction.LOWER_IS_BETTER, reference="MHS96")
    db.session.add(indicator)
    fenland_public = next(c for c in v.commitments if c.organisation is v.orgs["fenland"]
                          and c.status == CommitmentStatus.PUBLISHED)
    brisbane_c = next(c for c in v.commitments if c.organisation is v.other_orgs["brisbane-health"])
    for commitment, note, value in ((fenland_public, "=1+1 looked odd", Decimal("12.5")),
                                    (brisbane_c, "Brisbane private note", Decimal("3"))):
        ci = CommitmentIndicator(commitment=commitment, indicator=indicator,
                                 baseline_value=Decimal("14"), baseline_date=date(2025, 1, 1))
        db.session.add(ci)
        db.session.add(Measurement(commitment_indicator=ci, period_start=date(2025, 1, 1),
                                   period_end=date(2025, 3, 31), value=value, note=note))
    db.session.commit()
    return v


def _csv(response) -> list[dict]:
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf"), "CSV starts with a UTF-8 byte order mark"
    return list(csv.DictReader(io.StringIO(body[3:].decode("utf-8"))))


def _xlsx(response):
    return load_workbook(io.BytesIO(response.data))


# --- who gets what ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("dataset", list(exports.DATASETS))
def test_coordinator_downloads_every_dataset_of_the_site(client, varied, dataset, fmt):
    client.login(varied.world.user("coordinator"))
    response = client.get(f"{SITE_EXPORT}/{dataset}.{fmt}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="cambridge-{dataset}-') and fmt in disposition
    assert response.headers["Cache-Control"] == "private, no-store"
    raw = response.data if fmt == "csv" else b"".join(
        str(c.value).encode() for ws in _xlsx(response) for row in ws.iter_rows() for c in row)
    for secret in (b"Brisbane", b"SECRET BRISBANE", b"scrypt:", b"pbkdf2:", b"password"):
        assert secret not in raw, (dataset, secret)


def test_organisations_csv(client, varied):
    client.login(varied.world.user("coordinator"))
    rows = _csv(client.get(f"{SITE_EXPORT}/organisations.csv"))
    assert list(rows[0]) == [c.header for c in exports.DATASETS["organisations"].columns]
    by_slug = {r["Slug"]: r for r in rows}
    assert set(by_slug) == {o.slug for o in varied.cambridge_orgs()}  # pending and declined too
    fenland = by_slug["fenland-trust"]
    assert fenland["Current signatory"] == "Yes" and fenland["Lead emails"] == "lead@example.org"
    assert fenland["Public commitments"] == "3" and fenland["Draft commitments"] == "1"
    assert by_slug["anglia-uni"]["Current signatory"] == "No"
    assert by_slug["waiting"]["Status"] == "Pending approval"
    # A name that a spreadsheet would run as a formula gets a leading quote.
    assert by_slug["declined"]["Name"] == "'" + FORMULA_NAME
    assert fenland["Applied at (UTC)"].endswith("Z")


def test_commitments_include_drafts_of_the_site_only(client, varied):
    client.login(varied.world.user("coordinator"))
    rows = _csv(client.get(f"{SITE_EXPORT}/commitments.csv"))
    expected = {c.id for c in varied.commitments if c.organisation.site_id == varied.site.id}
    assert {int(r["Commitment ID"]) for r in rows} == expected
    titles = {r["Title"] for r in rows}
    assert "Fenland draft, private" in titles
    assert "SECRET BRISBANE DRAFT" not in titles
    assert "'+SUM(1,2) formula title" in titles
    assert "'@mention title" in titles
    assert "'-2+3 looks like a sum" in titles
    a1 = next(r for r in rows if r["Title"].startswith("Fenland Trust: Least restrictive practice"))
    assert a1["Accepted partners"] == "2" and a1["Completion"] == "Completed" and a1["RAG"] == "On track"


def test_measurements(client, varied):
    client.login(varied.world.user("coordinator"))
    rows = _csv(client.get(f"{SITE_EXPORT}/measurements.csv"))
    assert len(rows) == 1
    assert rows[0]["Value"] == "12.5" and rows[0]["Note"] == "'=1+1 looked odd"
    assert rows[0]["Period start"] == "2025-01-01" and rows[0]["Catalogue indicator"] == "Yes"


def test_signatures_include_withdrawals(client, varied):
    client.login(varied.world.user("coordinator"))
    rows = _csv(client.get(f"{SITE_EXPORT}/signatures.csv"))
    cambridge = [s for s in varied.signatures if s.organisation.site_id == varied.site.id]
    assert sorted(r["Verification code"] for r in rows) == sorted(s.verification_code for s in cambridge)
    withdrawn = [r for r in rows if r["Withdrawn at (UTC)"]]
    assert len(withdrawn) == len(varied.withdrawn) == 2
    assert {r["Withdrawal reason"] for r in withdrawn} == {"We left."}


def test_report_statuses_match_the_reports_module(client, varied):
    client.login(varied.world.user("coordinator"))
    rows = _csv(client.get(f"{SITE_EXPORT}/report_statuses.csv"))
    reporting = site_reporting(varied.site)
    expected = {(cycle.name, org.slug): reporting.status(org, cycle).label
                for cycle in reporting.cycles for org in reporting.organisations}
    assert {(r["Cycle"], r["Organisation slug"]): r["Reporting status"] for r in rows} == expected
    # Signed (today) after the previous cycle was due: exempt from it.
    assert expected[("Previous cycle", "mind-in-the-fens")] == ReportingStatus.EXEMPT.label
    assert expected[("Current cycle", "anglia-uni")] == ReportingStatus.RETURNED.label


def test_admin_downloads_every_site(client, varied):
    client.login(varied.world.user("admin"))
    rows = _csv(client.get("/manage/export/commitments.csv"))
    assert {int(r["Commitment ID"]) for r in rows} == {c.id for c in varied.commitments}
    assert {r["Site"] for r in rows} == {"Cambridge", "Brisbane"}
    rows = _csv(client.get("/manage/export/report_statuses.csv"))
    assert {r["Site"] for r in rows} == {"Cambridge", "Brisbane"}
    workbook = _xlsx(client.get("/manage/export/organisations.xlsx"))
    names = {row[2] for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert "Brisbane Pending Secret" in names and "Fenland Trust" in names


@pytest.mark.parametrize("role", ["editor", "lead", "other_lead", "other_coordinator"])
def test_others_are_refused(client, varied, role):
    client.login(varied.world.user(role))
    assert client.get(f"{SITE_EXPORT}/commitments.csv").status_code == 403
    assert client.get(SITE_EXPORT).status_code == 403
    assert client.get("/manage/export/commitments.csv").status_code == 403


def test_coordinators_cannot_export_every_site(client, varied):
    client.login(varied.world.user("coordinator"))
    assert client.get("/manage/export/organisations.csv").status_code == 403
    assert client.get("/manage/sites/brisbane/export/organisations.csv").status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client, varied):
    response = client.get(f"{SITE_EXPORT}/organisations.csv")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


@pytest.mark.parametrize("path", ["passwords.csv", "organisations.pdf", "organisations", "users.xlsx",
                                  "organisations.CSV", "..%2Forganisations.csv"])
def test_unknown_dataset_or_format_is_404(client, varied, path):
    client.login(varied.world.user("coordinator"))
    assert client.get(f"{SITE_EXPORT}/{path}").status_code == 404
    client.login(varied.world.user("admin"))
    assert client.get(f"/manage/export/{path}").status_code == 404
    assert client.get("/manage/sites/atlantis/export/organisations.csv").status_code == 404


def test_services_check_permissions_again(varied):
    with pytest.raises(PermissionDenied):
        exports.export_csv(varied.world.user("other_coordinator"), varied.site, "organisations")
    with pytest.raises(PermissionDenied):
        exports.export_xlsx(varied.world.user("coordinator"), None, "organisations")


# --- the XLSX format ---------------------------------------------------------------------------------

def test_xlsx_has_a_frozen_bold_header_real_dates_and_no_formulas(client, varied):
    client.login(varied.world.user("coordinator"))
    workbook = _xlsx(client.get(f"{SITE_EXPORT}/organisations.xlsx"))
    sheet = workbook["Organisations"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header == [c.header for c in exports.DATASETS["organisations"].columns]
    assert all(c.font.bold for c in sheet[1])
    applied = header.index("Applied at (UTC)") + 1
    cell = sheet.cell(row=2, column=applied)
    assert cell.is_date and isinstance(cell.value, datetime)
    names = [sheet.cell(row=r, column=3) for r in range(2, sheet.max_row + 1)]
    evil = next(c for c in names if "HYPERLINK" in str(c.value))
    assert evil.value == "'" + FORMULA_NAME and evil.data_type == "s"
    assert "About" in workbook.sheetnames

    workbook = _xlsx(client.get(f"{SITE_EXPORT}/measurements.xlsx"))
    row = next(workbook["Measurements"].iter_rows(min_row=2, values_only=True))
    assert row[10] == datetime(2025, 1, 1)  # a real date (Excel keeps dates as date-times)
    assert row[12] == 12.5 and row[13] == "'=1+1 looked odd"

    workbook = _xlsx(client.get(f"{SITE_EXPORT}/commitments.xlsx"))
    for row in workbook["Commitments"].iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"


def test_unicode_survives_both_formats(client, world):
    org = f.organisation(world.site, "Národní ústav duševního zdraví 中文 ✊", slug="nudz")
    d = f.domain("Domain")
    f.commitment(org, d, title="Tab\tstart", status=CommitmentStatus.PUBLISHED)
    f.commitment(org, d, title="\tTab first", status=CommitmentStatus.DRAFT)
    f.commitment(org, d, title="\rCarriage return", status=CommitmentStatus.DRAFT)
    db.session.commit()
    client.login(world.user("coordinator"))
    rows = _csv(client.get(f"{SITE_EXPORT}/commitments.csv"))
    assert {r["Organisation"] for r in rows} == {"Národní ústav duševního zdraví 中文 ✊"}
    assert {r["Title"] for r in rows} == {"Tab\tstart", "'\tTab first", "'\rCarriage return"}
    workbook = _xlsx(client.get(f"{SITE_EXPORT}/commitments.xlsx"))
    values = list(workbook["Commitments"].iter_rows(min_row=2, values_only=True))
    assert {v[2] for v in values} == {"Národní ústav duševního zdraví 中文 ✊"}


def test_an_empty_site_exports_headers_only(client, world):
    f.site("cape-town", name="Cape Town")
    db.session.commit()
    client.login(world.user("admin"))
    for dataset in exports.DATASETS:
        rows = _csv(client.get(f"/manage/sites/cape-town/export/{dataset}.csv"))
        assert rows == []
        workbook = _xlsx(client.get(f"/manage/sites/cape-town/export/{dataset}.xlsx"))
        assert workbook.worksheets[0].max_row == 1


# --- the export page -------------------------------------------------------------------------------

def test_export_page_lists_each_download_with_its_columns(client, varied):
    client.login(varied.world.user("coordinator"))
    response = client.get(SITE_EXPORT)
    page = text_of(response)
    html = response.get_data(as_text=True)
    for dataset in exports.DATASETS.values():
        assert str(dataset.title) in page and str(dataset.description) in page
        for column in dataset.columns:
            assert column.header in page
        for fmt in exports.FORMATS:
            assert f'href="{SITE_EXPORT}/{dataset.name}.{fmt}"' in html
    assert "/manage/export/" not in html
    client.login(varied.world.user("admin"))
    assert 'href="/manage/export/organisations.csv"' in client.get(SITE_EXPORT).get_data(as_text=True)


# --- speed -------------------------------------------------------------------------------------------

def test_many_commitments_export_quickly_without_orm_objects(app, world):
    d = f.domain("Bulk")
    orgs = [f.organisation(world.site, f"Bulk {i}") for i in range(20)]
    now = datetime.now(UTC)
    db.session.execute(insert(Commitment), [{
        "organisation_id": orgs[i % 20].id, "domain_id": d.id, "title": f"Commitment {i}",
        "description": "Reduce restrictive practice.", "status": CommitmentStatus.PUBLISHED,
        "completion": Completion.LIMITED, "rag": RAG.ON_TRACK, "version": 1,
        "created_at": now, "updated_at": now, "published_at": now,
    } for i in range(5_000)])
    db.session.commit()
    site_id, coordinator_id = world.site.id, world.user("coordinator").id
    db.session.expunge_all()
    coordinator, site = db.session.get(User, coordinator_id), db.session.get(Site, site_id)
    start = time.perf_counter()
    chunks = list(exports.export_csv(coordinator, site, "commitments"))
    csv_seconds = time.perf_counter() - start
    assert not any(isinstance(obj, Commitment) for obj in db.session.identity_map.values())
    assert sum(len(c) for c in chunks) > 5_000 * 40
    assert b"".join(chunks).count(b"\r\n") == 5_001
    start = time.perf_counter()
    content = exports.export_xlsx(coordinator, site, "commitments")
    xlsx_seconds = time.perf_counter() - start
    sheet = load_workbook(io.BytesIO(content), read_only=True)["Commitments"]
    assert sum(1 for _row in sheet.iter_rows(values_only=True)) == 5_001
    assert csv_seconds < 5 and xlsx_seconds < 10, (csv_seconds, xlsx_seconds)
