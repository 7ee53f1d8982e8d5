"""Advancing instances whose timers are due (the scheduler's tick)."""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app import clock
from app.extensions import db
from app.models import ProcessInstance

from . import audit, escalations, mailer, workflow


@dataclass
class TickResult:
    advanced: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    escalations_done: int = 0
    escalations_failed: int = 0
    emails_sent: int = 0
    emails_failed: int = 0


def _due_ids(now: datetime, limit: int) -> list[int]:
    query = (
        select(ProcessInstance.id)
        .where(ProcessInstance.next_timer_at <= now, ProcessInstance.status == "running")
        .order_by(ProcessInstance.next_timer_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def tick(now: datetime | None = None, batch_size: int = 100, max_batches: int = 1000) -> TickResult:
    """Advance every due instance, one transaction each; only due rows are ever loaded."""
    now = now or clock.now()
    result = TickResult()
    seen: set[int] = set()
    for _ in range(max_batches):
        ids = [i for i in _due_ids(now, batch_size) if i not in seen]
        db.session.rollback()
        if not ids:
            break
        for instance_id in ids:
            seen.add(instance_id)
            _advance_one(instance_id, now, result)
    result.escalations_done, result.escalations_failed = escalations.deliver_pending(now)
    result.emails_sent, result.emails_failed = mailer.deliver_emails(now)
    return result


def _advance_one(instance_id: int, now: datetime, result: TickResult) -> None:
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    instance = db.session.scalars(query).first()
    if instance is None or instance.next_timer_at is None or instance.next_timer_at > now:
        db.session.rollback()  # taken by another scheduler, or no longer due
        return
    try:
        run = workflow.load(instance)
        run.advance()
        workflow.save(instance, run, None)
        db.session.commit()
        result.advanced += 1
    except StaleDataError:
        db.session.rollback()
    except workflow.EngineError as exc:
        db.session.rollback()
        instance = db.session.get(ProcessInstance, instance_id)
        instance.error = str(exc)
        audit.record(None, "instance.error", "process_instance", instance_id, after={"error": str(exc)},
                     unit_id=instance.unit_id)
        db.session.commit()
        result.failed.append((instance_id, str(exc)))
