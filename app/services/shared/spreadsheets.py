"""Tables handed to people as files: .xlsx laid out the way offices print them, CSV that Excel
opens in Chinese, and a guarded .xlsx reader for uploads."""
import csv
import io
import warnings
import zipfile
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class Column:
    header: str
    width: int = 12


class Unreadable(ValueError):
    """The upload as a whole cannot be read; the message is for people."""


def to_xlsx(title: str, columns: list[Column], rows: Sequence[Sequence[Any]], sheet_name: str = "Sheet1",
            notes: list[str] | None = None) -> bytes:
    """One sheet: a merged bold title row, a header row, then the rows; panes frozen below the
    header, text wrapped, dates as real dates. `notes` become a second sheet (填写说明)."""
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook starts with one worksheet, active
    sheet.title = sheet_name[:31]
    last = get_column_letter(len(columns))
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.row_dimensions[1].height = 30
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=2, column=index, value=column.header)
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
            cell = sheet.cell(row=row_number, column=index, value=value)
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
        help_sheet = workbook.create_sheet("填写说明")
        help_sheet.column_dimensions["A"].width = 100
        for row_number, line in enumerate(notes, start=1):
            help_sheet.cell(row=row_number, column=1, value=line).alignment = Alignment(wrap_text=True)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_csv(columns: list[Column], rows: Sequence[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM, so Excel shows the Chinese instead of mojibake; dates as ISO text."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([c.header for c in columns])
    for values in rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in values])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


UNREADABLE = "无法读取Excel文件，请确认文件是.xlsx格式且未损坏"


def first_sheet(data: bytes) -> Generator[tuple[Any, ...], None, None]:
    """The first sheet's rows as tuples of raw values (dates stay dates), read lazily so a caller
    may stop early; Unreadable if the data is not a readable .xlsx."""
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not affect the values.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                yield from workbook.worksheets[0].iter_rows(values_only=True)
            finally:
                workbook.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, IndexError, TypeError):
        raise Unreadable(UNREADABLE) from None


def read_xlsx(data: bytes, max_rows: int) -> list[tuple[int, list[Any]]]:
    """The first sheet's non-empty rows as (row number, raw values); refuses what is not an .xlsx
    and more than `max_rows` rows (without loading a huge sheet whole)."""
    if not data.startswith(b"PK"):
        raise Unreadable("文件不是Excel（.xlsx）格式，请使用下载的模板填写后上传")
    rows: list[tuple[int, list[Any]]] = []
    sheet = first_sheet(data)
    try:
        for number, values in enumerate(sheet, start=1):
            if any(v not in (None, "") for v in values):
                rows.append((number, list(values)))
            if len(rows) > max_rows:
                raise Unreadable(f"文件超过{max_rows}行，请拆分后分批导入")
    finally:
        sheet.close()
    return rows
