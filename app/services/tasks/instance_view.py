"""One instance drawn on its version's diagram: which elements are done, waiting, overdue or
escalated, and a timeline of what happened. Read from the task, escalation, letter and audit
tables: no workflow is deserialised to draw the page."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select

from app import clock
from app.errors import NotFound
from app.extensions import db
from app.i18n import Joined, LazyText, _l
from app.models import AuditEvent, Escalation, ProcessInstance, SupervisionLetter, Task, User
from app.models.base import N_
from app.models.campaign import PHASE_NAMES
from app.models.escalation import LEVEL_NAMES
from app.services.messaging import notifications

# When an element is in several states, the first listed wins its colour.
STATES = ("escalated", "overdue", "active", "completed")
STATE_NAMES = {
    "completed": N_("已办结"),
    "active": N_("办理中"),
    "overdue": N_("已逾期"),
    "escalated": N_("已督办升级"),
}
ACTIONS = {
    "instance.start": _l("流程启动"),
    "instance.advance": _l("流程推进"),
    "instance.error": _l("流程出错"),
    "instance.migrate": _l("迁移到新版本"),
    "task.cancel": _l("步骤取消"),
    "task.remind": _l("手动催办"),
}
# Shown through the task rows themselves, or noise on a timeline.
SKIPPED_ACTIONS = ("task.complete", "task.draft")


@dataclass
class TimelineEvent:
    at: datetime
    kind: str  # task, escalation, letter, audit
    title: str | LazyText  # shown in the reader's language
    detail: str | LazyText = ""


@dataclass
class InstanceView:
    instance: ProcessInstance
    xml: str
    states: dict[str, str] = field(default_factory=dict)  # element id -> one of STATES
    timeline: list[TimelineEvent] = field(default_factory=list)


def element_states(tasks: list[Task], escalated: set[str], now: datetime) -> dict[str, str]:
    found: dict[str, set[str]] = {}
    for task in tasks:
        if task.status == "ready":
            state = "overdue" if task.due_at is not None and task.due_at < now else "active"
        elif task.status == "completed":
            state = "completed"
        else:
            continue
        found.setdefault(task.element_id, set()).add(state)
    for element_id in escalated:
        found.setdefault(element_id, set()).add("escalated")
    return {element_id: next(s for s in STATES if s in states) for element_id, states in found.items()}


class InstanceNotFound(NotFound):
    code = "instance_not_found"


def view(instance_id: int) -> InstanceView:
    """The diagram, element states and timeline of an instance (callers check the role)."""
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None:
        raise InstanceNotFound(_l("流程实例不存在"))
    tasks = list(db.session.scalars(select(Task).where(Task.instance_id == instance.id).order_by(Task.id)))
    escalations = list(
        db.session.scalars(
            select(Escalation).where(Escalation.instance_id == instance.id).order_by(Escalation.fired_at)
        )
    )
    letters = list(
        db.session.scalars(
            select(SupervisionLetter)
            .where(SupervisionLetter.instance_id == instance.id)
            .order_by(SupervisionLetter.issued_at)
        )
    )
    result = InstanceView(
        instance,
        instance.definition.bpmn_xml,
        element_states(tasks, {e.element_id for e in escalations if e.status in CARRIED_OUT}, clock.now()),
    )
    result.timeline = sorted(
        _task_events(tasks)
        + _escalation_events(escalations, tasks)
        + _letter_events(letters)
        + _audit_events(instance, tasks),
        key=lambda e: e.at,
    )
    return result


def _task_events(tasks: list[Task]) -> list[TimelineEvent]:
    events = []
    for task in tasks:
        events.append(
            TimelineEvent(
                task.created_at,
                "task",
                _l("待办：%(step)s", step=task.name),
                _l("期限 %(due)s", due=f"{clock.to_local(task.due_at):%Y-%m-%d}") if task.due_at else "",
            )
        )
        if task.status == "completed" and task.completed_at:
            events.append(TimelineEvent(task.completed_at, "task", _l("办结：%(step)s", step=task.name)))
    return events


# Rungs the unit was actually confronted with (a withdrawn one was, until it was withdrawn).
CARRIED_OUT = ("done", "withdrawn")


def _escalation_events(escalations: list[Escalation], tasks: list[Task]) -> list[TimelineEvent]:
    """A rung at the moment it was carried out; one still waiting its turn or cancelled, as such."""
    names = {t.element_id: t.name for t in tasks}
    events = []
    for e in escalations:
        what = _l(
            "%(level)s：%(step)s",
            level=LazyText(LEVEL_NAMES.get(e.level, e.level)),
            step=names.get(e.element_id, e.element_id),
        )
        how = _l("人工发起") if e.manual else _l("逾期自动升级")
        if e.status == "pending" and e.next_attempt_at:
            how = _l(
                "%(how)s，按督办阶梯待执行（%(after)s 后）",
                how=how,
                after=f"{clock.to_local(e.next_attempt_at):%Y-%m-%d %H:%M}",
            )
        elif e.status == "cancelled":
            how = _l("未执行：%(reason)s", reason=LazyText(e.closed_reason or N_("环节已办结")))
        events.append(TimelineEvent(e.done_at or e.fired_at, "escalation", what, how))
        if e.status == "withdrawn" and e.withdrawn_at:
            events.append(
                TimelineEvent(
                    e.withdrawn_at,
                    "escalation",
                    _l("撤回%(what)s", what=what),
                    LazyText(e.closed_reason) if e.closed_reason else "",
                )
            )
    return events


def _letter_events(letters: list[SupervisionLetter]) -> list[TimelineEvent]:
    events = []
    for letter in letters:
        events.append(
            TimelineEvent(
                letter.issued_at,
                "letter",
                _l("发出%(doc)s", doc=letter.doc_number),
                notifications.shown(letter.subject),
            )
        )
        if letter.acknowledged_at:
            events.append(TimelineEvent(letter.acknowledged_at, "letter", _l("签收%(doc)s", doc=letter.doc_number)))
    return events


def _audit_events(instance: ProcessInstance, tasks: list[Task]) -> list[TimelineEvent]:
    task_ids = [str(t.id) for t in tasks]
    rows = db.session.execute(
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(
            or_(
                (AuditEvent.entity_type == "process_instance") & (AuditEvent.entity_id == str(instance.id)),
                (AuditEvent.entity_type == "task") & AuditEvent.entity_id.in_(task_ids or ["-"]),
            ),
            AuditEvent.action.not_in(SKIPPED_ACTIONS),
        )
        .order_by(AuditEvent.at)
    ).all()
    return [
        TimelineEvent(event.at, "audit", ACTIONS.get(event.action, event.action), _audit_detail(event, actor))
        for event, actor in rows
    ]


def _audit_detail(event: AuditEvent, actor: str | None) -> Joined:
    after = event.after or {}
    parts: list[str | LazyText] = [actor or _l("系统")]
    if "phase" in after:
        parts.append(_l("阶段：%(phase)s", phase=LazyText(PHASE_NAMES.get(after["phase"], after["phase"]))))
    if "version" in after:
        parts.append(_l("第 %(version)s 版", version=after["version"]))
    if after.get("error"):
        parts.append(str(after["error"])[:200])
    return Joined(parts, " · ")
