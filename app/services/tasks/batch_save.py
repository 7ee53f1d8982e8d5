"""Saving a sweep's batch of advanced workflows with a handful of statements.

What a fired ladder timer changes is the same for every instance: the state and its derived
columns, perhaps the ready tasks, and the escalations it records. Saved one by one through the
ORM (workflow.save) that is about ten round trips an instance, several times the engine's own
work. Here the batch goes out as one executemany or multi-row statement per table. An instance
off that common path (its assessment gate is waiting, or an effect other than an escalation)
is left to workflow.save, which the caller runs for it.

Nothing here commits; the caller runs it under a savepoint and, should it fail, saves the
batch one instance at a time instead.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.engine import runtime
from app.extensions import db
from app.models import ProcessInstance, Task
from app.services.escalation import escalations
from app.services.shared import audit
from app.services.tasks import workflow

Pair = tuple[ProcessInstance, runtime.Run]
INSTANCE_COLUMNS = ("lock_version", "state", "next_timer_at", "phase", "status", "updated_at")


@dataclass
class _Plan:
    instances: list[dict[str, Any]] = field(default_factory=list)
    new_tasks: list[tuple[ProcessInstance, runtime.ReadyTask]] = field(default_factory=list)
    cancelled: list[Task] = field(default_factory=list)
    escalations: list[tuple[ProcessInstance, dict[str, Any]]] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)


def one_by_one(run: runtime.Run) -> bool:
    """True when saving this run needs more than the batch does (see the module's docstring)."""
    return (run.waiting_for_message(workflow.LEDGER_GATE)
            or any(effect.kind != "escalate" for effect in run.pending_effects()))


def save_many(pairs: list[Pair], now: datetime) -> None:
    """Store every run's state, project its ready tasks and record its escalations."""
    if not pairs:
        return
    ready_rows: dict[int, dict[str, Task]] = defaultdict(dict)
    ids = [instance.id for instance, _ in pairs]
    for row in db.session.scalars(select(Task).where(Task.instance_id.in_(ids), Task.status == "ready")):
        ready_rows[row.instance_id][row.spiff_task_id] = row
    plan = _Plan()
    for instance, run in pairs:
        _plan_one(plan, instance, run, ready_rows[instance.id], now)
    _write_instances(plan.instances)
    created = _insert_tasks(plan.new_tasks, now)
    _cancel(plan.cancelled)
    rows = [escalations.values_for(instance, payload, _task_of(ready_rows, created, instance.id, payload), now)
            for instance, payload in plan.escalations]
    escalations.record_many(rows)
    audit.record_many(plan.audits)
    # Only now that every statement went through: the session's objects take the values written,
    # as if loaded so (no second UPDATE at the flush). Had one failed they would keep the old ones.
    for (instance, _), written in zip(pairs, plan.instances, strict=True):
        for name in INSTANCE_COLUMNS:
            set_committed_value(instance, name, written[name])
    for row in plan.cancelled:
        set_committed_value(row, "status", "cancelled")


def _task_of(ready_rows: dict[int, dict[str, Task]], created: dict[tuple[int, str], "_Ref"], instance_id: int,
             payload: dict[str, Any]) -> escalations.TaskRef | None:
    """The row of the task a rung is about: one that was ready, or one inserted just now."""
    found: escalations.TaskRef | None = ready_rows[instance_id].get(payload["spiff_task_id"])
    return found or created.get((instance_id, payload["spiff_task_id"]))


def _plan_one(plan: _Plan, instance: ProcessInstance, run: runtime.Run, ready_rows: dict[str, Task],
              now: datetime) -> None:
    ready = run.ready_tasks()
    phase = workflow.phase_of(run, ready, instance.phase)
    status = "completed" if run.completed else "running"
    plan.instances.append(dict(
        b_id=instance.id, b_lock=instance.lock_version, lock_version=instance.lock_version + 1,
        state=run.dump(), next_timer_at=run.next_timer_at(), phase=phase, status=status, updated_at=now,
    ))
    if (phase, status) != (instance.phase, instance.status):
        plan.audits.append(audit.values(None, "instance.advance", "process_instance", instance.id,
                                        before={"phase": instance.phase, "status": instance.status},
                                        after={"phase": phase, "status": status}, unit_id=instance.unit_id))
    ready_ids = {r.spiff_id for r in ready}
    for spiff_id, row in ready_rows.items():
        if spiff_id not in ready_ids:
            plan.cancelled.append(row)
            plan.audits.append(audit.values(None, "task.cancel", "task", row.id, before={"status": "ready"},
                                            after={"status": "cancelled"}, unit_id=row.unit_id))
    plan.new_tasks.extend((instance, r) for r in ready if r.spiff_id not in ready_rows)
    plan.escalations.extend((instance, effect.payload) for effect in run.take_effects())


def _table(model: type[Any]) -> Table:
    """A mapped class's Table (the declarative base types it as any FromClause)."""
    return cast(Table, model.__table__)


def _write_instances(rows: list[dict[str, Any]]) -> None:
    table = _table(ProcessInstance)
    stmt = (update(table)
            .where(table.c.id == bindparam("b_id"), table.c.lock_version == bindparam("b_lock"))
            .values({name: bindparam(name) for name in INSTANCE_COLUMNS}))
    result = cast(CursorResult[Any], db.session.execute(stmt, rows))  # an UPDATE's result: a CursorResult
    # The rows are locked by the sweep's claim, so nobody can have moved them on meanwhile.
    if result.rowcount != len(rows):
        raise RuntimeError(f"batch save: {result.rowcount} of {len(rows)} instances updated")


def _insert_tasks(new: list[tuple[ProcessInstance, runtime.ReadyTask]], now: datetime) -> dict[tuple[int, str], "_Ref"]:
    """Insert the new task rows; their ids by (instance id, Spiff task id)."""
    if not new:
        return {}
    values = []
    for instance, ready in new:
        row = workflow.new_task_row(instance, ready, now)
        # What new_task_row set, the same columns for every row (unset ones keep their defaults).
        values.append({k: v for k, v in vars(row).items() if not k.startswith("_")})
    table = _table(Task)
    ids = db.session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
    return {(v["instance_id"], v["spiff_task_id"]): _Ref(task_id, v["element_id"], v["ledger_item_id"], v["due_at"])
            for task_id, v in zip(ids, values, strict=True)}


@dataclass(frozen=True)
class _Ref:
    """A task row just inserted, as much of it as an escalation needs."""
    id: int
    element_id: str
    ledger_item_id: int | None
    due_at: datetime | None


def _cancel(rows: list[Task]) -> None:
    if rows:
        table = _table(Task)
        db.session.execute(update(table).where(table.c.id.in_([r.id for r in rows])).values(status="cancelled"))
        escalations.cancel_for_closed_tasks(rows)
