"""Odd input and odd stored values on the pages where they used to answer 500: Unicode digits
in page numbers and ids, an oversized version id on the signing form, quarters in the year 0
or 9999, dates outside 1900 to 2200 (refused on input, survived when already stored), and the
daily `flask charter remind` job with cycles in the year 1 and 9999."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from charter.commitments import spreadsheets
from charter.extensions import db
from charter.models import (
    CharterStatus,
    CommitmentIndicator,
    CommitmentStatus,
    Direction,
    Indicator,
    Measurement,
    ReportingCycle,
    Signature,
)
from charter.models.base import utcnow
from tests import factories as f
from tests.support import text_of
from tests.test_spreadsheets_data import (
    MEASUREMENT_HEADERS,
    csv_file,
    errors_of,
    make_data,
    measurement_row,
    new_row,
)

UNICODE_DIGITS = ["²", "٣", "１２"]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def measured(world):
    """A public commitment of the organisation with a catalogue indicator measured in 2026 Q1."""
    domain = f.domain("Least restrictive practice", slug="least-restrictive-practice")
    commitment = f.commitment(world.org, domain, title="Halve prone restraint",
                              status=CommitmentStatus.PUBLISHED, published_at=utcnow())
    indicator = Indicator(name="Prone restraints", unit="episodes", direction=Direction.LOWER_IS_BETTER)
    ci = CommitmentIndicator(commitment=commitment, indicator=indicator, baseline_value=Decimal(12),
                             baseline_date=date(2025, 12, 31))
    db.session.add_all([indicator, ci])
    db.session.add(Measurement(commitment_indicator=ci, period_start=date(2026, 1, 1),
                               period_end=date(2026, 3, 31), value=Decimal(9)))
    db.session.commit()
    return ci


# --- page numbers and ids in URLs ---------------------------------------------------------------

@pytest.mark.parametrize("page", [*UNICODE_DIGITS, "0", "-1", "99999999999999999999999"])
def test_the_public_domain_page_reads_an_odd_page_number_as_a_page_it_has(client, measured, page):
    response = client.get(f"/domains/least-restrictive-practice?page={page}")
    assert response.status_code == 200
    assert "Halve prone restraint" in text_of(response)


@pytest.mark.parametrize("url", ["/admin/indicators?page=²", "/admin/audit?page=٣",
                                 "/admin/outbox?page=１２"])
def test_admin_lists_read_odd_page_numbers_as_the_first_page(client, world, url):
    client.login(world.user("admin"))
    response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("odd", ["٣", "３", "99999999999999999999999", str(2**31), "0"])
def test_ids_in_paths_are_ascii_digits_in_range_or_nothing(client, measured, odd):
    assert client.get(f"/commitments/{measured.commitment_id}").status_code == 200
    response = client.get(f"/commitments/{odd}")
    assert response.status_code == 404
    assert "There is nothing at this address" in text_of(response)


def test_an_arabic_indic_digit_does_not_open_the_record_with_that_id(client, measured):
    commitment = measured.commitment
    arabic = "".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in str(commitment.id))
    assert client.get(f"/commitments/{commitment.id}").status_code == 200
    assert client.get(f"/commitments/{arabic}").status_code == 404


@pytest.mark.parametrize("cycle", [*UNICODE_DIGITS, "99999999999999999999999"])
def test_the_reporting_page_ignores_a_cycle_it_cannot_read(client, world, cycle):
    f.cycle(world.site, "2026 Q1")
    db.session.commit()
    client.login(world.user("coordinator"))
    response = client.get(f"/manage/sites/{world.site.slug}/reporting?cycle={cycle}")
    assert response.status_code == 200
    assert "2026 Q1" in text_of(response)


@pytest.mark.parametrize("url", ["/signatories?q=%00", "/admin/outbox?to=a%00b",
                                 "/reports?q=%00"])
def test_nul_in_a_query_string_gets_a_clear_400(client, world, url):
    client.login(world.user("admin"))
    response = client.get(url)
    assert response.status_code == 400
    assert "This address contains invisible control characters" in text_of(response)


def test_nul_in_a_slug_is_a_plain_404(client, world):
    for url in ("/organisations/%00", "/sites/%00", "/domains/a%00b"):
        assert client.get(url).status_code == 404


def test_the_api_answers_422_for_unicode_digits_and_404_for_odd_ids(client, world):
    for query in ("page=²", "page=٣", "per_page=１２", "page=99999999999999999999999", "page=0"):
        response = client.get(f"/api/v1/commitments?{query}")
        assert response.status_code == 422, query
        assert response.json["error"]["errors"]["query"]
    assert client.get("/api/v1/commitments/٣").status_code == 404
    response = client.get("/api/v1/commitments?site=%00")  # its own answer: an unknown site
    assert response.status_code == 404
    assert response.json["error"]["errors"] == {"query": {"site": [response.json["error"]["message"]]}}


# --- hidden ids and versions in forms ------------------------------------------------------------

@pytest.mark.parametrize("version_id", ["99999999999999999999999", "²", "٣", "-1", "0"])
def test_an_odd_version_id_on_the_signing_form_is_explained(client, world, version_id):
    f.charter_version(world.site, 1, CharterStatus.OPEN)
    db.session.commit()
    client.login(world.user("lead"))
    response = client.post(f"/organisations/{world.org.slug}/sign", data={
        "version_id": version_id, "authority": "y", "signer_name": "Lead Person",
        "signer_job_title": "Chief Executive"})
    assert response.status_code == 400
    assert "The form did not say which version of the charter you read" in text_of(response)
    assert _count(Signature) == 0


@pytest.mark.parametrize("version", ["²", "99999999999999999999999"])
def test_an_odd_row_version_on_a_charter_draft_button_is_refused(client, world, version):
    draft = f.charter_version(world.site, 1, CharterStatus.DRAFT)
    db.session.commit()
    client.login(world.user("coordinator"))
    response = client.post(f"/manage/sites/{world.site.slug}/charter/{draft.number}/open",
                           data={"version": version})
    assert response.status_code == 400
    db.session.refresh(draft)
    assert draft.status == CharterStatus.DRAFT


def test_an_odd_catalogue_choice_is_explained(client, world, measured):
    client.login(world.user("editor"))
    response = client.post(f"/commitments/{measured.commitment_id}/indicators/new",
                           data={"catalogue_indicator": "²"})
    assert response.status_code in (400, 404)
    assert _count(CommitmentIndicator) == 1


# --- quarters and dates on input ----------------------------------------------------------------

@pytest.mark.parametrize("quarter", ["0000-Q1", "9999-Q4", "٢٠٢٦-Q1", "2026-Q²"])
def test_a_quarter_outside_the_years_is_refused_with_a_message(client, world, measured, quarter):
    client.login(world.user("editor"))
    response = client.post(f"/commitment-indicators/{measured.id}/measurements",
                           data={"quarter": quarter, "value": "5"})
    assert response.status_code == 400
    assert "Choose a quarter from the list." in text_of(response)
    assert _count(Measurement) == 1


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-03-31"), ("9999-10-01", "9999-12-31")])
def test_measurement_dates_outside_the_years_are_refused(client, world, measured, start, end):
    client.login(world.user("editor"))
    response = client.post(f"/commitment-indicators/{measured.id}/measurements",
                           data={"period_start": start, "period_end": end, "value": "5"})
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2200." in text_of(response)
    assert _count(Measurement) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("period_start", "0001-01-01"), ("due_date", "9999-12-31"), ("period_end", "٢٠٢٦-٠٣-٣١"),
    ("reminder_days_before", "١٤"), ("reminder_days_after", "99999999999999999999999"),
])
def test_a_cycle_with_an_odd_date_or_number_is_refused_beside_the_field(client, world, field, value):
    client.login(world.user("coordinator"))
    data = {"name": "2026 Q2", "period_start": "2026-04-01", "period_end": "2026-06-30",
            "due_date": "2026-07-31", "reminder_days_before": "14", "reminder_days_after": "7",
            field: value}
    response = client.post(f"/manage/sites/{world.site.slug}/cycles", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert value[:20] in html  # what was typed is shown again
    assert _count(ReportingCycle) == 0


def test_a_commitment_target_date_in_the_year_9999_is_refused(client, world):
    domain = f.domain("Least restrictive practice", slug="least-restrictive-practice")
    db.session.commit()
    client.login(world.user("editor"))
    response = client.post(f"/organisations/{world.org.slug}/commitments/new", data={
        "title": "Halve prone restraint", "domain": str(domain.id), "target_date": "9999-12-31",
        "ambition": "essential", "completion": "not_started", "rag": "on_track"})
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2200." in text_of(response)


@pytest.mark.parametrize(("kw", "message"), [
    ({"start": "9999-10-01", "end": "9999-12-31"},
     "Row 2, Period start: 9999-10-01 is outside the years 1900 to 2200."),
    ({"start": "٢٠٢٦-٠٧-٠١"}, "Row 2, Period start: ٢٠٢٦-٠٧-٠١ is not a date. Use YYYY-MM-DD."),
    ({"value": "１２"},
     "Row 2, Value: '１２' is not a number. Use digits, with a dot for decimals (like 12.5)."),
    ({"value": "٣"},
     "Row 2, Value: '٣' is not a number. Use digits, with a dot for decimals (like 12.5)."),
])
def test_spreadsheet_cells_read_the_same_way(world, kw, message):
    data = make_data(world)
    result = spreadsheets.plan_import(world.user("editor"), world.org, csv_file(
        [measurement_row(data.published.id, **kw)], MEASUREMENT_HEADERS))
    assert errors_of(result)[0] == message


@pytest.mark.parametrize(("cells", "message"), [
    ({"ID": "٣"}, "Row 2, ID: '٣' is not a commitment number. Leave ID empty to add a new commitment."),
    ({"ID": "99999999999999999999999"},
     "Row 2, ID: '99999999999999999999999' is not a commitment number. Leave ID empty to add a new "
     "commitment."),
    ({"Target date": datetime(9999, 12, 31)},
     "Row 2, Target date: 9999-12-31 is outside the years 1900 to 2200."),
])
def test_spreadsheet_ids_and_date_cells_read_the_same_way(world, cells, message):
    from tests.test_spreadsheets_data import xlsx_file

    make_data(world)
    result = spreadsheets.plan_import(world.user("editor"), world.org,
                                      xlsx_file({"Commitments": [new_row(**cells)]}))
    assert errors_of(result) == [message]


# --- values stored before these rules -------------------------------------------------------------

@pytest.fixture(params=[(date(9999, 10, 1), date(9999, 12, 31)), (date(1, 1, 1), date(1, 3, 31))],
                ids=["9999-Q4", "0001-Q1"])
def odd_measurement(request, world, measured):
    """A measurement stored straight into the database with a period in the year 9999 (or 1),
    as the old forms allowed."""
    start, end = request.param
    db.session.add(Measurement(commitment_indicator=measured, period_start=start, period_end=end,
                               value=Decimal(7)))
    db.session.commit()
    return measured


def test_the_public_commitment_page_shows_a_measurement_dated_9999(client, odd_measurement):
    response = client.get(f"/commitments/{odd_measurement.commitment_id}")
    assert response.status_code == 200
    text = text_of(response)
    assert "is in the table but not drawn" in text
    year = "9999" if "9999" in text else "Mar 1 "
    assert year in text  # the table still lists it


@pytest.mark.parametrize("url", ["/global", "/sites/cambridge", "/global.pdf",
                                 "/sites/cambridge/overview.pdf", "/organisations/fenland-trust",
                                 "/api/v1/measurements", "/api/v1/bulk.zip"])
def test_public_dashboards_and_documents_survive_a_measurement_dated_9999(client, odd_measurement, url):
    response = client.get(url)
    assert response.status_code == 200
    response.close()


def test_the_coordinator_dashboard_and_the_exports_survive_it(client, world, odd_measurement):
    from charter.dashboards.exports import DATASETS, FORMATS

    client.login(world.user("coordinator"))
    urls = [f"/manage/sites/{world.site.slug}/dashboard"]
    urls += [f"/manage/sites/{world.site.slug}/export/{name}.{fmt}" for name in DATASETS
             for fmt in FORMATS]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()
    client.login(world.user("editor"))
    for url in (f"/commitment-indicators/{odd_measurement.id}/measurements",
                f"/organisations/{world.org.slug}/commitments.xlsx",
                f"/organisations/{world.org.slug}/measurements.csv"):
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_a_published_report_with_such_a_measurement_reads_and_prints(client, world, odd_measurement):
    from tests.access.rules import signature_of

    signature_of(world)
    cycle = f.cycle(world.site, "2026 Q1")
    report = f.published_report(world.org, cycle, world.user("coordinator"))
    db.session.commit()
    page = client.get(f"/reports/{report.id}")
    assert page.status_code == 200
    assert "Prone restraints" in text_of(page)
    assert client.get(f"/reports/{report.id}.pdf").status_code == 200


# --- the daily reminder job -----------------------------------------------------------------------

@pytest.fixture
def odd_cycles(world):
    """Cycles stored before dates were read the one way: one in the year 1, one in 9999, on
    a site whose organisation has signed."""
    version = f.charter_version(world.site, 1, CharterStatus.OPEN)
    f.signature(world.org, version, world.user("lead"), signed_at=datetime(2020, 1, 1, tzinfo=UTC))
    f.cycle(world.site, "Year one", period_start=date(1, 1, 1), period_end=date(1, 1, 1),
            due_date=date(1, 1, 1), reminder_days_before=14, reminder_days_after=365)
    f.cycle(world.site, "Year 9999", period_start=date(9999, 12, 31), period_end=date(9999, 12, 31),
            due_date=date(9999, 12, 31), reminder_days_before=365, reminder_days_after=365)
    db.session.commit()


@pytest.mark.parametrize("on_date", [None, "2026-06-01", "1900-01-01", "2200-12-31"])
def test_remind_runs_with_cycles_in_the_year_1_and_9999(app, odd_cycles, on_date):
    args = ["charter", "remind"] + (["--date", on_date] if on_date else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Queued 0 reminder(s)" in result.output


def test_the_pages_of_a_site_with_such_cycles_answer(client, world, odd_cycles):
    client.login(world.user("coordinator"))
    for url in (f"/manage/sites/{world.site.slug}/dashboard", f"/manage/sites/{world.site.slug}/reporting",
                f"/manage/sites/{world.site.slug}/cycles", "/global", f"/sites/{world.site.slug}"):
        assert client.get(url).status_code == 200, url
    client.login(world.user("lead"))
    assert client.get(f"/organisations/{world.org.slug}/reports").status_code == 200


@pytest.mark.parametrize("on_date", ["0001-01-01", "9999-12-31", "٢٠٢٦-٠١-٠١", "2026-02-30", "\x00"])
def test_remind_refuses_a_date_outside_the_years(app, on_date):
    result = app.test_cli_runner().invoke(args=["charter", "remind", "--date", on_date])
    assert result.exit_code == 2
    assert "Use the form YYYY-MM-DD, with a year from 1900 to 2200." in result.output


def test_nul_in_the_sign_in_email_is_refused_beside_the_field(client, world):
    response = client.post("/login", data={"email": "\x00", "password": "correct horse battery staple"})
    assert response.status_code == 400
    assert "Remove the invisible control characters from this text." in text_of(response)
