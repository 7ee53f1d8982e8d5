"""督办函 issued by hand: a supervisor on an overdue unit task, through the same ladder rung as the timer.

The letter is recorded as the task's "letter" escalation (manual=True), so the unique key that keeps the
timer to one letter per task also refuses a second letter by hand, and the timer does nothing afterwards.
"""

import time
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app import clock, workdays
from app.errors import Forbidden, NotFound, Refused
from app.extensions import db
from app.i18n import N_, _l
from app.models import Escalation, EscalationStatus, ProcessInstance, SupervisionLetter, Task, User
from app.models.roles import ESCALATE
from app.services.escalation import escalations
from app.services.shared import audit

# SQLite lets one writer at a time and refuses a stale snapshot at once ("database is locked"):
# the whole unit of work is simply done again.
ATTEMPTS = 8


NOT_OPEN = N_("只能对单位尚未办结的事项发督办函")
NOT_OVERDUE = N_("该事项尚未逾期")
PAST_DUE = N_("新的办理期限须晚于今天")
DUPLICATE = N_("该事项已发出督办函")


class LetterRefused(Refused):
    code = "letter_refused"


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    """A unit's open task past its deadline: the tasks a letter may be issued on."""
    now = now or clock.now()
    return task.status == "ready" and task.role == "unit_staff" and task.due_at is not None and task.due_at < now


def issue_manual(user: User, task_id: int, new_due: date | None = None) -> SupervisionLetter:
    """Issue the task's letter now, numbered like any other; LetterRefused with a Chinese message if not allowed."""
    if user.role not in ESCALATE:
        raise Forbidden(_l("只有督导组可以发督办函"))
    for attempt in range(ATTEMPTS):
        try:
            return _issue(user, task_id, new_due)
        except OperationalError as exc:
            db.session.rollback()
            if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


def _issue(user: User, task_id: int, new_due: date | None) -> SupervisionLetter:
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound(_l("事项不存在"))
    # Completing the task takes this lock too: the letter goes out before the completion, or sees it.
    escalations.lock_instances([task.instance_id], wait=True)
    db.session.refresh(task)
    now = clock.now()
    if task.role != "unit_staff" or task.status != "ready":
        raise LetterRefused(NOT_OPEN)
    if not is_overdue(task, now):
        raise LetterRefused(NOT_OVERDUE)
    due_at = None
    if new_due is not None:
        if new_due <= clock.to_local(now).date():
            raise LetterRefused(PAST_DUE)
        due_at = workdays.end_of_working_day(new_due)
    instance = db.session.get_one(ProcessInstance, task.instance_id)
    # The step's letter rung, if recorded (a withdrawn one is history: the letter may be issued again).
    waiting = db.session.scalars(
        select(Escalation)
        .where(
            Escalation.instance_id == task.instance_id,
            Escalation.spiff_task_id == task.spiff_task_id,
            Escalation.level == "letter",
            Escalation.status != EscalationStatus.WITHDRAWN,
        )
        .execution_options(populate_existing=True)
    ).first()
    if waiting is not None and waiting.status != "done":
        # The ladder's own letter is recorded but was never carried out (waiting its turn, failed,
        # or cancelled with an earlier rung withdrawn): the supervisor's decision takes it over
        # (one letter a step, still), carried out now.
        before = {"status": waiting.status, "manual": waiting.manual}
        waiting.manual, waiting.created_by_id, waiting.status = True, user.id, "pending"
        waiting.closed_reason = None
        audit.record(
            user.id,
            "escalation.letter",
            "escalation",
            waiting.id,
            before=before,
            after={"task_id": task.id, "level": "letter", "manual": True},
            unit_id=task.unit_id,
        )
        escalation: Escalation | None = waiting
    elif waiting is not None:
        db.session.rollback()
        raise LetterRefused(DUPLICATE)
    else:
        escalation = escalations.record(
            instance,
            {
                "level": "letter",
                "spiff_task_id": task.spiff_task_id,
                "element_id": task.element_id,
                # is_overdue() above: the task has a due time.
                "ledger_item_id": task.ledger_item_id,
                "due": task.due_at.isoformat() if task.due_at else None,
            },
            actor_id=user.id,
            manual=True,
            now=now,
        )
    if escalation is None:
        db.session.rollback()
        raise LetterRefused(DUPLICATE)
    escalations.carry_out(escalation, user.id, new_due=due_at)
    letter = db.session.scalars(select(SupervisionLetter).filter_by(escalation_id=escalation.id)).one()
    db.session.commit()
    return letter


def letters_by_task(task_ids: Iterable[int | None]) -> dict[int, SupervisionLetter]:
    """The letter already issued on each of these tasks (by the timer or by hand)."""
    ids = [i for i in task_ids if i]
    if not ids:
        return {}
    rows = db.session.scalars(select(SupervisionLetter).where(SupervisionLetter.task_id.in_(ids)))
    return {letter.task_id: letter for letter in rows if letter.task_id is not None}
