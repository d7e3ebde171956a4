"""The spreadsheet round trip of an organisation's commitments and measurements.

Export (export.py): an XLSX workbook (sheets Commitments, Measurements and About) and two
CSV files with the same columns (columns.py), written by charter.tabular. Import: the same
files back. Everything is read (reading.py, tables.py, workbook.py, cells.py) and every row
checked first (checking.py, with the commitment services' own rules), with existing rows
bulk-loaded in a few queries; nothing is written unless the whole file is valid, and only
once the person has seen the preview and confirmed it (importing.py: the commitments are
created and changed by the commitment services).

Text that a spreadsheet program could run as a formula (=, +, -, @, tab, carriage return at
the start) is exported with a ' in front, and that ' is taken off again on import.

Reading is bounded (see the limits in columns.py): a workbook's ZIP directory is checked
before anything is unpacked, and the parts the import needs are parsed a piece at a time
within a budget of XML elements, reading only columns A to Z. A checked upload is kept on
the server (PendingImport) until its uploader confirms it, once.
"""

from charter.commitments.spreadsheets.checking import plan_import
from charter.commitments.spreadsheets.columns import (
    COMMITMENT_COLUMNS,
    MAX_DATA_ROWS,
    MAX_UPLOAD_BYTES,
    MEASUREMENT_COLUMNS,
    megabytes,
)
from charter.commitments.spreadsheets.export import (
    export_csv,
    export_measurements_csv,
    export_xlsx,
)
from charter.commitments.spreadsheets.importing import (
    PENDING_PER_PERSON,
    AlreadyConfirmed,
    ConfirmationRefused,
    Preview,
    apply_import,
    confirm_import,
    preview_import,
)
from charter.commitments.spreadsheets.plan import ImportPlan
from charter.commitments.spreadsheets.reading import read_tables
from charter.commitments.spreadsheets.tables import FileProblem
from charter.tabular import CSV_MIMETYPE, XLSX_MIMETYPE

__all__ = [
    "COMMITMENT_COLUMNS", "CSV_MIMETYPE", "MAX_DATA_ROWS", "MAX_UPLOAD_BYTES",
    "MEASUREMENT_COLUMNS", "PENDING_PER_PERSON", "XLSX_MIMETYPE", "AlreadyConfirmed",
    "ConfirmationRefused", "FileProblem", "ImportPlan", "Preview", "apply_import",
    "confirm_import", "export_csv", "export_measurements_csv", "export_xlsx", "megabytes",
    "plan_import", "preview_import", "read_tables",
]
