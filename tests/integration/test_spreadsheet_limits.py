"""A small upload cannot take the server's memory: what an .xlsx expands to is bounded before
and while it is read, and a malformed workbook gets a clear message, never a 500."""

import contextlib
import io
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from app.services.shared import spreadsheets
from tests.integration.test_ledger_import import post_file

SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
TAIL = b"</sheetData></worksheet>"


def _with_sheet(write_sheet) -> bytes:
    """A real workbook whose first sheet's XML is replaced by what `write_sheet(stream)` writes."""
    book = Workbook()
    book.active.append(["整改台账"])
    original = io.BytesIO()
    book.save(original)
    out = io.BytesIO()
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == SHEET:
                with dst.open(SHEET, "w", force_zip64=True) as stream:
                    write_sheet(stream)
            else:
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


def wide_row(cells: int) -> bytes:
    return _with_sheet(lambda s: s.write(HEAD + b'<row r="1">' + b"<c/>" * cells + b"</row>" + TAIL))


def whitespace(megabytes: int) -> bytes:
    def write(stream):
        stream.write(HEAD)
        for _ in range(megabytes):
            stream.write(b" " * 1024 * 1024)
        stream.write(TAIL)

    return _with_sheet(write)


def many_rows(rows: int) -> bytes:
    return _with_sheet(lambda s: s.write(HEAD + b"<row/>" * rows + TAIL))


def control_bytes() -> bytes:
    cell = b'<row r="1"><c r="A1" t="inlineStr"><is><t>a\x01b</t></is></c></row>'
    return _with_sheet(lambda s: s.write(HEAD + cell + TAIL))


def _peak_bytes(call) -> int:
    tracemalloc.start()
    with contextlib.suppress(spreadsheets.Unreadable):
        call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: wide_row(3_000_000), "第1行超过256个单元格"),
        (lambda: whitespace(40), "超过32MB"),
        (lambda: many_rows(70_000), "超过60000行"),
    ],
)
def test_bombs_are_refused_with_memory_bounded(make, message):
    data = make()
    assert len(data) < 2 * 1024 * 1024  # under the upload cap: only the expansion is hostile
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo(SHEET).file_size > 50 * len(data)
    with pytest.raises(spreadsheets.Unreadable) as refused:
        spreadsheets.read_xlsx(data, 1000)
    assert message in str(refused.value)
    # Far below what the sheet expands to (12 MB to 200 MB): one row at a time, at most.
    assert _peak_bytes(lambda: spreadsheets.read_xlsx(data, 1000)) < 8 * 1024 * 1024


def lying_sizes(megabytes: int, claimed: int) -> bytes:
    """A sheet of `megabytes` of whitespace whose zip headers claim it holds `claimed` bytes."""
    data = bytearray(_with_sheet(lambda s: None))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = HEAD + b" " * (megabytes * 1024 * 1024) + TAIL if info.filename == SHEET else src.read(info)
            dst.writestr(info.filename, body)
    data = bytearray(out.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        offset = archive.getinfo(SHEET).header_offset
    data[offset + 22 : offset + 26] = claimed.to_bytes(4, "little")  # local header: uncompressed size
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_length = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + name_length] == SHEET.encode():
            data[central + 24 : central + 28] = claimed.to_bytes(4, "little")
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def test_declared_sizes_cannot_lie_the_reader_stops_at_them():
    data = lying_sizes(20, claimed=1000)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo(SHEET).file_size == 1000
    with pytest.raises(spreadsheets.Unreadable) as refused:
        spreadsheets.read_xlsx(data, 1000)
    assert "无法读取Excel文件" in str(refused.value)
    assert _peak_bytes(lambda: spreadsheets.read_xlsx(data, 1000)) < 8 * 1024 * 1024


@pytest.fixture
def sup(login_as):
    return login_as("supervisor", username="sup2")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: wide_row(500_000), "超过256个单元格"),
        (lambda: whitespace(40), "解压后过大"),
        (control_bytes, "无法读取Excel文件"),
    ],
)
def test_ledger_import_page_answers_bombs_and_broken_xml_with_a_message(ledger_world, sup, make, message):
    resp = post_file(sup, f"/ledger/campaigns/{ledger_world['campaign']}/import", make())
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)


def test_a_real_workbook_within_the_bounds_still_reads():
    book = Workbook()
    sheet = book.active
    for n in range(2000):
        sheet.append([n, f"单位{n}", "=1+1", None, "整改"])
    out = io.BytesIO()
    book.save(out)
    rows = spreadsheets.read_xlsx(out.getvalue(), 5000)
    assert len(rows) == 2000 and rows[-1][1][:2] == [1999, "单位1999"]
