"""Reading an uploaded file: an XLSX workbook (charter.commitments.spreadsheets.workbook) or a
CSV file, told apart by their content, not their name."""

from __future__ import annotations

import codecs
import csv
import io

from flask_babel import gettext as _

from charter.commitments.spreadsheets.columns import (
    COMMITMENT_COLUMNS,
    COMMITMENTS,
    CONTROL_CHARACTERS,
    MAX_BLANK_RUN,
    MAX_COLUMNS,
    MAX_CSV_FIELDS,
    MAX_UPLOAD_BYTES,
    MEASUREMENT_COLUMNS,
    MEASUREMENTS,
    megabytes,
)
from charter.commitments.spreadsheets.tables import (
    KEYS_BY_HEADER,
    Budget,
    FileProblem,
    Table,
    blank,
    collect_rows,
    header_key,
    not_csv_or_xlsx,
)
from charter.commitments.spreadsheets.workbook import read_xlsx


def _decode_csv(content: bytes) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(_("This file is saved as UTF-16 (“Unicode text”). Save it as CSV UTF-8 "
                            "and upload it again."))
    if b"\x00" in content:
        raise not_csv_or_xlsx()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        sample = content[:65536]
        controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
        if controls > len(sample) // 100:
            raise not_csv_or_xlsx() from exc
        raise FileProblem(_("This file is not saved as UTF-8, so its accents and other characters "
                            "cannot be read reliably. In your spreadsheet program choose Save As, "
                            "then “CSV UTF-8 (comma delimited)”, and upload that file (or upload the "
                            "XLSX workbook instead).")) from exc
    sample = text[:65536]
    if len(CONTROL_CHARACTERS.findall(sample)) > len(sample) // 100:
        raise not_csv_or_xlsx()
    return text


def _first_line(text: str) -> str:
    return text.lstrip("\r\n").split("\n", 1)[0]


def _guess_delimiter(text: str) -> str:
    """Excel saves CSV with ; where the decimal mark is a comma: take whichever separator
    makes the most headers known."""
    line = _first_line(text)
    known = set(KEYS_BY_HEADER[COMMITMENTS]) | set(KEYS_BY_HEADER[MEASUREMENTS])
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        score = sum(1 for c in cells if header_key(c) in known)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _guess_kind(cells: list[str]) -> str | None:
    keys = {header_key(c) for c in cells}
    scores = {kind: len(keys & set(known)) for kind, known in KEYS_BY_HEADER.items()}
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


def _read_csv(content: bytes, budget: Budget) -> tuple[list[Table], list[str]]:
    text = _decode_csv(content)
    delimiter = _guess_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = _csv_rows(_csv_records(reader))
    header = None
    for number, cells in rows:
        if not all(blank(c) for c in cells):
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
    table, problems = collect_rows(kind, rows, budget, header=header)
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
    budget = Budget()
    if content.startswith(b"PK\x03\x04"):
        tables, notices = read_xlsx(content, budget)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(_("This is an old-style Excel file (.xls). Save it as an Excel Workbook "
                            "(.xlsx) or as CSV UTF-8, and upload that."))
    elif content.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x05\x06")):
        raise not_csv_or_xlsx()
    else:
        tables, notices = _read_csv(content, budget)
    if not any(t.rows for t in tables):
        raise FileProblem(_("There are no rows under the header row: there is nothing to upload."))
    return tables, notices

