"""Tables handed to people as files: .xlsx laid out the way offices print them, CSV that Excel
opens in Chinese, and a guarded .xlsx reader for uploads."""

import csv
import io
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

from app import safe_text
from app.errors import Invalid
from app.i18n import N_, LazyText, _l, gettext

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
# What a cell may be given (a text is written in the reader's language).
CellValue = str | LazyText | float | Decimal | date | datetime | time | timedelta | None


@dataclass(frozen=True)
class Column:
    header: str | LazyText  # written in the reader's language
    width: int = 12


class Unreadable(Invalid):
    """The upload as a whole cannot be read; the message is for people."""

    code = "unreadable_file"


def to_xlsx(
    title: str,
    columns: list[Column],
    rows: Sequence[Sequence[Any]],
    sheet_name: str = "Sheet1",
    notes: Sequence[str | LazyText] | None = None,
) -> bytes:
    """One sheet: a merged bold title row, a header row, then the rows; panes frozen below the
    header, text wrapped, dates as real dates. `notes` become a second sheet (填写说明). Texts
    (app.i18n) anywhere in them are written in the reader's language."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook starts with one worksheet, active
    sheet.title = safe_text.printable(str(sheet_name))[:31]
    last = get_column_letter(len(columns))
    sheet.merge_cells(f"A1:{last}1")
    put(sheet["A1"], str(title))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[1].height = 30
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(columns, start=1):
        cell = put(sheet.cell(row=2, column=index), str(column.header))
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    wrap = Alignment(vertical="top", wrap_text=True)
    for row_number, values in enumerate(rows, start=3):
        for index, value in enumerate(values, start=1):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)  # Excel has no time zones; callers pass local time
            cell = put(sheet.cell(row=row_number, column=index), value)
            cell.alignment = wrap
            cell.border = _BORDER
            if isinstance(value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, date):
                cell.number_format = DATE_FORMAT
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
    if notes:
        help_sheet = workbook.create_sheet(gettext("填写说明")[:31])
        help_sheet.column_dimensions["A"].width = 100
        for row_number, line in enumerate(notes, start=1):
            put(help_sheet.cell(row=row_number, column=1), str(line)).alignment = Alignment(wrap_text=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def put(cell: Cell | MergedCell, value: CellValue) -> Cell:
    """Write a value into a cell so that it cannot run: text is stripped of the characters XML
    forbids and, if it starts like a formula, stored as text with Excel's quote prefix (the
    apostrophe a person would type); numbers and dates stay what they are."""
    if isinstance(cell, MergedCell):  # only the top-left cell of a merged range holds a value
        raise TypeError(f"cell {cell.coordinate} is merged into another and cannot hold a value")
    if isinstance(value, LazyText):
        value = str(value)  # a translatable label: its text in the current language
    if isinstance(value, str):
        text = safe_text.printable(value)
        cell.value = text  # openpyxl would take a leading "=" for a formula: typed as text below
        if safe_text.formula_like(text):
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def append_row(sheet: Worksheet, values: Sequence[CellValue]) -> None:
    """sheet.append, with every cell written by `put`."""
    sheet.append([safe_text.printable(v) if isinstance(v, str) else v for v in values])
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        put(cell, value)


def to_csv(columns: list[Column], rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel shows the Chinese instead of mojibake; dates as ISO text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([safe_text.for_csv(str(c.header)) for c in columns])
    for values in rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return safe_text.for_csv(str(value))  # a number's text is never formula-like


def read_csv(data: bytes) -> list[list[str]]:
    """The rows of an uploaded CSV, as UTF-8 (with or without a BOM) or GBK, the two encodings
    Excel writes here; Unreadable naming what is wrong otherwise."""
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 is a superset of the GBK Excel writes
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Unreadable(_l("无法识别文件编码，请将CSV另存为UTF-8或GBK编码"))
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise Unreadable(_l("CSV文件格式有误：%(error)s", error=str(exc))) from None


UNREADABLE = N_("无法读取Excel文件，请确认文件是.xlsx格式且未损坏")

# What an upload may expand to. A few hundred KB of .xlsx can unpack into gigabytes (a row of
# millions of empty cells, a part of pure whitespace); these bounds are checked on the archive's
# directory and in one streaming pass over the sheets, before openpyxl builds anything. They
# admit the largest real file Rectify takes (a province's unit list, 50,000 rows).
MAX_PARTS = 500
MAX_PART_BYTES = 32 * 1024 * 1024
MAX_EXPANDED_BYTES = 64 * 1024 * 1024
MAX_SHEET_ROWS = 60_000
MAX_ROW_CELLS = 256
MAX_CELLS = 1_000_000
MAX_SHARED_STRINGS = 1_000_000


def guard_xlsx(data: bytes) -> None:
    """Refuse an .xlsx whose parts expand beyond the bounds above (Unreadable), reading it with
    bounded memory: sizes from the zip directory (the zip reader never inflates a part past its
    declared size), then every sheet and the shared strings counted in one streaming pass."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise Unreadable(UNREADABLE) from None
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise Unreadable(_l("Excel文件解压后过大（超过%(n)s个部件），请删除多余的工作表后重新上传", n=MAX_PARTS))
        for part in parts:
            if part.file_size > MAX_PART_BYTES:
                raise Unreadable(
                    _l(
                        "Excel文件解压后过大（%(part)s超过%(mb)sMB），请删除多余的行、列后重新上传",
                        part=part.filename,
                        mb=MAX_PART_BYTES // 1024 // 1024,
                    )
                )
        if sum(part.file_size for part in parts) > MAX_EXPANDED_BYTES:
            raise Unreadable(
                _l(
                    "Excel文件解压后过大（合计超过%(mb)sMB），请删除多余的行、列和工作表后重新上传",
                    mb=MAX_EXPANDED_BYTES // 1024 // 1024,
                )
            )
        for part in parts:
            name = part.filename
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                _scan(archive, part, _count_cells)
            elif name == "xl/sharedStrings.xml":
                _scan(archive, part, _count_strings)


