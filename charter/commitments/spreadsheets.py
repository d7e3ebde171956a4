"""The spreadsheet round trip of an organisation's commitments and measurements.

Export: an XLSX workbook (sheets Commitments, Measurements and About) and two CSV files
with the same columns. Import: the same files back. Everything is parsed and every row
validated first, with existing rows bulk-loaded in a few queries; nothing is written unless
the whole file is valid, and only once the person has seen the preview and confirmed it.

Text that a spreadsheet program could run as a formula (=, +, -, @, tab, carriage return at
the start) is exported with a ' in front, and that ' is taken off again on import.

Reading is bounded (see the limits below): a workbook's ZIP directory is checked before
anything is unpacked, and the parts the import needs are parsed a piece at a time within a
budget of XML elements, reading only columns A to Z. openpyxl writes the workbooks; it does
not read them, because its read-only reader parses every cell of a row in Python, however
far right, with a pure-Python XML parser. A checked upload is kept on the server
(PendingImport) until its uploader confirms it, once.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import io
import posixpath
import re
import secrets
import struct
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree.ElementTree import XMLPullParser

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import delete, select
from sqlalchemy import update as sql_update

from charter import audit, permissions, readers
from charter.commitments import services
from charter.extensions import db
from charter.models import (
    RAG,
    Ambition,
    ChangeDomain,
    Commitment,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Indicator,
    Measurement,
    Organisation,
    PendingImport,
)
from charter.models.base import utcnow
from charter.text import TOO_MUCH_FORMATTING, too_much_formatting

# --- the file format ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the header is the file format: fixed, so that files read back in any language
    width: int


COMMITMENT_COLUMNS = (
    Column("id", "ID", 8),
    Column("version", "Version", 9),
    Column("title", "Title", 48),
    Column("domain", "Change domain", 30),
    Column("description", "Description", 60),
    Column("start_date", "Start date", 12),
    Column("target_date", "Target date", 12),
    Column("ambition", "Ambition", 14),
    Column("completion", "Completion", 14),
    Column("rag", "RAG", 11),
    Column("status", "Status", 11),
)
MEASUREMENT_COLUMNS = (
    Column("commitment_id", "Commitment ID", 14),
    Column("indicator", "Indicator", 48),
    Column("period_start", "Period start", 12),
    Column("period_end", "Period end", 12),
    Column("value", "Value", 12),
    Column("note", "Note", 60),
)
COMMITMENTS = "commitments"
MEASUREMENTS = "measurements"
SHEETS = {COMMITMENTS: ("Commitments", COMMITMENT_COLUMNS),
          MEASUREMENTS: ("Measurements", MEASUREMENT_COLUMNS)}
ABOUT_SHEET = "About"
HEADERS = {kind: {c.key: c.header for c in columns} for kind, (_n, columns) in SHEETS.items()}

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"

# The same limits as the web forms.
TITLE_MAX = 200
DESCRIPTION_MAX = 20000
NOTE_MAX = 2000
VALUE_LIMIT = Decimal(10) ** 12  # the column holds values below 10^12, with six decimals
VALUE_PLACES = Decimal("0.000001")

# Limits that keep every upload cheap to check (well under two seconds for the largest file
# they accept) while leaving room for the largest honest one: an organisation's commitments
# and measurements, thousands of rows at most.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024  # the file as uploaded (as MAX_CONTENT_LENGTH)
MAX_DATA_ROWS = 10_000  # filled rows in a file, its sheets together
MAX_SHEET_ROWS = 20_000  # a filled row further down than this is refused
MAX_BLANK_RUN = 1_000  # this many empty rows in a row end a sheet
MAX_COLUMNS = 26  # columns A to Z are read; cells further right are never looked at
MAX_CELLS = 150_000  # filled cells in columns A to Z, all sheets together
MAX_CSV_FIELDS = 16_384  # values on one line of a CSV file: the widest sheet Excel makes
MAX_ERRORS = 1_000  # checking stops after this many problems (the page lists 500)
# An XLSX file is a ZIP archive of XML parts. These are checked from the archive's
# directory before anything is unpacked…
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_DIRECTORY_BYTES = 256 * 1024
MAX_UNPACKED_BYTES = 32 * 1024 * 1024  # all parts together, as the directory declares them
MAX_PACKING_RATIO = 100  # unpacked ÷ packed, for workbooks that unpack to over a megabyte
RATIO_CHECKED_FROM = 1024 * 1024
# …and this while the parts that are read (workbook, styles, shared strings, the two
# sheets) are unpacked and parsed, a piece at a time.
MAX_XML_ELEMENTS = 500_000
MAX_SHOWN_VALUE = 60

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAKS = re.compile(r"[\r\n]")


def neutralise(text: str) -> str:
    """Text that a spreadsheet program would read as a formula gets a ' in front."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _unneutralise(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def _number_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


# --- export -------------------------------------------------------------------------------


def _commitment_rows(organisation: Organisation) -> list[list[Any]]:
    domains = {d.id: d for d in db.session.scalars(select(ChangeDomain))}
    commitments = db.session.scalars(
        select(Commitment).where(Commitment.organisation_id == organisation.id).order_by(Commitment.id)
    )
    return [
        [c.id, c.version, c.title, domains[c.domain_id].slug, c.description or "", c.start_date,
         c.target_date, c.ambition.label, c.completion.label, c.rag.label, c.status.label]
        for c in commitments
    ]


def _measurement_rows(organisation: Organisation) -> list[list[Any]]:
    query = (
        select(CommitmentIndicator.commitment_id, Indicator.name, Measurement.period_start,
               Measurement.period_end, Measurement.value, Measurement.note)
        .join(CommitmentIndicator, Measurement.commitment_indicator_id == CommitmentIndicator.id)
        .join(Indicator, CommitmentIndicator.indicator_id == Indicator.id)
        .join(Commitment, CommitmentIndicator.commitment_id == Commitment.id)
        .where(Commitment.organisation_id == organisation.id)
        .order_by(CommitmentIndicator.commitment_id, Indicator.name, Measurement.period_start,
                  Measurement.period_end, Measurement.id)
    )
    return [[cid, name, start, end, value, note or ""]
            for cid, name, start, end, value, note in db.session.execute(query)]


def _require_export(actor, organisation: Organisation) -> None:
    permissions.require(permissions.can_export_commitments(actor, organisation),
                        _("Only the organisation's members and its site's coordinators can download "
                          "its commitments."))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _number_text(value)
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def _csv_bytes(columns: tuple[Column, ...], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    # With the byte order mark, Excel reads the file as UTF-8 and shows accents right.
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def export_csv(actor, organisation: Organisation) -> bytes:
    """The organisation's own commitments (drafts and retired ones included), as CSV."""
    _require_export(actor, organisation)
    return _csv_bytes(COMMITMENT_COLUMNS, _commitment_rows(organisation))


def export_measurements_csv(actor, organisation: Organisation) -> bytes:
    """The measurements of the organisation's own commitments, as CSV."""
    _require_export(actor, organisation)
    return _csv_bytes(MEASUREMENT_COLUMNS, _measurement_rows(organisation))


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _write_sheet(sheet, columns, rows: list[list[Any]], wrap: tuple[str, ...] = ()) -> None:
    bold = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    wrap_columns = {i for i, c in enumerate(columns, start=1) if c.key in wrap}
    top_wrap = Alignment(wrap_text=True, vertical="top")
    for row_number, row in enumerate(rows, start=2):
        for index, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=index, value=_xlsx_value(value))
            if cell.data_type == "f":  # never a formula, whatever slipped through
                cell.data_type = "s"
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif index in wrap_columns:
                cell.alignment = top_wrap
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows) + 1, 2)}"


def _add_choice_lists(sheet, columns, rows: int) -> None:
    """Drop-down lists for the enumerations (a warning, not a block, for other spellings)."""
    lists = {"ambition": Ambition, "completion": Completion, "rag": RAG}
    last = max(rows + 1, 2) + 500
    for index, column in enumerate(columns, start=1):
        enum_cls = lists.get(column.key)
        if enum_cls is None:
            continue
        labels = ",".join(m.label for m in enum_cls)
        validation = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=True,
                                    errorStyle="warning")
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{last}")
        sheet.add_data_validation(validation)


