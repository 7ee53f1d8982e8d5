"""The escalation board: every rung of the overdue ladder, overdue tasks, and bulk actions on them.

Each list is one joined query per page (never a query per row), filtered the same way.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import contains_eager

from app import clock
from app.errors import DomainError
from app.extensions import db
from app.i18n import LazyText, _l
from app.models import Campaign, Escalation, EscalationStatus, Task, TaskStatus, Unit, User
from app.models.escalation import ESCALATION_STATUSES, LEVELS
from app.services.accounts.unit_filter import UnitFilter
from app.services.escalation import escalations as ladder_rungs
from app.services.escalation import manual_letters
from app.services.messaging import notifications
from app.services.shared import audit, paging
from app.services.shared.paging import Page

INCIDENT_LIMIT = 200


@dataclass
class BoardFilter:
    campaign_id: int | None = None
    level: str | None = None
    unit: str | None = None  # a unit's code, or part of its name
    status: str | None = None
    min_age_days: int | None = None
    units: UnitFilter = field(default_factory=UnitFilter)  # kind and lead department, from the dashboard

    def __post_init__(self) -> None:
        self.level = self.level if self.level in LEVELS else None
        self.status = self.status if self.status in ESCALATION_STATUSES else None
        self.unit = (self.unit or "").strip() or None
        if self.min_age_days is not None and self.min_age_days < 0:
            self.min_age_days = None


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str | LazyText]] = field(default_factory=list)  # (task id, reason for people)


def _unit_clause(text: str) -> ColumnElement[bool]:
    return or_(Unit.code == text, Unit.name.contains(text, autoescape=True))


def _escalations_query(
    flt: BoardFilter, now: datetime, *, with_level: bool = True, with_status: bool = True
) -> Select[tuple[Escalation]]:
    query = select(Escalation).join(Escalation.unit).outerjoin(Escalation.task).outerjoin(Escalation.ledger_item)
    if flt.campaign_id:
        query = query.where(Escalation.campaign_id == flt.campaign_id)
    if flt.unit:
        query = query.where(_unit_clause(flt.unit))
    query = query.where(*flt.units.where(Escalation.unit_id))
    if with_level and flt.level:
        query = query.where(Escalation.level == flt.level)
    if with_status and flt.status:
        query = query.where(Escalation.status == flt.status)
    if flt.min_age_days:
        query = query.where(Escalation.fired_at <= now - timedelta(days=flt.min_age_days))
    return query


def age_days(since: datetime | None, now: datetime | None = None) -> int | None:
    """Whole days since a moment (an escalation's firing, a task's due time)."""
    if since is None:
        return None
    now = now or clock.now()
    return max((now - since).days, 0)


def escalations(flt: BoardFilter, page: int = 1, per_page: int = 50, now: datetime | None = None) -> Page[Escalation]:
    """One page of escalations, newest first, with unit, task and ledger item loaded by the join."""
    now = now or clock.now()
    base = _escalations_query(flt, now)
    total = db.session.scalar(select(func.count()).select_from(base.with_only_columns(Escalation.id).subquery())) or 0
    page = paging.clamp(page, total, per_page)
    rows = list(
        db.session.scalars(
            base.options(
                contains_eager(Escalation.unit), contains_eager(Escalation.task), contains_eager(Escalation.ledger_item)
            )
            .order_by(Escalation.fired_at.desc(), Escalation.id.desc())
            .limit(per_page)
            .offset((max(page, 1) - 1) * per_page)
        )
    )
    return Page(rows, total, max(page, 1), per_page)


def level_counts(flt: BoardFilter, now: datetime | None = None) -> dict[str, int]:
    """How many escalations each level has under the filter (ignoring the level chosen): those
    carried out, or those of the chosen status."""
    now = now or clock.now()
    query = _escalations_query(flt, now, with_level=False).with_only_columns(Escalation.level, func.count())
    if not flt.status:  # unless a status is chosen, the rungs that reached the unit
        query = query.where(Escalation.status == EscalationStatus.DONE)
    counts = dict(db.session.execute(query.group_by(Escalation.level)).tuples().all())
    return {level: counts.get(level, 0) for level in LEVELS}


def incidents(flt: BoardFilter, now: datetime | None = None) -> list[Escalation]:
    """Escalations that failed too often and wait for a person, oldest first."""
    now = now or clock.now()
    query = (
        _escalations_query(flt, now, with_status=False)
        .where(Escalation.status == EscalationStatus.INCIDENT)
        .options(
            contains_eager(Escalation.unit), contains_eager(Escalation.task), contains_eager(Escalation.ledger_item)
        )
        .order_by(Escalation.fired_at, Escalation.id)
        .limit(INCIDENT_LIMIT)
    )
    return list(db.session.scalars(query))


def _overdue_query(flt: BoardFilter, now: datetime) -> Select[tuple[Task]]:
    query = (
        select(Task)
        .join(Task.unit)
        .outerjoin(Task.ledger_item)
        .where(Task.status == TaskStatus.READY, Task.role == "unit_staff", Task.due_at < now)
    )
    if flt.campaign_id:
        query = query.where(Task.campaign_id == flt.campaign_id)
    if flt.unit:
        query = query.where(_unit_clause(flt.unit))
    query = query.where(*flt.units.where(Task.unit_id))
    if flt.min_age_days:
        query = query.where(Task.due_at <= now - timedelta(days=flt.min_age_days))
    return query


def overdue_tasks(flt: BoardFilter, page: int = 1, per_page: int = 50, now: datetime | None = None) -> Page[Task]:
    """Ready unit-staff tasks past their due time, longest overdue first."""
    now = now or clock.now()
    base = _overdue_query(flt, now)
    total = db.session.scalar(select(func.count()).select_from(base.with_only_columns(Task.id).subquery())) or 0
    page = paging.clamp(page, total, per_page)
    rows = list(
        db.session.scalars(
            base.options(contains_eager(Task.unit), contains_eager(Task.ledger_item))
            .order_by(Task.due_at, Task.id)
            .limit(per_page)
            .offset((max(page, 1) - 1) * per_page)
        )
    )
    return Page(rows, total, max(page, 1), per_page)


def levels_reached(task_ids: list[int]) -> dict[int, set[str]]:
    """The rungs already carried out on each task (one query for a whole page)."""
    if not task_ids:
        return {}
    reached: dict[int, set[str]] = {}
    for task_id, level in db.session.execute(
        select(Escalation.task_id, Escalation.level).where(
            Escalation.task_id.in_(task_ids), Escalation.status == EscalationStatus.DONE
        )
    ):
        reached.setdefault(task_id, set()).add(level)
    return reached


def campaign_choices() -> list[tuple[int, str]]:
    return list(db.session.execute(select(Campaign.id, Campaign.doc_number).order_by(Campaign.id.desc())).tuples())


def remind(user: User, task_ids: list[int]) -> BulkResult:
    """催办 now: a notification to each selected overdue task's unit staff, audited, all in one transaction."""
    result = BulkResult()
    instance_ids = list(db.session.scalars(select(Task.instance_id).where(Task.id.in_(task_ids)))) if task_ids else []
    # Under the lock completion takes, read the tasks afresh: no reminder for a step just completed.
    ladder_rungs.lock_instances(list(instance_ids), wait=True)
    found = (
        {
            t.id: t
            for t in db.session.scalars(
                select(Task).where(Task.id.in_(task_ids)).execution_options(populate_existing=True)
            )
        }
        if task_ids
        else {}
    )
    now = clock.now()
    for task_id in dict.fromkeys(task_ids):
        task = found.get(task_id)
        if task is None or task.role != "unit_staff":
            result.skipped.append((task_id, _l("事项不存在")))
            continue
        if task.status != "ready":
            result.skipped.append((task_id, _l("事项已办结")))
            continue
        if task.due_at is None or task.due_at >= now:
            result.skipped.append((task_id, _l("事项未逾期")))
            continue
        due = clock.to_local(task.due_at)
        sent = notifications.notify_unit(
            task.unit_id,
            "reminder",
            notifications.compose(notifications.REMINDER_OVERDUE, step=task.name),
            notifications.compose(notifications.REMINDER_BY_HAND_BODY, due=f"{due:%Y-%m-%d %H:%M}"),
            link=f"/my/tasks/{task.id}",
        )
        audit.record(
            user.id,
            "task.remind",
            "task",
            task.id,
            after={"name": task.name, "due_at": task.due_at, "notified": len(sent)},
            unit_id=task.unit_id,
        )
        result.done.append(task_id)
    db.session.commit()
    return result


def issue_letters(user: User, task_ids: list[int], new_due: date | None = None) -> BulkResult:
    """督办函 by hand on each selected task, one transaction each; refusals are collected, not raised."""
    result = BulkResult()
    for task_id in dict.fromkeys(task_ids):
        try:
            manual_letters.issue_manual(user, task_id, new_due)
        except (manual_letters.LetterRefused, LookupError, PermissionError) as exc:
            db.session.rollback()
            result.skipped.append((task_id, exc.text if isinstance(exc, DomainError) else str(exc)))
        else:
            result.done.append(task_id)
    return result
