"""Spreadsheet downloads: what the XLSX and CSV files hold, formula neutralisation, and
who may download them."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from charter import tabular
from charter.commitments import spreadsheets
from charter.extensions import db
from charter.permissions import PermissionDenied
from tests import factories as f
from tests.support import count_queries
from tests.test_spreadsheets_data import (
    COMMITMENT_HEADERS,
    MEASUREMENT_HEADERS,
    attach,
    indicator,
    make_data,
    measure,
    read_csv,
    read_xlsx,
)

INJECTION = "=cmd|' /C calc'!A0"


@pytest.fixture
def data(world):
    return make_data(world)


def _xlsx_rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- XLSX ---------------------------------------------------------------------------------

def test_the_workbook_holds_commitments_measurements_and_an_about_sheet(client, world, data):
    client.login(world.user("editor"))
    response = client.get(f"/organisations/{world.org.slug}/commitments.xlsx")
    assert response.status_code == 200
    assert response.mimetype == spreadsheets.XLSX_MIMETYPE
    assert "attachment" in response.headers["Content-Disposition"]
    assert "fenland-trust-commitments-" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    workbook = read_xlsx(response.data)
    assert workbook.sheetnames == ["Commitments", "Measurements", "About"]

    rows = _xlsx_rows(workbook["Commitments"])
    assert rows[0] == COMMITMENT_HEADERS
    by_id = {row[0]: row for row in rows[1:]}
    # Only the organisation's own commitments: drafts and retired ones included, partners' not.
    assert set(by_id) == {data.published.id, data.draft.id, data.retired.id}
    row = by_id[data.published.id]
    assert row[1] == data.published.version
    assert row[2] == "Halve prone restraint by 2027"
    assert row[3] == "least-restrictive-practice"
    assert row[4].startswith("We will **halve** prone restraint.")
    assert row[5] == datetime(2026, 1, 1) and row[6] == datetime(2027, 12, 31)
    assert row[7:] == ["Aspirational", "Limited", "At risk", "Published"]
    assert by_id[data.draft.id][10] == "Draft"
    assert by_id[data.retired.id][3] == "old-heading" and by_id[data.retired.id][10] == "Retired"

    sheet = workbook["Commitments"]
    assert sheet["F2"].is_date and sheet["F2"].number_format == "yyyy-mm-dd"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"

    measurements = _xlsx_rows(workbook["Measurements"])
    assert measurements[0] == MEASUREMENT_HEADERS
    assert measurements[1:] == [
        [data.published.id, "Prone restraints", datetime(2026, 1, 1), datetime(2026, 3, 31), 14,
         "First quarter"],
        [data.published.id, "Prone restraints", datetime(2026, 4, 1), datetime(2026, 6, 30), 11.5,
         None],
    ]
    assert workbook["Measurements"]["C2"].is_date
    assert workbook["Measurements"].freeze_panes == "A2"
    assert all(cell.font.b for cell in workbook["Measurements"][1])

    about = _xlsx_rows(workbook["About"])
    explained = {(row[0], row[1]) for row in about[1:]}
    for header in COMMITMENT_HEADERS:
        assert ("Commitments", header) in explained
    for header in MEASUREMENT_HEADERS:
        assert ("Measurements", header) in explained
    text = " ".join(str(c) for row in about for c in row if c)
    assert "least-restrictive-practice" in text and "old-heading" in text
    assert "On track, At risk, Off track" in text and "YYYY-MM-DD" in text


def test_formulas_in_text_are_neutralised_in_the_workbook(client, world, data):
    data.published.title = INJECTION
    data.published.description = "-1+1"
    data.draft.title = "@SUM(A1:A2)"
    data.q1.note = "+44 1223 000000"
    db.session.commit()
    client.login(world.user("lead"))
    workbook = read_xlsx(client.get(f"/organisations/{world.org.slug}/commitments.xlsx").data)
    sheet = workbook["Commitments"]
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    title = cells[data.published.id][2]
    assert title.data_type == "s" and title.value == "'" + INJECTION
    assert cells[data.published.id][4].value == "'-1+1"
    assert cells[data.draft.id][2].value == "'@SUM(A1:A2)"
    note = workbook["Measurements"]["F2"]
    assert note.data_type == "s" and note.value == "'+44 1223 000000"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "＝1+1"])
def test_neutralise_prefixes_every_formula_start(text):
    assert tabular.neutralise(text) == "'" + text
    assert tabular.neutralise("Plain " + text) == "Plain " + text


# --- CSV ----------------------------------------------------------------------------------

def test_the_commitments_csv_has_the_same_columns_in_utf8_with_bom(client, world, data):
    data.draft.title = "Zdravotní péče — 心理健康 — gesondheid 🌱"
    data.published.title = INJECTION
    db.session.commit()
    client.login(world.user("editor"))
    response = client.get(f"/organisations/{world.org.slug}/commitments.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "charset=utf-8" in response.headers["Content-Type"]
    rows = read_csv(response.data)
    assert rows[0] == COMMITMENT_HEADERS
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {str(data.published.id), str(data.draft.id), str(data.retired.id)}
    row = by_id[str(data.published.id)]
    assert row[1:4] == [str(data.published.version), "'" + INJECTION, "least-restrictive-practice"]
    assert row[5:] == ["2026-01-01", "2027-12-31", "Aspirational", "Limited", "At risk", "Published"]
    assert "\n- train staff" in row[4]
    assert by_id[str(data.draft.id)][2] == "Zdravotní péče — 心理健康 — gesondheid 🌱"


def test_the_measurements_csv(client, world, data):
    data.q2.note = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    client.login(world.user("coordinator"))
    response = client.get(f"/organisations/{world.org.slug}/measurements.csv")
    assert response.status_code == 200
    assert "fenland-trust-measurements-" in response.headers["Content-Disposition"]
    rows = read_csv(response.data)
    assert rows == [
        MEASUREMENT_HEADERS,
        [str(data.published.id), "Prone restraints", "2026-01-01", "2026-03-31", "14", "First quarter"],
        [str(data.published.id), "Prone restraints", "2026-04-01", "2026-06-30", "11.5",
         "'=HYPERLINK(\"http://evil\")"],
    ]


def test_an_organisation_without_commitments_gets_just_the_headers(client, world):
    client.login(world.user("lead"))
    assert read_csv(client.get(f"/organisations/{world.org.slug}/commitments.csv").data) == [
        COMMITMENT_HEADERS]
    workbook = read_xlsx(client.get(f"/organisations/{world.org.slug}/commitments.xlsx").data)
    assert _xlsx_rows(workbook["Commitments"]) == [COMMITMENT_HEADERS]


# --- who may download ---------------------------------------------------------------------

URLS = ["/organisations/{}/commitments.xlsx", "/organisations/{}/commitments.csv",
        "/organisations/{}/measurements.csv"]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(("role", "status"), [
    ("editor", 200), ("lead", 200), ("coordinator", 200), ("admin", 200),
    ("other_lead", 403), ("other_editor", 403), ("other_coordinator", 403),
])
def test_who_may_download(client, world, data, url, role, status):
    client.login(world.user(role))
    response = client.get(url.format(world.org.slug))
    assert response.status_code == status
    if status == 403:
        assert b"Halve prone restraint" not in response.data


def test_the_public_is_sent_to_sign_in(client, world, data):
    response = client.get(f"/organisations/{world.org.slug}/commitments.xlsx")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_a_pending_organisation_is_not_found_by_outsiders(client, world, data):
    world.org.status = f.OrganisationStatus.PENDING
    db.session.commit()
    client.login(world.user("other_lead"))
    assert client.get(f"/organisations/{world.org.slug}/commitments.csv").status_code == 404
    client.login(world.user("lead"))
    assert client.get(f"/organisations/{world.org.slug}/commitments.csv").status_code == 200


@pytest.mark.parametrize("role", ["other_lead", "other_coordinator", "public"])
def test_the_export_service_checks_permission_itself(world, data, role):
    for export in (spreadsheets.export_xlsx, spreadsheets.export_csv,
                   spreadsheets.export_measurements_csv):
        with pytest.raises(PermissionDenied):
            export(world.user(role), world.org)


def test_export_runs_a_fixed_number_of_queries(world, data):
    user = world.user("lead")

    def queries() -> int:
        db.session.expire_all()
        with count_queries() as counter:
            spreadsheets.export_xlsx(user, world.org)
            spreadsheets.export_csv(user, world.org)
            spreadsheets.export_measurements_csv(user, world.org)
        return counter.count

    small = queries()
    for i in range(40):
        c = f.commitment(world.org, data.lrp, title=f"Promise {i}")
        link = attach(c, indicator(f"Indicator {i}"))
        measure(link, date(2026, 1, 1), date(2026, 3, 31), str(i))
    db.session.commit()
    assert queries() == small

