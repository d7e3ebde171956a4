"""Data and file builders shared by the spreadsheet tests (this module holds no tests)."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from charter.commitments.spreadsheets import COMMITMENT_COLUMNS, MEASUREMENT_COLUMNS
from charter.extensions import db
from charter.models import (
    RAG,
    Ambition,
    CommitmentIndicator,
    CommitmentStatus,
    Completion,
    Direction,
    Indicator,
    Measurement,
)
from charter.models.base import utcnow
from tests import factories as f

COMMITMENT_HEADERS = [c.header for c in COMMITMENT_COLUMNS]
MEASUREMENT_HEADERS = [c.header for c in MEASUREMENT_COLUMNS]
IMPORT_URL = "/organisations/{}/commitments/import"


@dataclass
class Data:
    lrp: object  # change domains
    prevention: object
    retired_domain: object
    published: object  # commitments of world.org
    draft: object
    retired: object
    others: object  # a commitment of world.other_org
    link: object  # "Prone restraints" attached to `published`
    other_link: object  # "Seclusion episodes" attached to `published`
    q1: object  # measurements of `link`
    q2: object


def indicator(name: str, organisation=None) -> Indicator:
    obj = Indicator(name=name, unit="count", direction=Direction.LOWER_IS_BETTER,
                    organisation_id=organisation.id if organisation else None)
    db.session.add(obj)
    db.session.flush()
    return obj


def attach(commitment, ind: Indicator) -> CommitmentIndicator:
    obj = CommitmentIndicator(commitment=commitment, indicator=ind, baseline_value=Decimal("20"))
    db.session.add(obj)
    db.session.flush()
    return obj


def measure(link, start: date, end: date, value: str, note: str = "") -> Measurement:
    obj = Measurement(commitment_indicator=link, period_start=start, period_end=end,
                      value=Decimal(value), note=note)
    db.session.add(obj)
    db.session.flush()
    return obj


def make_data(world) -> Data:
    lrp = f.domain("Least restrictive practice", slug="least-restrictive-practice", position=1)
    prevention = f.domain("Prevention and early detection", slug="prevention-and-early-detection",
                          position=2)
    retired_domain = f.domain("Old heading", slug="old-heading", position=3, is_active=False)
    published = f.commitment(
        world.org, lrp, title="Halve prone restraint by 2027", status=CommitmentStatus.PUBLISHED,
        published_at=utcnow(), start_date=date(2026, 1, 1), target_date=date(2027, 12, 31),
        ambition=Ambition.ASPIRATIONAL, completion=Completion.LIMITED, rag=RAG.AT_RISK,
        description="We will **halve** prone restraint.\n\n- train staff\n- review every case",
    )
    draft = f.commitment(world.org, prevention, title="Safety huddles on every ward")
    retired = f.commitment(world.org, retired_domain, title="An old promise",
                           status=CommitmentStatus.RETIRED, published_at=utcnow(),
                           retired_at=utcnow(), retired_reason="Replaced")
    others = f.commitment(world.other_org, lrp, title="Someone else's promise",
                          status=CommitmentStatus.PUBLISHED, published_at=utcnow())
    link = attach(published, indicator("Prone restraints"))
    other_link = attach(published, indicator("Seclusion episodes"))
    q1 = measure(link, date(2026, 1, 1), date(2026, 3, 31), "14", "First quarter")
    q2 = measure(link, date(2026, 4, 1), date(2026, 6, 30), "11.5")
    attach(others, indicator("Rapid tranquillisation"))
    db.session.commit()
    return Data(lrp, prevention, retired_domain, published, draft, retired, others, link,
                other_link, q1, q2)


def commitment_row(c, **changes) -> dict:
    row = {
        "ID": c.id, "Version": c.version, "Title": c.title, "Change domain": c.domain.slug,
        "Description": c.description, "Start date": c.start_date.isoformat() if c.start_date else "",
        "Target date": c.target_date.isoformat() if c.target_date else "",
        "Ambition": c.ambition.label, "Completion": c.completion.label, "RAG": c.rag.label,
        "Status": c.status.label,
    }
    row.update(changes)
    return row


def new_row(**values) -> dict:
    row = dict.fromkeys(COMMITMENT_HEADERS, "")
    row.update({"Title": "A new promise", "Change domain": "least-restrictive-practice"})
    row.update(values)
    return row


def measurement_row(commitment_id, indicator_name="Prone restraints", start="2026-07-01",
                    end="2026-09-30", value="9", note="") -> dict:
    return {"Commitment ID": commitment_id, "Indicator": indicator_name, "Period start": start,
            "Period end": end, "Value": value, "Note": note}


def csv_file(rows: list[dict], headers=None, *, bom: bool = True, delimiter: str = ",",
             encoding: str = "utf-8") -> bytes:
    headers = headers or (list(rows[0]) if rows else COMMITMENT_HEADERS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if row.get(h) is None else row.get(h, "") for h in headers])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom and encoding == "utf-8" else data


def xlsx_file(sheets: dict[str, list[dict]], headers: dict[str, list[str]] | None = None) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    defaults = {"Commitments": COMMITMENT_HEADERS, "Measurements": MEASUREMENT_HEADERS}
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        names = (headers or {}).get(name) or defaults.get(name) or list(rows[0])
        sheet.append(names)
        for row in rows:
            sheet.append([row.get(h) for h in names])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "CSV downloads start with a UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(content[3:].decode("utf-8"), newline="")))


def read_xlsx(content: bytes):
    return load_workbook(io.BytesIO(content))


def upload(client, org, content: bytes, filename: str = "commitments.csv"):
    return client.post(IMPORT_URL.format(org.slug), data={"file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def errors_of(plan) -> list[str]:
    return [e.sentence for e in plan.errors]


# --- workbooks written by hand, for the limits ---------------------------------------------

def replace_part(content: bytes, name: str, data: bytes) -> bytes:
    """The workbook `content` with its part `name` replaced by `data` (deflated)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, data if info.filename == name else source.read(info))
    return buffer.getvalue()


def sheet_xml(rows: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{rows}</sheetData></worksheet>').encode()


def inline_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row(headers=None) -> str:
    headers = headers or COMMITMENT_HEADERS
    return ('<row r="1">' + "".join(inline_cell(f"{get_column_letter(i)}1", h)
                                    for i, h in enumerate(headers, start=1)) + "</row>")


def workbook_with_sheet(rows: str, sheet: str = "Commitments") -> bytes:
    """A workbook whose only sheet (`sheet`) holds `rows`, written as XML."""
    return replace_part(xlsx_file({sheet: [new_row()]}), "xl/worksheets/sheet1.xml", sheet_xml(rows))
