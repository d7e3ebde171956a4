"""Reading the cells of a row: text, numbers, dates and choices, each problem reported
against its row and column as people see them in their spreadsheet program."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from charter import readers
from charter.commitments.spreadsheets.columns import (
    CONTROL_CHARACTERS,
    HEADERS,
    LINE_BREAKS,
    MAX_SHOWN_VALUE,
    VALUE_LIMIT,
    VALUE_PLACES,
)
from charter.commitments.spreadsheets.plan import ImportPlan, RowError
from charter.commitments.spreadsheets.tables import Row, Table, blank
from charter.models import RAG, Ambition, CommitmentStatus, Completion
from charter.tabular import decimal_text, unneutralise
from charter.text import TOO_MUCH_FORMATTING, too_much_formatting


class Cell:
    """Reads the cells of one row; each problem found becomes a RowError of the plan."""

    def __init__(self, plan: ImportPlan, table: Table, row: Row):
        self.plan, self.table, self.row = plan, table, row
        self.failed = False

    def error(self, key: str | None, message: str, at: int | None = None) -> None:
        """Report a problem with the cell `key` (None: the whole row); `at` puts it at that
        place in the plan's list instead of at the end."""
        column = HEADERS[self.table.kind][key] if key else None
        error = RowError(self.table.name, self.row.number, column, message)
        if at is None:
            self.plan.errors.append(error)
        else:
            self.plan.errors.insert(at, error)
        self.failed = True

    def raw(self, key: str) -> Any:
        return self.row.cells.get(key)


def shown(value: Any) -> str:
    """A value as the person typed it, shortened for a message."""
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if isinstance(value, date) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 1] + "…"


def cell_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        text = "TRUE" if raw else "FALSE"
    elif isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    elif isinstance(raw, datetime):
        text = raw.date().isoformat() if raw.time() == datetime.min.time() else raw.isoformat(sep=" ")
    elif isinstance(raw, date):
        text = raw.isoformat()
    else:
        text = str(raw)
    return unneutralise(text.strip())


def same_text(a: str | None, b: str | None) -> bool:
    """Equal once line endings are made alike (browsers send CRLF, spreadsheets LF)."""
    def norm(s):
        return (s or "").replace("\r\n", "\n").replace("\r", "\n")
    return norm(a) == norm(b)


def read_text(cell: Cell, key: str, *, max_length: int, required: bool = False,
               multiline: bool = False, missing=None) -> str:
    text = cell_text(cell.raw(key))
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if required and not text:
        cell.error(key, str(missing))
        return text
    if len(text) > max_length:
        cell.error(key, _("Use %(max)s characters or fewer (this has %(count)s).",
                          max=f"{max_length:,}", count=f"{len(text):,}"))
    elif CONTROL_CHARACTERS.search(text) or (not multiline and LINE_BREAKS.search(text)):
        cell.error(key, _("Remove the line breaks and invisible control characters from this text.")
                   if not multiline else
                   _("Remove the invisible control characters from this text."))
    elif too_much_formatting(text):  # titles, descriptions and notes are all printed
        cell.error(key, str(TOO_MUCH_FORMATTING))
    return text


# Messages used while reading every row are translated only when they are needed.
NOT_A_COMMITMENT_ID = _l("'%(value)s' is not a commitment number. Leave ID empty to add a new "
                         "commitment.")
NOT_A_VERSION = _l("'%(value)s' is not a version number. Leave it as downloaded.")
NOT_A_MEASURED_COMMITMENT = _l("'%(value)s' is not a commitment number.")
TITLE_MISSING = _l("Enter a title for the commitment.")
WHAT = {Ambition: _l("an ambition"), Completion: _l("a completion level"), RAG: _l("a RAG status"),
        CommitmentStatus: _l("a status")}


def read_int(cell: Cell, key: str, message) -> int | None:
    """An id or version in a cell (charter.readers.read_id: 1 … 2³¹−1, ASCII digits)."""
    raw = cell.raw(key)
    if blank(raw):
        return None
    try:
        return readers.read_id(raw)
    except readers.ReadError:
        cell.error(key, str(message) % {"value": shown(raw)})
        return None


def read_date(cell: Cell, key: str, *, required: bool = False) -> date | None:
    """A date in a cell (charter.readers.read_date: a date cell, or YYYY-MM-DD text, years
    1900 to 2200)."""
    raw = cell.raw(key)
    if blank(raw):
        if required:
            cell.error(key, _("Enter a date, as YYYY-MM-DD."))
        return None
    try:
        return readers.read_date(raw)
    except readers.ReadError as exc:
        if exc.out_of_range:
            cell.error(key, _("%(value)s is outside the years %(low)d to %(high)d.",
                              value=shown(raw), low=readers.MIN_YEAR, high=readers.MAX_YEAR))
        else:
            cell.error(key, _("%(value)s is not a date. Use YYYY-MM-DD.", value=shown(raw)))
        return None


def _enum_key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


def enum_lookup(enum_cls) -> dict[str, Any]:
    """Every spelling of an enumeration (value or label, any case) → member; built once a file."""
    lookup: dict[str, Any] = {}
    for member in enum_cls:
        lookup[_enum_key(member.value)] = member
        lookup[_enum_key(member.label)] = member
    return lookup


def read_enum(cell: Cell, key: str, enum_cls, lookup: dict[str, Any], default=None):
    text = cell_text(cell.raw(key))
    if not text:
        if default is not None:
            return default
        cell.error(key, _("Choose one of: %(labels)s.", labels=", ".join(m.label for m in enum_cls)))
        return None
    member = lookup.get(text.casefold()) or lookup.get(_enum_key(text))
    if member is None:
        cell.error(key, _("'%(value)s' is not %(what)s. Use one of: %(labels)s.", value=shown(text),
                          what=WHAT[enum_cls], labels=", ".join(m.label for m in enum_cls)))
    return member


def read_decimal(cell: Cell, key: str, decimal_comma: bool) -> tuple[Decimal | None, float | None]:
    """A measured value in a cell (charter.readers.read_decimal, as spreadsheets write
    numbers): zero or more, below 10^12, rounded to six decimals."""
    raw = cell.raw(key)
    if blank(raw):
        cell.error(key, _("Enter the value, as a number."))
        return None, None
    as_float = raw if isinstance(raw, float) else None
    try:
        number = readers.read_decimal(raw, cell=True, decimal_comma=decimal_comma,
                                      max_abs=VALUE_LIMIT)
    except readers.ReadError as exc:
        if exc.out_of_range:
            cell.error(key, _("%(value)s is too large: use a number below 1,000,000,000,000.",
                              value=shown(raw)))
        else:
            cell.error(key, _("'%(value)s' is not a number. Use digits, with a dot for decimals "
                              "(like 12.5).", value=shown(raw)))
        return None, None
    if number < 0:
        cell.error(key, _("%(value)s is negative: use a number of zero or more.", value=shown(raw)))
        return None, None
    return number.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP), as_float


def display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if hasattr(value, "label"):
        return value.label
    if isinstance(value, Decimal):
        return decimal_text(value)
    return shown(value)

