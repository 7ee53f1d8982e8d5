"""The ledger in the layout county offices keep it (序号、问题描述、问题来源、整改措施、责任领导、
责任部门、整改时限、整改状态、完成情况…), as .xlsx and CSV; the import template is the same layout."""
from typing import Any

from app import clock
from app.models import Campaign, Unit
from app.services.ledger import ledger, ledger_register
from app.services.shared.spreadsheets import Column, to_csv, to_xlsx

# The import reads the columns up to 整改状态 by their headers; the rest are for reading only.
SEQ, UNIT_CODE, UNIT_NAME, TITLE, SOURCE, MEASURES = "序号", "单位代码", "单位名称", "问题描述", "问题来源", "整改措施"
LEADER, DEPARTMENT, DEADLINE, STATUS = "责任领导", "责任部门", "整改时限", "整改状态"
COLUMNS = [
    Column(SEQ, 6), Column(UNIT_CODE, 10), Column(UNIT_NAME, 16), Column(TITLE, 30), Column(SOURCE, 10),
    Column(MEASURES, 40), Column(LEADER, 10), Column(DEPARTMENT, 14), Column(DEADLINE, 12), Column(STATUS, 12),
    Column("完成情况", 32), Column("佐证材料", 24), Column("督办情况", 22),
]
TEMPLATE_NOTES = [
    "整改台账导入说明",
    "1. 第1行为标题，第2行为表头，请从第3行起每行填写一个整改事项；不要修改表头。",
    "2. 单位代码或单位名称至少填一项，须是本专项整治中正在整改的单位；在单位台账页面导入时可不填（默认为该单位）。",
    "3. 问题描述、问题来源、整改措施、责任领导、责任部门、整改时限均为必填。",
    "4. 问题来源可填：" + "、".join(ledger.SOURCE_NAMES.values()) + "。",
    "5. 整改时限填日期，如 2027-03-31（也可用 2027/3/31、2027年3月31日）。",
    "6. 整改状态可不填；填写时只能为“正在整改”：导入的事项都进入整改，由单位整改、督导组核查销号。",
    "7. 序号、完成情况、佐证材料、督办情况由系统生成，导入时不读取。",
    "8. 任何一行有错，整个文件都不导入；请按提示改正后重新上传。",
]


def _escalation_text(row: ledger_register.Row) -> str:
    return "；".join(f"{e.label}（{clock.to_local(e.fired_at):%Y-%m-%d}{'，已撤回' if e.withdrawn else ''}）"
                    for e in row.escalations)


def _values(row: ledger_register.Row) -> list[Any]:
    item = row.item
    return [
        item.seq, item.unit.code, item.unit.name, item.title, ledger.SOURCE_NAMES.get(item.source, item.source),
        item.measures, item.responsible_leader, item.responsible_department, item.deadline,
        ledger.STATUS_NAMES.get(item.status, item.status), ledger_register.result_text(row),
        "、".join(e.filename for e in row.evidence), _escalation_text(row),
    ]


def title_of(campaign: Campaign, unit: Unit | None) -> str:
    who = f"{unit.name}" if unit else ""
    return (f"{campaign.doc_number}《{campaign.title}》{who}整改台账"
            f"（导出日期：{clock.today():%Y年%m月%d日}）")


def filename_of(campaign: Campaign, unit: Unit | None, extension: str) -> str:
    who = f"-{unit.name}" if unit else ""
    return f"整改台账-{campaign.doc_number}{who}-{clock.today():%Y%m%d}.{extension}"


def xlsx(campaign: Campaign, unit: Unit | None, rows: list[ledger_register.Row]) -> bytes:
    return to_xlsx(title_of(campaign, unit), COLUMNS, [_values(r) for r in rows], sheet_name="整改台账")


def csv(rows: list[ledger_register.Row]) -> bytes:
    return to_csv(COLUMNS, [_values(r) for r in rows])


def template(campaign: Campaign | None) -> bytes:
    title = f"{campaign.doc_number}《{campaign.title}》整改台账" if campaign else "整改台账"
    return to_xlsx(title, COLUMNS, [], sheet_name="整改台账", notes=TEMPLATE_NOTES)
