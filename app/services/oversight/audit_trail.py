"""Reading the audit trail of one campaign or one unit's instance: which events belong to it,
filters, pages, readable before/after changes, and the export.

Events name their entity (type and id), not their campaign, so the scope is resolved through
the entities' own tables; a new kind of entity joins the trail by an entry in SCOPED."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, cast, or_, select
from sqlalchemy.orm import QueryableAttribute

from app import clock
from app.extensions import db
from app.i18n import LazyText, _l, gettext
from app.models import (
    AuditEvent,
    Escalation,
    Evidence,
    Interview,
    LedgerItem,
    ProcessInstance,
    PublicNotice,
    ScoreSheet,
    SelfExamination,
    SupervisionLetter,
    Task,
    Tip,
    Unit,
    User,
)
from app.models.base import N_
from app.models.campaign import PHASE_NAMES
from app.models.escalation import LEVEL_NAMES
from app.models.roles import Role
from app.services.ledger import ledger
from app.services.shared import paging
from app.services.shared.paging import Page
from app.services.shared.spreadsheets import Column, to_csv, to_xlsx

PER_PAGE = 50
# A province's trail holds hundreds of thousands of events: the pages count up to this many (the
# newest 200 pages); older ones are reached by the date filter.
COUNT_CAP = 10_000
MAX_ACTOR_CHOICES = 500  # the office's people: tens in a county, a few hundred in a province
MAX_EXPORT = 50_000


@dataclass(frozen=True)
class Scoped:
    """How an entity type belongs to a campaign (its column, or None: through its instance) and to
    an instance (its instance column, or None: campaign + unit)."""

    model: type[Any]  # a mapped class with an integer id (and a unit_id, where it has no instance column)
    campaign_column: QueryableAttribute[Any] | None
    instance_column: QueryableAttribute[Any] | None = None
    internal: bool = False  # overseers' work (scores, interviews, residents' tips): not shown to unit staff

    def ids(self, campaign_id: int, instance: ProcessInstance | None) -> Select[tuple[str]]:
        if self.campaign_column is not None:
            query = select(cast(self.model.id, String)).where(self.campaign_column == campaign_id)
        else:
            assert self.instance_column is not None  # no campaign column: it belongs through its instance
            instances = select(ProcessInstance.id).where(ProcessInstance.campaign_id == campaign_id)
            query = select(cast(self.model.id, String)).where(self.instance_column.in_(instances))
        if instance is None:
            return query
        if self.instance_column is not None:
            return query.where(self.instance_column == instance.id)
        return query.where(self.model.unit_id == instance.unit_id)


SCOPED = {
    "process_instance": Scoped(ProcessInstance, ProcessInstance.campaign_id, ProcessInstance.id),
    "task": Scoped(Task, Task.campaign_id, Task.instance_id),
    "ledger_item": Scoped(LedgerItem, LedgerItem.campaign_id, LedgerItem.instance_id),
    "escalation": Scoped(Escalation, Escalation.campaign_id, Escalation.instance_id),
    "supervision_letter": Scoped(SupervisionLetter, SupervisionLetter.campaign_id, SupervisionLetter.instance_id),
    "public_notice": Scoped(PublicNotice, PublicNotice.campaign_id),
    "score_sheet": Scoped(ScoreSheet, ScoreSheet.campaign_id, internal=True),
    "interview": Scoped(Interview, Interview.campaign_id, internal=True),
    "self_examination": Scoped(SelfExamination, SelfExamination.campaign_id, internal=True),
    "tip": Scoped(Tip, Tip.campaign_id, internal=True),
    "evidence": Scoped(Evidence, None, Evidence.instance_id),
}
ENTITY_NAMES = {
    "campaign": N_("专项整治"),
    "process_instance": N_("整治流程"),
    "task": N_("办理事项"),
    "ledger_item": N_("整改事项"),
    "escalation": N_("逾期督办"),
    "supervision_letter": N_("督办函"),
    "public_notice": N_("通报"),
    "score_sheet": N_("评分表"),
    "interview": N_("约谈"),
    "self_examination": N_("书面检查"),
    "tip": N_("群众举报"),
    "evidence": N_("佐证材料"),
    "holiday_year": N_("节假日安排"),
}
ACTION_NAMES = {
    "campaign.create": N_("创建专项整治"),
    "campaign.update": N_("修改通知"),
    "campaign.enrol": N_("纳入单位"),
    "campaign.launch": N_("启动专项整治"),
    "instance.advance": N_("流程推进"),
    "instance.error": N_("流程出错"),
    "task.draft": N_("保存草稿"),
    "task.complete": N_("办结"),
    "task.cancel": N_("取消待办"),
    "task.remind": N_("催办"),
    "ledger.create": N_("新增整改事项"),
    "ledger.withdraw": N_("撤回整改事项"),
    "ledger.status": N_("整改状态变更"),
    "ledger.close": N_("销号"),
    "ledger.return": N_("核查退回"),
    "ledger.reopen": N_("重新打开"),
    "ledger.import": N_("导入台账"),
    "escalation.reminder": N_("逾期催办"),
    "escalation.letter": N_("逾期督办函"),
    "escalation.notice": N_("逾期通报"),
    "escalation.incident": N_("督办异常"),
    "escalation.retry": N_("督办重试"),
    "escalation.cancel": N_("督办取消（环节已办结）"),
    "escalation.withdraw": N_("撤回督办"),
    "letter.withdraw": N_("撤回督办函"),
    "letter.issue": N_("发督办函"),
    "letter.acknowledge": N_("签收督办函"),
    "notice.publish": N_("发布通报"),
    "notice.withdraw": N_("撤回通报"),
    "campaign.migrate": N_("迁移流程版本"),
    "instance.migrate": N_("迁移流程版本"),
    "appraisal.attach": N_("设置考核方案"),
    "appraisal.bottom_n": N_("设置约谈名额"),
    "appraisal.finalise": N_("考核定档"),
    "score_sheet.save": N_("保存评分"),
    "score_sheet.submit": N_("提交评分"),
    "score_sheet.reopen": N_("退回评分"),
    "interview.create": N_("登记约谈"),
    "interview.update": N_("修改约谈"),
    "interview.delete": N_("删除约谈"),
    "self_examination.update": N_("书面检查"),
    "tip.submit": N_("收到举报"),
    "tip.accept": N_("受理举报"),
    "tip.decline": N_("不予受理"),
    "campaign.publish": N_("公开专项整治"),
    "campaign.unpublish": N_("取消公开"),
    "evidence.publish": N_("公开佐证材料"),
    "evidence.unpublish": N_("取消公开佐证材料"),
    "calendar.save": N_("修改节假日安排"),
    "calendar.seed": N_("写入内置节假日数据"),
    "task.due_recompute": N_("按节假日安排调整期限"),
    "instance.deadlines_recompute": N_("按节假日安排调整期限"),
    "letter.due_recompute": N_("按节假日安排调整督办函期限"),
}
FIELD_NAMES = {
    "status": N_("状态"),
    "phase": N_("阶段"),
    "title": N_("问题描述"),
    "deadline": N_("整改时限"),
    "seq": N_("序号"),
    "round": N_("轮次"),
    "origin": N_("产生方式"),
    "level": N_("督办级别"),
    "task_id": N_("办理事项"),
    "manual": N_("人工发起"),
    "summary": N_("内容"),
    "draft_saved": N_("已存草稿"),
    "filename": N_("文件"),
    "count": N_("数量"),
    "items": N_("事项"),
    "units": N_("单位"),
    "selection": N_("范围"),
    "enrolled": N_("纳入单位数"),
    "error": N_("错误"),
    "reason": N_("原因"),
    "number": N_("编号"),
    "due_at": N_("办理期限"),
    "new_due": N_("新办理期限"),
    "calendar_years": N_("节假日安排年份"),
}
_VALUE_NAMES = {
    "status": {
        **ledger.STATUS_NAMES,
        "running": N_("进行中"),
        "completed": N_("已办结"),
        "ready": N_("待办理"),
        "cancelled": N_("已取消"),
        "error": N_("出错"),
        "pending": N_("待执行"),
        "done": N_("已执行"),
        "incident": N_("异常"),
        "withdrawn": N_("已撤回"),
    },
    "phase": PHASE_NAMES,
    "origin": ledger.ORIGIN_NAMES,
    "level": LEVEL_NAMES,
}


@dataclass
class Scope:
    campaign_id: int
    instance: ProcessInstance | None = None
    only_unit_id: int | None = None  # unit staff: nothing about another unit, whatever the entity


@dataclass
class Filters:
    actor_id: int | None = None
    action: str | None = None
    entity_type: str | None = None
    unit_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class Change:
    field: str  # a msgid (the page translates it)
    before: str | LazyText
    after: str | LazyText

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class Entry:
    event: AuditEvent
    actor: str | LazyText  # a person's name, or the system (in the reader's language)
    unit: str
    changes: list[Change] = field(default_factory=list)

    @property
    def action(self) -> str:
        return ACTION_NAMES.get(self.event.action, self.event.action)

    @property
    def entity(self) -> str:
        return ENTITY_NAMES.get(self.event.entity_type, self.event.entity_type)

    @property
    def local_at(self) -> datetime:
        return clock.to_local(self.event.at)


def _scope_condition(scope: Scope) -> ColumnElement[bool]:
    parts = []
    for entity_type, scoped in SCOPED.items():
        if scoped.internal and scope.only_unit_id is not None:
            continue
        ids = scoped.ids(scope.campaign_id, scope.instance)
        parts.append(and_(AuditEvent.entity_type == entity_type, AuditEvent.entity_id.in_(ids)))
    if scope.instance is None:
        parts.append(and_(AuditEvent.entity_type == "campaign", AuditEvent.entity_id == str(scope.campaign_id)))
    condition = or_(*parts)
    if scope.only_unit_id is not None:
        condition = and_(condition, AuditEvent.unit_id == scope.only_unit_id)
    return condition


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.local_tz()).astimezone(clock.UTC)


def _query(scope: Scope, filters: Filters) -> Select[tuple[AuditEvent]]:
    chosen = (
        (AuditEvent.actor_id, filters.actor_id),
        (AuditEvent.action, filters.action),
        (AuditEvent.entity_type, filters.entity_type),
        (AuditEvent.unit_id, filters.unit_id),
    )
    query = select(AuditEvent).where(_scope_condition(scope), *(column == value for column, value in chosen if value))
    if filters.date_from:
        query = query.where(AuditEvent.at >= _local_midnight_utc(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.at < _local_midnight_utc(filters.date_to + timedelta(days=1)))
    return query


def page(scope: Scope, filters: Filters, page_number: int = 1, per_page: int | None = None) -> Page[Entry]:
    per_page = per_page or PER_PAGE
    query = _query(scope, filters)
    ordered = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    events, total, page_number = paging.fetch(query, ordered, page_number, per_page, cap=COUNT_CAP)
    more = total > COUNT_CAP
    return Page(_entries(events), min(total, COUNT_CAP), page_number, per_page, more=more)


def all_entries(scope: Scope, filters: Filters) -> list[Entry]:
    """Oldest first, as a trail is read on paper; capped so an export stays a file a person opens."""
    return _entries(
        list(db.session.scalars(_query(scope, filters).order_by(AuditEvent.at, AuditEvent.id).limit(MAX_EXPORT)))
    )


def _entries(events: list[AuditEvent]) -> list[Entry]:
    actor_ids = {e.actor_id for e in events if e.actor_id}
    unit_ids = {e.unit_id for e in events if e.unit_id}
    actors: dict[int, str] = (
        dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids))).tuples().all())
        if actor_ids
        else {}
    )
    units: dict[int, str] = (
        dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).tuples().all())
        if unit_ids
        else {}
    )
    system = _l("系统")
    return [
        Entry(
            e,
            actors.get(e.actor_id, system) if e.actor_id else system,
            units.get(e.unit_id, "") if e.unit_id else "",
            changes(e),
        )
        for e in events
    ]


def _readable(key: str, value: object) -> str | LazyText:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _l("是") if value else _l("否")
    if isinstance(value, str):
        name = _VALUE_NAMES.get(key, {}).get(value)
        return LazyText(name) if name else value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def changes(event: AuditEvent) -> list[Change]:
    """Field by field, before and after, with known codes in words; unchanged fields come last."""
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    rows = [Change(FIELD_NAMES.get(k, k), _readable(k, before.get(k)), _readable(k, after.get(k))) for k in keys]
    return sorted(rows, key=lambda c: not c.changed)


def choices(scope: Scope) -> dict[str, Any]:
    """What the filters can pick from, none of it read off the trail (a province's campaign has
    hundreds of thousands of events: a DISTINCT over them on every page view cost more than the
    page): the office's people (unit staff are found through their unit, by the unit picker: a
    campaign may have ~20,000 of them), every action the platform records, and the kinds of
    object this trail can hold."""
    office = (
        select(User.id, User.display_name)
        .where(User.role != Role.UNIT_STAFF)
        .order_by(User.display_name, User.id)
        .limit(MAX_ACTOR_CHOICES)
    )
    kinds = [k for k, scoped in SCOPED.items() if not (scoped.internal and scope.only_unit_id is not None)]
    if scope.instance is None:
        kinds.append("campaign")
    return {
        "actors": db.session.execute(office).all(),
        "actions": sorted(ACTION_NAMES, key=lambda code: (code.split(".")[0], code)),
        "entity_types": sorted(kinds),
    }


EXPORT_COLUMNS = [
    Column(_l("时间"), 20),
    Column(_l("操作人"), 12),
    Column(_l("操作"), 14),
    Column(_l("对象"), 12),
    Column(_l("对象编号"), 10),
    Column(_l("单位"), 16),
    Column(_l("变更"), 60),
]


def _change_text(entry: Entry) -> str:
    return "\n".join(
        gettext(
            "%(field)s：%(before)s → %(after)s",
            field=gettext(c.field),
            before=str(c.before or "—"),
            after=str(c.after or "—"),
        )
        if c.changed
        else gettext("%(field)s：%(value)s", field=gettext(c.field), value=str(c.after))
        for c in entry.changes
    )


def _export_rows(entries: list[Entry]) -> list[list[Any]]:
    return [
        [e.local_at, str(e.actor), gettext(e.action), gettext(e.entity), e.event.entity_id, e.unit, _change_text(e)]
        for e in entries
    ]


def export_xlsx(title: str, entries: list[Entry]) -> bytes:
    today = clock.today()
    return to_xlsx(
        gettext(
            "%(title)s（导出日期：%(date)s）",
            title=title,
            date=gettext("%(y)s年%(m)s月%(d)s日", y=f"{today:%Y}", m=f"{today:%m}", d=f"{today:%d}"),
        ),
        EXPORT_COLUMNS,
        _export_rows(entries),
        sheet_name=gettext("审计日志"),
    )


def export_csv(entries: list[Entry]) -> bytes:
    return to_csv(EXPORT_COLUMNS, _export_rows(entries))


def instance(instance_id: int) -> ProcessInstance | None:
    return db.session.get(ProcessInstance, instance_id)
