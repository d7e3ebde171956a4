"""Tables of data as files: the one way CSV and XLSX are written.

Three features write tables: the spreadsheet round trip of an organisation's commitments
(charter.commitments.spreadsheets), the coordinators' and admins' exports
(charter.dashboards.exports) and the open-data ZIP (charter.api.bulk). Each declares its
columns once, as `Column`s, and writes its rows with what is here, so that a value becomes
the same cell everywhere:

- Text that a spreadsheet program would run as a formula (starting =, +, -, @, a tab or a
  carriage return, or their full-width forms) gets a ' in front (`neutralise`); the import
  takes it off again (`unneutralise`).
- CSV is UTF-8 with CRLF line ends (`csv_writer`); downloads meant for spreadsheet programs
  start with a byte order mark, so that Excel reads accents right (`csv_chunks`).
- XLSX is built by openpyxl: a bold header row, the declared widths, real dates, never a
  formula. A sheet of a few thousand rows is written cell by cell (`write_sheet`). A sheet
  of hundreds of thousands of rows (`large_workbook`) is not: openpyxl writes some 13,000
  cells a second (18,000 with lxml), so the 40,000 commitments of `flask charter generate`
  (720,000 cells) would take 40 to 55 seconds to write, where the whole export takes about
  four. There openpyxl builds the workbook in its write-only mode (styles, header, widths,
  frozen pane, the other sheets) and the data rows are streamed into the first sheet's
  <sheetData>: inline strings, numbers, and dates in the styles openpyxl registered, the
  cells openpyxl would write, as openpyxl reads them back.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
CSV_CHUNK = 64 * 1024  # bytes handed to a response at a time
XLSX_TEXT_MAX = 32_767  # characters Excel keeps in a cell
ROW_BATCH = 2_000  # rows of a large sheet encoded at a time
FIRST_SHEET = "xl/worksheets/sheet1.xml"  # the part openpyxl writes the first sheet to

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    `header` is the text of the header row: fixed English, because it is the file format,
    read back in any language. `description` says what the column holds (export pages,
    About sheets, data dictionaries); `width` is its width in a workbook; `key` is the name
    an import reads it by; `type` and `codes` describe its values in a data dictionary.
    """

    header: str
    description: Any = ""  # often lazily translated text
    width: int = 16
    key: str = ""
    type: str = "text"
    codes: tuple[str, ...] = ()

    @property
    def meaning(self) -> str:
        """The description, with the list of values for a column of codes."""
        if not self.codes:
            return str(self.description)
        return _("%(description)s One of: %(codes)s.", description=self.description,
                 codes=", ".join(self.codes))


# --- cells -----------------------------------------------------------------------------------

def neutralise(text: str) -> str:
    """Text that a spreadsheet program would read as a formula gets a ' in front."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unneutralise(text: str) -> str:
    """Text as it was before `neutralise`."""
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def decimal_text(value: Decimal) -> str:
    """A stored number as people write it: 12.500000 → 12.5, never an exponent."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def utc(value: datetime) -> datetime:
    """A time in UTC without a zone (spreadsheets have none); naive times are UTC already."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def csv_cell(value: Any) -> str:
    """A value as the text of a CSV cell."""
    kind = type(value)
    if kind is str:  # most cells: the cheapest test first
        return neutralise(value)
    if value is None:
        return ""
    if kind is int or kind is float:
        return str(value)
    if kind is bool:
        return yes_no(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return utc(value).isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def xlsx_value(value: Any) -> Any:
    """A value as openpyxl should write it into a cell."""
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, bool):
        return yes_no(value)
    return value


# --- CSV -------------------------------------------------------------------------------------

def csv_writer(stream):
    """A csv writer with the CRLF line ends that RFC 4180 and spreadsheet programs expect."""
    return csv.writer(stream, lineterminator="\r\n")


def csv_chunks(columns: tuple[Column, ...], rows: Iterable[Iterable[Any]],
               chunk_size: int = CSV_CHUNK) -> Iterator[bytes]:
    """A download for spreadsheet programs, in chunks: the byte order mark, the header row
    and the rows, each value written by `csv_cell`."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow([c.header for c in columns])
    # With the byte order mark, Excel reads the file as UTF-8 and shows accents right.
    yield codecs.BOM_UTF8
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        if buffer.tell() >= chunk_size:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_bytes(columns: tuple[Column, ...], rows: Iterable[Iterable[Any]]) -> bytes:
    return b"".join(csv_chunks(columns, rows))


