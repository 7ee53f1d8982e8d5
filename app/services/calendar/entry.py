"""An arrangement entered by the office (rows on the page, or a CSV/XLSX file), checked row by row
with errors by row and column in Chinese, and saved all or nothing; seeding the package's years.

Saving a year that changes working days also recomputes what depends on them: open letters'
reply deadlines at once (in the same transaction, while the old calendar is known), running
instances' deadlines through a recompute job (app.services.calendar.recompute).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl.utils.datetime import from_excel
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app import clock, workdays
from app.errors import DomainError, Invalid
from app.extensions import db
from app.i18n import ITEMS, N_, Joined, LazyText, _l, gettext
from app.models import HolidayDay, HolidayYear
from app.models.calendar import KIND_NAMES
from app.services.shared import audit, spreadsheets

from . import recompute, store

MAX_BYTES = 256 * 1024
MAX_ROWS = 400  # a year has 366 days; an arrangement lists about 40
NAME_MAX = 32
NOTE_MAX = 500
HEADER_SEARCH_ROWS = 5  # an .xlsx may have a title row above the header
YEARS = (2000, 2100)
# Column names: stored in an error as msgids (the page translates them).
COLUMNS = {"date": N_("日期"), "kind": N_("类型"), "name": N_("名称")}
HEADERS = {
    "date": "date",
    "日期": "date",
    "kind": "kind",
    "类型": "kind",
    "放假/调休上班": "kind",
    "放假或上班": "kind",
    "安排": "kind",
    "name": "name",
    "名称": "name",
    "节日": "name",
    "节假日": "name",
    "节日名称": "name",
    "说明": "name",
}
KINDS = {
    "holiday": workdays.HOLIDAY,
    "放假": workdays.HOLIDAY,
    "休": workdays.HOLIDAY,
    "休息": workdays.HOLIDAY,
    "假": workdays.HOLIDAY,
    "放假日": workdays.HOLIDAY,
    "节假日": workdays.HOLIDAY,
    "workday": workdays.WORKDAY,
    "调休上班": workdays.WORKDAY,
    "上班": workdays.WORKDAY,
    "班": workdays.WORKDAY,
    "补班": workdays.WORKDAY,
    "调休上班日": workdays.WORKDAY,
}
WEEKDAYS = "一二三四五六日"
SERIAL_RANGE = (36526, 73051)  # Excel day numbers of 2000-01-01 and 2100-01-01
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
WEEKDAY_NAMES = (_l("星期一"), _l("星期二"), _l("星期三"), _l("星期四"), _l("星期五"), _l("星期六"), _l("星期日"))
TEMPLATE_NOTES = [
    _l("每行一天：日期、类型、名称。第1行为表头（日期、类型、名称），请勿修改。"),
    _l("日期写作 2027-02-05（或 2027/2/5、2027年2月5日）；一个文件只填一年的日期。"),
    _l("类型填“放假”或“调休上班”。放假期间的周六、周日也请列出（与国务院办公厅通知一致）；调休上班只能是周六或周日。"),
    _l("名称填节日名称，如 元旦、春节、清明节、劳动节、端午节、中秋节、国庆节；调休上班可写“春节调休”。"),
    _l("未列出的日期按平常计算：周一至周五上班，周六、周日休息。"),
    _l("导入后，该年的安排以导入的文件为准（整年替换）；文件中只要有一行有误，整个文件都不会导入。"),
]


class CalendarError(DomainError):
    """A change the office must correct or retry; the message is for people."""

    code = "calendar_refused"


@dataclass
class RowError:
    row: int  # as the sheet numbers it (header is row 1); 0 for the file as a whole
    column: str  # a msgid of COLUMNS, or ""
    message: str | LazyText


@dataclass
class Checked:
    year: int | None = None
    days: list[tuple[date, str, str]] = field(default_factory=list)  # (date, kind, name), by date
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class SaveResult:
    year: int
    holidays: int
    workdays: int
    changed: bool  # anything stored changed
    changed_years: list[int] = field(default_factory=list)  # years whose working days changed
    letters_changed: int = 0
    job_id: int | None = None


@dataclass
class SeedResult:
    inserted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    office: list[int] = field(default_factory=list)  # entered by the office: never overwritten
    unchanged: int = 0
    changed_years: list[int] = field(default_factory=list)
    letters_changed: int = 0
    job_id: int | None = None


# ---- checking ------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date()
    return str(value).strip()


def parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and SERIAL_RANGE[0] <= value < SERIAL_RANGE[1]:
        serial: datetime = from_excel(value)  # a date cell that lost its format is a serial number
        return serial.date()
    text = _text(value)
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    return None


def _weekday(day: date) -> LazyText:
    return WEEKDAY_NAMES[day.weekday()]


def check_rows(rows: list[tuple[int, dict[str, Any]]], year: int | None = None) -> Checked:
    """Check an arrangement's rows ((row number, {"date", "kind", "name"}) each); `year`: the year
    it must be (None: the one year its dates fall in). Blank rows are skipped."""
    result = Checked(year=year)
    # The kinds as the reader's language names them (the template they downloaded) are read too.
    translated_kinds = {gettext(name).lower(): kind for kind, name in KIND_NAMES.items()}
    if year is not None and not YEARS[0] <= year <= YEARS[1]:
        result.errors.append(RowError(0, "", _l("年份应在%(first)s到%(last)s之间", first=YEARS[0], last=YEARS[1])))
        return result
    parsed: list[tuple[int, date, str, str]] = []
    for number, values in rows:
        raw_date, raw_kind, name = values.get("date"), _text(values.get("kind")), _text(values.get("name"))
        if not _text(raw_date) and not raw_kind and not name:
            continue
        problems = len(result.errors)
        day = parse_date(raw_date)
        if not _text(raw_date):
            result.errors.append(RowError(number, COLUMNS["date"], _l("日期不能为空")))
        elif day is None:
            result.errors.append(
                RowError(number, COLUMNS["date"], _l("日期“%(date)s”无效（应如 2027-02-05）", date=_text(raw_date)))
            )
        elif not YEARS[0] <= day.year <= YEARS[1]:
            result.errors.append(
                RowError(
                    number,
                    COLUMNS["date"],
                    _l("日期“%(date)s”超出%(first)s到%(last)s年", date=_text(raw_date), first=YEARS[0], last=YEARS[1]),
                )
            )
            day = None
        kind = KINDS.get(raw_kind.lower() if raw_kind.isascii() else raw_kind) or translated_kinds.get(raw_kind.lower())
        if not raw_kind:
            result.errors.append(RowError(number, COLUMNS["kind"], _l("类型不能为空（填“放假”或“调休上班”）")))
        elif kind is None:
            result.errors.append(
                RowError(number, COLUMNS["kind"], _l("未知的类型“%(kind)s”（可填：放假、调休上班）", kind=raw_kind))
            )
        if len(name) > NAME_MAX:
            result.errors.append(RowError(number, COLUMNS["name"], _l("名称不能超过%(max)s个字", max=NAME_MAX)))
        if day is not None and kind == workdays.WORKDAY and day.weekday() < 5:
            result.errors.append(
                RowError(
                    number,
                    COLUMNS["kind"],
                    _l("%(date)s是%(weekday)s，调休上班日应为周六或周日", date=day.isoformat(), weekday=_weekday(day)),
                )
            )
        if len(result.errors) == problems and day is not None and kind is not None:
            parsed.append((number, day, kind, name))
    if year is None:
        years = sorted({day.year for _, day, _, _ in parsed})
        if len(years) > 1:
            result.errors.append(
                RowError(
                    0,
                    COLUMNS["date"],
                    _l(
                        "文件中有%(years)s年的日期：一次只能录入一年，请分开导入或指定年份",
                        years=Joined(map(str, years), ITEMS),
                    ),
                )
            )
            return result
        result.year = years[0] if years else None
    seen: dict[date, int] = {}
    for number, day, kind, name in parsed:
        if day.year != result.year:
            result.errors.append(
                RowError(
                    number, COLUMNS["date"], _l("日期%(date)s不在%(year)s年内", date=day.isoformat(), year=result.year)
                )
            )
        elif day in seen:
            result.errors.append(
                RowError(
                    number, COLUMNS["date"], _l("日期%(date)s与第%(row)s行重复", date=day.isoformat(), row=seen[day])
                )
            )
        else:
            seen[day] = number
            result.days.append((day, kind, name))
    if not parsed and not result.errors:
        result.errors.append(RowError(0, "", _l("没有填写任何日期（请从表头下一行起填写）")))
    result.days.sort()
    result.errors.sort(key=lambda e: e.row)
    return result


class _Unreadable(Invalid):
    code = "unreadable_file"


def _read_csv(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        rows = spreadsheets.read_csv(data)
    except spreadsheets.Unreadable as exc:
        raise _Unreadable(exc.text) from None
    numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(v.strip() for v in row)]
    if len(numbered) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise _Unreadable(_l("文件超过%(max)s行，一年的节假日安排不会这么多，请检查文件", max=MAX_ROWS))
    return numbered


def _read(data: bytes, filename: str) -> list[tuple[int, dict[str, Any]]]:
    name = (filename or "").lower()
    if name.endswith(".csv"):
        rows = _read_csv(data)
    elif name.endswith(".xlsx"):
        try:
            rows = spreadsheets.read_xlsx(data, MAX_ROWS + HEADER_SEARCH_ROWS)
        except spreadsheets.Unreadable as exc:
            raise _Unreadable(exc.text) from None
    elif name.endswith(".xls"):
        raise _Unreadable(_l("不支持旧版.xls文件，请在Excel中另存为.xlsx或CSV后再导入"))
    else:
        raise _Unreadable(_l("不支持的文件类型，请上传CSV或XLSX文件"))
    # The headers as the reader's language names them (the template they downloaded) are read too.
    headers = HEADERS | {re.sub(r"\s", "", gettext(label)).lower(): key for key, label in COLUMNS.items()}
    for position, (_, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        titles = [re.sub(r"[\s*＊]", "", _text(v)).lower() for v in values]
        if "date" in {headers.get(t) for t in titles}:
            columns: dict[str, int] = {}
            for index, title in enumerate(titles):
                key = headers.get(title)
                if key and key not in columns:
                    columns[key] = index
            missing = [LazyText(COLUMNS[k]) for k in ("date", "kind") if k not in columns]
            if missing:
                raise _Unreadable(
                    _l("表头缺少列：%(columns)s（第1行应为：日期、类型、名称）", columns=Joined(missing, ITEMS))
                )
            return [
                (number, {key: values[index] if index < len(values) else None for key, index in columns.items()})
                for number, values in rows[position + 1 :]
            ]
    raise _Unreadable(_l("找不到表头（第1行应为：日期、类型、名称），请使用下载的模板"))


def check_file(data: bytes, filename: str, year: int | None = None) -> Checked:
    """Read and check an uploaded arrangement (CSV in UTF-8 or GBK, or .xlsx)."""
    if len(data) > MAX_BYTES:
        return Checked(year=year, errors=[RowError(0, "", _l("文件过大（不能超过%(max)sKB）", max=MAX_BYTES // 1024))])
    try:
        rows = _read(data, filename)
    except _Unreadable as exc:
        return Checked(year=year, errors=[RowError(0, "", exc.text)])
    return check_rows(rows, year)


# ---- templates -----------------------------------------------------------------------------

TEMPLATE_COLUMNS = [
    spreadsheets.Column(LazyText(COLUMNS["date"]), 14),
    spreadsheets.Column(LazyText(COLUMNS["kind"]), 12),
    spreadsheets.Column(LazyText(COLUMNS["name"]), 20),
]


def _template_rows(year: int | None) -> list[list[Any]]:
    """A year's arrangement as it stands (to edit and import again), or nothing."""
    if year is None:
        return []
    arrangement = workdays.current().years.get(year)
    if arrangement is None:
        return []
    return [[day, gettext(KIND_NAMES[entry.kind]), entry.name] for day, entry in sorted(arrangement.days.items())]