def _scan(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, count: Callable[[Iterator[tuple[str, Element]]], None]
) -> None:
    try:
        with archive.open(part) as stream:
            count(iterparse(stream, events=("start", "end")))
    except Unreadable:
        raise
    except (SyntaxError, DefusedXmlException, zipfile.BadZipFile, ValueError, OSError, EOFError):
        # A part that is not well-formed XML (raw control bytes, say), or a corrupt archive.
        raise Unreadable(UNREADABLE) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _count_cells(events: Iterator[tuple[str, Element]]) -> None:
    rows = cells = in_row = 0
    for event, element in events:
        tag = _local(element.tag)
        if event == "start":
            if tag == "row":
                rows, in_row = rows + 1, 0
                if rows > MAX_SHEET_ROWS:
                    raise Unreadable(
                        _l("Excel文件解压后过大（超过%(n)s行），请删除多余的行后重新上传", n=MAX_SHEET_ROWS)
                    )
            elif tag == "c":
                in_row, cells = in_row + 1, cells + 1
                if in_row > MAX_ROW_CELLS:
                    raise Unreadable(
                        _l(
                            "Excel文件解压后过大（第%(row)s行超过%(n)s个单元格），请删除多余的列后重新上传",
                            row=rows,
                            n=MAX_ROW_CELLS,
                        )
                    )
                if cells > MAX_CELLS:
                    raise Unreadable(_l("Excel文件解压后过大（超过%(n)s个单元格），请拆分后分批上传", n=MAX_CELLS))
        elif tag == "row":
            element.clear()  # what was read is let go: memory stays that of one row


def _count_strings(events: Iterator[tuple[str, Element]]) -> None:
    strings = 0
    for event, element in events:
        if event == "end" and _local(element.tag) == "si":
            strings += 1
            if strings > MAX_SHARED_STRINGS:
                raise Unreadable(_l("Excel文件解压后过大（超过%(n)s个文本），请拆分后分批上传", n=MAX_SHARED_STRINGS))
            element.clear()


def first_sheet(data: bytes) -> Generator[tuple[Any, ...], None, None]:
    """The first sheet's rows as tuples of raw values (dates stay dates), read lazily so a caller
    may stop early; Unreadable if the data is not a readable .xlsx or expands beyond the bounds
    (guard_xlsx)."""
    guard_xlsx(data)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not affect the values.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                yield from workbook.worksheets[0].iter_rows(values_only=True)
            finally:
                workbook.close()
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        OSError,
        ValueError,
        IndexError,
        TypeError,
        SyntaxError,
        DefusedXmlException,
    ):
        raise Unreadable(UNREADABLE) from None


def read_xlsx(data: bytes, max_rows: int) -> list[tuple[int, list[Any]]]:
    """The first sheet's non-empty rows as (row number, raw values); refuses what is not an .xlsx
    and more than `max_rows` rows (without loading a huge sheet whole)."""
    if not data.startswith(b"PK"):
        raise Unreadable(_l("文件不是Excel（.xlsx）格式，请使用下载的模板填写后上传"))
    rows = []
    sheet = first_sheet(data)
    try:
        for number, values in enumerate(sheet, start=1):
            if any(v not in (None, "") for v in values):
                rows.append((number, list(values)))
            if len(rows) > max_rows:
                raise Unreadable(_l("文件超过%(max)s行，请拆分后分批导入", max=max_rows))
    finally:
        sheet.close()
    return rows
