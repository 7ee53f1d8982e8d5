"""Open deadlines recomputed after the working-day calendar changed.

What depends on working days, and is recomputed here under the calendar now in force:
- the waiting date timers of running instances (the overdue ladder: due + N working days),
  whose fire time SpiffWorkflow computed once and stored (runtime.Run.recompute_timers);
- the process data deadlines come from: deadlines['review'] (self-check end + REVIEW_DAYS), each
  item's verify_due (item deadline + VERIFY_DAYS), a returned step's redo due (return date +
  REDO_DAYS, when the return can be found in the task rows);
- the due time of ready tasks (tasks.due_at, projected from that data), with due_changed_at set
  when it or its ladder moved, so the escalation code restarts the ladder from that moment;
- open supervision letters' reply deadlines (issue date + LETTER_GRACE_DAYS), when they were
  computed so (a date chosen by hand is left alone).

Each change is an audit event with before and after. Instances are done in batches by id, one
transaction each, inline while the office waits (up to a time budget) and then by the scheduler's
sweeps; the job row (holiday_recomputes) keeps the place, so a crash loses nothing.
"""

import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as dtime
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, func, select, update

from app import clock, workdays
from app.engine import runtime
from app.extensions import db
from app.i18n import N_
from app.models import (
    HolidayRecompute,
    InstanceStatus,
    ProcessInstance,
    RecomputeStatus,
    Submission,
    SupervisionLetter,
    Task,
    TaskStatus,
)
from app.services.campaigns.launch import REVIEW_DAYS
from app.services.ledger.ledger import VERIFY_DAYS
from app.services.shared import audit
from app.services.tasks import workflow
from app.services.tasks.steps import REDO_DAYS

from . import store

log = logging.getLogger(__name__)

BATCH_SIZE = 100
YEARS_KEY = "calendar_years"


# ---- jobs ----------------------------------------------------------------------------------


def _running_count() -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(ProcessInstance).where(ProcessInstance.status == InstanceStatus.RUNNING)
        )
        or 0
    )


def schedule(years: list[int], actor_id: int | None, now: datetime) -> HolidayRecompute:
    """Queue the running instances for recomputation (in the caller's transaction). A job still
    pending starts over with the years of both: recomputing twice changes nothing twice."""
    total = _running_count()
    job = db.session.scalar(
        select(HolidayRecompute)
        .where(HolidayRecompute.status == RecomputeStatus.PENDING)
        .order_by(HolidayRecompute.id)
        .limit(1)
    )
    if job is None:
        job = HolidayRecompute(
            years=sorted(years),
            status="pending",
            created_at=now,
            created_by_id=actor_id,
            changed=0,
            letters_changed=0,
            failed=0,
            updated_at=now,
        )
        db.session.add(job)
    else:
        job.years = sorted(set(job.years) | set(years))
        job.created_by_id = actor_id
    job.after_instance_id, job.done, job.total, job.updated_at = 0, 0, total, now
    db.session.flush()
    return job


def pending_job() -> HolidayRecompute | None:
    return db.session.scalar(
        select(HolidayRecompute)
        .where(HolidayRecompute.status == RecomputeStatus.PENDING)
        .order_by(HolidayRecompute.id)
        .limit(1)
    )


def latest_job() -> HolidayRecompute | None:
    return db.session.scalar(select(HolidayRecompute).order_by(HolidayRecompute.id.desc()).limit(1))


def run(
    job_id: int | None = None,
    budget: float | None = None,
    batch_size: int | None = None,
    progress: Callable[[HolidayRecompute], None] | None = None,
) -> HolidayRecompute | None:
    """Work through a recompute job batch by batch (a commit each) until it is done or `budget`
    seconds have passed; returns the job as it stands."""
    batch_size = batch_size or int(current_app.config.get("CALENDAR_RECOMPUTE_BATCH", BATCH_SIZE))
    if job_id is None:
        job = pending_job()
        if job is None:
            return None
        job_id = job.id
    started = time.monotonic()
    while True:
        finished = _batch(job_id, batch_size)
        job = db.session.get(HolidayRecompute, job_id)
        if progress is not None and job is not None:
            progress(job)
        if finished or (budget is not None and time.monotonic() - started >= budget):
            return job