def template_csv(year: int | None = None) -> bytes:
    return spreadsheets.to_csv(TEMPLATE_COLUMNS, _template_rows(year))


def template_xlsx(year: int | None = None) -> bytes:
    title = gettext("%(year)s年节假日安排", year=year) if year else gettext("节假日安排（导入模板）")
    return spreadsheets.to_xlsx(
        title, TEMPLATE_COLUMNS, _template_rows(year), sheet_name=gettext("节假日安排"), notes=TEMPLATE_NOTES
    )


# ---- saving --------------------------------------------------------------------------------


def _describe(arrangement: workdays.Arrangement | None) -> dict[str, Any]:
    """A year's arrangement for the audit trail, readable as it stands."""
    if arrangement is None:
        return {"source": None, "days": []}
    days = sorted(arrangement.days.items())
    return {
        "source": arrangement.source,
        "days": [f"{d.isoformat()} {KIND_NAMES[v.kind]} {v.name}".strip() for d, v in days],
    }


def _next_revision() -> int:
    return (db.session.scalar(select(func.max(HolidayYear.revision))) or 0) + 1


def _store(
    year: int,
    source: str,
    days: list[tuple[date, str, str]],
    actor_id: int | None,
    note: str | None,
    revision: int,
    now: datetime,
) -> HolidayYear:
    row = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year))
    if row is None:
        row = HolidayYear(year=year)
        db.session.add(row)
    else:
        db.session.execute(delete(HolidayDay).where(HolidayDay.year_id == row.id))
        db.session.expire(row, ["days"])
    row.source, row.note, row.revision = source, note, revision
    row.entered_by_id, row.entered_at = actor_id, now
    row.package_version = workdays.PACKAGE_VERSION if source == workdays.PACKAGE else None
    db.session.flush()
    db.session.add_all(HolidayDay(year_id=row.id, day=d, kind=k, name=n) for d, k, n in days)
    return row


