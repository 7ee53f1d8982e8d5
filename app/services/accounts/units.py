"""Units (单位): lookup, creation and the all-or-nothing spreadsheet import."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.errors import Invalid, reason
from app.extensions import db
from app.i18n import ITEMS, Joined, LazyText, _l, gettext
from app.models import Unit
from app.models.base import N_
from app.models.unit import UNIT_KINDS
from app.services.shared import audit, paging, spreadsheets
from app.services.shared.paging import Page

KIND_LABELS = {"department": N_("县直单位"), "township": N_("乡镇"), "district": N_("区"), "other": N_("其他")}
# Spreadsheets from county offices use the Chinese words; a few common variants are accepted too.
KIND_ALIASES = {
    **{kind: kind for kind in UNIT_KINDS},
    **{label: kind for kind, label in KIND_LABELS.items()},
    "县直部门": "department",
    "部门": "department",
    "街道": "township",
    "乡镇（街道）": "township",
    "乡镇(街道)": "township",
    "县区": "district",
}
HEADER_ALIASES = {
    "code": "code",
    "代码": "code",
    "单位代码": "code",
    "单位编码": "code",
    "name": "name",
    "名称": "name",
    "单位名称": "name",
    "kind": "kind",
    "类型": "kind",
    "单位类型": "kind",
    "parent_code": "parent_code",
    "parent": "parent_code",
    "上级代码": "parent_code",
    "上级单位代码": "parent_code",
    "lead_department": "lead_department",
    "牵头部门": "lead_department",
    "牵头单位": "lead_department",
    "主管部门": "lead_department",
}
HEADER_LABELS = {
    "code": N_("单位代码"),
    "name": N_("单位名称"),
    "kind": N_("单位类型"),
    "parent_code": N_("上级代码"),
    "lead_department": N_("牵头部门"),
}
CODE_MAX, NAME_MAX = 32, 128
MAX_ROWS = 50_000
_CHUNK = 500  # keeps IN (...) lists under SQLite's bound-parameter limit


class UnitError(Invalid):
    """A unit could not be created; the message is for people."""

    code = "unit_invalid"


@dataclass
class RowError:
    row: int  # as the user sees it in the spreadsheet: the header is row 1
    message: str | LazyText


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def get(unit_id: int) -> Unit | None:
    return db.session.get(Unit, unit_id)


def by_code(code: str) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.code == code))


def by_codes(codes: Iterable[str]) -> dict[str, Unit]:
    """Existing units keyed by code; unknown codes are simply absent."""
    wanted = list(dict.fromkeys(c for c in codes if c))
    found: dict[str, Unit] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update((u.code, u) for u in db.session.scalars(select(Unit).where(Unit.code.in_(chunk))))
    return found


def list_units(kind: str | None = None) -> list[Unit]:
    stmt = select(Unit).order_by(Unit.kind, Unit.code)
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    return list(db.session.scalars(stmt))


def page_units(kind: str | None = None, q: str | None = None, page: int = 1, per_page: int = 100) -> Page[Unit]:
    """One page of units (a province has ~20,000), the page clamped to those there are."""
    stmt = select(Unit)
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(Unit.code.like(pattern) | Unit.name.like(pattern))
    rows, total, page = paging.fetch(stmt, stmt.order_by(Unit.kind, Unit.code), page, per_page)
    return Page(rows, total, page, per_page)


def _snapshot(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent_code": unit.parent_code,
        "lead_department": unit.lead_department,
    }


def ensure_unit(code: str, name: str, kind: str, parent_code: str | None = None, actor_id: int | None = None) -> Unit:
    """Return the unit with this code, creating it if missing (existing units are left as they are)."""
    code, name = (code or "").strip(), (name or "").strip()
    existing = by_code(code)
    if existing is not None:
        return existing
    if not code or not name:
        raise UnitError(_l("单位代码和名称不能为空"))
    if kind not in UNIT_KINDS:
        raise UnitError(_l("单位类型无效：%(kind)s", kind=kind))
    unit = Unit(code=code, name=name, kind=kind, parent_code=(parent_code or None))
    db.session.add(unit)
    db.session.flush()
    audit.record(actor_id, "unit.create", "unit", unit.id, after=_snapshot(unit), unit_id=unit.id)
    db.session.commit()
    return unit


# --- import -----------------------------------------------------------------------------------


class _Unreadable(Invalid):
    """The file as a whole cannot be read; the message is for people."""

    code = "unreadable_file"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores a code typed as 430500 as the number 430500.0.
        value = int(value)
    return str(value).strip()


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        return [[_cell(v) for v in row] for row in spreadsheets.read_csv(data)]
    except spreadsheets.Unreadable as exc:
        raise _Unreadable(exc.text) from None


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        return [[_cell(v) for v in row] for row in spreadsheets.first_sheet(data)]
    except spreadsheets.Unreadable as exc:
        raise _Unreadable(reason(exc)) from None


def _read_rows(data: bytes, filename: str) -> list[list[str]]:
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return _read_csv(data)
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
    if name.endswith(".xls"):
        raise _Unreadable(_l("不支持旧版.xls文件，请在Excel中另存为.xlsx或CSV后再导入"))
    raise _Unreadable(_l("不支持的文件类型，请上传CSV或XLSX文件"))


def _header_key(title: str) -> str:
    # Templates often mark required columns with * and use spaces or full-width brackets.
    return title.replace("*", "").replace(" ", "").strip().lower()


def _header_map(header: list[str]) -> dict[str, int]:
    # The headers as the reader's language names them are read too (the Chinese always are).
    aliases = HEADER_ALIASES | {_header_key(gettext(label)): name for name, label in HEADER_LABELS.items()}
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        field_name = aliases.get(_header_key(title))
        if field_name and field_name not in columns:
            columns[field_name] = index
    missing = [LazyText(HEADER_LABELS[f]) for f in ("code", "name", "kind") if f not in columns]
    if missing:
        raise _Unreadable(
            _l(
                "表头缺少列：%(columns)s（第1行应为：单位代码、单位名称、单位类型、上级代码）",
                columns=Joined(missing, ITEMS),
            )
        )
    return columns


def _parse(rows: list[list[str]]) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError], set[str]]:
    """Validate every row on its own and against the others; parents are checked later.

    Also returns every code the file names, valid row or not."""
    columns = _header_map(rows[0])
    # The kinds as the reader's language names them are accepted too (the Chinese always are).
    translated_kinds = {gettext(label).lower(): kind for kind, label in KIND_LABELS.items()}
    parsed: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    first_row_of: dict[str, int] = {}
    for row_number, row in enumerate(rows[1:], start=2):
        values = {f: (row[i] if i < len(row) else "") for f, i in columns.items()}
        if not any(row):
            continue  # blank lines between blocks are common in hand-kept sheets
        problems = []
        code, name, kind_text = values["code"], values["name"], values["kind"]
        parent = values.get("parent_code", "")
        lead = values.get("lead_department", "")
        if not code:
            problems.append(_l("单位代码不能为空"))
        elif len(code) > CODE_MAX:
            problems.append(_l("单位代码不能超过%(max)s个字符", max=CODE_MAX))
        if not name:
            problems.append(_l("单位名称不能为空"))
        elif len(name) > NAME_MAX:
            problems.append(_l("单位名称过长（不能超过%(max)s个字符）", max=NAME_MAX))
        if len(lead) > NAME_MAX:
            problems.append(_l("牵头部门名称过长（不能超过%(max)s个字符）", max=NAME_MAX))
        kind = (
            KIND_ALIASES.get(kind_text)
            or KIND_ALIASES.get(kind_text.lower())
            or translated_kinds.get(kind_text.lower())
        )
        if not kind_text:
            problems.append(_l("单位类型不能为空"))
        elif kind is None:
            problems.append(
                _l(
                    "单位类型“%(kind)s”无效（可选：%(choices)s）",
                    kind=kind_text,
                    choices=Joined([LazyText(label) for label in KIND_LABELS.values()], ITEMS),
                )
            )
        if code and parent == code:
            problems.append(_l("上级代码不能是本单位自己的代码"))
        if code and code in first_row_of:
            problems.append(_l("单位代码“%(code)s”与第%(row)s行重复", code=code, row=first_row_of[code]))
        elif code:
            first_row_of[code] = row_number
        errors.extend(RowError(row_number, p) for p in problems)
        if not problems:
            unit_values = {"code": code, "name": name, "kind": kind, "parent_code": parent or None}
            if "lead_department" in columns:  # a roster without the column keeps what is recorded
                unit_values["lead_department"] = lead or None
            parsed.append((row_number, unit_values))
    return parsed, errors, set(first_row_of)


def import_units(stream: bytes | IO[bytes], filename: str, actor_id: int | None) -> ImportResult:
    """Import units from CSV or XLSX; if any row is wrong nothing is written."""
    result = ImportResult()
    data = stream if isinstance(stream, bytes) else stream.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        if not data:
            raise _Unreadable(_l("文件为空"))
        rows = _read_rows(data, filename)
        while rows and not any(rows[-1]):
            rows.pop()
        if not rows:
            raise _Unreadable(_l("文件为空"))
        if len(rows) - 1 > MAX_ROWS:
            raise _Unreadable(_l("一次最多导入%(max)s行，请拆分文件", max=MAX_ROWS))
        parsed, errors, named_codes = _parse(rows)
    except _Unreadable as exc:
        result.errors.append(RowError(1, exc.text))
        return result
    if not parsed and not errors:
        result.errors.append(RowError(1, _l("文件中没有数据行")))
        return result

    # A row with an error still names a code the user meant to import; its children are not blamed too.
    outside = {v["parent_code"] for _, v in parsed if v["parent_code"] and v["parent_code"] not in named_codes}
    known_parents = set(by_codes(outside))
    for row_number, values in parsed:
        parent = values["parent_code"]
        if parent and parent not in named_codes and parent not in known_parents:
            errors.append(RowError(row_number, _l("上级代码“%(code)s”不存在（文件和系统中都没有该单位）", code=parent)))
    if errors:
        result.errors = sorted(errors, key=lambda e: e.row)
        return result

    existing = by_codes(v["code"] for _, v in parsed)
    before: dict[str, dict[str, Any]] = {}
    after: dict[str, dict[str, Any]] = {}
    for _, values in parsed:
        unit = existing.get(values["code"])
        if unit is None:
            db.session.add(Unit(**values))
            after[values["code"]] = values
            result.created += 1
        elif {k: v for k, v in _snapshot(unit).items() if k in values} != values:
            before[unit.code] = _snapshot(unit)
            for name, value in values.items():
                setattr(unit, name, value)
            after[unit.code] = values
            result.updated += 1
        else:
            result.unchanged += 1
    audit.record(
        actor_id,
        "unit.import",
        "unit_import",
        (filename or "")[:64],
        before={"units": before},
        after={
            "filename": filename,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "units": after,
        },
    )
    try:
        db.session.commit()
    except IntegrityError:
        # Someone added one of these codes while we were importing; nothing of ours is kept.
        db.session.rollback()
        return ImportResult(errors=[RowError(1, _l("导入期间单位数据被他人修改，请重新导入"))])
    except SQLAlchemyError:
        db.session.rollback()
        raise
    return result
