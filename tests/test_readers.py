"""charter.readers: the one way to read ids, page numbers, numbers, dates, years and quarters,
and the form fields of charter.forms_common that use it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms.validators import InputRequired

from charter import forms_common as fc
from charter import readers
from charter.readers import ReadError

ODD_DIGITS = ["²", "٣", "١٢", "１２", "൧൨", "𝟙𝟚"]  # superscript, Arabic-Indic, full-width, …
HUGE = "99999999999999999999999"


# --- ids ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [
    ("1", 1), ("12", 12), (" 12 ", 12), ("007", 7), (str(2**31 - 1), 2**31 - 1), (12, 12),
    (12.0, 12), (Decimal(12), 12), ("", None), ("   ", None), (None, None),
])
def test_ids_are_ascii_whole_numbers(raw, value):
    assert readers.read_id(raw) == value


@pytest.mark.parametrize("raw", [
    *ODD_DIGITS, "0", "-1", "+-1", str(2**31), HUGE, "9" * 5000, "1.5", 1.5, "1e3", "1_000",
    "1 2", "12\x00", "\x00", True, "0x1f", "abc", "x" * 5000, float("nan"), float("inf"),
])
def test_anything_else_is_not_an_id(raw):
    with pytest.raises(ReadError) as exc:
        readers.read_id(raw)
    assert str(exc.value.message) == str(readers.NOT_AN_ID)
    assert readers.id_or_none(raw) is None


def test_a_message_can_be_given():
    with pytest.raises(ReadError) as exc:
        readers.read_id("²", "Say which version you read.")
    assert exc.value.message == "Say which version you read."


# --- whole numbers and page numbers ----------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("365", 365), ("-3", -3), ("+4", 4), (7, 7)])
def test_whole_numbers_in_range(raw, value):
    assert readers.read_int(raw, -5, 365) == value


@pytest.mark.parametrize(("raw", "out_of_range"), [
    ("366", True), ("-6", True), (HUGE, True), ("٣", False), ("１２", False), ("3.0", False),
    ("3,5", False), ("\x00", False),
])
def test_whole_numbers_out_of_range_or_unreadable(raw, out_of_range):
    with pytest.raises(ReadError) as exc:
        readers.read_int(raw, -5, 365)
    assert exc.value.out_of_range is out_of_range
    assert "Enter a whole number from -5 to 365" in str(exc.value.message)
    assert readers.int_or_none(raw, -5, 365) is None


@pytest.mark.parametrize(("raw", "page"), [
    (None, 1), ("", 1), ("1", 1), ("3", 3), (" 3 ", 3), ("0", 1), ("-1", 1), ("²", 1), ("٣", 1),
    ("１２", 1), ("2.5", 1), ("\x00", 1), ("x" * 5000, 1), (HUGE, readers.MAX_PAGE),
    ("9" * 5000, readers.MAX_PAGE),
])
def test_page_numbers_of_html_lists_fall_back_to_the_first_page(raw, page):
    assert readers.read_page(raw) == page


# --- decimals -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [
    ("12", Decimal(12)), ("3,5", Decimal("3.5")), ("1 234,5", Decimal("1234.5")),
    ("−2", Decimal(-2)), (Decimal("2.5"), Decimal("2.5")), (3, Decimal(3)),
    (0.1, Decimal("0.1")), ("", None),
])
def test_decimals_as_people_type_them(raw, value):
    assert readers.read_decimal(raw) == value


@pytest.mark.parametrize(("raw", "words"), [
    *((d, "Enter a number") for d in ODD_DIGITS), ("1e5", "Enter a number"),
    ("NaN", "Enter a number"), ("Infinity", "Enter a number"), (float("nan"), "Enter a number"),
    (float("inf"), "Enter a number"), (Decimal("NaN"), "Enter a number"),
    (Decimal("-Infinity"), "Enter a number"), (True, "Enter a number"), ("\x00", "Enter a number"),
    (HUGE, "smaller than one trillion"), (1e300, "smaller than one trillion"),
    ("0.1234567", "six decimal places"), ("x" * 5000, "Enter a number"),
])
def test_decimals_that_are_not_numbers_or_too_large(raw, words):
    with pytest.raises(ReadError) as exc:
        readers.read_decimal(raw)
    assert words in str(exc.value.message)


@pytest.mark.parametrize(("raw", "value"), [
    ("12.5", Decimal("12.5")), ("1.2E+3", Decimal(1200)), (" 7 ", Decimal(7)), (7.25, Decimal("7.25")),
    ("0.1234567", Decimal("0.1234567")),  # spreadsheets' extra decimals are rounded by the caller
])
def test_decimals_in_spreadsheet_cells(raw, value):
    assert readers.read_decimal(raw, cell=True) == value


@pytest.mark.parametrize("raw", ["١٢", "１２", "3,5", "1,234.5", "NaN", "inf", "1e99999",
                                 "1e9999999999", "1e-9999999999"])
def test_cells_hold_plain_numbers(raw):
    with pytest.raises(ReadError):
        readers.read_decimal(raw, cell=True)


def test_a_decimal_comma_in_a_semicolon_csv():
    assert readers.read_decimal("3,5", cell=True, decimal_comma=True) == Decimal("3.5")


def test_a_minimum():
    with pytest.raises(ReadError) as exc:
        readers.read_decimal("-1", minimum=Decimal(0))
    assert exc.value.out_of_range


# --- dates, years, quarters ---------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value"), [
    ("2026-03-31", date(2026, 3, 31)), (" 2026-03-31 ", date(2026, 3, 31)),
    ("2026-03-31 00:00:00", date(2026, 3, 31)), ("1900-01-01", date(1900, 1, 1)),
    ("2200-12-31", date(2200, 12, 31)), (date(2026, 1, 2), date(2026, 1, 2)),
    (datetime(2026, 1, 2, 0, 0), date(2026, 1, 2)), ("", None), (None, None),
])
def test_dates_in_the_years_1900_to_2200(raw, value):
    assert readers.read_date(raw) == value


@pytest.mark.parametrize("raw", [
    "0001-01-01", "0000-01-01", "1899-12-31", "2201-01-01", "9999-12-31", date(1, 1, 1),
    date(9999, 12, 31), datetime(9999, 12, 31, 23, 59), date(1899, 12, 31),
])
def test_dates_outside_the_years_are_refused(raw):
    with pytest.raises(ReadError) as exc:
        readers.read_date(raw)
    assert exc.value.out_of_range
    assert str(exc.value.message) == "Enter a date between 1900 and 2200."


@pytest.mark.parametrize("raw", [
    "٢٠٢٦-٠٣-٣١", "２０２６-０３-３１", "2026-02-30", "2026-13-01", "31/03/2026", "2026-3-31",
    "20260331", "2026-03-31T10:00", "\x00", "x" * 5000, 45000, 45000.0, True, "0000-Q1",
])
def test_what_is_not_an_iso_date(raw):
    with pytest.raises(ReadError) as exc:
        readers.read_date(raw)
    assert not exc.value.out_of_range
    assert "Enter the date as year, month and day" in str(exc.value.message)


@pytest.mark.parametrize(("raw", "value"), [("2026", 2026), ("1900", 1900), ("2200", 2200), (2026, 2026)])
def test_years(raw, value):
    assert readers.read_year(raw) == value


@pytest.mark.parametrize("raw", ["0", "0001", "1899", "2201", "9999", "٢٠٢٦", "２０２６", "26", HUGE,
                                 "\x00"])
def test_years_outside_or_unreadable(raw):
    with pytest.raises(ReadError):
        readers.read_year(raw)


@pytest.mark.parametrize(("raw", "start", "end"), [
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2024q2", date(2024, 4, 1), date(2024, 6, 30)),
    ("2200-Q4", date(2200, 10, 1), date(2200, 12, 31)),
])
def test_quarters(raw, start, end):
    quarter = readers.read_quarter(raw)
    assert (quarter.start, quarter.end) == (start, end)
    assert str(quarter) == raw.upper().replace("Q", "-Q").replace("--", "-")


@pytest.mark.parametrize(("raw", "out_of_range"), [
    ("0000-Q1", True), ("9999-Q4", True), ("1899-Q4", True), ("2026-Q0", False),
    ("2026-Q5", False), ("٢٠٢٦-Q1", False), ("２０２６-Q1", False), ("2026-Q²", False),
    ("\x00", False), ("x" * 5000, False),
])
def test_quarters_outside_or_unreadable(raw, out_of_range):
    with pytest.raises(ReadError) as exc:
        readers.read_quarter(raw)
    assert exc.value.out_of_range is out_of_range


def test_stored_dates_outside_the_range_are_recognised():
    assert readers.in_range(date(2026, 1, 1)) and readers.in_range(datetime(2026, 1, 1, 12))
    assert not readers.in_range(date(9999, 12, 31)) and not readers.in_range(date(1, 1, 1))
    assert not readers.in_range(None)


def test_shifting_a_date_stops_at_the_ends_of_the_calendar():
    assert readers.shift_days(date(2026, 1, 1), -1) == date(2025, 12, 31)
    assert readers.shift_days(date(9999, 12, 31), 7) == date.max
    assert readers.shift_days(date(1, 1, 1), -14) == date.min


# --- form fields -----------------------------------------------------------------------------

class _Form(FlaskForm):
    class Meta:
        csrf = False

    version = fc.IdField()
    days = fc.WholeNumberField("Days", validators=[InputRequired(message="Enter a number of days.")],
                               minimum=0, maximum=365, message="Use a number of days from 0 to 365.")
    value = fc.DecimalField("Value")
    when = fc.DateField("When")


def _form(app, **data) -> _Form:
    with app.test_request_context(method="POST"):
        form = _Form(formdata=MultiDict(data))
        form.validate()
        return form


def test_fields_read_the_one_way(app):
    form = _form(app, version="3", days="0", value="1 234,5", when="2026-03-31")
    assert not form.errors
    assert (form.version.data, form.days.data, form.value.data, form.when.data) == (
        3, 0, Decimal("1234.5"), date(2026, 3, 31))


@pytest.mark.parametrize(("field", "raw", "message"), [
    ("version", "²", str(fc.FORM_INFORMATION_MISSING)),
    ("version", HUGE, str(fc.FORM_INFORMATION_MISSING)),
    ("days", "٣", "Use a number of days from 0 to 365."),
    ("days", "１２", "Use a number of days from 0 to 365."),
    ("days", "366", "Use a number of days from 0 to 365."),
    ("days", "", "Enter a number of days."),
    ("value", "１２", "Enter a number, such as 12 or 3.5."),
    ("value", "\x00", "Enter a number, such as 12 or 3.5."),
    ("when", "0001-01-01", "Enter a date between 1900 and 2200."),
    ("when", "9999-12-31", "Enter a date between 1900 and 2200."),
    ("when", "٢٠٢٦-٠٣-٣١", "Enter the date as year, month and day, e.g. 2026-03-31."),
])
def test_fields_say_what_is_wrong_once_and_keep_what_was_typed(app, field, raw, message):
    data = {"version": "3", "days": "7", "value": "2", "when": "2026-01-01", field: raw}
    form = _form(app, **data)
    assert form[field].errors == [message]
    assert form[field].data is None
    expected = raw[:20] if field == "version" else raw
    with app.test_request_context():
        assert form[field]._value() == expected


def test_a_value_set_by_the_page_replaces_what_was_typed(app):
    form = _form(app, version="2", days="7", value="2", when="2026-01-01")
    form.version.data = 5  # e.g. the current row version, after an edit conflict
    assert form.version._value() == "5"


def test_id_fields_are_hidden_fields_to_the_templates(app):
    form = _form(app)
    assert form.version.type == "HiddenField"
    with app.test_request_context():
        assert 'type="hidden"' in str(form.version())
        assert 'min="1900-01-01"' in str(form.when()) and 'max="2200-12-31"' in str(form.when())
