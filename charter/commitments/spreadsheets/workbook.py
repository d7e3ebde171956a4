"""Reading an XLSX workbook, bounded.

openpyxl writes the workbooks; it does not read them, because its read-only reader parses
every cell of a row in Python, however far right, with a pure-Python XML parser. Here a
workbook's ZIP directory is checked before anything is unpacked, and the parts the import
needs are parsed a piece at a time by the standard library's expat parser (in C), within a
budget of XML elements, reading only columns A to Z.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import XMLPullParser

from flask_babel import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

from charter.commitments.spreadsheets.columns import (
    COMMITMENTS,
    MAX_COLUMNS,
    MAX_PACKING_RATIO,
    MAX_UNPACKED_BYTES,
    MAX_ZIP_DIRECTORY_BYTES,
    MAX_ZIP_ENTRIES,
    MEASUREMENTS,
    RATIO_CHECKED_FROM,
    SHEETS,
    megabytes,
)
from charter.commitments.spreadsheets.tables import Budget, FileProblem, Table, collect_rows


def unreadable_xlsx() -> FileProblem:
    return FileProblem(_("This file looks like an Excel workbook but cannot be read; it may be "
                         "damaged. Open it in your spreadsheet program, save it again as an Excel "
                         "Workbook (.xlsx) or as CSV UTF-8, and upload that."))


def _too_many_parts() -> FileProblem:
    return FileProblem(_("This workbook has more than %(max)s parts (sheets, pictures, charts and the "
                         "like). Remove what you do not need, or upload the CSV files instead.",
                         max=f"{MAX_ZIP_ENTRIES:,}"))


def open_workbook(content: bytes) -> zipfile.ZipFile:
    """The workbook's ZIP archive, once its directory shows that unpacking it costs no more
    than a large honest workbook does. Nothing is unpacked here."""
    # The end of the archive says how many entries its directory holds and how long it is:
    # check both before the directory itself is read.
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 65_557))
    if end < 0 or len(content) < end + 22:
        raise unreadable_xlsx()
    entries, directory_size = struct.unpack("<HI", content[end + 10:end + 16])
    if entries > MAX_ZIP_ENTRIES or directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise _too_many_parts()
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise unreadable_xlsx() from exc
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


def _xml_elements(archive: zipfile.ZipFile, part: str, budget: Budget, *,
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
                raise unreadable_xlsx()
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
class WorkbookParts:
    sheets: dict[str, str]  # sheet name, stripped and case-folded → its part
    strings: str | None
    styles: str | None
    epoch: datetime


def workbook_parts(archive: zipfile.ZipFile, budget: Budget) -> WorkbookParts:
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

    return WorkbookParts(sheets, part_of("/sharedStrings"), part_of("/styles"), epoch)


def _text_of(element) -> str:
    """The text of a string item: its own text and that of its runs (phonetic guides left out)."""
    text = element.findtext(_TEXT) or ""
    runs = element.findall(_RUN)
    if runs:
        text += "".join(run.findtext(_TEXT) or "" for run in runs)
    return text


def shared_strings(archive: zipfile.ZipFile, part: str | None, budget: Budget) -> list[str]:
    strings: list[str] = []
    if part is None or part not in archive.NameToInfo:
        return strings
    for _event, element in _xml_elements(archive, part, budget):
        if element.tag == _STRING_ITEM:
            strings.append(_text_of(element).replace("x005F_", ""))  # as openpyxl reads them
            element.clear()
    return strings


class Styles:
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


def styles_of(archive: zipfile.ZipFile, part: str | None, budget: Budget) -> Styles:
    formats: list[int] = []
    custom: dict[int, str] = {}
    if part is None or part not in archive.NameToInfo:
        return Styles(formats, custom)
    for _event, element in _xml_elements(archive, part, budget):
        if element.tag == _NUMBER_FORMATS:
            custom = {int(f.get("numFmtId") or 0): f.get("formatCode") or "" for f in element}
        elif element.tag == _CELL_FORMATS:
            formats = [int(f.get("numFmtId") or 0) for f in element]
            break  # nothing after the cell styles matters here
    return Styles(formats, custom)


def _cell_value(cell, strings: list[str], styles: Styles, epoch: datetime) -> Any:
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


def sheet_rows(  # noqa: C901 - every cell of a workbook passes here: no call per cell
        archive: zipfile.ZipFile, part: str, budget: Budget, strings: list[str], styles: Styles,
        epoch: datetime):
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
                raise unreadable_xlsx()  # rows out of order: a damaged sheet
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


def read_xlsx(content: bytes, budget: Budget) -> tuple[list[Table], list[str]]:
    archive = open_workbook(content)
    tables: list[Table] = []
    problems: list[str] = []
    notices: list[str] = []
    try:
        with archive:
            parts = workbook_parts(archive, budget)
            wanted = [(kind, parts.sheets.get(title.casefold()))
                      for kind, (title, _columns) in SHEETS.items()]
            wanted = [(kind, part) for kind, part in wanted if part is not None]
            if wanted:
                strings = shared_strings(archive, parts.strings, budget)
                styles = styles_of(archive, parts.styles, budget)
            for kind, part in wanted:
                rows = sheet_rows(archive, part, budget, strings, styles, parts.epoch)
                table, sheet_problems = collect_rows(kind, rows, budget)
                problems.extend(sheet_problems)
                if table is not None:
                    tables.append(table)
    except FileProblem:
        raise
    except Exception as exc:  # a damaged part fails only when it is read
        raise unreadable_xlsx() from exc
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