def resume(budget: float | None = None) -> int:
    """The scheduler's part: carry on with pending jobs for up to `budget` seconds. Instances done."""
    started, done = time.monotonic(), 0
    while True:
        job = pending_job()
        if job is None:
            return done
        left = None if budget is None else budget - (time.monotonic() - started)
        if left is not None and left <= 0:
            return done
        before = job.done
        job = run(job.id, budget=left)
        done += max((job.done if job else 0) - before, 0)
        db.session.rollback()


def _batch(job_id: int, batch_size: int) -> bool:
    """One batch in one transaction; True when the job has nothing left."""
    store.refresh()  # this process computes with the calendar just stored, wherever it was stored
    now = clock.now()
    # Claiming the job row first serialises runners (web request, sweeps): on PostgreSQL the row
    # lock, on SQLite the write lock this UPDATE takes.
    claimed = cast(
        CursorResult[Any],
        db.session.execute(  # an UPDATE's result: a CursorResult
            update(HolidayRecompute)
            .where(HolidayRecompute.id == job_id, HolidayRecompute.status == RecomputeStatus.PENDING)
            .values(updated_at=now)
        ),
    )
    if claimed.rowcount == 0:
        db.session.rollback()
        return True
    job = db.session.get_one(HolidayRecompute, job_id)
    db.session.refresh(job)
    query = (
        select(ProcessInstance)
        .where(ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.id > job.after_instance_id)
        .order_by(ProcessInstance.id)
        .limit(batch_size)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(of=ProcessInstance)  # a completion of one of them waits for us
    instances = list(db.session.scalars(query))
    if not instances:
        job.status, job.finished_at = "done", now
        db.session.commit()
        return True
    changed = failed = 0
    for instance in instances:
        try:
            with db.session.begin_nested():
                changed += recompute_instance(instance, job.years, job.created_by_id, now)
        except Exception:
            log.exception("calendar: recomputing the deadlines of instance %s failed", instance.id)
            failed += 1
    job.after_instance_id = instances[-1].id
    job.done += len(instances)
    job.changed += changed
    job.failed += failed
    db.session.commit()
    return len(instances) < batch_size and _nothing_after(job_id)


def _nothing_after(job_id: int) -> bool:
    """Close the job when no running instance is left after its place (else the next batch does)."""
    job = db.session.get_one(HolidayRecompute, job_id)
    left = db.session.scalar(
        select(ProcessInstance.id)
        .where(ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.id > job.after_instance_id)
        .limit(1)
    )
    if left is not None:
        db.session.rollback()
        return False
    job.status, job.finished_at = "done", clock.now()
    db.session.commit()
    return True


# ---- one instance --------------------------------------------------------------------------


def _local_day(value: object) -> date:
    due = runtime.parse_due(value)
    assert due is not None  # called with a deadline that is there
    return clock.to_local(due).date()


def _after(value: object, days: int) -> str:
    return runtime.iso(workdays.add_working_days(_local_day(value), days))


class _Returns:
    """When a returned step was returned (its reviewer's completion), looked up once per instance."""

    def __init__(self, instance_id: int):
        self.instance_id = instance_id
        self._cache: dict[tuple[str, int | None], date | None] = {}

    def _latest_return(self, form_key: str, ledger_item_id: int | None) -> date | None:
        query = (
            select(Task.id, Task.completed_at)
            .where(Task.instance_id == self.instance_id, Task.form_key == form_key, Task.status == TaskStatus.COMPLETED)
            .order_by(Task.completed_at.desc(), Task.id.desc())
            .limit(1)
        )
        if ledger_item_id is not None:
            query = query.where(Task.ledger_item_id == ledger_item_id)
        latest = db.session.execute(query).first()
        if latest is None or latest.completed_at is None:
            return None
        completed_at: datetime = latest.completed_at
        data = (
            db.session.scalar(
                select(Submission.data).where(Submission.task_id == latest.id).order_by(Submission.id.desc()).limit(1)
            )
            or {}
        )
        if data.get("decision") != "return":
            return None  # accepted since: the redo due is a leftover nobody reads
        return clock.to_local(completed_at).date()

    def get(self, form_key: str, ledger_item_id: int | None = None) -> date | None:
        key = (form_key, ledger_item_id)
        if key not in self._cache:
            self._cache[key] = self._latest_return(form_key, ledger_item_id)
        return self._cache[key]


def _items(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = [data["item"]] if isinstance(data.get("item"), dict) else []
    if isinstance(data.get("ledger"), list):
        items += [i for i in data["ledger"] if isinstance(i, dict)]
    return items


def _item_label(item: dict[str, Any], what: str) -> str:
    # An audit record's key, stored in the source language.
    return f"整改事项#{item.get('seq') or item.get('id')}{what}"


def recompute_data(instance_id: int, run: runtime.Run) -> dict[str, tuple[str | None, str]]:
    """Recompute the working-day deadlines in the process data, in place; label -> (before, after)."""
    changes: dict[str, tuple[str | None, str]] = {}
    returns = _Returns(instance_id)

    def put(label: str, container: dict[str, Any], key: str, new: str) -> None:
        old = container.get(key)
        if runtime.parse_due(old) != runtime.parse_due(new):
            container[key] = new
            changes.setdefault(label, (old, new))

    for data in run.open_data():
        deadlines = data.get("deadlines")
        if isinstance(deadlines, dict) and deadlines.get("review") and deadlines.get("self_check"):
            put(N_("审核自查报告期限"), deadlines, "review", _after(deadlines["self_check"], REVIEW_DAYS))
        for item in _items(data):
            if item.get("due") and item.get("verify_due"):
                put(_item_label(item, N_("核查销号期限")), item, "verify_due", _after(item["due"], VERIFY_DAYS))
        if data.get("self_check_redo_due"):
            returned = returns.get("review_self_check")
            if returned is not None:
                put(
                    N_("自查退回后重新提交期限"),
                    data,
                    "self_check_redo_due",
                    runtime.iso(workdays.add_working_days(returned, REDO_DAYS)),
                )
        current = data.get("item")
        if data.get("item_redo_due") and isinstance(current, dict) and current.get("id"):
            returned = returns.get("verify_item", current["id"])
            if returned is not None:
                put(
                    _item_label(current, N_("退回后整改期限")),
                    data,
                    "item_redo_due",
                    runtime.iso(workdays.add_working_days(returned, REDO_DAYS)),
                )
    return changes


def recompute_instance(instance: ProcessInstance, years: list[int], actor_id: int | None, now: datetime) -> int:
    """Recompute one instance's working-day deadlines and save it if any moved; the number of
    audit events written (one per ready task moved, one for the instance's process data)."""
    run = workflow.load(instance)
    data_changes = recompute_data(instance.id, run)
    timer_changes = run.recompute_timers()
    if not data_changes and not timer_changes:
        return 0
    due_now = {r.spiff_id: r.due_at for r in run.ready_tasks()}
    rows = db.session.scalars(select(Task).where(Task.instance_id == instance.id, Task.status == TaskStatus.READY))
    events = 0
    attached: set[int] = set()
    for row in rows:
        timers = [t for t in timer_changes if t.attached_task_id == row.spiff_task_id]
        attached.update(id(t) for t in timers)
        new_due = due_now.get(row.spiff_task_id, row.due_at)
        if new_due == row.due_at and not timers:
            continue
        # Local times, as the office reads them in the audit trail.
        before = {"due_at": clock.to_local(row.due_at), **{t.name: clock.to_local(t.before) for t in timers}}
        after = {
            "due_at": clock.to_local(new_due),
            **{t.name: clock.to_local(t.after) for t in timers},
            YEARS_KEY: years,
        }
        audit.record(actor_id, "task.due_recompute", "task", row.id, before=before, after=after, unit_id=row.unit_id)
        row.due_at, row.due_changed_at = new_due, now
        events += 1
    others = [t for t in timer_changes if id(t) not in attached]  # e.g. a timer of a step not yet ready
    if data_changes or others:
        data_before: dict[str, Any] = {label: old for label, (old, _) in data_changes.items()}
        data_before |= {t.name: clock.to_local(t.before) for t in others}
        data_after: dict[str, Any] = {label: new for label, (_, new) in data_changes.items()}
        data_after |= {t.name: clock.to_local(t.after) for t in others}
        audit.record(
            actor_id,
            "instance.deadlines_recompute",
            "process_instance",
            instance.id,
            before=data_before,
            after={**data_after, YEARS_KEY: years},
            unit_id=instance.unit_id,
        )
        events += 1
    workflow.save(instance, run, None)  # stores the state; next_timer_at follows the new times
    return events


# ---- letters -------------------------------------------------------------------------------


def _reply_text(day: date) -> str:
    return f"请于{workdays.end_of_working_day(day):%Y年%m月%d日 %H:%M}前办结"


def recompute_letters(old: workdays.Calendar, new: workdays.Calendar, years: list[int], actor_id: int | None) -> int:
    """Open letters' reply deadlines computed as issue date + LETTER_GRACE_DAYS working days under
    the old calendar, computed again under the new one (in the caller's transaction). A letter
    whose deadline a person chose (due_by_hand), or that differs from that computation, keeps it."""
    grace = int(current_app.config.get("LETTER_GRACE_DAYS", 5))
    first = date(min(years), 1, 1)
    issued_before = datetime.combine(date(max(years) + 1, 1, 1), dtime(0), tzinfo=clock.local_tz())
    letters = db.session.scalars(
        select(SupervisionLetter)
        .join(Task, Task.id == SupervisionLetter.task_id)
        .where(
            SupervisionLetter.withdrawn_at.is_(None),
            SupervisionLetter.due_by_hand.is_(False),
            Task.status == TaskStatus.READY,
            SupervisionLetter.new_due >= first,
            SupervisionLetter.issued_at < issued_before,
        )
        .order_by(SupervisionLetter.id)
    )
    changed = 0
    for letter in letters:
        issued = clock.to_local(letter.issued_at).date()
        was = old.add_working_days(issued, grace)
        if letter.new_due != was:
            continue
        now_due = new.add_working_days(issued, grace)
        if now_due == was:
            continue
        letter.body = letter.body.replace(_reply_text(was), _reply_text(now_due))
        letter.new_due = now_due
        audit.record(
            actor_id,
            "letter.due_recompute",
            "supervision_letter",
            letter.id,
            before={"new_due": was},
            after={"new_due": now_due, YEARS_KEY: years},
            unit_id=letter.unit_id,
        )
        changed += 1
    return changed


# ---- what the task page shows ----------------------------------------------------------------


def due_changes(task_id: int) -> list[dict[str, Any]]:
    """A task's deadline changes made by the calendar, oldest first: years, due before/after,
    and the ladder's rungs before/after (name, before, after)."""
    from app.models import AuditEvent

    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == "task",
            AuditEvent.entity_id == str(task_id),
            AuditEvent.action == "task.due_recompute",
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    shown = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        rungs = [
            (name, _time(before.get(name)), _time(after.get(name)))
            for name in after
            if name not in ("due_at", YEARS_KEY)
        ]
        shown.append(
            {
                "at": event.at,
                "years": after.get(YEARS_KEY) or [],
                "due_before": _time(before.get("due_at")),
                "due_after": _time(after.get("due_at")),
                "rungs": rungs,
            }
        )
    return shown


def _time(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return runtime.parse_due(value)
    except ValueError:
        return None
