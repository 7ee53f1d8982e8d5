"""The overdue ladder on the service side: record each rung exactly once, then carry it out.

The engine's ladder operations only say "this task reached this level". Here that becomes an
Escalation row, unique per (instance, task, level) in the database, written in the same
transaction as the workflow state. Carrying it out (notifications, the numbered letter, the
public notice) happens right after, in its own transaction, retried with backoff; after
MAX_ATTEMPTS failures the escalation is an incident on the board until retried by hand.
"""
import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from app import clock, workdays
from app.extensions import db
from app.models import Escalation, ProcessInstance, Task
from app.models.escalation import LEVEL_NAMES

from . import audit, letters, notices_public, notifications

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def _insert_statement(returning):
    """INSERT ... ON CONFLICT DO NOTHING on the escalation key, returning what was inserted."""
    module = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return (module.insert(Escalation)
            .on_conflict_do_nothing(index_elements=["instance_id", "spiff_task_id", "level"])
            .returning(*returning))


def values_for(instance: ProcessInstance, payload: dict, task: Task | None, now: datetime,
               actor_id: int | None = None, manual: bool = False) -> dict:
    """The row of one rung for one task, from the engine's payload and the task's row."""
    due = payload.get("due")
    return dict(
        instance_id=instance.id, campaign_id=instance.campaign_id, unit_id=instance.unit_id,
        task_id=task.id if task else None, spiff_task_id=payload["spiff_task_id"],
        element_id=payload.get("element_id") or (task.element_id if task else ""),
        ledger_item_id=payload.get("ledger_item_id") or (task.ledger_item_id if task else None),
        level=payload["level"], due_at=datetime.fromisoformat(due) if due else (task.due_at if task else None),
        fired_at=now, manual=manual, created_by_id=actor_id, status="pending", attempts=0, next_attempt_at=now,
    )


def _audit_values(escalation, actor_id: int | None, manual: bool) -> dict:
    """The audit event of a new rung (an Escalation, or a row with its id, level, task and unit)."""
    return audit.values(actor_id, f"escalation.{escalation.level}", "escalation", escalation.id,
                        after={"task_id": escalation.task_id, "level": escalation.level, "manual": manual},
                        unit_id=escalation.unit_id)


def record(instance: ProcessInstance, payload: dict, *, actor_id: int | None = None,
           manual: bool = False, now: datetime | None = None, task: Task | None = None) -> Escalation | None:
    """Record one rung for one task; None when it was already recorded (exactly once)."""
    now = now or clock.now()
    if task is None:
        task = db.session.scalars(
            select(Task).where(Task.instance_id == instance.id, Task.spiff_task_id == payload["spiff_task_id"])
        ).first()
    row = values_for(instance, payload, task, now, actor_id, manual)
    escalation = db.session.scalars(_insert_statement([Escalation]).values(row)).first()
    if escalation is None:
        return None
    audit.record_many([_audit_values(escalation, actor_id, manual)])
    return escalation


def record_many(rows: list[dict]) -> int:
    """Record many of the sweep's rungs (each from `values_for`) in one executemany; those
    already there are skipped. Returns how many were new."""
    if not rows:
        return 0
    columns = (Escalation.id, Escalation.level, Escalation.task_id, Escalation.unit_id)
    inserted = db.session.execute(_insert_statement(columns), rows).all()
    audit.record_many([_audit_values(e, None, False) for e in inserted])
    return len(inserted)


def apply_effects(instance: ProcessInstance, effects, now: datetime | None = None,
                  tasks: dict[str, Task] | None = None) -> list[Escalation]:
    """Turn the engine's effects into rows; `tasks` are the instance's task rows by Spiff id, if known."""
    recorded = []
    for effect in effects:
        if effect.kind == "escalate":
            task = (tasks or {}).get(effect.payload["spiff_task_id"])
            escalation = record(instance, effect.payload, now=now, task=task)
            if escalation is not None:
                recorded.append(escalation)
        elif effect.kind == "notify_unit":
            notifications.notify_unit(instance.unit_id, "notice", effect.payload.get("message") or "", "")
    return recorded


def _reminder(escalation: Escalation) -> notifications.Message:
    step = escalation.task.name if escalation.task else escalation.element_id
    due = clock.to_local(escalation.due_at)
    return notifications.Message(
        escalation.unit_id, "reminder",
        f"催办：「{step}」{'已逾期' if escalation.due_at and escalation.due_at < clock.now() else '今日到期'}",
        f"办理期限：{due:%Y-%m-%d %H:%M}。请尽快办理。" if due else "请尽快办理。",
        link=f"/my/tasks/{escalation.task_id}" if escalation.task_id else None,
        escalation_id=escalation.id,
    )