# --- XLSX ------------------------------------------------------------------------------------

def write_sheet(sheet, columns: tuple[Column, ...], rows: list[list[Any]],
                wrap: tuple[str, ...] = ()) -> None:
    """Fill a sheet of an ordinary openpyxl workbook: a bold header row, the columns'
    widths, dates as dates, text top-aligned and wrapped in the columns keyed in `wrap`,
    the header frozen and filterable."""
    bold = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = bold
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    wrap_columns = {i for i, c in enumerate(columns, start=1) if c.key in wrap}
    top_wrap = Alignment(wrap_text=True, vertical="top")
    for row_number, row in enumerate(rows, start=2):
        for index, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=index, value=xlsx_value(value))
            if cell.data_type == "f":  # never a formula, whatever slipped through
                cell.data_type = "s"
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif index in wrap_columns:
                cell.alignment = top_wrap
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows) + 1, 2)}"


def large_workbook(title: str, columns: tuple[Column, ...], rows: Iterable[Iterable[Any]],
                   more_sheets: Callable[[Workbook, Font], None]) -> bytes:
    """A workbook whose first sheet, `title`, holds `rows` under a bold, frozen header row,
    followed by the sheets `more_sheets(workbook, bold)` appends (the workbook is
    write-only). The rows may be many: they are streamed (see the module's docstring)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    date_cell = WriteOnlyCell(sheet, value=date(2000, 1, 1))
    date_cell.number_format = "yyyy-mm-dd"
    time_cell = WriteOnlyCell(sheet, value=datetime(2000, 1, 1))
    time_cell.number_format = "yyyy-mm-dd hh:mm:ss"
    styles = (date_cell.style_id, time_cell.style_id)  # registers both styles
    more_sheets(workbook, bold)
    skeleton = io.BytesIO()
    workbook.save(skeleton)
    return _with_rows(skeleton, FIRST_SHEET, _sheet_rows(rows, len(columns), *styles))


def _xml_text(value: str) -> str:
    text = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))[:XLSX_TEXT_MAX]
    return xml_escape(text, {"\r": "&#13;"})


def _sheet_rows(rows: Iterable[Iterable[Any]], width: int, date_style: int,
                time_style: int) -> Iterator[str]:
    """The <row> elements of a sheet, from row 2 on (the header is row 1): the cells
    openpyxl would write for `xlsx_value(value)`, with text inline."""
    letters = [get_column_letter(i) for i in range(1, width + 1)]
    for number, row in enumerate(rows, start=2):
        cells = []
        for letter, value in zip(letters, row, strict=False):
            if value is None or value == "":
                continue
            ref = f"{letter}{number}"
            if type(value) is bool:
                value = yes_no(value)
            if type(value) is str:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                             f'{_xml_text(value)}</t></is></c>')
            elif isinstance(value, datetime):
                cells.append(f'<c r="{ref}" s="{time_style}"><v>{to_excel(utc(value))}</v></c>')
            elif isinstance(value, date):
                cells.append(f'<c r="{ref}" s="{date_style}"><v>{to_excel(value)}</v></c>')
            elif isinstance(value, Decimal):
                cells.append(f'<c r="{ref}"><v>{decimal_text(value)}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                             f'{_xml_text(str(value))}</t></is></c>')
        yield f'<row r="{number}">{"".join(cells)}</row>'


def _with_rows(skeleton: io.BytesIO, part: str, rows: Iterator[str]) -> bytes:
    """A copy of the workbook openpyxl saved, with `rows` added to the sheet `part`."""
    with zipfile.ZipFile(skeleton) as source, tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = source.read(info.filename)
                if info.filename != part:
                    target.writestr(info, data)
                    continue
                head, tail = data.split(b"</sheetData>", 1)
                with target.open(part, "w", force_zip64=True) as sheet:
                    sheet.write(head)
                    batch: list[str] = []
                    for row in rows:
                        batch.append(row)
                        if len(batch) >= ROW_BATCH:
                            sheet.write("".join(batch).encode("utf-8"))
                            batch.clear()
                    sheet.write("".join(batch).encode("utf-8"))
                    sheet.write(b"</sheetData>" + tail)
        handle.seek(0)
        return handle.read()
