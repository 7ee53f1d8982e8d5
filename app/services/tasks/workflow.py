"""An instance's workflow: loading it, and the one path that saves it.

Every change to an instance's engine state is saved here, whoever made it: a person completing
a step (tasks), the sweep firing timers (sweep.timers, a batch at a time), a migration, a
calendar change, a finding added from outside. Saving means: the state and its derived columns
(phase, status, next timer), the ready steps projected into task rows (new ones created, gone
ones completed or cancelled, their waiting rungs cancelled), the engine's effects (ladder rungs
recorded, units notified) and the audit events of all that. A batch goes out as one
executemany or multi-row statement per table, so the sweep pays a handful of round trips per
batch instead of ten per instance; one instance is a batch of one.

Nothing here commits: the use case that called it owns the transaction.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app import clock
from app.engine import runtime
from app.engine.errors import EngineError, TaskNotReady
from app.extensions import db
from app.models import InstanceStatus, ProcessInstance, Task, TaskStatus
from app.models.campaign import PHASES
from app.services.design import processes
from app.services.escalation import escalations
from app.services.ledger import ledger
from app.services.messaging import notifications
from app.services.shared import audit, data_versions

__all__ = ["EngineError", "TaskNotReady", "load", "save", "save_many", "phase_of", "task_values"]

LEDGER_GATE = "ledger_cleared"
ORDER = {p: i for i, p in enumerate(PHASES)}
INSTANCE_COLUMNS = ("lock_version", "state", "next_timer_at", "phase", "status", "updated_at")

Pair = tuple[ProcessInstance, runtime.Run]


def load(instance: ProcessInstance) -> runtime.Run:
    return runtime.load(processes.bundle_for(instance.definition_id), instance.state)


def phase_of(run: runtime.Run, ready: list[runtime.ReadyTask], current: str) -> str:
    """The earliest phase the main flow is in; items added mid-way do not pull it forward."""
    if run.completed:
        return "closed"
    phases = [t.phase for t in ready if t.phase in ORDER] + [p for p in run.waiting_phases() if p in ORDER]
    return min(phases, key=ORDER.__getitem__) if phases else current


def task_values(
    instance_id: int, campaign_id: int, unit_id: int, r: runtime.ReadyTask, phase: str, now: datetime
) -> dict[str, Any]:
    """The row of a new ready step: what every path that creates task rows writes (launch too)."""
    return dict(
        instance_id=instance_id,
        campaign_id=campaign_id,
        unit_id=unit_id,
        spiff_task_id=r.spiff_id,
        element_id=r.element_id,
        name=r.name,
        role=r.lane or "",
        form_key=r.form_key or "",
        phase=r.phase or phase,
        status=TaskStatus.READY,
        due_at=r.due_at,
        ledger_item_id=(r.item or {}).get("id"),
        created_at=now,
    )


def save(
    instance: ProcessInstance, run: runtime.Run, actor_id: int | None, completed_task: Task | None = None
) -> list[Task]:
    """Save one instance (a batch of one); returns the task rows newly created.

    `completed_task`: the step a person has just completed, marked completed rather than cancelled."""
    ids = save_many([(instance, run)], clock.now(), actor_id=actor_id, completed_task=completed_task)
    if not ids:
        return []
    return list(db.session.scalars(select(Task).where(Task.id.in_(ids)).order_by(Task.id)))


def save_many(
    pairs: list[Pair], now: datetime, *, actor_id: int | None = None, completed_task: Task | None = None
) -> list[int]:
    """Save every run; returns the ids of the task rows created.

    Raises StaleDataError if an instance was saved meanwhile by someone else (the callers lock
    the instances they advance, so this means a lost race, reported as a conflict)."""
    if not pairs:
        return []
    db.session.flush()  # what the caller changed in the session is written first, and counted
    for instance, run in pairs:
        _settle_ledger_gate(instance, run)
    ready_rows: dict[int, dict[str, Task]] = defaultdict(dict)
    ids = [instance.id for instance, _ in pairs]
    for row in db.session.scalars(select(Task).where(Task.instance_id.in_(ids), Task.status == TaskStatus.READY)):
        ready_rows[row.instance_id][row.spiff_task_id] = row
    plan = _Plan(actor_id=actor_id, completed_task=completed_task)
    for instance, run in pairs:
        _plan_one(plan, instance, run, ready_rows[instance.id], now)
    _write_instances(plan.instances, plan.moved)
    created = _insert_tasks(plan.new_tasks)
    _close(plan, now)
    rows = [
        escalations.values_for(
            instance,
            payload,
            ready_rows[instance.id].get(payload["spiff_task_id"])
            or created.get((instance.id, payload["spiff_task_id"])),
            now,
        )
        for instance, payload in plan.escalations
    ]
    escalations.record_many(rows)
    if plan.notices:
        notifications.notify_many(plan.notices)
    audit.record_many(plan.audits)
    # Only now that every statement went through: the session's objects take the values written,
    # as if loaded so (no second UPDATE at the flush). Had one failed they would keep the old ones.
    for (instance, _), values in zip(pairs, plan.instances, strict=True):
        for name in INSTANCE_COLUMNS:
            set_committed_value(instance, name, values[name])
    return [ref.id for ref in created.values()]


def _settle_ledger_gate(instance: ProcessInstance, run: runtime.Run) -> None:
    """The assessment gate opens when the flow waits for it and no ledger item is open."""
    if run.waiting_for_message(LEDGER_GATE) and ledger.open_count(instance.id) == 0:
        run.send_message(LEDGER_GATE)


@dataclass
class _Plan:
    actor_id: int | None
    completed_task: Task | None
    instances: list[dict[str, Any]] = field(default_factory=list)
    new_tasks: list[dict[str, Any]] = field(default_factory=list)
    cancelled: list[Task] = field(default_factory=list)
    completed: list[Task] = field(default_factory=list)
    escalations: list[tuple[ProcessInstance, dict[str, Any]]] = field(default_factory=list)
    # Campaigns with an instance whose phase or status moved (their dashboards change).
    moved: set[int] = field(default_factory=set)
    notices: list[notifications.Message] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)


def _plan_one(
    plan: _Plan, instance: ProcessInstance, run: runtime.Run, ready_rows: dict[str, Task], now: datetime
) -> None:
    ready = run.ready_tasks()
    phase = phase_of(run, ready, instance.phase)
    status = InstanceStatus.COMPLETED if run.completed else InstanceStatus.RUNNING
    plan.instances.append(
        dict(
            b_id=instance.id,
            b_lock=instance.lock_version,
            lock_version=instance.lock_version + 1,
            state=run.dump(),
            next_timer_at=run.next_timer_at(),
            phase=phase,
            status=status,
            updated_at=now,
        )
    )
    if (phase, status) != (instance.phase, instance.status):
        plan.moved.add(instance.campaign_id)
        plan.audits.append(
            audit.values(
                plan.actor_id,
                "instance.advance",
                "process_instance",
                instance.id,
                before={"phase": instance.phase, "status": instance.status},
                after={"phase": phase, "status": status},
                unit_id=instance.unit_id,
            )
        )
    ready_ids = {r.spiff_id for r in ready}
    for spiff_id, row in ready_rows.items():
        if spiff_id in ready_ids:
            continue
        if plan.completed_task is not None and row.id == plan.completed_task.id:
            plan.completed.append(row)
        else:
            plan.cancelled.append(row)
            plan.audits.append(
                audit.values(
                    plan.actor_id,
                    "task.cancel",
                    "task",
                    row.id,
                    before={"status": TaskStatus.READY},
                    after={"status": TaskStatus.CANCELLED},
                    unit_id=row.unit_id,
                )
            )
    plan.new_tasks.extend(
        task_values(instance.id, instance.campaign_id, instance.unit_id, r, phase, now)
        for r in ready
        if r.spiff_id not in ready_rows
    )
    for effect in run.take_effects():
        if effect.kind == "escalate":
            plan.escalations.append((instance, effect.payload))
        elif effect.kind == "notify_unit":
            plan.notices.append(
                notifications.Message(instance.unit_id, "notice", effect.payload.get("message") or "", "")
            )


def _write_instances(rows: list[dict[str, Any]], moved: set[int]) -> None:
    table = ProcessInstance.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.lock_version == bindparam("b_lock"))
        .values({name: bindparam(name) for name in INSTANCE_COLUMNS})
        .execution_options(**data_versions.touching(moved))
    )
    result = cast(CursorResult[Any], db.session.execute(stmt, rows))  # an UPDATE's result: a CursorResult
    if result.rowcount != len(rows):
        raise StaleDataError(f"instance save: {result.rowcount} of {len(rows)} instances updated")


@dataclass(frozen=True)
class _Ref:
    """A task row just inserted, as much of it as an escalation needs."""

    id: int
    element_id: str
    ledger_item_id: int | None
    due_at: datetime | None


def _insert_tasks(values: list[dict[str, Any]]) -> dict[tuple[int, str], _Ref]:
    """Insert the new task rows; what an escalation needs of them, by (instance id, Spiff task id)."""
    if not values:
        return {}
    table = Task.__table__
    ids = db.session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), values)
    return {
        (v["instance_id"], v["spiff_task_id"]): _Ref(task_id, v["element_id"], v["ledger_item_id"], v["due_at"])
        for task_id, v in zip(ids, values, strict=True)
    }


def _close(plan: _Plan, now: datetime) -> None:
    """Steps no longer ready: the one just completed, and those the flow moved past (cancelled)."""
    for row in plan.completed:
        row.status, row.completed_at, row.completed_by_id = TaskStatus.COMPLETED, now, plan.actor_id
    if plan.cancelled:
        db.session.execute(
            update(Task.__table__)
            .where(Task.__table__.c.id.in_([r.id for r in plan.cancelled]))
            .values(status=TaskStatus.CANCELLED)
            .execution_options(**data_versions.touching(r.campaign_id for r in plan.cancelled))
        )
        for row in plan.cancelled:
            set_committed_value(row, "status", TaskStatus.CANCELLED)
    escalations.cancel_for_closed_tasks(plan.completed + plan.cancelled, plan.actor_id)