def _about_rows(domains: list[ChangeDomain]) -> list[list[str]]:
    def choices(enum_cls) -> str:
        return _("%(labels)s (or the values %(values)s), in any case.",
                 labels=", ".join(m.label for m in enum_cls),
                 values=", ".join(m.value for m in enum_cls))

    active = ", ".join(d.slug for d in domains if d.is_active)
    retired = ", ".join(d.slug for d in domains if not d.is_active)
    domain_values = active + ("; " + _("retired (kept only by commitments already under them): %(slugs)s",
                                       slugs=retired) if retired else "")
    c, m = "Commitments", "Measurements"
    return [
        [c, "ID", _("The commitment's number. Leave it empty to add a new commitment: it is saved "
                    "as a draft."), _("A number from this file, or empty.")],
        [c, "Version", _("The version of the commitment when you downloaded the file. If someone "
                         "changes the commitment after that, your change to it is refused: download "
                         "the file again."), _("Leave it as downloaded; empty for new rows.")],
        [c, "Title", _("What you promise, in one line."), _("Required; up to 200 characters.")],
        [c, "Change domain", _("The change domain, by its short name."), domain_values],
        [c, "Description", _("What you will do, with whom and how you will know it worked "
                             "(Markdown)."), _("Up to 20,000 characters; may be empty.")],
        [c, "Start date", _("When the work starts."), _("A date (YYYY-MM-DD), or empty.")],
        [c, "Target date", _("When it should be done."),
         _("A date (YYYY-MM-DD) on or after the start date, or empty.")],
        [c, "Ambition", _("How far the commitment reaches."), choices(Ambition)],
        [c, "Completion", _("How much of it is done."), choices(Completion)],
        [c, "RAG", _("Whether it is on track."), choices(RAG)],
        [c, "Status", _("Draft, published or retired: shown for information. Publish and retire "
                        "commitments on their own page."),
         _("Leave it as downloaded; empty or Draft for new rows.")],
        [m, "Commitment ID", _("The number of one of your commitments (see the Commitments sheet)."),
         _("Required.")],
        [m, "Indicator", _("The name of an indicator already attached to that commitment, as shown "
                           "on the commitment's page."), _("Required.")],
        [m, "Period start", _("The first day the value covers."), _("A date (YYYY-MM-DD).")],
        [m, "Period end", _("The last day the value covers."),
         _("A date (YYYY-MM-DD) on or after the period start.")],
        [m, "Value", _("The measurement for that period."),
         _("A number, zero or more, with a dot for decimals (like 12.5).")],
        [m, "Note", _("Anything that helps read the value."), _("Up to 2,000 characters; may be empty.")],
        ["", "", "", ""],
        ["", "", _("Every row is checked before anything is saved: if one row has a problem, nothing "
                   "is saved, and every problem is listed by row and column."), ""],
        ["", "", _("Rows you leave as they are change nothing. Rows you delete from the file are not "
                   "deleted from the service."), ""],
        ["", "", _("A measurement with the same commitment, indicator and period as a saved one "
                   "replaces its value and note; any other measurement is added."), ""],
        ["", "", _("Text that begins with =, +, -, or @ is shown with a ' in front, so that "
                   "spreadsheet programs do not run it as a formula. The ' is removed again when you "
                   "upload the file."), ""],
        ["", "", _("CSV files must be saved as CSV UTF-8."), ""],
        ["", "", _("A file may be up to %(size)s MB and hold up to %(rows)s rows, its sheets "
                   "together; columns after Z are not read.", size=megabytes(MAX_UPLOAD_BYTES),
                   rows=f"{MAX_DATA_ROWS:,}"), ""],
    ]


