"""The one way to read ids, page numbers, whole numbers, decimals, dates, years and quarters
from what people send: a form value, a query string, a path segment or a spreadsheet cell.

Every reader takes the raw value (a string, or for spreadsheet cells an int, float, date or
datetime) and either returns the value or raises ReadError, whose `message` says in plain
words what to enter instead (forms show it beside the field). A blank value (None, "" or
only spaces) reads as None: whether a value is required is the caller's business.

The rules, the same everywhere:
- digits are ASCII digits 0-9 only: "²", "٣" and "１２" are not numbers here, even though
  Python's str.isdigit() and int() accept some of them;
- ids are whole numbers from 1 to 2³¹−1 (the range of an INTEGER primary key);
- years are from 1900 to 2200 (so that date arithmetic near the ends of the calendar, as in
  charts and reminders, never overflows, and no one stores the year 1 or 9999 by mistake);
- decimals are finite and bounded, with a bounded number of decimal places.

Page numbers of HTML lists are forgiving: a missing or unreadable page is the first page and
a page past the end is clamped to the last one (charter.pagination). The JSON API says
exactly what is wrong instead (422), through charter.api.schemas.PlainInteger.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from flask import request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, UnicodeConverter

MAX_ID = 2**31 - 1
MAX_PAGE = 1_000_000
MIN_YEAR, MAX_YEAR = 1900, 2200
EARLIEST_DATE, LATEST_DATE = date(MIN_YEAR, 1, 1), date(MAX_YEAR, 12, 31)
NUMBER_INPUT_MAX = 40  # characters of a typed number
DEFAULT_MAX_ABS = Decimal(10) ** 12
DEFAULT_PLACES = 6

_WHOLE = re.compile(r"[+-]?[0-9]+")
_UNSIGNED = re.compile(r"[0-9]+")
MAX_DIGITS = 30  # longer runs of digits are out of range for every reader, unread by int()
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_YEAR = re.compile(r"[0-9]{4}")
_QUARTER = re.compile(r"([0-9]{4})[- ]?[Qq]([1-4])")
# Numbers as people type them: '12', '3.5', '3,5', '-2', '1,234.5', '1 234,5', '12 345'.
_GROUPING_SPACES = re.compile(r"(?<=[0-9])[ \u00a0\u202f\u2009'](?=[0-9])")
_PLAIN = re.compile(r"[+-]?([0-9]+|[0-9]*[.,][0-9]+)")
_EN_GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}(,[0-9]{3})+(\.[0-9]+)?")
_EU_GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}(\.[0-9]{3})+,[0-9]+")
_AMBIGUOUS = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}")
_WITH_UNIT = re.compile(r"[0-9]\s*[^0-9\s.,+-]+$")
# Numbers as spreadsheets write them: a dot for decimals, maybe an exponent.
_CELL_NUMBER = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,4})?")
_CELL_COMMA_DECIMAL = re.compile(r"-?[0-9]+,[0-9]+")
_MIDNIGHT = (" 00:00:00", "T00:00:00", " 00:00")

NOT_AN_ID = _l("This is not a valid reference: reload the page and try again.")
NOT_A_DATE = _l("Enter the date as year, month and day, e.g. 2026-03-31.")
DATE_OUT_OF_RANGE = _l("Enter a date between %(low)d and %(high)d.", low=MIN_YEAR, high=MAX_YEAR)
NOT_A_YEAR = _l("Enter a year from %(low)d to %(high)d, such as 2026.", low=MIN_YEAR, high=MAX_YEAR)
NOT_A_QUARTER = _l("Enter a quarter as year and quarter, such as 2026-Q3, between %(low)d and "
                   "%(high)d.", low=MIN_YEAR, high=MAX_YEAR)
NOT_A_NUMBER = _l("Enter a number, such as 12 or 3.5.")


class ReadError(ValueError):
    """A value that could not be read. `message` says, for the person, what to enter;
    `out_of_range` is True when the value was well formed but outside the allowed range."""

    def __init__(self, message, *, out_of_range: bool = False):
        super().__init__(message)
        self.message = message
        self.out_of_range = out_of_range

    def __str__(self) -> str:
        return str(self.message)  # translated when shown, in the request's language


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _whole_number_text(raw: Any, signed: bool = True) -> str | None:
    """The ASCII text of a whole number (a sign allowed when `signed`), or None when `raw`
    is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else None
    if isinstance(raw, Decimal):
        return str(int(raw)) if raw.is_finite() and raw == raw.to_integral_value() else None
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    return text if (_WHOLE if signed else _UNSIGNED).fullmatch(text) else None


# --- whole numbers ----------------------------------------------------------------------------

