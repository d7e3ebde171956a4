"""Spreadsheet upload: reading files, every validation rule with its message, all or
nothing, and the rules of the service."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from charter.commitments import services, spreadsheets
from charter.commitments.spreadsheets import importing
from charter.extensions import db
from charter.models import (
    RAG,
    Ambition,
    AuditEvent,
    Commitment,
    CommitmentStatus,
    Completion,
    Measurement,
)
from charter.permissions import PermissionDenied
from tests.test_spreadsheets_data import (
    COMMITMENT_HEADERS,
    MEASUREMENT_HEADERS,
    commitment_row,
    csv_file,
    errors_of,
    make_data,
    measurement_row,
    new_row,
    xlsx_file,
)


@pytest.fixture
def data(world):
    return make_data(world)


def plan(world, content, role="editor"):
    return spreadsheets.plan_import(world.user(role), world.org, content)


def all_rows(data, changes_by_id=None):
    """Every commitment of the organisation as downloaded, with changes for some."""
    changes_by_id = changes_by_id or {}
    return [commitment_row(c, **changes_by_id.get(c.id, {}))
            for c in (data.published, data.draft, data.retired)]


def one_error(world, content) -> str:
    result = plan(world, content)
    assert len(result.errors) == 1, errors_of(result)
    return result.errors[0].sentence


# --- reading a file that is right --------------------------------------------------------

def test_an_unchanged_download_changes_nothing(world, data):
    result = plan(world, csv_file(all_rows(data)))
    assert result.is_valid and not result.has_changes
    assert result.unchanged_commitments == 3


def test_a_changed_row_and_a_new_row_are_planned(world, data):
    rows = all_rows(data, {data.draft.id: {"Title": "Safety huddles twice a day",
                                         "RAG": "off_track"}})
    rows.append(new_row(Title="Lived-experience panel", **{"Change domain": "Prevention and early "
                                                                             "detection"}))
    result = plan(world, csv_file(rows))
    assert result.is_valid, errors_of(result)
    assert [u.commitment.id for u in result.updates] == [data.draft.id]
    assert {c.column: (c.old, c.new) for c in result.updates[0].shown} == {
        "Title": ("Safety huddles on every ward", "Safety huddles twice a day"),
        "RAG": ("On track", "Off track"),
    }
    assert [c.values.title for c in result.creates] == ["Lived-experience panel"]
    assert result.creates[0].values.domain_id == data.prevention.id
    assert result.unchanged_commitments == 2
    assert db.session.get(Commitment, data.draft.id).title == "Safety huddles on every ward"


@pytest.mark.parametrize("text", ["on_track", "ON TRACK", "On track", "on-track"])
def test_enumerations_are_read_by_value_or_label_in_any_case(world, data, text):
    rows = [commitment_row(data.draft, RAG=text, Ambition="DESIRABLE", Completion="not started")]
    result = plan(world, csv_file(rows))
    assert result.is_valid, errors_of(result)
    assert result.updates[0].values == {"ambition": Ambition.DESIRABLE}


def test_new_rows_take_the_defaults_and_become_drafts(world, data):
    result = plan(world, csv_file([new_row(Status="Draft")]))
    assert result.is_valid, errors_of(result)
    values = result.creates[0].values
    assert (values.ambition, values.completion, values.rag) == (
        Ambition.ESSENTIAL, Completion.NOT_STARTED, RAG.ON_TRACK)


def test_quoted_formulas_come_back_without_the_quote(world, data):
    data.draft.title = "=1+1 is not a formula"
    db.session.commit()
    rows = [commitment_row(data.draft, Title="'=1+1 is not a formula")]
    assert not plan(world, csv_file(rows)).has_changes


def test_line_endings_do_not_count_as_changes(world, data):
    data.published.description = "One\r\nTwo"
    db.session.commit()
    rows = [commitment_row(data.published, Description="One\nTwo")]
    assert not plan(world, csv_file(rows)).has_changes


def test_a_semicolon_csv_with_decimal_commas_is_read(world, data):
    content = csv_file([measurement_row(data.published.id, value="12,5")], MEASUREMENT_HEADERS,
                       delimiter=";")
    result = plan(world, content)
    assert result.is_valid, errors_of(result)
    assert result.measurement_creates[0].value == Decimal("12.5")


def test_a_csv_without_bom_is_read(world, data):
    result = plan(world, csv_file([new_row(Title="Café ‘Ř’ 心 🌱")], bom=False))
    assert result.is_valid and result.creates[0].values.title == "Café ‘Ř’ 心 🌱"


def test_measurements_update_the_same_period_or_are_added(world, data):
    rows = [
        measurement_row(data.published.id, start="2026-01-01", end="2026-03-31", value="14",
                        note="First quarter"),  # unchanged
        measurement_row(data.published.id, start="2026-04-01", end="2026-06-30", value="10"),
        measurement_row(data.published.id, "seclusion episodes", value="3"),  # any case
    ]
    result = plan(world, csv_file(rows, MEASUREMENT_HEADERS))
    assert result.is_valid, errors_of(result)
    assert result.unchanged_measurements == 1
    assert [(m.measurement.id, m.value) for m in result.measurement_updates] == [
        (data.q2.id, Decimal("10"))]
    assert [(m.link.id, m.value) for m in result.measurement_creates] == [
        (data.other_link.id, Decimal("3"))]


def test_an_xlsx_with_only_a_commitments_sheet_says_measurements_are_left_alone(world, data):
    rows = [commitment_row(data.draft, Title="Renamed")]
    result = plan(world, xlsx_file({"Commitments": rows}))
    assert result.is_valid and len(result.updates) == 1
    assert any("no Measurements sheet" in n for n in result.notices)


# --- every rule, with its message ---------------------------------------------------------

def _row_error(world, data, **changes):
    return one_error(world, csv_file([commitment_row(data.draft, **changes)]))


def test_a_date_that_does_not_exist(world, data):
    assert _row_error(world, data, **{"Target date": "2025-02-30"}) == (
        "Row 2, Target date: 2025-02-30 is not a date. Use YYYY-MM-DD.")


def test_a_date_in_another_format(world, data):
    assert _row_error(world, data, **{"Start date": "31/01/2026"}) == (
        "Row 2, Start date: 31/01/2026 is not a date. Use YYYY-MM-DD.")


def test_an_unknown_change_domain_lists_the_active_ones(world, data):
    assert _row_error(world, data, **{"Change domain": "restraint"}) == (
        "Row 2, Change domain: 'restraint' is not a change domain. Use one of: "
        "least-restrictive-practice, prevention-and-early-detection.")


def test_a_retired_change_domain_is_refused_for_new_and_moved_commitments(world, data):
    assert "'old-heading' has been retired: choose another change domain" in _row_error(
        world, data, **{"Change domain": "old-heading"})
    assert "has been retired" in one_error(world, csv_file([new_row(**{"Change domain":
                                                                           "old-heading"})]))


def test_a_commitment_keeps_its_retired_change_domain(world, data):
    data.retired.status = CommitmentStatus.PUBLISHED
    db.session.commit()
    result = plan(world, csv_file([commitment_row(data.retired, Title="Still under the old heading")]))
    assert result.is_valid, errors_of(result)


def test_the_form_and_the_import_ask_the_same_rules(world, data):
    """One check of a commitment's values (services.check_values), worded by the form beside
    its fields and by the import by row and column, in the order of the columns."""
    values = services.CommitmentValues(title="T", domain_id=data.retired_domain.id,
                                       start_date=date(2026, 5, 1), target_date=date(2026, 4, 1))
    domain_retired = services.Refusal(services.RETIRED_DOMAIN, "domain")
    dates = services.Refusal(services.DATES_OUT_OF_ORDER, "target_date")
    assert services.check_values(values, data.retired_domain) == [domain_retired, dates]
    assert services.check_values(values, data.retired_domain, data.retired) == [dates]
    assert services.check_values(values, data.retired_domain, data.retired,
                                 expected_version=data.retired.version + 1)[0] == services.Refusal(
        services.STALE_VERSION, "version")

    result = plan(world, csv_file([new_row(**{"Change domain": "old-heading", "Description": "x\x01",
                                              "Start date": "2026-05-01",
                                              "Target date": "2026-04-01"})]))
    assert [(e.column, e.message.split(":")[0]) for e in result.errors] == [
        ("Change domain", "'old-heading' has been retired"),
        ("Description", "Remove the invisible control characters from this text."),
        ("Target date", "The target date (2026-04-01) must be on or after the start date (2026-05-01)."),
    ]


def test_a_missing_title(world, data):
    assert _row_error(world, data, Title="  ") == (
        "Row 2, Title: Enter a title for the commitment.")


def test_a_title_that_is_too_long(world, data):
    assert _row_error(world, data, Title="x" * 201) == (
        "Row 2, Title: Use 200 characters or fewer (this has 201).")


def test_a_title_with_a_line_break(world, data):
    assert "Remove the line breaks" in _row_error(world, data, Title="Two\nlines")


def test_a_description_that_is_too_long(world, data):
    assert "Row 2, Description: Use 20,000 characters or fewer" in _row_error(
        world, data, Description="y" * 20001)


def test_a_target_date_before_the_start_date(world, data):
    assert _row_error(world, data, **{"Start date": "2026-06-01", "Target date": "2026-05-01"}) == (
        "Row 2, Target date: The target date (2026-05-01) must be on or after the start date "
        "(2026-06-01).")


@pytest.mark.parametrize(("column", "value", "message"), [
    ("Ambition", "huge", "'huge' is not an ambition. Use one of: Essential, Desirable, "
                         "Aspirational, Breakthrough."),
    ("Completion", "half", "'half' is not a completion level. Use one of: Not started, Limited, "
                           "Substantial, Completed, Withdrawn."),
    ("RAG", "green", "'green' is not a RAG status. Use one of: On track, At risk, Off track."),
    ("RAG", "", "Choose one of: On track, At risk, Off track."),
])
def test_enumerations_that_are_not_allowed(world, data, column, value, message):
    assert _row_error(world, data, **{column: value}) == f"Row 2, {column}: {message}"


def test_another_organisations_commitment(world, data):
    assert one_error(world, csv_file([commitment_row(data.others, Title="Mine now")])) == (
        f"Row 2, ID: {data.others.id} is not one of your commitments. Leave ID empty to add a new "
        "commitment.")


def test_a_commitment_that_does_not_exist(world, data):
    assert "is not one of your commitments" in _row_error(world, data, ID=999999)


def test_an_id_that_is_not_a_number(world, data):
    assert _row_error(world, data, ID="abc") == (
        "Row 2, ID: 'abc' is not a commitment number. Leave ID empty to add a new commitment.")


def test_a_retired_commitment_cannot_be_changed(world, data):
    assert one_error(world, csv_file([commitment_row(data.retired, Title="Back again")])) == (
        f"Row 2, ID: Commitment {data.retired.id} is retired, and retired commitments cannot be "
        "changed.")


def test_a_row_changed_by_someone_else_since_the_download(world, data):
    downloaded = commitment_row(data.draft, Title="My new title")
    data.draft.title = "Their new title"
    db.session.commit()
    assert db.session.get(Commitment, data.draft.id).version == downloaded["Version"] + 1
    message = one_error(world, csv_file([downloaded]))
    assert message.startswith("Row 2, Version: Commitment")
    assert "changed by someone else since you downloaded the file — download it again" in message


def test_the_same_commitment_twice(world, data):
    rows = [commitment_row(data.draft), commitment_row(data.draft, Title="Again")]
    assert one_error(world, csv_file(rows)) == (
        f"Row 3, ID: Commitment {data.draft.id} is already in row 2: each commitment may appear "
        "once.")


def test_the_same_new_commitment_twice(world, data):
    rows = [new_row(Title="Peer support"), new_row(Title="peer  support")]
    assert one_error(world, csv_file(rows)) == (
        "Row 3, Title: This new commitment is already in row 2.")


def test_the_status_cannot_be_changed_by_a_file(world, data):
    assert "The status cannot be changed by uploading a file" in _row_error(
        world, data, Status="Published")
    assert "New commitments are saved as drafts" in one_error(
        world, csv_file([new_row(Status="published")]))


def test_a_value_in_a_column_without_a_header(world, data):
    headers = [*COMMITMENT_HEADERS, ""]
    row = commitment_row(data.draft)
    row[""] = "stray"
    assert one_error(world, csv_file([row], headers)) == (
        "Row 2, L: This column has no header, so its value cannot be read. Delete the value or the "
        "column.")


def _measurement_error(world, **kw):
    return one_error(world, csv_file([measurement_row(**kw)], MEASUREMENT_HEADERS))


def test_a_measurement_for_another_organisations_commitment(world, data):
    assert _measurement_error(world, commitment_id=data.others.id,
                              indicator_name="Rapid tranquillisation") == (
        f"Row 2, Commitment ID: {data.others.id} is not one of your commitments.")


def test_a_measurement_needs_a_commitment(world, data):
    assert _measurement_error(world, commitment_id="") == (
        "Row 2, Commitment ID: Enter the number of the commitment this value belongs to.")


def test_a_measurement_for_an_indicator_that_is_not_attached(world, data):
    assert _measurement_error(world, commitment_id=data.published.id,
                              indicator_name="Rapid tranquillisation") == (
        f"Row 2, Indicator: 'Rapid tranquillisation' is not attached to commitment "
        f"{data.published.id}. Use one of: Prone restraints, Seclusion episodes (or attach it on "
        "the commitment's page first).")


def test_a_measurement_for_a_commitment_without_indicators(world, data):
    assert _measurement_error(world, commitment_id=data.draft.id) == (
        f"Row 2, Indicator: Commitment {data.draft.id} has no indicators yet: attach 'Prone "
        "restraints' on its page first.")


@pytest.mark.parametrize(("kw", "message"), [
    ({"start": "2026-13-01"}, "Row 2, Period start: 2026-13-01 is not a date. Use YYYY-MM-DD."),
    ({"end": ""}, "Row 2, Period end: Enter a date, as YYYY-MM-DD."),
    ({"start": "2026-09-30", "end": "2026-07-01"},
     "Row 2, Period end: The period end (2026-07-01) must be on or after the period start "
     "(2026-09-30)."),
    ({"value": "twelve"},
     "Row 2, Value: 'twelve' is not a number. Use digits, with a dot for decimals (like 12.5)."),
    ({"value": "-3"}, "Row 2, Value: -3 is negative: use a number of zero or more."),
    ({"value": "1e13"}, "Row 2, Value: 1e13 is too large: use a number below 1,000,000,000,000."),
    ({"value": "NaN"},
     "Row 2, Value: 'NaN' is not a number. Use digits, with a dot for decimals (like 12.5)."),
    ({"value": ""}, "Row 2, Value: Enter the value, as a number."),
    ({"note": "n" * 2001}, "Row 2, Note: Use 2,000 characters or fewer (this has 2,001)."),
])
def test_measurement_rules(world, data, kw, message):
    assert _measurement_error(world, commitment_id=data.published.id, **kw) == message


def test_the_same_measurement_twice(world, data):
    rows = [measurement_row(data.published.id, value="1"), measurement_row(data.published.id,
                                                                           value="2")]
    assert one_error(world, csv_file(rows, MEASUREMENT_HEADERS)) == (
        "Row 3: This row repeats row 2: the same commitment, indicator and period.")


def test_measurements_of_a_retired_commitment_cannot_change(world, data):
    data.published.status = CommitmentStatus.RETIRED
    db.session.commit()
    rows = [measurement_row(data.published.id, start="2026-01-01", end="2026-03-31", value="14",
                            note="First quarter"),  # unchanged: fine
            measurement_row(data.published.id, value="1")]
    assert one_error(world, csv_file(rows, MEASUREMENT_HEADERS)) == (
        f"Row 3, Commitment ID: Commitment {data.published.id} is retired: its measurements cannot "
        "be changed.")


def test_every_problem_is_reported_with_its_sheet(world, data):
    content = xlsx_file({
        "Commitments": [commitment_row(data.draft, **{"Target date": "soon", "RAG": "green"})],
        "Measurements": [measurement_row(data.published.id, value="-1")],
    })
    result = plan(world, content)
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [
        ("Commitments", 2, "Target date"), ("Commitments", 2, "RAG"), ("Measurements", 2, "Value")]


def test_xlsx_cells_keep_their_types(world, data):
    rows = [commitment_row(data.draft, ID=data.draft.id, Version=data.draft.version,
                           **{"Start date": date(2026, 2, 1), "Target date": date(2026, 12, 31)})]
    rows.append(new_row(**{"Target date": 45000}))  # a number in a date column
    result = plan(world, xlsx_file({"Commitments": rows,
                                    "Measurements": [measurement_row(data.published.id, value=7.25)]}))
    assert errors_of(result) == ["Row 3, Target date: 45000 is not a date. Use YYYY-MM-DD."]


# --- whole-file problems ------------------------------------------------------------------

def _problem(world, content) -> spreadsheets.FileProblem:
    with pytest.raises(spreadsheets.FileProblem) as exc:
        plan(world, content)
    return exc.value


def test_wrong_headers_are_listed_in_one_message(world, data):
    headers = [h for h in COMMITMENT_HEADERS if h not in ("Version", "RAG")] + ["Colour"]
    problem = _problem(world, csv_file([{"ID": 1}], headers))
    assert problem.message == "The columns of this file are not the ones of the download."
    text = " ".join(problem.details)
    assert "Missing columns: Version, RAG." in text
    assert "Columns not recognised: “Colour”." in text
    assert "ID, Version, Title, Change domain" in text


def test_wrong_headers_in_a_workbook(world, data):
    problem = _problem(world, xlsx_file({"Commitments": [], "Measurements": []},
                                        {"Commitments": ["ID", "Name"], "Measurements": ["Value"]}))
    text = " ".join(problem.details)
    assert "Commitments: the first row must hold" in text and "Measurements: the first row" in text


def test_a_file_that_is_no_export_at_all(world, data):
    problem = _problem(world, b"name,age\nAnna,3\n")
    assert problem.message == "The first row of this file is not the header row of a download."


def test_a_file_that_is_not_utf8(world, data):
    content = csv_file([new_row(Title="Zdravotní péče")], encoding="cp1250")
    assert "not saved as UTF-8" in _problem(world, content).message
    assert "CSV UTF-8" in _problem(world, content).message


def test_a_utf16_file(world, data):
    content = "\ufeffID,Title\n".encode("utf-16-le")
    assert "UTF-16" in _problem(world, b"\xff\xfe" + content[2:]).message


def test_garbage_bytes(world, data):
    content = random.Random(4).randbytes(4000)
    assert _problem(world, content).message.startswith("This file is neither a CSV file nor an Excel")


def test_a_zip_of_junk_is_not_a_workbook(world, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("junk.txt", "not a spreadsheet")
    assert "a ZIP archive, not an Excel workbook" in _problem(world, buffer.getvalue()).message


def test_a_damaged_workbook(world, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not-xml")
        archive.writestr("[Content_Types].xml", "junk")
    assert "cannot be read" in _problem(world, buffer.getvalue()).message
    assert "cannot be read" in _problem(world, xlsx_file({"Commitments": []})[:300]).message


def test_an_old_xls_file(world, data):
    assert ".xls" in _problem(world, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500).message


def test_an_empty_file(world, data):
    assert _problem(world, b"").message == "The file is empty."
    assert _problem(world, b"\xef\xbb\xbf\r\n").message == "The file is empty."


def test_a_file_with_only_headers(world, data):
    assert "no rows under the header" in _problem(world, csv_file([], COMMITMENT_HEADERS)).message


def test_a_workbook_without_the_sheets(world, data):
    assert "no sheet called Commitments or Measurements" in _problem(
        world, xlsx_file({"Sheet1": [{"a": 1}]})).message


# --- permissions and all or nothing in the service ----------------------------------------

@pytest.mark.parametrize("role", ["coordinator", "admin", "other_lead", "other_editor", "public"])
def test_only_members_may_import(world, data, role):
    with pytest.raises(PermissionDenied):
        plan(world, csv_file(all_rows(data)), role=role)


def test_one_bad_row_in_500_saves_nothing(world, data):
    rows = [new_row(Title=f"Promise {i}") for i in range(499)]
    rows.insert(250, new_row(Title="Bad", **{"Target date": "2026-02-30"}))
    result = plan(world, csv_file(rows))
    assert errors_of(result) == ["Row 252, Target date: 2026-02-30 is not a date. Use YYYY-MM-DD."]
    with pytest.raises(ValueError, match="valid plan"):
        spreadsheets.apply_import(world.user("editor"), world.org, result)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Commitment)) == 4


def test_apply_records_one_event_per_new_or_changed_commitment(world, data):
    rows = all_rows(data, {data.draft.id: {"Title": "Renamed"}})
    rows.append(new_row(Title="Brand new"))
    measurements = [measurement_row(data.published.id, value="5"),
                    measurement_row(data.published.id, start="2026-04-01", end="2026-06-30",
                                    value="11.5", note="Now with a note")]
    content = xlsx_file({"Commitments": rows, "Measurements": measurements})
    result = plan(world, content)
    spreadsheets.apply_import(world.user("editor"), world.org, result)
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "commitment.imported")
                                ).all()
    new = db.session.scalar(select(Commitment).where(Commitment.title == "Brand new"))
    assert sorted(e.object_id for e in events) == sorted([data.draft.id, data.published.id, new.id])
    by_id = {e.object_id: e.changes for e in events}
    assert by_id[data.draft.id] == {"title": ["Safety huddles on every ward", "Renamed"]}
    assert by_id[data.published.id] == {
        "measurement Prone restraints 2026-07-01 to 2026-09-30": [None, "5"],
        "measurement Prone restraints 2026-04-01 to 2026-06-30 note": [None, "Now with a note"],
    }
    assert by_id[new.id]["title"] == [None, "Brand new"]
    assert new.status == CommitmentStatus.DRAFT and new.created_by_id == world.user("editor").id
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == 3
    assert db.session.get(Measurement, data.q2.id).note == "Now with a note"


def _imported_events():
    return [
        (e.actor_id, e.actor_label, e.action, e.object_type, e.object_id, e.object_label, e.site_id,
         e.organisation_id, e.changes)
        for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "commitment.imported").order_by(AuditEvent.object_id))
    ]


def test_uploads_record_the_same_events_in_one_insert(world, data, monkeypatch):
    """The import writes its events in one INSERT (audit.record_many); they must be the
    very rows services.record writes one by one."""
    def run():
        draft = db.session.get(Commitment, data.draft.id)
        rows = [commitment_row(draft, Title="Renamed", **{"Start date": "2026-01-01"}),
                new_row(Title="Brand new", Description="Text", **{"Target date": "2027-01-01"})]
        measurements = [measurement_row(data.published.id, value="4", note="Counted")]
        result = plan(world, xlsx_file({"Commitments": rows, "Measurements": measurements}))
        assert result.is_valid, errors_of(result)
        spreadsheets.apply_import(world.user("editor"), world.org, result)
        db.session.commit()
        events = _imported_events()
        new_id = db.session.scalar(select(Commitment.id).where(Commitment.title == "Brand new"))
        # Put everything back as it was.
        db.session.execute(AuditEvent.__table__.delete())
        db.session.execute(Commitment.__table__.delete().where(Commitment.id == new_id))
        db.session.execute(Measurement.__table__.delete().where(Measurement.note == "Counted"))
        draft = db.session.get(Commitment, data.draft.id)
        draft.title, draft.start_date = "Safety huddles on every ward", None
        db.session.commit()
        # The new commitment's id differs between runs.
        return [e[:4] + (e[4] if e[4] != new_id else "new",) + e[5:] for e in events]

    in_bulk = run()

    def one_at_a_time(actor, organisation, events):
        from charter.commitments import services

        for commitment, changes in events:
            services.record(actor, "commitment.imported", commitment, changes)

    monkeypatch.setattr(importing, "_record_imported", one_at_a_time)
    one_by_one = run()
    assert len(one_by_one) == 3
    assert in_bulk == one_by_one


def test_a_cell_too_long_for_csv(world, data):
    content = csv_file([new_row(Description="z" * 200_000)])
    assert _problem(world, content).message.startswith("Line 2 of the file could not be read as CSV")


def test_a_changed_row_needs_its_version(world, data):
    assert _row_error(world, data, Title="Renamed", Version="") == (
        "Row 2, Version: Enter the version shown in the file you downloaded; without it, a change by "
        "someone else could be overwritten.")
    assert _row_error(world, data, Title="Renamed", Version="v2") == (
        "Row 2, Version: 'v2' is not a version number. Leave it as downloaded.")