def export_xlsx(actor, organisation: Organisation) -> bytes:
    """A workbook with the organisation's commitments, their measurements and an About sheet."""
    _require_export(actor, organisation)
    commitment_rows = _commitment_rows(organisation)
    measurement_rows = _measurement_rows(organisation)
    domains = list(db.session.scalars(select(ChangeDomain).order_by(ChangeDomain.position,
                                                                    ChangeDomain.id)))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEETS[COMMITMENTS][0]
    _write_sheet(sheet, COMMITMENT_COLUMNS, commitment_rows, wrap=("description",))
    _add_choice_lists(sheet, COMMITMENT_COLUMNS, len(commitment_rows))
    _write_sheet(workbook.create_sheet(SHEETS[MEASUREMENTS][0]), MEASUREMENT_COLUMNS,
                 measurement_rows, wrap=("note",))
    about_columns = (Column("sheet", _("Sheet"), 16), Column("column", _("Column"), 16),
                     Column("meaning", _("What it holds"), 70),
                     Column("allowed", _("Allowed values"), 60))
    _write_sheet(workbook.create_sheet(ABOUT_SHEET), about_columns, _about_rows(domains),
                 wrap=("meaning", "allowed"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- reading a file -----------------------------------------------------------------------


class FileProblem(Exception):  # noqa: N818 - a situation the person can fix
    """The file as a whole cannot be read; `details` lists what is wrong, one line each."""

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


@dataclass
class Row:
    number: int  # as the spreadsheet program numbers it: the header is row 1
    cells: dict[str, Any]
    stray: list[int] = field(default_factory=list)  # columns with a value but no header


@dataclass
class Table:
    kind: str
    rows: list[Row]
    decimal_comma: bool = False

    @property
    def name(self) -> str:
        return SHEETS[self.kind][0]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_key(value: Any) -> str:
    return " ".join(str(value or "").replace("\ufeff", "").split()).casefold()


_KEYS_BY_HEADER = {kind: {_header_key(c.header): c.key for c in columns}
                   for kind, (_n, columns) in SHEETS.items()}


def _map_header(kind: str, cells: list[Any]) -> tuple[dict[int, str], list[str]]:
    """Column index → key, and what is wrong with the header row (empty when it is right)."""
    known = _KEYS_BY_HEADER[kind]
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, value in enumerate(cells):
        if _blank(value):
            continue
        key = known.get(_header_key(value))
        if key is None:
            unknown.append(str(value).strip()[:MAX_SHOWN_VALUE])
        elif key in mapping.values():
            repeated.append(HEADERS[kind][key])
        else:
            mapping[index] = key
    missing = [c.header for c in SHEETS[kind][1] if c.key not in mapping.values()]
    problems = []
    if missing:
        problems.append(_("Missing columns: %(names)s.", names=", ".join(missing)))
    if unknown:
        problems.append(_("Columns not recognised: %(names)s.",
                          names=", ".join(f"“{name}”" for name in unknown)))
    if repeated:
        problems.append(_("Columns that appear twice: %(names)s.", names=", ".join(repeated)))
    if problems:
        name = SHEETS[kind][0]
        problems.insert(0, _("%(sheet)s: the first row must hold these headers: %(headers)s.",
                             sheet=name, headers=", ".join(c.header for c in SHEETS[kind][1])))
    return mapping, problems


class _Budget:
    """The work one file may cost, counted as it is read: XML elements, filled rows and cells."""

    def __init__(self) -> None:
        self.elements = 0
        self.rows = 0
        self.cells = 0

    def add_elements(self, count: int) -> None:
        self.elements += count
        if self.elements > MAX_XML_ELEMENTS:
            raise FileProblem(_(
                "This workbook has too many cells to check: over %(max)s, counting empty cells that "
                "only carry formatting. Delete the empty rows and columns after your data (or clear "
                "their formatting), save the workbook and upload it again, or upload the CSV files "
                "instead.", max=f"{MAX_XML_ELEMENTS:,}"))

    def add_row(self, kind: str, first_table: bool) -> None:
        self.rows += 1
        if self.rows > MAX_DATA_ROWS:
            if first_table:
                raise FileProblem(_("%(sheet)s has more than %(max)s rows. Split it into smaller "
                                    "files and upload them one after another.",
                                    sheet=SHEETS[kind][0], max=f"{MAX_DATA_ROWS:,}"))
            raise FileProblem(_("The Commitments and Measurements sheets have more than %(max)s rows "
                                "together. Upload them one at a time (as CSV files, or in workbooks "
                                "of one sheet each), or split them into smaller files.",
                                max=f"{MAX_DATA_ROWS:,}"))

    def add_cells(self, count: int) -> None:
        self.cells += count
        if self.cells > MAX_CELLS:
            raise FileProblem(_(
                "This file has more than %(max)s filled cells. Split it into smaller files and upload "
                "them one after another.", max=f"{MAX_CELLS:,}"))


def _collect_rows(kind: str, rows, budget: _Budget,
                  header: tuple[int, list[Any]] | None = None) -> tuple[Table | None, list[str]]:
    """Read the rows under the header (the first row that is not empty).

    `rows` gives each row's number and its values in columns A to Z; the numbers may skip
    rows that are empty. A run of MAX_BLANK_RUN empty rows ends the sheet."""
    mapping: dict[int, str] | None = None
    last = 0
    if header is not None:
        mapping, problems = _map_header(kind, header[1])
        if problems:
            return None, problems
        last = header[0]
    table_rows: list[Row] = []
    first_table = budget.rows == 0
    blank_run = 0
    for number, values in rows:
        blank_run += number - last - 1  # rows a workbook leaves out are empty
        last = number
        if blank_run > MAX_BLANK_RUN:
            break
        # The columns with a value (as _blank, written out: this runs for every cell).
        filled = [i for i, v in enumerate(values)
                  if v is not None and (v.__class__ is not str or v.strip())]
        if not filled:
            blank_run += 1
            if blank_run > MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        if number > MAX_SHEET_ROWS:
            raise FileProblem(_("%(sheet)s has values beyond row %(max)s. Delete the empty rows "
                                "between your rows, or split the file into smaller ones and upload "
                                "them one after another.", sheet=SHEETS[kind][0],
                                max=f"{MAX_SHEET_ROWS:,}"))
        if mapping is None:
            mapping, problems = _map_header(kind, values)
            if problems:
                return None, problems
            continue
        budget.add_row(kind, first_table)
        budget.add_cells(len(filled))
        width = len(values)
        row = Row(number, {key: values[index] for index, key in mapping.items() if index < width},
                  [index for index in filled if index not in mapping])
        table_rows.append(row)
    if mapping is None:
        return Table(kind, []), []
    return Table(kind, table_rows), []


def _not_csv_or_xlsx() -> FileProblem:
    return FileProblem(_("This file is neither a CSV file nor an Excel workbook (.xlsx). Upload the "
                         "XLSX workbook or one of the CSV files downloaded from this page."))


def _unreadable_xlsx() -> FileProblem:
    return FileProblem(_("This file looks like an Excel workbook but cannot be read; it may be "
                         "damaged. Open it in your spreadsheet program, save it again as an Excel "
                         "Workbook (.xlsx) or as CSV UTF-8, and upload that."))


def _too_many_parts() -> FileProblem:
    return FileProblem(_("This workbook has more than %(max)s parts (sheets, pictures, charts and the "
                         "like). Remove what you do not need, or upload the CSV files instead.",
                         max=f"{MAX_ZIP_ENTRIES:,}"))


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}"


def _open_workbook(content: bytes) -> zipfile.ZipFile:
    """The workbook's ZIP archive, once its directory shows that unpacking it costs no more
    than a large honest workbook does. Nothing is unpacked here."""
    # The end of the archive says how many entries its directory holds and how long it is:
    # check both before the directory itself is read.
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 65_557))
    if end < 0 or len(content) < end + 22:
        raise _unreadable_xlsx()
    entries, directory_size = struct.unpack("<HI", content[end + 10:end + 16])
    if entries > MAX_ZIP_ENTRIES or directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise _too_many_parts()
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _unreadable_xlsx() from exc
    infos = archive.infolist()
    if "xl/workbook.xml" not in archive.NameToInfo:
        raise FileProblem(_("This file is a ZIP archive, not an Excel workbook (.xlsx). Upload the "
                            "XLSX workbook or one of the CSV files downloaded from this page."))
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _too_many_parts()
    # Reading a part stops at the size the directory declares (a part that claims less than
    # it holds fails its checksum), so these sums bound what unpacking can cost.
    unpacked = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileProblem(_("This workbook is too large once unpacked: %(size)s MB, where at most "
                            "%(max)s MB are read. Remove what you do not need (pictures, other "
                            "sheets), or upload the CSV files instead.", size=megabytes(unpacked),
                            max=megabytes(MAX_UNPACKED_BYTES)))
    if unpacked > RATIO_CHECKED_FROM and unpacked > MAX_PACKING_RATIO * max(packed, 1):
        raise FileProblem(_("This workbook unpacks to %(ratio)s times its size, far more than a "
                            "spreadsheet does, so it is not read. Open it in your spreadsheet "
                            "program, save it again and upload that, or upload the CSV files "
                            "instead.", ratio=f"{unpacked // max(packed, 1):,}"))
    return archive


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_SHEET, _WORKBOOK_PROPERTIES, _NUMBER_FORMATS, _CELL_FORMATS = (
    _MAIN + tag for tag in ("sheet", "workbookPr", "numFmts", "cellXfs"))
_STRING_ITEM, _TEXT, _RUN = (_MAIN + tag for tag in ("si", "t", "r"))
_SHEET_DATA, _ROW, _CELL, _VALUE, _INLINE_STRING = (
    _MAIN + tag for tag in ("sheetData", "row", "c", "v", "is"))
_XML_PIECE = 256 * 1024
_XML_FEED = 2048
# An empty cell element that starts with its reference, as Excel, LibreOffice and openpyxl
# write them (any other is simply parsed; so is a tag split between two pieces). Cells
# without a reference are kept: their column is counted from the cell before.
_EMPTY_CELL = re.compile(rb'<c r="[^<>]*/>')
_COLUMN_NUMBERS = {get_column_letter(i): i for i in range(1, MAX_COLUMNS + 1)}
_DIGITS = "0123456789"


def _xml_elements(archive: zipfile.ZipFile, part: str, budget: _Budget, *,
                  sheet: bool = False):
    """("end", element) for each element of one XML part, once the element is complete.

    The part is unpacked and parsed a piece at a time with the standard library's expat
    parser (in C). Each piece counts against the budget before it is parsed, and a document
    type declaration, which no workbook part has and which entity tricks need, is refused.
    In a sheet, empty cells (<c r="M7" s="3"/>: formatting, no value) are dropped before
    parsing, so that formatted areas cost next to nothing."""
    parser = XMLPullParser(events=("end",))
    tail = b""
    with archive.open(part) as stream:
        while piece := stream.read(_XML_PIECE):
            joined = tail + piece
            if b"<!DOCTYPE" in joined or b"<!ENTITY" in joined or b"\x00" in piece:
                raise _unreadable_xlsx()
            tail = piece[-16:]
            if sheet and b"<![CDATA[" not in joined:
                piece = _EMPTY_CELL.sub(b"", piece)
            budget.add_elements(piece.count(b"<") - piece.count(b"</"))
            # Fed in small slices: fewer elements alive at once keeps the garbage collector's
            # work (and so the time per element) down by half.
            for start in range(0, len(piece), _XML_FEED):
                parser.feed(piece[start:start + _XML_FEED])
                yield from parser.read_events()
    parser.close()
    yield from parser.read_events()