def _follow(old: workdays.Calendar, actor_id: int | None, now: datetime) -> tuple[list[int], int, int | None]:
    """After the stored years changed in this transaction: the years whose working days changed,
    the open letters recomputed, and the recompute job of running instances (None: nothing to do)."""
    db.session.flush()
    new = store.load()
    changed = old.differing_years(new)
    if not changed:
        return [], 0, None
    letters = recompute.recompute_letters(old, new, changed, actor_id)
    job = recompute.schedule(changed, actor_id, now)
    return changed, letters, job.id


@contextmanager
def _one_change() -> Iterator[None]:
    """The change and its commit; another change of the calendar committed meanwhile (the same
    year, or the same new revision) makes this one fail cleanly, to be tried again."""
    try:
        yield
        db.session.commit()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        raise CalendarError(_l("其他人同时修改了节假日安排，未保存，请重试")) from None
    store.refresh()  # this process computes with the new calendar at once


def save_year(
    year: int,
    days: list[tuple[date, str, str]],
    actor_id: int | None,
    note: str | None = None,
    source: str = workdays.OFFICE,
    filename: str | None = None,
) -> SaveResult:
    """Store a year's whole arrangement (it replaces what the year had) and recompute what follows."""
    if not YEARS[0] <= year <= YEARS[1]:
        raise CalendarError(_l("年份应在%(first)s到%(last)s之间", first=YEARS[0], last=YEARS[1]))
    if any(d.year != year for d, _, _ in days):
        raise CalendarError(_l("日期须在%(year)s年内", year=year))
    note = (note or "").strip()[:NOTE_MAX] or None
    store.refresh()
    old = workdays.current()
    before = _describe(old.years.get(year))
    stored = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year))
    after = _describe(workdays.Arrangement(year, source, {d: workdays.Day(k, n) for d, k, n in days}))
    holidays = sum(1 for _, k, _ in days if k == workdays.HOLIDAY)
    working = sum(1 for _, k, _ in days if k == workdays.WORKDAY)
    if stored is not None and before == after and stored.note == note:
        return SaveResult(year, holidays, working, changed=False)
    now = clock.now()
    with _one_change():
        _store(year, source, days, actor_id, note, _next_revision(), now)
        changed, letters, job_id = _follow(old, actor_id, now)
        audit.record(
            actor_id,
            "calendar.save",
            "holiday_year",
            year,
            before={**before, "note": stored.note if stored else None},
            after={**after, "note": note, "filename": filename, "changed_years": changed, "letters_changed": letters},
        )
    return SaveResult(
        year, holidays, working, changed=True, changed_years=changed, letters_changed=letters, job_id=job_id
    )