def read_int(raw: Any, minimum: int, maximum: int, message=None, *,
             signed: bool = True) -> int | None:
    """A whole number from `minimum` to `maximum`, written in ASCII digits (with a sign
    unless `signed` is False)."""
    if is_blank(raw):
        return None
    message = message or _l("Enter a whole number from %(min)d to %(max)d, such as %(example)d.",
                            min=minimum, max=maximum, example=max(minimum, min(3, maximum)))
    text = _whole_number_text(raw, signed)
    if text is None:
        raise ReadError(message)
    if len(text.lstrip("+-").lstrip("0")) > MAX_DIGITS:  # never build a huge int from input
        raise ReadError(message, out_of_range=True)
    value = int(text)
    if not minimum <= value <= maximum:
        raise ReadError(message, out_of_range=True)
    return value


def int_or_none(raw: Any, minimum: int, maximum: int) -> int | None:
    """A whole number in range, or None when blank or unreadable (for filters whose junk
    means "no filter": their forms say what is wrong)."""
    try:
        return read_int(raw, minimum, maximum)
    except ReadError:
        return None


def read_id(raw: Any, message=None) -> int | None:
    """The id of a record: a whole number from 1 to 2³¹−1."""
    return read_int(raw, 1, MAX_ID, message or NOT_AN_ID, signed=False)


def id_or_none(raw: Any) -> int | None:
    """An id, or None when blank or unreadable (for lookups where junk means "nothing")."""
    try:
        return read_id(raw)
    except ReadError:
        return None


def read_page(raw: Any, maximum: int = MAX_PAGE) -> int:
    """A page number of an HTML list: 1 when missing, unreadable or below 1; a number past
    `maximum` reads as `maximum` (and charter.pagination shows the last page)."""
    try:
        value = read_int(raw, 0, maximum, signed=False)
    except ReadError as exc:
        return maximum if exc.out_of_range else 1
    return value or 1


def page_arg(name: str = "page") -> int:
    """The page number in the request's query string (see read_page)."""
    return read_page(request.args.get(name))


def id_arg(name: str) -> int | None:
    """An id in the request's query string; None when missing or unreadable."""
    return id_or_none(request.args.get(name))


# --- decimals ---------------------------------------------------------------------------------

def _typed_decimal_text(raw: str) -> str:
    value = _GROUPING_SPACES.sub("", raw.replace("−", "-"))
    if value.endswith("%") or _WITH_UNIT.search(value):
        raise ReadError(_l("Enter the number only, without the unit (the unit is shown beside the "
                           "indicator)."))
    if _AMBIGUOUS.fullmatch(value):
        raise ReadError(_l("“%(text)s” could mean a number with decimals or with a thousands "
                           "separator: write it without the separator (e.g. 1500) or with a "
                           "decimal point (e.g. 1.5).", text=raw))
    if _EN_GROUPED.fullmatch(value):
        return value.replace(",", "")
    if _EU_GROUPED.fullmatch(value):
        return value.replace(".", "").replace(",", ".")
    if _PLAIN.fullmatch(value):
        return value.replace(",", ".")
    raise ReadError(NOT_A_NUMBER)


def _cell_decimal_text(raw: str, decimal_comma: bool) -> str:
    text = raw.replace(" ", "").replace("\u00a0", "")
    if decimal_comma and _CELL_COMMA_DECIMAL.fullmatch(text):
        text = text.replace(",", ".")
    if not _CELL_NUMBER.fullmatch(text):
        raise ReadError(NOT_A_NUMBER)
    return text


def _as_decimal(raw: Any, *, cell: bool, decimal_comma: bool) -> Decimal:
    """The number in a value that is not blank, unchecked for size: bools, other types and
    text that is not a number are refused."""
    if isinstance(raw, bool):
        raise ReadError(NOT_A_NUMBER)
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    if not isinstance(raw, str):
        raise ReadError(NOT_A_NUMBER)
    text = raw.strip()
    if len(text) > NUMBER_INPUT_MAX:
        raise ReadError(NOT_A_NUMBER)
    text = _cell_decimal_text(text, decimal_comma) if cell else _typed_decimal_text(text)
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the patterns admit only numbers
        raise ReadError(NOT_A_NUMBER) from exc


def read_decimal(raw: Any, *, max_abs: Decimal = DEFAULT_MAX_ABS, places: int = DEFAULT_PLACES,
                 minimum: Decimal | None = None, cell: bool = False,
                 decimal_comma: bool = False) -> Decimal | None:
    """A finite decimal number, smaller than `max_abs` in size, not below `minimum`.

    Typed text (cell=False) may group thousands ('1,234.5', '1 234,5') and use a decimal
    comma ('3,5'); '1,500' alone is refused as ambiguous; more than `places` decimals are
    refused. Spreadsheet cells (cell=True) hold numbers, or text with a dot for decimals and
    maybe an exponent ('1.2E+3'; with decimal_comma, '3,5' too); their extra decimals are
    rounded by the caller."""
    if is_blank(raw):
        return None
    number = _as_decimal(raw, cell=cell, decimal_comma=decimal_comma)
    if not number.is_finite():
        raise ReadError(NOT_A_NUMBER)
    if abs(number) >= max_abs:
        raise ReadError(_l("Enter a number smaller than %(limit)s.", limit=f"{max_abs:,.0f}")
                        if max_abs != DEFAULT_MAX_ABS else
                        _l("Enter a number smaller than one trillion."), out_of_range=True)
    if minimum is not None and number < minimum:
        raise ReadError(_l("Enter a number of %(min)s or more.", min=minimum), out_of_range=True)
    exponent = number.normalize().as_tuple().exponent
    if not cell and isinstance(exponent, int) and exponent < -places:
        raise ReadError(_l("Use at most %(places)d decimal places.", places=places)
                        if places != DEFAULT_PLACES else _l("Use at most six decimal places."))
    return number