def _part_name(target: str) -> str:
    """A relationship's target (relative to xl/, or absolute) as a name in the archive."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


@dataclass
class _WorkbookParts:
    sheets: dict[str, str]  # sheet name, stripped and case-folded → its part
    strings: str | None
    styles: str | None
    epoch: datetime


def _workbook_parts(archive: zipfile.ZipFile, budget: _Budget) -> _WorkbookParts:
    targets: dict[str, tuple[str, str]] = {}
    for _event, element in _xml_elements(archive, "xl/_rels/workbook.xml.rels", budget):
        if element.tag == _RELATIONSHIP and element.get("TargetMode") != "External":
            targets[element.get("Id") or ""] = (element.get("Type") or "",
                                                _part_name(element.get("Target") or ""))
    sheets: dict[str, str] = {}
    epoch = WINDOWS_EPOCH
    for _event, element in _xml_elements(archive, "xl/workbook.xml", budget):
        if element.tag == _SHEET:
            kind, part = targets.get(element.get(_RELATIONSHIP_ID) or "", ("", ""))
            if kind.endswith("/worksheet"):
                sheets.setdefault((element.get("name") or "").strip().casefold(), part)
        elif element.tag == _WORKBOOK_PROPERTIES and (
                (element.get("date1904") or "").strip().lower() not in ("false", "f", "0", "")):
            epoch = MAC_EPOCH

    def part_of(kind: str) -> str | None:
        return next((part for k, part in targets.values() if k.endswith(kind)), None)

    return _WorkbookParts(sheets, part_of("/sharedStrings"), part_of("/styles"), epoch)


def _text_of(element) -> str:
    """The text of a string item: its own text and that of its runs (phonetic guides left out)."""
    text = element.findtext(_TEXT) or ""
    runs = element.findall(_RUN)
    if runs:
        text += "".join(run.findtext(_TEXT) or "" for run in runs)
    return text


def _shared_strings(archive: zipfile.ZipFile, part: str | None, budget: _Budget) -> list[str]:
    strings: list[str] = []
    if part is None or part not in archive.NameToInfo:
        return strings
    for _event, element in _xml_elements(archive, part, budget):
        if element.tag == _STRING_ITEM:
            strings.append(_text_of(element).replace("x005F_", ""))  # as openpyxl reads them
            element.clear()
    return strings


class _Styles:
    """Which cell styles show a number as a date or a duration, looked up once per style used."""

    def __init__(self, formats: list[int], custom: dict[int, str]):
        self.formats = formats  # cell style → number format
        self.custom = custom  # number format → its code, for those the workbook defines
        self.known: dict[int, tuple[bool, bool]] = {}

    def date_kind(self, style: int) -> tuple[bool, bool]:
        kind = self.known.get(style)
        if kind is None:
            code = None
            if 0 <= style < len(self.formats):
                number = self.formats[style]
                code = self.custom[number] if number in self.custom else BUILTIN_FORMATS.get(number)
            kind = self.known[style] = (is_date_format(code), is_timedelta_format(code))
        return kind


def _styles(archive: zipfile.ZipFile, part: str | None, budget: _Budget) -> _Styles:
    formats: list[int] = []
    custom: dict[int, str] = {}
    if part is None or part not in archive.NameToInfo:
        return _Styles(formats, custom)
    for _event, element in _xml_elements(archive, part, budget):
        if element.tag == _NUMBER_FORMATS:
            custom = {int(f.get("numFmtId") or 0): f.get("formatCode") or "" for f in element}
        elif element.tag == _CELL_FORMATS:
            formats = [int(f.get("numFmtId") or 0) for f in element]
            break  # nothing after the cell styles matters here
    return _Styles(formats, custom)


def _cell_value(cell, strings: list[str], styles: _Styles, epoch: datetime) -> Any:
    """A cell's value as openpyxl reads it with data_only=True (formulas give their result)."""
    kind = cell.get("t") or "n"
    if kind == "inlineStr":
        text = cell.find(_INLINE_STRING)
        return None if text is None else _text_of(text)
    value = cell.findtext(_VALUE)
    if not value:
        return None
    if kind == "n":
        number = float(value) if ("." in value or "e" in value or "E" in value) else int(value)
        is_date, is_duration = styles.date_kind(int(cell.get("s") or 0))
        if is_date:
            try:
                return from_excel(number, epoch, timedelta=is_duration)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number
    if kind == "s":
        index = int(value)
        if index < 0:
            raise IndexError(index)
        return strings[index]
    if kind == "b":
        return bool(int(value))
    if kind == "d":
        return from_ISO8601(value)
    return value  # "str" (text a formula gave) or "e" (an error such as #N/A)


def _sheet_rows(archive: zipfile.ZipFile, part: str, budget: _Budget, strings: list[str],
                styles: _Styles, epoch: datetime):
    """Each row's number and its values in columns A to Z (None where a cell is empty).

    Cells to the right of Z are not read at all, nor are empty cells that only carry
    formatting; reading stops at the end of the sheet's data."""
    last = 0
    for _event, element in _xml_elements(archive, part, budget, sheet=True):
        tag = element.tag
        if tag == _ROW:
            reference = element.get("r")
            number = int(reference) if reference else last + 1
            if number <= last:
                raise _unreadable_xlsx()  # rows out of order: a damaged sheet
            last = number
            values: list[Any] = []
            column = 0
            for cell in element:
                if cell.tag != _CELL:
                    continue
                reference = cell.get("r")
                if reference:
                    letters = reference.rstrip(_DIGITS)
                    column = _COLUMN_NUMBERS.get(letters) or _COLUMN_NUMBERS.get(letters.upper(), 0)
                    if not column:
                        break  # right of column Z (cells come in column order)
                else:
                    column += 1
                    if column > MAX_COLUMNS:
                        break
                if not len(cell):
                    continue  # no value: an empty cell, perhaps with formatting
                value = _cell_value(cell, strings, styles, epoch)
                if value is None:
                    continue
                if column > len(values):
                    values.extend([None] * (column - len(values)))
                values[column - 1] = value
            element.clear()
            yield number, values
        elif tag == _SHEET_DATA:
            return


def _read_xlsx(content: bytes, budget: _Budget) -> tuple[list[Table], list[str]]:
    archive = _open_workbook(content)
    tables: list[Table] = []
    problems: list[str] = []
    notices: list[str] = []
    try:
        with archive:
            parts = _workbook_parts(archive, budget)
            wanted = [(kind, parts.sheets.get(title.casefold()))
                      for kind, (title, _columns) in SHEETS.items()]
            wanted = [(kind, part) for kind, part in wanted if part is not None]
            if wanted:
                strings = _shared_strings(archive, parts.strings, budget)
                styles = _styles(archive, parts.styles, budget)
            for kind, part in wanted:
                rows = _sheet_rows(archive, part, budget, strings, styles, parts.epoch)
                table, sheet_problems = _collect_rows(kind, rows, budget)
                problems.extend(sheet_problems)
                if table is not None:
                    tables.append(table)
    except FileProblem:
        raise
    except Exception as exc:  # a damaged part fails only when it is read
        raise _unreadable_xlsx() from exc
    if problems:
        raise FileProblem(_("The columns of this workbook are not the ones of the download."), problems)
    kinds = {t.kind for t in tables}
    if not kinds:
        raise FileProblem(_("This workbook has no sheet called Commitments or Measurements. Download "
                            "the workbook again and make your changes in it."))
    if COMMITMENTS not in kinds:
        notices.append(_("The workbook has no Commitments sheet: commitments are left as they are."))
    if MEASUREMENTS not in kinds:
        notices.append(_("The workbook has no Measurements sheet: measurements are left as they are."))
    return tables, notices


def _decode_csv(content: bytes) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(_("This file is saved as UTF-16 (“Unicode text”). Save it as CSV UTF-8 "
                            "and upload it again."))
    if b"\x00" in content:
        raise _not_csv_or_xlsx()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        sample = content[:65536]
        controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
        if controls > len(sample) // 100:
            raise _not_csv_or_xlsx() from exc
        raise FileProblem(_("This file is not saved as UTF-8, so its accents and other characters "
                            "cannot be read reliably. In your spreadsheet program choose Save As, "
                            "then “CSV UTF-8 (comma delimited)”, and upload that file (or upload the "
                            "XLSX workbook instead).")) from exc
    sample = text[:65536]
    if len(CONTROL_CHARACTERS.findall(sample)) > len(sample) // 100:
        raise _not_csv_or_xlsx()
    return text


def _first_line(text: str) -> str:
    return text.lstrip("\r\n").split("\n", 1)[0]


