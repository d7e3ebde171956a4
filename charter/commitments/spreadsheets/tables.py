"""Reading a file, whatever its format: the rows under the header row of a sheet, checked
against the columns of the download, within the budget one upload may cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from charter.commitments.spreadsheets.columns import (
    HEADERS,
    MAX_BLANK_RUN,
    MAX_CELLS,
    MAX_DATA_ROWS,
    MAX_SHEET_ROWS,
    MAX_SHOWN_VALUE,
    MAX_XML_ELEMENTS,
    SHEETS,
)


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


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def header_key(value: Any) -> str:
    return " ".join(str(value or "").replace("\ufeff", "").split()).casefold()


KEYS_BY_HEADER = {kind: {header_key(c.header): c.key for c in columns}
                   for kind, (_n, columns) in SHEETS.items()}


def _map_header(kind: str, cells: list[Any]) -> tuple[dict[int, str], list[str]]:
    """Column index → key, and what is wrong with the header row (empty when it is right)."""
    known = KEYS_BY_HEADER[kind]
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, value in enumerate(cells):
        if blank(value):
            continue
        key = known.get(header_key(value))
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


class Budget:
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


def _check_row_number(kind: str, number: int) -> None:
    if number > MAX_SHEET_ROWS:
        raise FileProblem(_("%(sheet)s has values beyond row %(max)s. Delete the empty rows "
                            "between your rows, or split the file into smaller ones and upload "
                            "them one after another.", sheet=SHEETS[kind][0],
                            max=f"{MAX_SHEET_ROWS:,}"))


def collect_rows(kind: str, rows, budget: Budget,
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
        _check_row_number(kind, number)
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


def not_csv_or_xlsx() -> FileProblem:
    return FileProblem(_("This file is neither a CSV file nor an Excel workbook (.xlsx). Upload the "
                         "XLSX workbook or one of the CSV files downloaded from this page."))
