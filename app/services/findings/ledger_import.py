"""Importing ledger items from the export template: every row checked first, then all of them
join their units' running rectification in one transaction, or none does."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl.utils.datetime import from_excel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.i18n import ITEMS, Joined, LazyText, _l, gettext
from app.models import Campaign, LedgerItem, ProcessInstance, Unit
from app.services.findings import findings
from app.services.ledger import ledger
from app.services.ledger import ledger_export as layout
from app.services.shared import audit
from app.services.shared.spreadsheets import Unreadable, read_xlsx
from app.services.tasks.tasks import Conflict

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
HEADER_SEARCH_ROWS = 5  # the header sits under a title row or two
LIMITS = {"title": 256, "responsible_leader": 128, "responsible_department": 128}
HEADERS = {
    layout.UNIT_CODE: "unit_code",
    layout.UNIT_NAME: "unit_name",
    "责任单位": "unit_name",
    layout.TITLE: "title",
    "问题": "title",
    "问题（意见）": "title",
    "存在问题": "title",
    layout.SOURCE: "source",
    "意见来源": "source",
    "来源": "source",
    layout.MEASURES: "measures",
    layout.LEADER: "responsible_leader",
    layout.DEPARTMENT: "responsible_department",
    "责任科室": "responsible_department",
    layout.DEADLINE: "deadline",
    "完成时限": "deadline",
    layout.STATUS: "status",
}
LABELS = {
    "unit_code": layout.UNIT_CODE,
    "unit_name": layout.UNIT_NAME,
    "title": layout.TITLE,
    "source": layout.SOURCE,
    "measures": layout.MEASURES,
    "responsible_leader": layout.LEADER,
    "responsible_department": layout.DEPARTMENT,
    "deadline": layout.DEADLINE,
    "status": layout.STATUS,
}
REQUIRED = ("title", "source", "measures", "responsible_leader", "responsible_department", "deadline")
SOURCES = {name: key for key, name in ledger.SOURCE_NAMES.items()} | {key: key for key in ledger.SOURCE_NAMES}
STATUSES = {name: key for key, name in ledger.STATUS_NAMES.items()} | {key: key for key in ledger.STATUS_NAMES}
IMPORTABLE_STATUS = "rectifying"
SERIAL_RANGE = (36526, 73051)  # Excel day numbers of 2000-01-01 and 2100-01-01


def _translated(known: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """`known` (the Chinese names and the keys) and the names in the reader's language."""
    return known | {gettext(name): key for key, name in names.items()}


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass
class RowError:
    row: int  # as Excel numbers it
    column: str | LazyText  # the column's header, in the reader's language
    message: str | LazyText


@dataclass
class ImportResult:
    items: list[LedgerItem] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    number: int
    instance: ProcessInstance
    data: dict[str, Any]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as 430500 is stored as the number 430500.0
    if isinstance(value, datetime):
        value = value.date()
    return str(value).strip()


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and SERIAL_RANGE[0] <= value < SERIAL_RANGE[1]:
        serial: datetime = from_excel(value)  # a date cell that lost its format is a serial number
        return serial.date()
    match = _DATE.match(_text(value))
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    return None


def _squeezed(title: str) -> str:
    return re.sub(r"[\s*＊]", "", title)