def _guess_delimiter(text: str) -> str:
    """Excel saves CSV with ; where the decimal mark is a comma: take whichever separator
    makes the most headers known."""
    line = _first_line(text)
    known = set(_KEYS_BY_HEADER[COMMITMENTS]) | set(_KEYS_BY_HEADER[MEASUREMENTS])
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        score = sum(1 for c in cells if _header_key(c) in known)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _guess_kind(cells: list[str]) -> str | None:
    keys = {_header_key(c) for c in cells}
    scores = {kind: len(keys & set(known)) for kind, known in _KEYS_BY_HEADER.items()}
    kind = max(scores, key=lambda k: scores[k])
    return kind if scores[kind] else None


def _csv_records(reader):
    try:
        yield from reader
    except csv.Error as exc:
        raise FileProblem(_("Line %(line)d of the file could not be read as CSV (%(reason)s). Save "
                            "the file again as CSV UTF-8 from your spreadsheet program.",
                            line=reader.line_num, reason=str(exc))) from exc


def _csv_rows(records):
    """Each record's number (as a spreadsheet numbers its rows) and its values in the first
    MAX_COLUMNS columns. The csv module itself refuses a value longer than
    csv.field_size_limit() (131,072 characters), so a line is bounded too."""
    for number, cells in enumerate(records, start=1):
        if len(cells) > MAX_CSV_FIELDS:
            raise FileProblem(_("Row %(row)s of the file has %(count)s values, more than any "
                                "spreadsheet has columns: the file is not a spreadsheet saved as "
                                "CSV. Save it again as CSV UTF-8 from your spreadsheet program.",
                                row=f"{number:,}", count=f"{len(cells):,}"))
        yield number, cells[:MAX_COLUMNS]


def _read_csv(content: bytes, budget: _Budget) -> tuple[list[Table], list[str]]:
    text = _decode_csv(content)
    delimiter = _guess_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = _csv_rows(_csv_records(reader))
    header = None
    for number, cells in rows:
        if not all(_blank(c) for c in cells):
            header = (number, cells)
            break
        if number > MAX_BLANK_RUN:
            break
    if header is None:
        raise FileProblem(_("The file is empty."))
    kind = _guess_kind(header[1])
    if kind is None:
        raise FileProblem(
            _("The first row of this file is not the header row of a download."),
            [_("A commitments file starts with: %(headers)s.",
               headers=", ".join(c.header for c in COMMITMENT_COLUMNS)),
             _("A measurements file starts with: %(headers)s.",
               headers=", ".join(c.header for c in MEASUREMENT_COLUMNS))],
        )
    table, problems = _collect_rows(kind, rows, budget, header=header)
    if problems:
        raise FileProblem(_("The columns of this file are not the ones of the download."), problems)
    table.decimal_comma = delimiter == ";"
    return [table], []


