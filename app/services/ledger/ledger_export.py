"""The ledger in the layout county offices keep it (序号、问题描述、问题来源、整改措施、责任领导、
责任部门、整改时限、整改状态、完成情况…), as .xlsx and CSV; the import template is the same layout."""

from datetime import date
from typing import Any

from app import clock
from app.i18n import ITEMS, N_, Joined, LazyText, _l, gettext
from app.models import Campaign, Unit
from app.services.ledger import ledger, ledger_register
from app.services.shared.spreadsheets import Column, to_csv, to_xlsx

# The import reads the columns up to 整改状态 by their headers (these msgids, or their words in the
# reader's language); the rest are for reading only. Written in the reader's language.
SEQ, UNIT_CODE, UNIT_NAME, TITLE, SOURCE, MEASURES = (
    N_("序号"),
    N_("单位代码"),
    N_("单位名称"),
    N_("问题描述"),
    N_("问题来源"),
    N_("整改措施"),
)
LEADER, DEPARTMENT, DEADLINE, STATUS = N_("责任领导"), N_("责任部门"), N_("整改时限"), N_("整改状态")
COLUMNS = [
    Column(_l(SEQ), 6),
    Column(_l(UNIT_CODE), 10),
    Column(_l(UNIT_NAME), 16),
    Column(_l(TITLE), 30),
    Column(_l(SOURCE), 10),
    Column(_l(MEASURES), 40),
    Column(_l(LEADER), 10),
    Column(_l(DEPARTMENT), 14),
    Column(_l(DEADLINE), 12),
    Column(_l(STATUS), 12),
    Column(_l("完成情况"), 32),
    Column(_l("佐证材料"), 24),
    Column(_l("督办情况"), 22),
]
TEMPLATE_NOTES = [
    _l("整改台账导入说明"),
    _l("1. 第1行为标题，第2行为表头，请从第3行起每行填写一个整改事项；不要修改表头。"),
    _l("2. 单位代码或单位名称至少填一项，须是本专项整治中正在整改的单位；在单位台账页面导入时可不填（默认为该单位）。"),
    _l("3. 问题描述、问题来源、整改措施、责任领导、责任部门、整改时限均为必填。"),
    _l(
        "4. 问题来源可填：%(sources)s。",
        sources=Joined([LazyText(name) for name in ledger.SOURCE_NAMES.values()], ITEMS),
    ),
    _l("5. 整改时限填日期，如 2027-03-31（也可用 2027/3/31、2027年3月31日）。"),
    _l("6. 整改状态可不填；填写时只能为“正在整改”：导入的事项都进入整改，由单位整改、督导组核查销号。"),
    _l("7. 序号、完成情况、佐证材料、督办情况由系统生成，导入时不读取。"),
    _l("8. 任何一行有错，整个文件都不导入；请按提示改正后重新上传。"),
]


def _escalation_text(row: ledger_register.Row) -> str:
    def one(e: ledger_register.Escalated) -> str:
        label = e.label if e.letter else gettext(e.label)
        if e.withdrawn:
            return gettext("%(label)s（%(date)s，已撤回）", label=label, date=f"{clock.to_local(e.fired_at):%Y-%m-%d}")
        return gettext("%(label)s（%(date)s）", label=label, date=f"{clock.to_local(e.fired_at):%Y-%m-%d}")

    return gettext("；").join(one(e) for e in row.escalations)


def _values(row: ledger_register.Row) -> list[Any]:
    item = row.item
    return [
        item.seq,
        item.unit.code,
        item.unit.name,
        item.title,
        gettext(ledger.SOURCE_NAMES.get(item.source, item.source)),
        item.measures,
        item.responsible_leader,
        item.responsible_department,
        item.deadline,
        gettext(ledger.STATUS_NAMES.get(item.status, item.status)),
        ledger_register.result_text(row),
        gettext("、").join(e.filename for e in row.evidence),
        _escalation_text(row),
    ]


def title_of(campaign: Campaign, unit: Unit | None) -> str:
    if unit:
        return gettext(
            "%(doc)s《%(title)s》%(unit)s整改台账（导出日期：%(date)s）",
            doc=campaign.doc_number,
            title=campaign.title,
            unit=unit.name,
            date=_long_date(clock.today()),
        )
    return gettext(
        "%(doc)s《%(title)s》整改台账（导出日期：%(date)s）",
        doc=campaign.doc_number,
        title=campaign.title,
        date=_long_date(clock.today()),
    )


def _long_date(day: date) -> str:
    return gettext("%(y)s年%(m)s月%(d)s日", y=f"{day:%Y}", m=f"{day:%m}", d=f"{day:%d}")


def filename_of(campaign: Campaign, unit: Unit | None, extension: str) -> str:
    who = f"-{unit.name}" if unit else ""
    ledger_name = gettext("整改台账")
    return f"{ledger_name}-{campaign.doc_number}{who}-{clock.today():%Y%m%d}.{extension}"


def xlsx(campaign: Campaign, unit: Unit | None, rows: list[ledger_register.Row]) -> bytes:
    return to_xlsx(title_of(campaign, unit), COLUMNS, [_values(r) for r in rows], sheet_name=gettext("整改台账"))


def csv(rows: list[ledger_register.Row]) -> bytes:
    return to_csv(COLUMNS, [_values(r) for r in rows])


def template(campaign: Campaign | None) -> bytes:
    title = (
        gettext("%(doc)s《%(title)s》整改台账", doc=campaign.doc_number, title=campaign.title)
        if campaign
        else gettext("整改台账")
    )
    return to_xlsx(title, COLUMNS, [], sheet_name=gettext("整改台账"), notes=TEMPLATE_NOTES)