def _header(rows: list[tuple[int, list[Any]]]) -> tuple[int, dict[str, int]]:
    # The template in the reader's language has its headers in that language: they are read too.
    headers = HEADERS | {_squeezed(gettext(label)).lower(): name for name, label in LABELS.items()}
    translated_title = _squeezed(gettext(layout.TITLE)).lower()
    for position, (_, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        titles = [_squeezed(_text(v)) for v in values]
        titles = [title if title in headers else title.lower() for title in titles]
        if layout.TITLE in titles or "问题" in titles or translated_title in titles:
            columns: dict[str, int] = {}
            for index, title in enumerate(titles):
                name = headers.get(title)
                if name and name not in columns:
                    columns[name] = index
            missing = [_label(name) for name in REQUIRED if name not in columns]
            if missing:
                raise Unreadable(_l("表头缺少列：%(columns)s。请使用下载的模板", columns=Joined(missing, ITEMS)))
            return position, columns
    raise Unreadable(_l("找不到表头（应有“%(title)s”等列）。请使用下载的模板", title=_label("title")))


def _label(name: str) -> LazyText:
    return LazyText(LABELS[name])


_Target = tuple[Unit, ProcessInstance]


class _Units:
    """The campaign's units with their instances, found by code or by name."""

    def __init__(self, campaign_id: int):
        pairs = db.session.execute(
            select(Unit, ProcessInstance)
            .join(ProcessInstance, ProcessInstance.unit_id == Unit.id)
            .where(ProcessInstance.campaign_id == campaign_id)
        ).all()
        self.by_code = {unit.code: (unit, instance) for unit, instance in pairs}
        self.by_name: dict[str, list[_Target]] = {}
        for unit, instance in pairs:
            self.by_name.setdefault(unit.name, []).append((unit, instance))

    def find(self, code: str, name: str) -> tuple[_Target | None, str, LazyText | None]:
        """(unit, instance), the column to blame, and an error message or None."""
        if code:
            found = self.by_code.get(code)
            if found is None:
                exists = db.session.scalar(select(Unit.id).filter_by(code=code)) is not None
                return (
                    None,
                    "unit_code",
                    (
                        _l("单位“%(code)s”未参加本专项整治", code=code)
                        if exists
                        else _l("单位代码“%(code)s”不存在", code=code)
                    ),
                )
            if name and name != found[0].name:
                return (
                    None,
                    "unit_name",
                    _l(
                        "单位名称“%(name)s”与单位代码“%(code)s”（%(found)s）不符",
                        name=name,
                        code=code,
                        found=found[0].name,
                    ),
                )
            return found, "unit_code", None
        matches = self.by_name.get(name, [])
        if not matches:
            return None, "unit_name", _l("单位“%(name)s”不存在或未参加本专项整治", name=name)
        if len(matches) > 1:
            return None, "unit_name", _l("有多个单位名为“%(name)s”，请填写单位代码", name=name)
        return matches[0], "unit_name", None


def _check_row(
    number: int, values: dict[str, Any], units: _Units, only_unit: Unit | None
) -> tuple[_Row | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(name: str, message: str | LazyText) -> None:
        errors.append(RowError(number, _label(name), message))

    data: dict[str, Any] = {}
    for name in ("title", "measures", "responsible_leader", "responsible_department"):
        data[name] = _text(values.get(name))
        if not data[name]:
            fail(name, _l("%(column)s不能为空", column=_label(name)))
        elif name in LIMITS and len(data[name]) > LIMITS[name]:
            fail(name, _l("%(column)s不能超过%(max)s个字", column=_label(name), max=LIMITS[name]))
    source = _text(values.get("source"))
    sources, statuses = _translated(SOURCES, ledger.SOURCE_NAMES), _translated(STATUSES, ledger.STATUS_NAMES)
    if not source:
        fail("source", _l("问题来源不能为空"))
    elif source not in sources:
        fail(
            "source",
            _l(
                "未知的问题来源“%(source)s”（可填：%(choices)s）",
                source=source,
                choices=Joined([LazyText(n) for n in ledger.SOURCE_NAMES.values()], ITEMS),
            ),
        )
    data["source"] = sources.get(source)
    raw_deadline = values.get("deadline")
    data["deadline"] = _date(raw_deadline)
    if not _text(raw_deadline):
        fail("deadline", _l("整改时限不能为空"))
    elif data["deadline"] is None:
        fail("deadline", _l("整改时限“%(value)s”不是有效日期（应如 2027-03-31）", value=_text(raw_deadline)))
    status = _text(values.get("status"))
    if status and status not in statuses:
        fail("status", _l("未知的整改状态“%(status)s”", status=status))
    elif status and statuses[status] != IMPORTABLE_STATUS:
        fail(
            "status",
            _l(
                "导入的事项只能是“%(allowed)s”，不能是“%(status)s”",
                allowed=LazyText(ledger.STATUS_NAMES[IMPORTABLE_STATUS]),
                status=status,
            ),
        )
    code, name = _text(values.get("unit_code")), _text(values.get("unit_name"))
    target: _Target | None = None
    column = "unit_code"
    if code or name:
        target, column, problem = units.find(code, name)
        if problem:
            fail(column, problem)
        elif target is not None and only_unit is not None and target[0].id != only_unit.id:
            fail(
                column, _l("本页只能导入“%(unit)s”的事项，此行是“%(other)s”", unit=only_unit.name, other=target[0].name)
            )
            target = None
    elif only_unit is not None:
        target = next(((u, i) for u, i in units.by_code.values() if u.id == only_unit.id), None)
    else:
        fail(column, _l("单位代码和单位名称至少填写一项"))
    if target is not None and target[1].status != "running":
        fail(column, _l("“%(unit)s”的整治流程已办结，不能再导入事项", unit=target[0].name))
    if errors or target is None:
        return None, errors
    return _Row(number, target[1], data), []


def _parse(data: bytes, units: _Units, only_unit: Unit | None) -> tuple[list[_Row], list[RowError]]:
    rows = read_xlsx(data, MAX_ROWS + HEADER_SEARCH_ROWS)
    position, columns = _header(rows)
    parsed, errors = [], []
    for number, values in rows[position + 1 :]:
        named = {name: (values[index] if index < len(values) else None) for name, index in columns.items()}
        row, problems = _check_row(number, named, units, only_unit)
        errors.extend(problems)
        if row is not None:
            parsed.append(row)
    if not parsed and not errors:
        raise Unreadable(_l("文件中没有整改事项（请从表头下一行起填写）"))
    return parsed, errors


def import_items(
    campaign: Campaign, data: bytes, filename: str, actor_id: int, only_unit: Unit | None = None
) -> ImportResult:
    """Import the file's items into the campaign (or one unit of it); all or nothing."""
    if len(data) > MAX_BYTES:
        return ImportResult(
            errors=[RowError(0, "", _l("文件过大（不能超过%(max)sMB）", max=MAX_BYTES // 1024 // 1024))]
        )
    if not (filename or "").lower().endswith(".xlsx"):
        return ImportResult(errors=[RowError(0, "", _l("只能导入.xlsx格式的Excel文件，请使用下载的模板"))])
    try:
        parsed, errors = _parse(data, _Units(campaign.id), only_unit)
    except Unreadable as exc:
        return ImportResult(errors=[RowError(0, "", exc.text)])
    if errors:
        return ImportResult(errors=errors)
    by_instance: dict[int, list[_Row]] = {}
    for row in parsed:
        by_instance.setdefault(row.instance.id, []).append(row)
    created: list[LedgerItem] = []
    try:
        for rows in by_instance.values():
            created += findings.start_items(
                rows[0].instance, [r.data for r in rows], origin="import", actor_id=actor_id
            )
    except Conflict as exc:
        db.session.rollback()
        return ImportResult(errors=[RowError(0, "", _l("导入未完成，没有写入任何事项：%(error)s", error=exc.text))])
    audit.record(
        actor_id,
        "ledger.import",
        "campaign",
        campaign.id,
        after={
            "filename": filename,
            "count": len(created),
            "items": [i.id for i in created],
            "units": sorted({r.instance.unit_id for r in parsed}),
        },
        unit_id=only_unit.id if only_unit else None,
    )
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError):
        # Someone changed these ledgers while we imported (the same item number, the same instance).
        db.session.rollback()
        return ImportResult(errors=[RowError(0, "", _l("导入期间台账被他人修改，没有写入任何事项，请重新导入"))])
    return ImportResult(items=created)