def read_tables(content: bytes) -> tuple[list[Table], list[str]]:
    """The tables of an uploaded file (XLSX or CSV, told apart by their content, not their
    name), and notices about how it was read. Raises FileProblem."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise FileProblem(_("This file is larger than %(max)s MB, the most an upload may be. Split it "
                            "into smaller files and upload them one after another.",
                            max=megabytes(MAX_UPLOAD_BYTES)))
    if not content or not content.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise FileProblem(_("The file is empty."))
    budget = _Budget()
    if content.startswith(b"PK\x03\x04"):
        tables, notices = _read_xlsx(content, budget)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(_("This is an old-style Excel file (.xls). Save it as an Excel Workbook "
                            "(.xlsx) or as CSV UTF-8, and upload that."))
    elif content.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x05\x06")):
        raise _not_csv_or_xlsx()
    else:
        tables, notices = _read_csv(content, budget)
    if not any(t.rows for t in tables):
        raise FileProblem(_("There are no rows under the header row: there is nothing to upload."))
    return tables, notices


# --- validating -------------------------------------------------------------------------


@dataclass
class RowError:
    sheet: str
    row: int | None
    column: str | None
    message: str

    @property
    def sentence(self) -> str:
        if self.row and self.column:
            return _("Row %(row)d, %(column)s: %(message)s", row=self.row, column=self.column,
                     message=self.message)
        if self.row:
            return _("Row %(row)d: %(message)s", row=self.row, message=self.message)
        return self.message


@dataclass
class NewCommitment:
    row: int
    values: services.CommitmentValues
    domain: ChangeDomain


@dataclass
class Change:
    column: str
    old: str
    new: str


@dataclass
class CommitmentUpdate:
    row: int
    commitment: Commitment
    values: dict[str, Any]  # only the fields that change
    shown: list[Change]


@dataclass
class MeasurementChange:
    row: int
    commitment: Commitment
    link: CommitmentIndicator
    indicator_name: str
    period_start: date
    period_end: date
    value: Decimal
    note: str
    measurement: Measurement | None  # None: a new measurement
    value_changed: bool = True

    @property
    def shown_value(self) -> str:
        return _number_text(self.value)

    @property
    def shown_old_value(self) -> str:
        return _number_text(self.measurement.value) if self.measurement else ""


@dataclass
class ImportPlan:
    organisation: Organisation
    errors: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    creates: list[NewCommitment] = field(default_factory=list)
    updates: list[CommitmentUpdate] = field(default_factory=list)
    measurement_creates: list[MeasurementChange] = field(default_factory=list)
    measurement_updates: list[MeasurementChange] = field(default_factory=list)
    unchanged_commitments: int = 0
    unchanged_measurements: int = 0
    applied: bool = False
    errors_cut: bool = False  # checking stopped after MAX_ERRORS problems

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def has_changes(self) -> bool:
        return bool(self.creates or self.updates or self.measurement_creates
                    or self.measurement_updates)

    def summary(self) -> list[str]:
        lines = []
        if self.creates:
            lines.append(ngettext("%(num)d new commitment (saved as a draft)",
                                  "%(num)d new commitments (saved as drafts)", len(self.creates)))
        if self.updates:
            lines.append(ngettext("%(num)d commitment updated", "%(num)d commitments updated",
                                  len(self.updates)))
        if self.measurement_creates:
            lines.append(ngettext("%(num)d measurement added", "%(num)d measurements added",
                                  len(self.measurement_creates)))
        if self.measurement_updates:
            lines.append(ngettext("%(num)d measurement changed", "%(num)d measurements changed",
                                  len(self.measurement_updates)))
        if self.unchanged_commitments:
            lines.append(ngettext("%(num)d commitment unchanged", "%(num)d commitments unchanged",
                                  self.unchanged_commitments))
        if self.unchanged_measurements:
            lines.append(ngettext("%(num)d measurement unchanged", "%(num)d measurements unchanged",
                                  self.unchanged_measurements))
        return lines


class _Cell:
    """Problems found while reading one row; each becomes a RowError."""

    def __init__(self, plan: ImportPlan, table: Table, row: Row):
        self.plan, self.table, self.row = plan, table, row
        self.failed = False

    def error(self, key: str | None, message: str) -> None:
        column = HEADERS[self.table.kind][key] if key else None
        self.plan.errors.append(RowError(self.table.name, self.row.number, column, message))
        self.failed = True

    def raw(self, key: str) -> Any:
        return self.row.cells.get(key)


def _shown(value: Any) -> str:
    """A value as the person typed it, shortened for a message."""
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if isinstance(value, date) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN_VALUE else text[: MAX_SHOWN_VALUE - 1] + "…"


def _text(raw: Any) -> str:
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
    return _unneutralise(text.strip())


def _same_text(a: str | None, b: str | None) -> bool:
    """Equal once line endings are made alike (browsers send CRLF, spreadsheets LF)."""
    def norm(s):
        return (s or "").replace("\r\n", "\n").replace("\r", "\n")
    return norm(a) == norm(b)


def _read_text(cell: _Cell, key: str, *, max_length: int, required: bool = False,
               multiline: bool = False, missing=None) -> str:
    text = _text(cell.raw(key))
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


def _read_int(cell: _Cell, key: str, message) -> int | None:
    """An id or version in a cell (charter.readers.read_id: 1 … 2³¹−1, ASCII digits)."""
    raw = cell.raw(key)
    if _blank(raw):
        return None
    try:
        return readers.read_id(raw)
    except readers.ReadError:
        cell.error(key, str(message) % {"value": _shown(raw)})
        return None


def _read_date(cell: _Cell, key: str, *, required: bool = False) -> date | None:
    """A date in a cell (charter.readers.read_date: a date cell, or YYYY-MM-DD text, years
    1900 to 2200)."""
    raw = cell.raw(key)
    if _blank(raw):
        if required:
            cell.error(key, _("Enter a date, as YYYY-MM-DD."))
        return None
    try:
        return readers.read_date(raw)
    except readers.ReadError as exc:
        if exc.out_of_range:
            cell.error(key, _("%(value)s is outside the years %(low)d to %(high)d.",
                              value=_shown(raw), low=readers.MIN_YEAR, high=readers.MAX_YEAR))
        else:
            cell.error(key, _("%(value)s is not a date. Use YYYY-MM-DD.", value=_shown(raw)))
        return None


def _enum_key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()


def _enum_lookup(enum_cls) -> dict[str, Any]:
    """Every spelling of an enumeration (value or label, any case) → member; built once a file."""
    lookup: dict[str, Any] = {}
    for member in enum_cls:
        lookup[_enum_key(member.value)] = member
        lookup[_enum_key(member.label)] = member
    return lookup


def _read_enum(cell: _Cell, key: str, enum_cls, lookup: dict[str, Any], default=None):
    text = _text(cell.raw(key))
    if not text:
        if default is not None:
            return default
        cell.error(key, _("Choose one of: %(labels)s.", labels=", ".join(m.label for m in enum_cls)))
        return None
    member = lookup.get(text.casefold()) or lookup.get(_enum_key(text))
    if member is None:
        cell.error(key, _("'%(value)s' is not %(what)s. Use one of: %(labels)s.", value=_shown(text),
                          what=WHAT[enum_cls], labels=", ".join(m.label for m in enum_cls)))
    return member


def _read_decimal(cell: _Cell, key: str, decimal_comma: bool) -> tuple[Decimal | None, float | None]:
    """A measured value in a cell (charter.readers.read_decimal, as spreadsheets write
    numbers): zero or more, below 10^12, rounded to six decimals."""
    raw = cell.raw(key)
    if _blank(raw):
        cell.error(key, _("Enter the value, as a number."))
        return None, None
    as_float = raw if isinstance(raw, float) else None
    try:
        number = readers.read_decimal(raw, cell=True, decimal_comma=decimal_comma,
                                      max_abs=VALUE_LIMIT)
    except readers.ReadError as exc:
        if exc.out_of_range:
            cell.error(key, _("%(value)s is too large: use a number below 1,000,000,000,000.",
                              value=_shown(raw)))
        else:
            cell.error(key, _("'%(value)s' is not a number. Use digits, with a dot for decimals "
                              "(like 12.5).", value=_shown(raw)))
        return None, None
    if number < 0:
        cell.error(key, _("%(value)s is negative: use a number of zero or more.", value=_shown(raw)))
        return None, None
    return number.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP), as_float


@dataclass
class _Existing:
    """What the organisation already holds, loaded in a few queries."""

    domains: list[ChangeDomain]
    commitments: dict[int, Commitment]
    links: dict[int, dict[str, list[tuple[CommitmentIndicator, str]]]]  # commitment → name → links
    measurements: dict[tuple[int, date, date], Measurement]
    enums: dict[type, dict[str, Any]] = field(default_factory=dict)

    def domain_by_text(self, text: str) -> ChangeDomain | None:
        wanted = text.strip().casefold()
        for domain in self.domains:
            if wanted in (domain.slug.casefold(), domain.name.casefold()):
                return domain
        return None

    def active_slugs(self) -> str:
        return ", ".join(d.slug for d in self.domains if d.is_active)


def _load_existing(organisation: Organisation, with_measurements: bool) -> _Existing:
    domains = list(db.session.scalars(select(ChangeDomain).order_by(ChangeDomain.position,
                                                                    ChangeDomain.id)))
    commitments = {c.id: c for c in db.session.scalars(
        select(Commitment).where(Commitment.organisation_id == organisation.id))}
    links: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    measurements: dict[tuple[int, date, date], Measurement] = {}
    if with_measurements:
        query = (
            select(CommitmentIndicator, Indicator.name)
            .join(Indicator, CommitmentIndicator.indicator_id == Indicator.id)
            .join(Commitment, CommitmentIndicator.commitment_id == Commitment.id)
            .where(Commitment.organisation_id == organisation.id)
        )
        for link, name in db.session.execute(query):
            links[link.commitment_id][" ".join(name.split()).casefold()].append((link, name))
        query = (
            select(Measurement)
            .join(CommitmentIndicator, Measurement.commitment_indicator_id == CommitmentIndicator.id)
            .join(Commitment, CommitmentIndicator.commitment_id == Commitment.id)
            .where(Commitment.organisation_id == organisation.id)
        )
        for m in db.session.scalars(query):
            measurements[(m.commitment_indicator_id, m.period_start, m.period_end)] = m
    enums = {enum_cls: _enum_lookup(enum_cls) for enum_cls in WHAT}
    return _Existing(domains, commitments, links, measurements, enums)


def _not_yours(value: Any) -> str:
    return _("%(value)s is not one of your commitments. Leave ID empty to add a new commitment.",
             value=_shown(value))


def _check_commitment_row(plan: ImportPlan, table: Table, row: Row, existing: _Existing, actor,
                          seen_ids: dict[int, int], new_titles: dict[str, int]) -> None:
    cell = _Cell(plan, table, row)
    commitment_id = _read_int(cell, "id", NOT_A_COMMITMENT_ID)
    commitment = None
    if commitment_id is not None:
        commitment = existing.commitments.get(commitment_id)
        if commitment is None:
            cell.error("id", _not_yours(commitment_id))
        elif commitment_id in seen_ids:
            cell.error("id", _("Commitment %(id)d is already in row %(row)d: each commitment may "
                               "appear once.", id=commitment_id, row=seen_ids[commitment_id]))
            commitment = None
        else:
            seen_ids[commitment_id] = row.number
    title = _read_text(cell, "title", max_length=TITLE_MAX, required=True, missing=TITLE_MISSING)
    domain_text = _text(cell.raw("domain"))
    domain = existing.domain_by_text(domain_text) if domain_text else None
    if not domain_text:
        cell.error("domain", _("Choose a change domain. Use one of: %(slugs)s.",
                               slugs=existing.active_slugs()))
    elif domain is None:
        cell.error("domain", _("'%(value)s' is not a change domain. Use one of: %(slugs)s.",
                               value=_shown(domain_text), slugs=existing.active_slugs()))
    elif not domain.is_active and (commitment is None or commitment.domain_id != domain.id):
        cell.error("domain", _("'%(value)s' has been retired: choose another change domain. Use one "
                               "of: %(slugs)s.", value=domain.slug, slugs=existing.active_slugs()))
        domain = None
    description = _read_text(cell, "description", max_length=DESCRIPTION_MAX, multiline=True)
    start_date = _read_date(cell, "start_date")
    target_date = _read_date(cell, "target_date")
    if start_date and target_date and target_date < start_date:
        cell.error("target_date", _("The target date (%(target)s) must be on or after the start date "
                                    "(%(start)s).", target=target_date.isoformat(),
                                    start=start_date.isoformat()))
    is_new = commitment_id is None
    enums = existing.enums
    ambition = _read_enum(cell, "ambition", Ambition, enums[Ambition],
                          default=Ambition.ESSENTIAL if is_new else None)
    completion = _read_enum(cell, "completion", Completion, enums[Completion],
                            default=Completion.NOT_STARTED if is_new else None)
    rag = _read_enum(cell, "rag", RAG, enums[RAG], default=RAG.ON_TRACK if is_new else None)
    status = None
    if not _blank(cell.raw("status")):
        status = _read_enum(cell, "status", CommitmentStatus, enums[CommitmentStatus])
    for index in row.stray:
        plan.errors.append(RowError(table.name, row.number, get_column_letter(index + 1),
                                    _("This column has no header, so its value cannot be read. "
                                      "Delete the value or the column.")))
        cell.failed = True
    if cell.failed:
        return

    values = services.CommitmentValues(
        title=title, domain_id=domain.id, description=description, start_date=start_date,
        target_date=target_date, ambition=ambition, completion=completion, rag=rag,
    )
    if is_new:
        if status not in (None, CommitmentStatus.DRAFT):
            cell.error("status", _("New commitments are saved as drafts: leave Status empty (or "
                                   "Draft) and publish them on their page."))
            return
        title_key = " ".join(title.split()).casefold()
        if title_key in new_titles:
            cell.error("title", _("This new commitment is already in row %(row)d.",
                                  row=new_titles[title_key]))
            return
        new_titles[title_key] = row.number
        plan.creates.append(NewCommitment(row.number, values, domain))
        return
    if commitment is None:  # an ID that is not the organisation's (already reported)
        return
    if status is not None and status != commitment.status:
        cell.error("status", _("The status cannot be changed by uploading a file: publish or retire "
                               "the commitment on its page."))
        return
    changes = audit.changes_between(commitment, values.as_dict())
    for key in ("title", "description"):
        if key in changes and _same_text(getattr(commitment, key), getattr(values, key)):
            del changes[key]
    if not changes:
        plan.unchanged_commitments += 1
        return
    if commitment.status == CommitmentStatus.RETIRED:
        cell.error("id", _("Commitment %(id)d is retired, and retired commitments cannot be changed.",
                           id=commitment.id))
        return
    if not permissions.can_edit_commitment(actor, commitment):
        cell.error("id", _("You may not change commitment %(id)d.", id=commitment.id))
        return
    version = _read_int(cell, "version", NOT_A_VERSION)
    if cell.failed:
        return
    if version is None:
        cell.error("version", _("Enter the version shown in the file you downloaded; without it, a "
                                "change by someone else could be overwritten."))
        return
    if version != commitment.version:
        cell.error("version", _("Commitment %(id)d was changed by someone else since you downloaded "
                                "the file — download it again and redo your changes to this row.",
                                id=commitment.id))
        return
    domains = {d.id: d.slug for d in existing.domains}
    shown = []
    for key in changes:
        old, new = getattr(commitment, key), getattr(values, key)
        if key == "domain_id":
            old, new = domains.get(old, ""), domains.get(new, "")
        shown.append(Change(HEADERS[COMMITMENTS]["domain" if key == "domain_id" else key],
                            _display(old), _display(new)))
    plan.updates.append(CommitmentUpdate(row.number, commitment,
                                         {k: getattr(values, k) for k in changes}, shown))


def _display(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if hasattr(value, "label"):
        return value.label
    if isinstance(value, Decimal):
        return _number_text(value)
    return _shown(value)


def _check_measurement_row(plan: ImportPlan, table: Table, row: Row, existing: _Existing, actor,
                           seen: dict[tuple, int]) -> None:
    cell = _Cell(plan, table, row)
    commitment = None
    commitment_id = _read_int(cell, "commitment_id", NOT_A_MEASURED_COMMITMENT)
    if commitment_id is None and not cell.failed:
        cell.error("commitment_id", _("Enter the number of the commitment this value belongs to."))
    elif commitment_id is not None:
        commitment = existing.commitments.get(commitment_id)
        if commitment is None:
            cell.error("commitment_id", _("%(value)s is not one of your commitments.",
                                          value=commitment_id))
    name = _text(cell.raw("indicator"))
    link = None
    if not name:
        cell.error("indicator", _("Enter the name of the indicator, as shown on the commitment's page."))
    elif commitment is not None:
        attached = existing.links.get(commitment.id, {})
        found = attached.get(" ".join(name.split()).casefold(), [])
        if not attached:
            cell.error("indicator", _("Commitment %(id)d has no indicators yet: attach '%(name)s' on "
                                      "its page first.", id=commitment.id, name=_shown(name)))
        elif not found:
            names = sorted({n for pairs in attached.values() for _l, n in pairs})
            cell.error("indicator", _("'%(name)s' is not attached to commitment %(id)d. Use one of: "
                                      "%(names)s (or attach it on the commitment's page first).",
                                      name=_shown(name), id=commitment.id, names=", ".join(names)))
        elif len(found) > 1:
            cell.error("indicator", _("More than one indicator called '%(name)s' is attached to "
                                      "commitment %(id)d: rename one of them first.",
                                      name=_shown(name), id=commitment.id))
        else:
            link, name = found[0]
    period_start = _read_date(cell, "period_start", required=True)
    period_end = _read_date(cell, "period_end", required=True)
    if period_start and period_end and period_end < period_start:
        cell.error("period_end", _("The period end (%(end)s) must be on or after the period start "
                                   "(%(start)s).", end=period_end.isoformat(),
                                   start=period_start.isoformat()))
    value, as_float = _read_decimal(cell, "value", table.decimal_comma)
    note = _read_text(cell, "note", max_length=NOTE_MAX, multiline=True)
    for index in row.stray:
        plan.errors.append(RowError(table.name, row.number, get_column_letter(index + 1),
                                    _("This column has no header, so its value cannot be read. "
                                      "Delete the value or the column.")))
        cell.failed = True
    if cell.failed or link is None:
        return
    key = (link.id, period_start, period_end)
    if key in seen:
        cell.error(None, _("This row repeats row %(row)d: the same commitment, indicator and period.",
                           row=seen[key]))
        return
    seen[key] = row.number
    measurement = existing.measurements.get(key)
    if measurement is not None:
        same_value = measurement.value == value or (
            as_float is not None and float(measurement.value) == as_float)
        if same_value and _same_text(measurement.note, note):
            plan.unchanged_measurements += 1
            return
    if not permissions.can_manage_commitment_indicators(actor, commitment):
        if commitment.status == CommitmentStatus.RETIRED:
            cell.error("commitment_id", _("Commitment %(id)d is retired: its measurements cannot be "
                                          "changed.", id=commitment.id))
        else:
            cell.error("commitment_id", _("You may not record measurements of commitment %(id)d.",
                                          id=commitment.id))
        return
    same_value = measurement is not None and (measurement.value == value or (
        as_float is not None and float(measurement.value) == as_float))
    change = MeasurementChange(row.number, commitment, link, name, period_start, period_end, value,
                               note, measurement, value_changed=not same_value)
    (plan.measurement_updates if measurement else plan.measurement_creates).append(change)


def plan_import(actor, organisation: Organisation, content: bytes) -> ImportPlan:
    """Read and validate a whole file against what is saved; write nothing.

    Raises FileProblem when the file cannot be read at all; otherwise the plan lists either
    the problems, row by row (the first MAX_ERRORS of them), or every change the upload
    would make.
    """
    permissions.require(permissions.can_import_commitments(actor, organisation),
                        _("Only the members of an approved organisation can upload its commitments."))
    tables, notices = read_tables(content)
    plan = ImportPlan(organisation, notices=notices)
    kinds = {t.kind for t in tables}
    existing = _load_existing(organisation, with_measurements=MEASUREMENTS in kinds)
    seen_ids: dict[int, int] = {}
    new_titles: dict[str, int] = {}
    seen_measurements: dict[tuple, int] = {}
    for table in sorted(tables, key=lambda t: t.kind):
        for row in table.rows:
            if len(plan.errors) >= MAX_ERRORS:
                # A file this wrong is wrong throughout; listing more would only cost time.
                del plan.errors[MAX_ERRORS:]
                plan.errors_cut = True
                return plan
            if table.kind == COMMITMENTS:
                _check_commitment_row(plan, table, row, existing, actor, seen_ids, new_titles)
            else:
                _check_measurement_row(plan, table, row, existing, actor, seen_measurements)
    return plan


# --- applying -------------------------------------------------------------------------------


def apply_import(actor, organisation: Organisation, plan: ImportPlan) -> ImportPlan:
    """Save a valid plan: one audit event per new or changed commitment; flushes, never commits."""
    permissions.require(permissions.can_import_commitments(actor, organisation),
                        _("Only the members of an approved organisation can upload its commitments."))
    if not plan.is_valid or plan.organisation.id != organisation.id:
        raise ValueError("only a valid plan for this organisation can be applied")
    changes: dict[int, dict[str, Any]] = defaultdict(dict)
    touched: dict[int, Commitment] = {}
    for update in plan.updates:
        permissions.require(permissions.can_edit_commitment(actor, update.commitment))
        changes[update.commitment.id].update(audit.apply_changes(update.commitment, update.values))
        touched[update.commitment.id] = update.commitment
    created = []
    for new in plan.creates:
        commitment = Commitment(organisation=organisation, created_by_id=actor.id,
                                status=CommitmentStatus.DRAFT, **new.values.as_dict())
        db.session.add(commitment)
        created.append((new, commitment))
    measurement_changes: dict[int, dict[str, Any]] = defaultdict(dict)
    for change in plan.measurement_creates + plan.measurement_updates:
        permissions.require(permissions.can_manage_commitment_indicators(actor, change.commitment))
        # Audit keys are data, like field names: not translated when they are written.
        label = (f"measurement {change.indicator_name} {change.period_start.isoformat()} to "
                 f"{change.period_end.isoformat()}")
        if change.measurement is None:
            db.session.add(Measurement(
                commitment_indicator_id=change.link.id, period_start=change.period_start,
                period_end=change.period_end, value=change.value, note=change.note,
                recorded_by_id=actor.id,
            ))
            measurement_changes[change.commitment.id][label] = [None, _number_text(change.value)]
        else:
            m = change.measurement
            if change.value_changed:
                measurement_changes[change.commitment.id][label] = [_number_text(m.value),
                                                                    _number_text(change.value)]
                m.value = change.value
            if not _same_text(m.note, change.note):
                measurement_changes[change.commitment.id][label + " note"] = [m.note or None,
                                                                              change.note or None]
                m.note = change.note
            m.recorded_by_id = actor.id
        touched[change.commitment.id] = change.commitment
    db.session.flush()  # one flush for every insert and update
    for commitment_id, extra in measurement_changes.items():
        changes[commitment_id].update(extra)
    events = [(commitment, changes[commitment_id]) for commitment_id, commitment in touched.items()]
    for new, commitment in created:
        # As services.create records them: the values given, in their plain form.
        plain = audit.changes_between(_NOTHING, new.values.as_dict())
        events.append((commitment, {k: v for k, v in plain.items() if v[1] not in (None, "")}))
    _record_imported(actor, organisation, events)
    plan.applied = True
    return plan


class _Nothing:
    """Stands for "no earlier value" when a new commitment's values are made plain."""

    def __getattr__(self, name):
        return None


