"""Spreadsheet uploads are bounded work: every limit refuses with a clear message beside
the file field (never 413 or 500), before the costly part where it can, and the largest
honest files still pass. Work is measured by counting Python calls, never by the clock."""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from charter.commitments import spreadsheets
from charter.commitments.spreadsheets import workbook
from charter.commitments.spreadsheets.tables import Budget
from tests.support import text_of
from tests.test_spreadsheets_data import (
    COMMITMENT_HEADERS,
    IMPORT_URL,
    csv_file,
    errors_of,
    header_row,
    inline_cell,
    make_data,
    new_row,
    replace_part,
    sheet_xml,
    upload,
    workbook_with_sheet,
    xlsx_file,
)


@pytest.fixture
def data(world):
    return make_data(world)


def plan(world, content):
    return spreadsheets.plan_import(world.user("editor"), world.org, content)


def problem_of(world, content) -> spreadsheets.FileProblem:
    with pytest.raises(spreadsheets.FileProblem) as caught:
        plan(world, content)
    return caught.value


def python_calls(fn):
    """fn's result and how many Python function calls (and generator steps) it made: the
    work it does, whatever the speed of the machine."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        result = fn()
    finally:
        sys.setprofile(None)
    return result, calls


def _promise_cells(row: int) -> str:
    return (inline_cell(f"C{row}", f"Promise {row}")
            + inline_cell(f"D{row}", "least-restrictive-practice"))


# --- the workbook as a ZIP archive: checked before anything is unpacked -------------------

def test_formatted_cells_beyond_the_used_columns_are_not_read(world, data):
    """1,000 rows, each with 720 empty but formatted cells after column K: 720,000 cells
    that used to be parsed one by one (7 s)."""
    rows = [header_row()]
    for r in range(2, 1002):
        formatted = "".join(f'<c r="{get_column_letter(c)}{r}" s="1"/>' for c in range(12, 732))
        rows.append(f'<row r="{r}">{_promise_cells(r)}{formatted}</row>')
    content = workbook_with_sheet("".join(rows))

    result, calls = python_calls(lambda: plan(world, content))
    assert result.is_valid, errors_of(result)[:5]
    assert len(result.creates) == 1000
    assert result.creates[-1].values.title == "Promise 1001"
    # Reading the 720,000 cells one by one made over two million calls (2,000 a row); the
    # rows' own checks (readers, printable text) take about 200 a row.
    assert calls < 400_000


def test_the_same_cells_without_references_are_refused_before_being_read(world, data, monkeypatch):
    """Without cell references the formatted cells pack 300 to 1: refused from the ZIP's
    directory alone."""
    rows = [header_row()]
    formatted = '<c s="1"/>' * 720
    for r in range(2, 1002):
        rows.append(f'<row><c/><c/>{inline_cell(f"C{r}", "A promise")}{formatted}</row>')
    content = workbook_with_sheet("".join(rows))
    assert len(content) < 64 * 1024
    monkeypatch.setattr(zipfile.ZipFile, "open", _no_unpacking)
    assert "This workbook unpacks to" in problem_of(world, content).message


def _no_unpacking(*args, **kwargs):
    raise AssertionError("a part of the workbook was unpacked")


def _padded_workbook(padding: int) -> bytes:
    base = xlsx_file({"Commitments": [new_row()]})
    sheet = zipfile.ZipFile(io.BytesIO(base)).read("xl/worksheets/sheet1.xml")
    padded = sheet.replace(b"</worksheet>", b" " * padding + b"</worksheet>")
    return replace_part(base, "xl/worksheets/sheet1.xml", padded)


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(world, data, monkeypatch):
    content = _padded_workbook(40 * 1024 * 1024)  # 40 MB of spaces in a 60 KB file
    assert len(content) < 100 * 1024
    monkeypatch.setattr(zipfile.ZipFile, "open", _no_unpacking)
    problem = problem_of(world, content)
    assert problem.message.startswith("This workbook is too large once unpacked: 40 MB, where at "
                                      "most 32 MB are read.")


def test_a_workbook_that_packs_too_tightly_is_refused_before_anything_is_unpacked(
        world, data, monkeypatch):
    content = _padded_workbook(8 * 1024 * 1024)  # under the size limit, but 1,000 to 1
    monkeypatch.setattr(zipfile.ZipFile, "open", _no_unpacking)
    message = problem_of(world, content).message
    assert message.startswith("This workbook unpacks to ")
    assert "times its size, far more than a spreadsheet does" in message


def test_a_workbook_of_too_many_parts_is_refused(world, data):
    buffer = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(xlsx_file({"Commitments": [new_row()]})))
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in base.infolist():
            archive.writestr(info.filename, base.read(info))
        for n in range(1000):
            archive.writestr(f"xl/media/image{n}.png", b"")
    assert problem_of(world, buffer.getvalue()).message.startswith(
        "This workbook has more than 1,000 parts (sheets, pictures, charts and the like).")


def test_a_document_type_declaration_is_refused(world, data):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b"<sheetData><row><c t=\"inlineStr\"><is><t>&lol;</t></is></c></row></sheetData>"
            b"</worksheet>")
    content = replace_part(xlsx_file({"Commitments": [new_row()]}), "xl/worksheets/sheet1.xml", bomb)
    assert "cannot be read" in problem_of(world, content).message


# --- the sheets: XML elements, cells and rows read ----------------------------------------

def test_a_sheet_of_too_many_cells_is_refused_while_it_is_read(world, data):
    """Values right of column Z are never looked at, but the XML holding them still has to
    be parsed: past 500,000 elements the workbook is refused."""
    rows = [header_row()]
    for r in range(2, 1002):
        beyond = "".join(f'<c r="{get_column_letter(c)}{r}"><v>1</v></c>' for c in range(27, 337))
        rows.append(f'<row r="{r}">{_promise_cells(r)}{beyond}</row>')
    message = problem_of(world, workbook_with_sheet("".join(rows))).message
    assert message.startswith("This workbook has too many cells to check: over 500,000, counting "
                              "empty cells that only carry formatting.")


def test_values_right_of_column_z_are_not_read(world, data):
    far = "AA"  # column 27: the first one not read
    rows = header_row() + f'<row r="2">{_promise_cells(2)}{inline_cell(f"{far}2", "ignored")}</row>'
    result = plan(world, workbook_with_sheet(rows))
    assert result.is_valid, errors_of(result)
    assert [c.values.title for c in result.creates] == ["Promise 2"]


def test_too_many_filled_cells_are_refused(world, data):
    """Columns A to Z all filled (the last 15 under no header): 5,800 rows hold 150,800 cells."""
    lines = [",".join(COMMITMENT_HEADERS + [""] * 15)] + [",".join(["x"] * 26)] * 5800
    assert problem_of(world, "\r\n".join(lines).encode()).message == (
        "This file has more than 150,000 filled cells. Split it into smaller files and upload them "
        "one after another.")


def test_more_than_10000_rows_are_refused(world, data):
    content = csv_file([new_row(Title=f"Promise {i}") for i in range(10_001)])
    assert problem_of(world, content).message == (
        "Commitments has more than 10,000 rows. Split it into smaller files and upload them one "
        "after another.")


def test_rows_far_down_the_sheet_are_refused(world, data):
    """Empty rows between filled ones cost work too: no filled row past row 20,000."""
    line = ",".join(new_row(Title="Spaced out").values())
    lines = [",".join(COMMITMENT_HEADERS)]
    for _ in range(50):
        lines += [line] + [""] * 500
    content = "\r\n".join(lines).encode()
    assert problem_of(world, content).message.startswith(
        "Commitments has values beyond row 20,000. Delete the empty rows between your rows")


def test_a_run_of_1000_empty_rows_ends_the_sheet(world, data):
    lines = [",".join(COMMITMENT_HEADERS), ",".join(new_row(Title="Kept").values())]
    lines += [""] * 1001 + [",".join(new_row(Title="After the end").values())]
    result = plan(world, "\r\n".join(lines).encode())
    assert [c.values.title for c in result.creates] == ["Kept"]


def test_a_csv_line_of_too_many_values_is_refused(world, data):
    lines = [",".join(COMMITMENT_HEADERS), ",".join(new_row().values()) + "," * 20_000]
    assert problem_of(world, "\r\n".join(lines).encode()).message.startswith(
        "Row 2 of the file has 20,011 values, more than any spreadsheet has columns")


def test_empty_values_trailing_each_line_are_ignored(world, data):
    """Excel writes a comma for every column ever formatted."""
    lines = [",".join(COMMITMENT_HEADERS) + "," * 16_000]
    lines += [",".join(new_row(Title=f"Promise {i}").values()) + "," * 16_000 for i in range(50)]
    result, calls = python_calls(lambda: plan(world, "\r\n".join(lines).encode()))
    assert result.is_valid and len(result.creates) == 50
    assert calls < 50_000


def test_a_file_over_16_mb_is_refused(world, data):
    content = csv_file([new_row()]) + b"," * (16 * 1024 * 1024)
    assert problem_of(world, content).message == (
        "This file is larger than 16 MB, the most an upload may be. Split it into smaller files "
        "and upload them one after another.")


def test_an_upload_over_the_request_limit_is_refused_beside_the_file_field(
        app, client, world, data, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    client.login(world.user("editor"))
    rows = [new_row(Title=f"Promise {i}", Description="x" * 15_000) for i in range(100)]
    response = upload(client, world.org, csv_file(rows))
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page
    assert "This file is larger than 1 MB, the most an upload may be." in page
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_the_upload_page_states_the_limits(client, world, data):
    client.login(world.user("editor"))
    assert ("A file may be up to 16 MB and hold up to 10,000 rows, its sheets together; columns "
            "after Z are not read.") in text_of(client.get(IMPORT_URL.format(world.org.slug)))


def test_other_pages_keep_the_usual_too_large_page(app, client, world, data, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    client.login(world.user("editor"))
    response = client.post(f"/commitments/{data.draft.id}/edit", data={"title": "x" * 5000})
    assert response.status_code == 413
    assert "larger than this service accepts" in text_of(response)


def test_checking_stops_after_1000_problems(client, world, data):
    rows = [new_row(Title=f"Promise {i}", RAG="green") for i in range(1500)]
    result = plan(world, csv_file(rows))
    assert len(result.errors) == 1000 and result.errors_cut
    client.login(world.user("editor"))
    response = upload(client, world.org, csv_file(rows))
    assert response.status_code == 400
    page = text_of(response)
    assert "Nothing was saved. Checking stopped after 1,000 problems: correct them and upload the " \
           "file again." in page
    assert "The first 500 problems, by sheet, row and column (checking stopped after 1,000)" in page


# --- the largest honest files still pass --------------------------------------------------

def _workbook(world, data, commitments: int, measurements: int) -> bytes:
    rows = [new_row(Title=f"Promise {i}", Description="What we will do. " * 10,
                    **{"Start date": "2026-01-01", "Target date": "2027-01-01",
                       "Ambition": "Desirable", "Completion": "Limited", "RAG": "On track"})
            for i in range(commitments)]
    values = [
        {"Commitment ID": data.published.id, "Indicator": "Prone restraints",
         "Period start": date.fromordinal(730_000 + i), "Period end": date.fromordinal(730_000 + i),
         "Value": i % 97 + 0.5, "Note": f"Counted on ward {i % 12}"}
        for i in range(measurements)]
    return xlsx_file({"Commitments": rows, "Measurements": values})


def test_a_workbook_of_10000_rows_passes(world, data):
    result = plan(world, _workbook(world, data, 6000, 4000))
    assert result.is_valid, errors_of(result)[:5]
    assert (len(result.creates), len(result.measurement_creates)) == (6000, 4000)


def test_a_workbook_of_more_than_10000_rows_in_its_sheets_together_is_refused(world, data):
    assert problem_of(world, _workbook(world, data, 6000, 4001)).message.startswith(
        "The Commitments and Measurements sheets have more than 10,000 rows together.")


# --- the workbook reader reads what openpyxl reads ----------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _cells_workbook() -> bytes:
    """Every kind of cell: shared strings (plain, rich, with a phonetic guide, escaped),
    inline strings, numbers, dates and times by built-in and custom formats, booleans,
    errors and formula results."""
    workbook = xlsx_file({"Commitments": [new_row()]})
    strings = (f'<sst xmlns="{_MAIN}"><si><t>plain</t></si>'
               '<si><r><rPr><b/></rPr><t>bold</t></r><r><t xml:space="preserve"> and not</t></r></si>'
               '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></si>'
               '<si><t>_x005F_x000D_ kept</t></si></sst>')
    styles = (f'<styleSheet xmlns="{_MAIN}"><numFmts count="1">'
              '<numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
              '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
              '<xf numFmtId="20"/><xf numFmtId="46"/></cellXfs></styleSheet>')
    cells = [
        '<c r="A2" t="s"><v>0</v></c>', '<c r="B2" t="s"><v>1</v></c>', '<c r="C2" t="s"><v>2</v></c>',
        '<c r="D2" t="s"><v>3</v></c>', inline_cell("E2", "inline"),
        '<c r="F2"><v>42</v></c>', '<c r="G2"><v>2.5</v></c>', '<c r="H2"><v>1E3</v></c>',
        '<c r="I2" s="1"><v>46000</v></c>', '<c r="J2" s="2"><v>46000.5</v></c>',
        '<c r="K2" s="3"><v>0.75</v></c>', '<c r="L2" s="4"><v>1.5</v></c>',
        '<c r="M2" t="b"><v>1</v></c>', '<c r="N2" t="e"><v>#N/A</v></c>',
        '<c r="O2" t="str"><f>A1&amp;"x"</f><v>formula text</v></c>', '<c r="P2"><f>1+1</f><v>2</v></c>',
        '<c r="Q2"><f>1+1</f></c>', '<c r="R2" s="1"/>', '<c r="S2" t="d"><v>2026-03-31T00:00:00</v></c>',
        '<c r="T2" s="1"><v>99999999</v></c>',
    ]
    sheet = sheet_xml(header_row() + '<row r="2">' + "".join(cells) + "</row>")
    for name, part in (("xl/sharedStrings.xml", strings), ("xl/styles.xml", styles)):
        workbook = replace_part(workbook, name, part.encode()) if name in zipfile.ZipFile(
            io.BytesIO(workbook)).namelist() else _add_part(workbook, name, part.encode())
    return replace_part(workbook, "xl/worksheets/sheet1.xml", sheet)


def _add_part(content: bytes, name: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                part = part.replace(b"</Relationships>", (
                    b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    b"</Relationships>"))
            if info.filename == "[Content_Types].xml":
                part = part.replace(b"</Types>", (
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
            target.writestr(info.filename, part)
        target.writestr(name, data)
    return buffer.getvalue()


def _openpyxl_rows(content: bytes) -> list[list]:
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        rows = [list(r) for r in workbook["Commitments"].iter_rows(max_col=26, values_only=True)]
    finally:
        workbook.close()
    return rows


def _our_rows(content: bytes) -> list[list]:
    archive = workbook.open_workbook(content)
    budget = Budget()
    parts = workbook.workbook_parts(archive, budget)
    strings = workbook.shared_strings(archive, parts.strings, budget)
    styles = workbook.styles_of(archive, parts.styles, budget)
    return [values for _n, values in workbook.sheet_rows(
        archive, parts.sheets["commitments"], budget, strings, styles, parts.epoch)]


@pytest.mark.filterwarnings("ignore::UserWarning")  # openpyxl's, about the odd cells
@pytest.mark.parametrize("date1904", [False, True])
def test_cells_are_read_as_openpyxl_reads_them(date1904):
    content = _cells_workbook()
    if date1904:
        book = zipfile.ZipFile(io.BytesIO(content)).read("xl/workbook.xml")
        assert b"<workbookPr />" in book
        book = book.replace(b"<workbookPr />", b'<workbookPr date1904="1" />')
        content = replace_part(content, "xl/workbook.xml", book)
    expected = _openpyxl_rows(content)
    ours = _our_rows(content)
    assert len(ours) == len(expected) == 2
    for mine, theirs in zip(ours, expected, strict=True):
        assert mine + [None] * (len(theirs) - len(mine)) == theirs
    values = ours[1]
    assert values[:5] == ["plain", "bold and not", "漢字", "_x000D_ kept", "inline"]
    assert values[5:8] == [42, 2.5, 1000.0]
    assert isinstance(values[8], datetime) and isinstance(values[10], time)
    assert values[12:17] == [True, "#N/A", "formula text", 2, None]
    assert values[18] == datetime(2026, 3, 31)