def package_days(year: int) -> list[tuple[date, str, str]]:
    arrangement = workdays.package_years().get(year)
    if arrangement is None:
        raise CalendarError(
            _l("内置数据（chinesecalendar %(version)s）不含%(year)s年", version=workdays.PACKAGE_VERSION, year=year)
        )
    return [(d, v.kind, v.name) for d, v in sorted(arrangement.days.items())]


def revert_to_package(year: int, actor_id: int | None) -> SaveResult:
    """An office year back to the State Council's arrangement as the package has it."""
    return save_year(year, package_days(year), actor_id, note=None, source=workdays.PACKAGE)


def seed(actor_id: int | None = None) -> SeedResult:
    """Store every year the package knows; a year the office entered is never overwritten, and a
    year already stored as the package has it is left alone (so a second run changes nothing)."""
    store.refresh()
    old = workdays.current()
    result = SeedResult()
    stored = {row.year: row for row in db.session.scalars(select(HolidayYear))}
    missing = []
    for year, arrangement in sorted(workdays.package_years().items()):
        days = [(d, v.kind, v.name) for d, v in sorted(arrangement.days.items())]
        row = stored.get(year)
        if row is not None and row.source == workdays.OFFICE:
            result.office.append(year)
        elif row is None:
            result.inserted.append(year)
            missing.append((year, days))
        elif [(d.day, d.kind, d.name) for d in sorted(row.days, key=lambda d: d.day)] != days:
            result.updated.append(year)
            missing.append((year, days))
        else:
            result.unchanged += 1
    if not missing:
        db.session.rollback()
        return result
    now = clock.now()
    with _one_change():
        revision = _next_revision()
        for year, days in missing:
            _store(year, workdays.PACKAGE, days, actor_id, None, revision, now)
            revision += 1
        result.changed_years, result.letters_changed, result.job_id = _follow(old, actor_id, now)
        audit.record(
            actor_id,
            "calendar.seed",
            "holiday_year",
            "package",
            after={
                "package_version": workdays.PACKAGE_VERSION,
                "inserted": result.inserted,
                "updated": result.updated,
                "changed_years": result.changed_years,
            },
        )
    return result