_NOTHING = _Nothing()

def _record_imported(actor, organisation: Organisation, events: list[tuple[Commitment, dict]]) -> None:
    """One "commitment.imported" event per commitment, as services.record writes it, in
    one INSERT however large the upload (services.record flushes after every event)."""
    audit.record_many(actor, "commitment.imported", events, site_id=organisation.site_id,
                      organisation_id=organisation.id)


# --- preview and confirmation ---------------------------------------------------------------
#
# A checked upload is kept on the server (PendingImport) until its uploader confirms it, so the
# confirmation form carries a random token and nothing else, whatever the size of the file.

PENDING_PER_PERSON = 5  # unconfirmed uploads kept per person; older ones are dropped
PENDING_KEPT_AFTER_EXPIRY = timedelta(days=1)  # so that a late replay still gets a clear answer


class ConfirmationRefused(Exception):  # noqa: N818 - a situation, shown to the person
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AlreadyConfirmed(ConfirmationRefused):
    """The upload was saved by an earlier confirmation (a double click, a replay)."""


@dataclass
class Preview:
    plan: ImportPlan
    filename: str
    token: str | None = None  # names the PendingImport that holds the file


def _max_age() -> int:
    return int(current_app.config.get("SPREADSHEET_CONFIRM_MAX_AGE", 2 * 60 * 60))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _token_hash(token: str) -> str:
    return _digest(token.encode("utf-8", "surrogatepass"))