def carry_out(escalation: Escalation, actor_id: int | None = None, new_due: datetime | None = None) -> None:
    """Do what the rung means; adds to the session (the caller commits). new_due: a letter's own deadline."""
    if escalation.level == "reminder":
        notifications.notify_many([_reminder(escalation)])
    elif escalation.level == "letter":
        letter = letters.issue(escalation, actor_id, new_due)
        notifications.notify_unit(escalation.unit_id, "letter", f"收到{letter.doc_number}", letter.subject,
                                  link=f"/letters/{letter.id}", escalation_id=escalation.id)
    elif escalation.level == "notice":
        notice = notices_public.publish(escalation, actor_id)
        notifications.notify_unit(escalation.unit_id, "notice", "本单位被通报", notice.summary,
                                  link="/public/notices", escalation_id=escalation.id)
    escalation.status = "done"
    escalation.done_at = clock.now()


def deliver_pending(now: datetime | None = None, limit: int = 100) -> tuple[int, int]:
    """Carry out up to `limit` pending escalations that are due, in one transaction.

    Reminders, nearly all of the work, go out together: one statement for their notifications
    and one for their status. Letters and notices, and the reminders too if that fails, go one
    by one, each under a savepoint, so one failure is recorded and retried later without undoing
    the others. Returns (done, failed)."""
    now = now or clock.now()
    # The task comes along (every rung names it); FOR UPDATE applies to the escalations only.
    query = (select(Escalation).options(selectinload(Escalation.task))
             .where(Escalation.status == "pending", Escalation.next_attempt_at <= now)
             .order_by(Escalation.next_attempt_at).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Escalation)  # another scheduler's batch is left to it
    batch = list(db.session.scalars(query))
    reminders = [e for e in batch if e.level == "reminder"]
    one_by_one = [e for e in batch if e.level != "reminder"]
    done = failed = 0
    if reminders:
        try:
            with db.session.begin_nested():
                notifications.notify_many([_reminder(e) for e in reminders])
                for escalation in reminders:
                    escalation.status, escalation.done_at = "done", clock.now()
            done += len(reminders)
        except Exception:  # find the one that fails; the others still go out
            log.warning("reminders: the batch failed, carrying them out one by one", exc_info=True)
            one_by_one = reminders + one_by_one
    for escalation in one_by_one:
        try:
            with db.session.begin_nested():
                carry_out(escalation)
            done += 1
        except Exception as exc:  # an operation that fails is retried, then shown as an incident
            _record_failure(escalation, exc, now)
            failed += 1
    db.session.commit()
    return done, failed


def deliver_one(escalation_id: int, now: datetime | None = None, actor_id: int | None = None) -> bool:
    now = now or clock.now()
    query = select(Escalation).where(Escalation.id == escalation_id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    escalation = db.session.scalars(query).first()
    if escalation is None or escalation.status == "done":
        db.session.rollback()
        return True
    try:
        with db.session.begin_nested():
            carry_out(escalation, actor_id)
        ok = True
    except Exception as exc:
        _record_failure(escalation, exc, now)
        ok = False
    db.session.commit()
    return ok


def _record_failure(escalation: Escalation, exc: Exception, now: datetime) -> None:
    """Count a failed attempt (the savepoint already undid its work); back off, or raise an incident."""
    escalation.attempts += 1
    escalation.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if escalation.attempts >= current_app.config.get("ESCALATION_MAX_ATTEMPTS", MAX_ATTEMPTS):
        escalation.status = "incident"
        escalation.next_attempt_at = None
        audit.record(None, "escalation.incident", "escalation", escalation.id,
                     after={"error": escalation.last_error, "attempts": escalation.attempts},
                     unit_id=escalation.unit_id)
    else:
        escalation.next_attempt_at = now + timedelta(minutes=2 ** escalation.attempts)


def retry(escalation_id: int, actor_id: int) -> bool:
    """A person retries an incident now."""
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None:
        raise LookupError("督办事项不存在")
    if escalation.status == "done":
        return True
    escalation.status, escalation.next_attempt_at = "pending", clock.now()
    audit.record(actor_id, "escalation.retry", "escalation", escalation_id, before={"status": "incident"},
                 after={"status": "pending"}, unit_id=escalation.unit_id)
    db.session.commit()
    return deliver_one(escalation_id, actor_id=actor_id)


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)


def new_deadline(now: datetime | None = None, days: int | None = None) -> datetime:
    """The new deadline a letter sets: N working days from today (default 5)."""
    days = days if days is not None else current_app.config.get("LETTER_GRACE_DAYS", 5)
    today = clock.to_local(now or clock.now()).date()
    return workdays.end_of_working_day(workdays.add_working_days(today, days))
