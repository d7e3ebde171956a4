"""The file format: the sheets, their columns, and the limits of what an upload may hold."""

from __future__ import annotations

import re
from decimal import Decimal

from charter.tabular import Column

# The header is the file format: fixed, so that files read back in any language.
COMMITMENT_COLUMNS = (
    Column("ID", width=8, key="id"),
    Column("Version", width=9, key="version"),
    Column("Title", width=48, key="title"),
    Column("Change domain", width=30, key="domain"),
    Column("Description", width=60, key="description"),
    Column("Start date", width=12, key="start_date"),
    Column("Target date", width=12, key="target_date"),
    Column("Ambition", width=14, key="ambition"),
    Column("Completion", width=14, key="completion"),
    Column("RAG", width=11, key="rag"),
    Column("Status", width=11, key="status"),
)
MEASUREMENT_COLUMNS = (
    Column("Commitment ID", width=14, key="commitment_id"),
    Column("Indicator", width=48, key="indicator"),
    Column("Period start", width=12, key="period_start"),
    Column("Period end", width=12, key="period_end"),
    Column("Value", width=12, key="value"),
    Column("Note", width=60, key="note"),
)
COMMITMENTS = "commitments"
MEASUREMENTS = "measurements"
SHEETS = {COMMITMENTS: ("Commitments", COMMITMENT_COLUMNS),
          MEASUREMENTS: ("Measurements", MEASUREMENT_COLUMNS)}
ABOUT_SHEET = "About"
HEADERS = {kind: {c.key: c.header for c in columns} for kind, (_n, columns) in SHEETS.items()}

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

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAKS = re.compile(r"[\r\n]")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f}"