def _clean_up_pending(actor, now: datetime) -> None:
    """Delete pending uploads a day past their expiry, and this person's unconfirmed ones
    beyond the newest few (each may hold a file of up to MAX_UPLOAD_BYTES)."""
    db.session.execute(delete(PendingImport).where(
        PendingImport.expires_at < now - PENDING_KEPT_AFTER_EXPIRY
    ).execution_options(synchronize_session=False))
    older = (select(PendingImport.id)
             .where(PendingImport.user_id == actor.id, PendingImport.used_at.is_(None))
             .order_by(PendingImport.created_at.desc(), PendingImport.id.desc())
             .offset(PENDING_PER_PERSON - 1))
    db.session.execute(delete(PendingImport).where(
        PendingImport.id.in_(older.scalar_subquery())
    ).execution_options(synchronize_session=False))


def preview_import(actor, organisation: Organisation, filename: str, content: bytes) -> Preview:
    """Validate an upload and, when it is valid and changes something, keep the file for its
    confirmation and give the token that names it. Flushes; the route commits."""
    plan = plan_import(actor, organisation, content)
    filename = " ".join((filename or "").split())[:200]
    preview = Preview(plan, filename)
    if plan.is_valid and plan.has_changes:
        now = utcnow()
        _clean_up_pending(actor, now)
        preview.token = secrets.token_urlsafe(32)
        db.session.add(PendingImport(
            token_hash=_token_hash(preview.token), user_id=actor.id, organisation_id=organisation.id,
            filename=filename, content=content, content_sha256=_digest(content), size=len(content),
            created_at=now, expires_at=now + timedelta(seconds=_max_age()),
        ))
        db.session.flush()
    return preview


def _not_checked() -> ConfirmationRefused:
    return ConfirmationRefused(_("This confirmation could not be checked, so nothing was saved. "
                                 "Upload the file again."))


def _already_saved() -> AlreadyConfirmed:
    return AlreadyConfirmed(_("This upload has already been saved; nothing was saved a second time."))


def _claim(pending: PendingImport, now: datetime) -> None:
    """Mark the upload used, once: of two confirmations at the same moment, the second waits
    for the first to commit and then finds it used (rowcount 0)."""
    result = db.session.execute(
        sql_update(PendingImport)
        .where(PendingImport.id == pending.id, PendingImport.used_at.is_(None),
               PendingImport.expires_at > now)
        .values(used_at=now, content=None)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        used_at = db.session.scalar(select(PendingImport.used_at).where(PendingImport.id == pending.id))
        if used_at is not None:
            raise _already_saved()
        raise ConfirmationRefused(_("This confirmation has expired. Upload the file again."))


def confirm_import(actor, organisation: Organisation, token: str) -> Preview:
    """Check the confirmation, validate the kept file again (things may have changed since
    the preview) and, when it is still valid, apply it, once. Flushes; the route commits
    (or rolls back, which also leaves the confirmation unused)."""
    permissions.require(permissions.can_import_commitments(actor, organisation),
                        _("Only the members of an approved organisation can upload its commitments."))
    pending = db.session.scalar(select(PendingImport).where(
        PendingImport.token_hash == _token_hash(token or "")))
    # Only the person who uploaded the file confirms it, for the organisation it was for.
    if pending is None or pending.user_id != actor.id or pending.organisation_id != organisation.id:
        raise _not_checked()
    if pending.used_at is not None:
        raise _already_saved()
    now = utcnow()
    if pending.expires_at <= now:
        raise ConfirmationRefused(_("This confirmation has expired. Upload the file again."))
    content = pending.content
    if content is None or not hmac.compare_digest(_digest(content), pending.content_sha256):
        raise _not_checked()
    plan = plan_import(actor, organisation, content)
    preview = Preview(plan, pending.filename)
    if plan.is_valid:
        _claim(pending, now)
        apply_import(actor, organisation, plan)
    return preview
