"""Loading and saving one instance's workflow, and projecting its ready tasks into rows.

Used inside the transactions of the use cases (launch, tasks, ledger, scheduler); nothing
here commits.
"""
from datetime import datetime

from sqlalchemy import select

from app import clock
from app.engine import runtime
from app.engine.errors import EngineError, TaskNotReady
from app.extensions import db
from app.models import ProcessInstance, Task
from app.models.campaign import PHASES
from app.services.design import processes
from app.services.escalation import escalations
from app.services.ledger import ledger
from app.services.shared import audit

__all__ = ["EngineError", "TaskNotReady", "load", "save", "phase_of"]

LEDGER_GATE = "ledger_cleared"
ORDER = {p: i for i, p in enumerate(PHASES)}


def load(instance: ProcessInstance) -> runtime.Run:
    return runtime.load(processes.bundle_for(instance.definition_id), instance.state)


def phase_of(run: runtime.Run, ready: list[runtime.ReadyTask], current: str) -> str:
    """The earliest phase the main flow is in; items added mid-way do not pull it forward."""
    if run.completed:
        return "closed"
    phases = [t.phase for t in ready if t.phase in ORDER] + [p for p in run.waiting_phases() if p in ORDER]
    return min(phases, key=ORDER.__getitem__) if phases else current


def settle_ledger_gate(instance: ProcessInstance, run: runtime.Run) -> None:
    """The assessment gate opens when the flow waits for it and no ledger item is open."""
    if not run.waiting_for_message(LEDGER_GATE):
        return
    db.session.flush()  # ledger changes made by the step must be counted
    if ledger.open_count(instance.id) == 0:
        run.send_message(LEDGER_GATE)


def save(instance: ProcessInstance, run: runtime.Run, actor_id: int | None,
         completed_task: Task | None = None) -> list[Task]:
    """Store state and derived columns, project ready tasks; return the tasks newly created."""
    settle_ledger_gate(instance, run)
    ready = run.ready_tasks()
    before = {"phase": instance.phase, "status": instance.status}
    now = clock.now()
    instance.state = run.dump()
    instance.next_timer_at = run.next_timer_at()
    instance.phase = phase_of(run, ready, instance.phase)
    instance.status = "completed" if run.completed else "running"
    instance.updated_at = now
    created, rows = project(instance, ready, completed_task, actor_id, now)
    db.session.flush()  # tasks projected just now are what the ladder's escalations point at
    escalations.apply_effects(instance, run.take_effects(), now, rows)
    after = {"phase": instance.phase, "status": instance.status}
    if before != after:
        audit.record(actor_id, "instance.advance", "process_instance", instance.id,
                     before=before, after=after, unit_id=instance.unit_id)
    return created


def project(instance: ProcessInstance, ready: list[runtime.ReadyTask], completed_task: Task | None,
            actor_id: int | None, now: datetime) -> tuple[list[Task], dict[str, Task]]:
    """Make the task rows match the ready tasks; returns the rows created and every row
    touched, by SpiffWorkflow task id."""
    existing = {
        t.spiff_task_id: t
        for t in db.session.scalars(select(Task).filter_by(instance_id=instance.id, status="ready"))
    }
    ready_ids = {r.spiff_id for r in ready}
    closed = []
    for spiff_id, row in existing.items():
        if spiff_id in ready_ids:
            continue
        closed.append(row)
        if completed_task is not None and row.id == completed_task.id:
            row.status, row.completed_at, row.completed_by_id = "completed", now, actor_id
        else:
            row.status = "cancelled"
            audit.record(actor_id, "task.cancel", "task", row.id, before={"status": "ready"},
                         after={"status": "cancelled"}, unit_id=row.unit_id)
    escalations.cancel_for_closed_tasks(closed, actor_id)
    created = []
    for r in ready:
        if r.spiff_id in existing:
            continue
        row = new_task_row(instance, r, now)
        db.session.add(row)
        created.append(row)
    return created, {**existing, **{row.spiff_task_id: row for row in created}}


def new_task_row(instance: ProcessInstance, r: runtime.ReadyTask, now: datetime) -> Task:
    return Task(
        instance_id=instance.id,
        campaign_id=instance.campaign_id,
        unit_id=instance.unit_id,
        spiff_task_id=r.spiff_id,
        element_id=r.element_id,
        name=r.name,
        role=r.lane or "",
        form_key=r.form_key or "",
        phase=r.phase or instance.phase,
        status="ready",
        due_at=r.due_at,
        ledger_item_id=(r.item or {}).get("id"),
        created_at=now,
    )