# --- dates, years, quarters ------------------------------------------------------------------

def in_range(value: date | None) -> bool:
    """Whether a date (perhaps stored before these rules) lies in the years 1900 to 2200."""
    return value is not None and EARLIEST_DATE <= _as_date(value) <= LATEST_DATE


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _checked(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ReadError(DATE_OUT_OF_RANGE, out_of_range=True)
    return value


def read_date(raw: Any, message=None) -> date | None:
    """A date from 1900-01-01 to 2200-12-31: an ISO date (YYYY-MM-DD, ASCII digits; a
    midnight time after it, as spreadsheets add, is ignored) or a date/datetime cell."""
    if is_blank(raw):
        return None
    if isinstance(raw, datetime):
        return _checked(raw.date())
    if isinstance(raw, date):
        return _checked(raw)
    if not isinstance(raw, str):
        raise ReadError(message or NOT_A_DATE)
    text = raw.strip()
    for suffix in _MIDNIGHT:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    match = _ISO_DATE.fullmatch(text)
    if not match:
        raise ReadError(message or NOT_A_DATE)
    year, month, day = (int(g) for g in match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ReadError(DATE_OUT_OF_RANGE, out_of_range=True)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ReadError(message or NOT_A_DATE) from exc


def read_year(raw: Any) -> int | None:
    """A year from 1900 to 2200, in four ASCII digits."""
    if is_blank(raw):
        return None
    text = _whole_number_text(raw)
    if text is None or not _YEAR.fullmatch(text):
        raise ReadError(NOT_A_YEAR)
    if not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise ReadError(NOT_A_YEAR, out_of_range=True)
    return int(text)


class Quarter(NamedTuple):
    year: int
    number: int  # 1 to 4

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def read_quarter(raw: Any) -> Quarter | None:
    """A quarter written as 2026-Q3 (or 2026Q3, 2026 q3), of a year from 1900 to 2200."""
    if is_blank(raw):
        return None
    match = _QUARTER.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if not match:
        raise ReadError(NOT_A_QUARTER)
    year = int(match.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ReadError(NOT_A_QUARTER, out_of_range=True)
    return Quarter(year, int(match.group(2)))


def shift_days(value: date, days: int) -> date:
    """`value` moved by `days`, stopping at the ends of the calendar (1-01-01, 9999-12-31)
    instead of overflowing: for dates stored before the 1900-2200 rule, or computed near it."""
    try:
        return value + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


# --- URLs -----------------------------------------------------------------------------------

class IdConverter(IntegerConverter):
    """`<int:…>` in routes: ASCII digits only, from 1 to 2³¹−1. Anything else (an Arabic-Indic
    or full-width digit, 0, a number too large for the database) is a plain 404."""

    regex = r"[0-9]+"

    def __init__(self, url_map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    def to_python(self, value: str):
        from werkzeug.routing import ValidationError

        number = id_or_none(value)
        if number is None:
            raise ValidationError()
        return number


_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TextConverter(UnicodeConverter):
    """`<slug>` and other text segments: a segment with control characters (NUL above all,
    which PostgreSQL refuses in text) names nothing, so the address is a plain 404."""

    def to_python(self, value: str) -> str:
        if _URL_CONTROL.search(value):
            from werkzeug.routing import ValidationError

            raise ValidationError()
        return value


URL_CONTROL_CHARACTERS = _l("This address contains invisible control characters. Check the "
                            "link and try again.")


def refuse_control_characters_in_query():
    """A before-request hook: control characters (NUL above all) mean nothing in a query
    string, and PostgreSQL refuses NUL in text; answer 400 before any view reads them. The
    JSON API reads its query with its schemas (charter.api.schemas), which answer such values
    themselves (422, or a 404 that names the unknown site or domain)."""
    if request.path.startswith("/api/") or not any(
            _URL_CONTROL.search(key) or _URL_CONTROL.search(value)
            for key, value in request.args.items(multi=True)):
        return None
    from charter.errors import render_error

    return render_error(400, str(URL_CONTROL_CHARACTERS))


def init_app(app) -> None:
    """Ids and text in URL paths read the one way (call before blueprints are registered);
    control characters in query strings are refused."""
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    app.before_request(refuse_control_characters_in_query)
