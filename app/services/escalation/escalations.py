"""The overdue ladder on the service side: record each rung exactly once, then carry it out.

The engine's ladder operations only say "this task reached this level". Here that becomes an
Escalation row, unique per (instance, task, level) in the database, written in the same
transaction as the workflow state. Carrying it out (notifications, the numbered letter, the
public notice) happens right after, in its own transaction, retried with backoff; after
MAX_ATTEMPTS failures the escalation is an incident on the board until retried by hand.

Carrying a rung out first takes the lock that completing a task takes (the instance's row) and
checks, under it, that the step is still open: a rung and a completion racing each other end with
the rung carried out before the completion, or cancelled. It also waits its turn on the ladder
(ladder.decide: one rung at a time, each its interval after the previous one, a public notice
only after the letter's reply deadline).
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import Row, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.dml import ReturningInsert

from app import clock, workdays
from app.errors import NotFound
from app.extensions import db
from app.i18n import N_, _l
from app.models import Campaign, Escalation, EscalationStatus, ProcessInstance, SupervisionLetter, Task
from app.models.escalation import LEVEL_NAMES, PUBLIC_LEVELS
from app.services.escalation import ladder, letters, notices_public
from app.services.messaging import notifications
from app.services.shared import audit, data_versions

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Two rungs of one step are never carried out in the same sweep, even where the ladder's interval is 0.
ONE_RUNG_PER_SWEEP = timedelta(minutes=1)
# Why a rung was cancelled without being carried out (shown on the board and the timeline).
# Stored as these msgids; the pages translate them.
CANCEL_REASONS = {"closed": N_("环节已办结，未再执行"), "withdrawn": N_("前一级督办已撤回，未再执行")}


class InstanceRef(Protocol):
    """What a rung's row needs of its instance: a ProcessInstance, or just its ids."""

    @property
    def id(self) -> int: ...
    @property
    def campaign_id(self) -> int: ...
    @property
    def unit_id(self) -> int: ...


class TaskRef(Protocol):
    """What a rung's row needs of its task: a Task, or just these of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def element_id(self) -> str: ...
    @property
    def ledger_item_id(self) -> int | None: ...
    @property
    def due_at(self) -> datetime | None: ...


def _insert_statement(returning: Sequence[Any]) -> ReturningInsert[Any]:
    """INSERT ... ON CONFLICT DO NOTHING on the escalation key, returning what was inserted."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    return (
        insert(Escalation)
        .on_conflict_do_nothing(
            index_elements=["instance_id", "spiff_task_id", "level"],
            # A literal, not a bound value: the sweep sends this as an executemany.
            index_where=text("status != 'withdrawn'"),
        )
        .returning(*returning)
    )


def values_for(
    instance: InstanceRef,
    payload: dict[str, Any],
    task: TaskRef | None,
    now: datetime,
    actor_id: int | None = None,
    manual: bool = False,
) -> dict[str, Any]:
    """The row of one rung for one task, from the engine's payload and the task's row."""
    due = payload.get("due")
    return dict(
        instance_id=instance.id,
        campaign_id=instance.campaign_id,
        unit_id=instance.unit_id,
        task_id=task.id if task else None,
        spiff_task_id=payload["spiff_task_id"],
        element_id=payload.get("element_id") or (task.element_id if task else ""),
        ledger_item_id=payload.get("ledger_item_id") or (task.ledger_item_id if task else None),
        level=payload["level"],
        due_at=datetime.fromisoformat(due) if due else (task.due_at if task else None),
        fired_at=now,
        manual=manual,
        created_by_id=actor_id,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )


def _audit_values(escalation: Escalation | Row[Any], actor_id: int | None, manual: bool) -> dict[str, Any]:
    """The audit event of a new rung (an Escalation, or a row with its id, level, task and unit)."""
    return audit.values(
        actor_id,
        f"escalation.{escalation.level}",
        "escalation",
        escalation.id,
        after={"task_id": escalation.task_id, "level": escalation.level, "manual": manual},
        unit_id=escalation.unit_id,
    )


def record(
    instance: ProcessInstance,
    payload: dict[str, Any],
    *,
    actor_id: int | None = None,
    manual: bool = False,
    now: datetime | None = None,
    task: Task | None = None,
) -> Escalation | None:
    """Record one rung for one task; None when it was already recorded (exactly once)."""
    now = now or clock.now()
    if task is None:
        task = db.session.scalars(
            select(Task).where(Task.instance_id == instance.id, Task.spiff_task_id == payload["spiff_task_id"])
        ).first()
    row = values_for(instance, payload, task, now, actor_id, manual)
    escalation: Escalation | None = db.session.scalars(_insert_statement([Escalation]).values(row)).first()
    if escalation is None:
        return None
    audit.record_many([_audit_values(escalation, actor_id, manual)])
    return escalation


def record_many(rows: list[dict[str, Any]]) -> int:
    """Record many of the sweep's rungs (each from `values_for`) in one executemany; those
    already there are skipped. Returns how many were new."""
    if not rows:
        return 0
    columns = (Escalation.id, Escalation.level, Escalation.task_id, Escalation.unit_id)
    inserted = db.session.execute(_insert_statement(columns), rows).all()
    audit.record_many([_audit_values(e, None, False) for e in inserted])
    return len(inserted)


def _reminder(escalation: Escalation) -> notifications.Message:
    step = escalation.task.name if escalation.task else escalation.element_id
    due = clock.to_local(escalation.due_at)
    overdue = escalation.due_at and escalation.due_at < clock.now()
    return notifications.Message(
        escalation.unit_id,
        "reminder",
        notifications.compose(
            notifications.REMINDER_OVERDUE if overdue else notifications.REMINDER_DUE_TODAY, step=step
        ),
        notifications.compose(notifications.REMINDER_BODY, due=f"{due:%Y-%m-%d %H:%M}")
        if due
        else notifications.compose(notifications.REMINDER_BODY_NO_DUE),
        link=f"/my/tasks/{escalation.task_id}" if escalation.task_id else None,
        escalation_id=escalation.id,
    )


def carry_out(escalation: Escalation, actor_id: int | None = None, new_due: datetime | None = None) -> None:
    """Do what the rung means; adds to the session (the caller commits). new_due: a letter's own deadline.

    The caller has made sure, under the instance's lock, that the step is still open (gate())."""
    carry_out_many([escalation], actor_id, new_due)


def carry_out_many(batch: Sequence[Escalation], actor_id: int | None = None, new_due: datetime | None = None) -> None:
    """Do what each rung means, for many at once; adds to the session (the caller commits).

    A statement or two per kind of work, whatever the number of rungs: the notices, the letters,
    all their notifications, the rungs' status. The letters' numbers are taken last but one (just
    before the letters and notifications are written), so other issuers wait on the counter only
    for those few statements and the commit. The caller has made sure, under the instances'
    locks, that every step is still open (gate())."""
    if not batch:
        return
    messages = [_reminder(e) for e in batch if e.level == "reminder"]
    for notice in notices_public.publish_many([e for e in batch if e.level == "notice"], actor_id):
        messages.append(
            notifications.Message(
                notice.unit_id,
                "notice",
                notifications.compose(notifications.NOTICED),
                notice.summary,
                link="/public/notices",
                escalation_id=notice.escalation_id,
            )
        )
    done_at = clock.now()
    for escalation in batch:
        escalation.status, escalation.done_at, escalation.next_attempt_at = "done", done_at, None
    db.session.flush()  # before the letter counter's lock is taken
    for letter in letters.issue_many([e for e in batch if e.level == "letter"], actor_id, new_due):
        messages.append(
            notifications.Message(
                letter.unit_id,
                "letter",
                notifications.compose(notifications.LETTER_RECEIVED, doc=letter.doc_number),
                letter.subject,
                link=f"/letters/{letter.letter_id}",
                escalation_id=letter.escalation_id,
            )
        )
    notifications.notify_many(messages)


def lock_instances(ids: Iterable[int], *, wait: bool) -> set[int]:
    """Take the row lock that completing a task takes (tasks.complete), on these instances.

    Held to the end of the caller's transaction, it orders a rung and a completion of the same
    instance: whichever comes second sees what the first committed. The sweep does not wait
    (`wait=False`: an instance being completed right now is left for the next round); a person's
    action does. SQLite has no row locks: a person's action takes the database's write lock with
    a no-op write (reads after it are fresh, and a completion waits for its commit); the sweep's
    transaction holds that lock from its start (BEGIN IMMEDIATE)."""
    ordered = sorted(set(ids))
    if not ordered:
        return set()
    if db.engine.dialect.name != "postgresql":
        if wait:
            db.session.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id.in_(ordered))
                .values(id=ProcessInstance.id)
                .execution_options(synchronize_session=False)
            )
        return set(ordered)
    query = (
        select(ProcessInstance.id)
        .where(ProcessInstance.id.in_(ordered))
        .order_by(ProcessInstance.id)
        .with_for_update(skip_locked=not wait)
    )
    return set(db.session.scalars(query))


def cancel_for_closed_tasks(tasks: Sequence[Task], actor_id: int | None = None) -> int:
    """Cancel the rungs still waiting on tasks (rows) that have just been completed or cancelled.

    Called in the transaction that closes them, so the board and the timeline never show a rung
    waiting on a closed step (the sweep would cancel it anyway). The instances are locked first
    (a no-op where the caller holds the lock already), in the order every other writer of rungs
    takes: instance, then escalation."""
    ids = [t.id for t in tasks]
    if not ids:
        return 0
    lock_instances([t.instance_id for t in tasks], wait=True)
    reason = CANCEL_REASONS["closed"]
    rows = db.session.execute(
        update(Escalation)
        .where(Escalation.task_id.in_(ids), Escalation.status.in_(("pending", "incident")))
        .values(status="cancelled", next_attempt_at=None, closed_reason=reason)
        .returning(Escalation.id, Escalation.unit_id)
        .execution_options(synchronize_session=False, **data_versions.touching(t.campaign_id for t in tasks))
    ).all()
    audit.record_many(
        [
            audit.values(
                actor_id,
                "escalation.cancel",
                "escalation",
                row.id,
                before={"status": "pending"},
                after={"status": "cancelled", "reason": reason},
                unit_id=row.unit_id,
            )
            for row in rows
        ]
    )
    return len(rows)


Step = tuple[int, str]  # (instance id, Spiff task id): one step of one instance


def _step(escalation: Escalation) -> Step:
    return escalation.instance_id, escalation.spiff_task_id


def gate(batch: list[Escalation], now: datetime, fired: set[Step] | None = None) -> dict[int, ladder.Decision]:
    """Decide, for escalations whose instances the caller has locked, which are carried out now.

    Read after the lock: whether each step is still open (a closed step's rungs are cancelled,
    never carried out), the step's other rungs and an earlier letter's reply deadline (the
    catch-up rule, ladder.decide). `fired`: steps that had a rung carried out in this sweep;
    they get no second one. A rung recorded by hand (a supervisor's letter) is not timed."""
    if not batch:
        return {}
    instance_ids = {e.instance_id for e in batch}
    spiff_ids = {e.spiff_task_id for e in batch}
    keys = {_step(e) for e in batch}
    open_steps: set[Step] = set()
    restarted: dict[Step, datetime] = {}
    for instance_id, spiff_id, status, changed in db.session.execute(
        select(Task.instance_id, Task.spiff_task_id, Task.status, Task.due_changed_at).where(
            Task.instance_id.in_(instance_ids), Task.spiff_task_id.in_(spiff_ids)
        )
    ):
        if (instance_id, spiff_id) in keys and status == "ready":
            open_steps.add((instance_id, spiff_id))
            if changed is not None:
                restarted[(instance_id, spiff_id)] = changed
    timed = [e for e in batch if not e.manual and ladder.rank(e.level) > 0]
    rungs: dict[Step, dict[str, ladder.Rung]] = {}
    replies: dict[Step, datetime] = {}
    ladders: dict[int, ladder.Ladder] = {}
    if timed:
        for row in db.session.execute(
            select(
                Escalation.id,
                Escalation.instance_id,
                Escalation.spiff_task_id,
                Escalation.level,
                Escalation.status,
                Escalation.done_at,
                Escalation.next_attempt_at,
            ).where(Escalation.instance_id.in_(instance_ids), Escalation.spiff_task_id.in_(spiff_ids))
        ):
            if (row.instance_id, row.spiff_task_id) in keys:
                rungs.setdefault((row.instance_id, row.spiff_task_id), {})[row.level] = ladder.Rung(
                    row.level, row.status, row.done_at, row.next_attempt_at
                )
        if any(e.level in PUBLIC_LEVELS for e in timed):
            for instance_id, spiff_id, new_due in db.session.execute(
                select(Escalation.instance_id, Escalation.spiff_task_id, SupervisionLetter.new_due)
                .join(SupervisionLetter, SupervisionLetter.escalation_id == Escalation.id)
                .where(
                    Escalation.instance_id.in_(instance_ids),
                    Escalation.spiff_task_id.in_(spiff_ids),
                    SupervisionLetter.withdrawn_at.is_(None),
                )
            ):
                due = workdays.end_of_working_day(new_due)
                replies[(instance_id, spiff_id)] = max(due, replies.get((instance_id, spiff_id), due))
        ladders = {
            cid: ladder.merged(value)
            for cid, value in db.session.execute(
                select(Campaign.id, Campaign.ladder).where(Campaign.id.in_({e.campaign_id for e in timed}))
            )
        }
    decisions: dict[int, ladder.Decision] = {}
    fired = fired if fired is not None else set()
    # Lower rungs first: a letter deferred here defers the notice after it in the same batch.
    for escalation in sorted(batch, key=lambda e: ladder.rank(e.level)):
        key = _step(escalation)
        if key not in open_steps:
            decision = ladder.Decision(False, cancel="closed")
        elif escalation.manual or ladder.rank(escalation.level) == 0:
            decision = ladder.FIRE
        else:
            decision = ladder.decide(
                escalation.level,
                list(rungs.get(key, {}).values()),
                ladders[escalation.campaign_id],
                now,
                restarted_at=restarted.get(key),
                reply_due=replies.get(key),
            )
        if decision.fire and key in fired:
            decision = ladder.Decision(False, wait_until=now + ONE_RUNG_PER_SWEEP)
        decisions[escalation.id] = decision
        if decision.fire:
            fired.add(key)
        status = "done" if decision.fire else ("cancelled" if decision.cancel else "pending")
        # What later rungs of the same step see: this one as just decided.
        rungs.setdefault(key, {})[escalation.level] = ladder.Rung(
            escalation.level, status, now if decision.fire else None, decision.wait_until
        )
    return decisions


def _hold(escalation: Escalation, decision: ladder.Decision, audits: list[dict[str, Any]]) -> None:
    """A rung that is not carried out now: cancelled for good, or pending until a later time."""
    if decision.cancel:
        escalation.status, escalation.next_attempt_at = "cancelled", None
        escalation.closed_reason = CANCEL_REASONS[decision.cancel]
        audits.append(
            audit.values(
                None,
                "escalation.cancel",
                "escalation",
                escalation.id,
                before={"status": "pending"},
                after={"status": "cancelled", "reason": escalation.closed_reason},
                unit_id=escalation.unit_id,
            )
        )
    else:
        escalation.next_attempt_at = decision.wait_until


def _claim_due(now: datetime, limit: int) -> list[int]:
    """Lock up to `limit` instances that have rungs due, lowest id first.

    PostgreSQL skips instances another sweep or a person's action holds (SKIP LOCKED): they are
    that one's to finish, or the next round's. SQLite has one writer at a time: the sweep's
    transaction holds the database's write lock from its start (BEGIN IMMEDIATE)."""
    due = select(Escalation.instance_id).where(
        Escalation.status == EscalationStatus.PENDING, Escalation.next_attempt_at <= now
    )
    query = select(ProcessInstance.id).where(ProcessInstance.id.in_(due)).order_by(ProcessInstance.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def deliver_pending(
    now: datetime | None = None, limit: int = 100, fired: set[Step] | None = None
) -> tuple[int, int, int]:
    """Carry out the due pending escalations of up to `limit` instances, in one transaction.

    The instances are claimed and locked first (_claim_due), in the order every writer of rungs
    takes (instance, then escalation), so two sweeps share the work out by instance and never
    hold half of one instance's rungs each. Each rung passes gate(): a closed step's rungs are
    cancelled, a rung the catch-up rule holds back waits. The rest are carried out together
    (carry_out_many: a few statements for the whole batch, letters numbered in one block); if
    that fails, one by one, each under a savepoint, so one failure is recorded and retried later
    without undoing the others.
    Returns (done, failed, taken): taken counts the instances claimed."""
    now = now or clock.now()
    instance_ids = _claim_due(now, limit)
    taken = len(instance_ids)
    # The task comes along (every rung names it). The instance lock already keeps other writers
    # out; FOR UPDATE on the rungs themselves costs nothing more and states it.
    query = (
        select(Escalation)
        .options(selectinload(Escalation.task))
        .where(
            Escalation.instance_id.in_(instance_ids),
            Escalation.status == EscalationStatus.PENDING,
            Escalation.next_attempt_at <= now,
        )
        .order_by(Escalation.next_attempt_at, Escalation.id)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(of=Escalation)
    batch = list(db.session.scalars(query)) if instance_ids else []
    decisions = gate(batch, now, fired)
    audits: list[dict[str, Any]] = []
    for escalation in batch:
        if not decisions[escalation.id].fire:
            _hold(escalation, decisions[escalation.id], audits)
    audit.record_many(audits)
    batch = [e for e in batch if decisions[e.id].fire]
    done = failed = 0
    one_by_one: list[Escalation] = []
    if batch:
        try:
            with db.session.begin_nested():
                carry_out_many(batch)
            done = len(batch)
        except Exception:  # find the one that fails; the others still go out
            log.warning("escalations: the batch failed, carrying them out one by one", exc_info=True)
            # In the letter counters' order, as the batch takes them: each released savepoint keeps
            # its counter locked to the commit, and two sweeps taking two counters in opposite
            # orders would deadlock (one of them counting a failure on a rung that was fine).
            issuers = dict(
                db.session.execute(
                    select(Campaign.id, Campaign.issuer).where(Campaign.id.in_({e.campaign_id for e in batch}))
                )
                .tuples()
                .all()
            )
            one_by_one = sorted(batch, key=lambda e: (issuers.get(e.campaign_id, ""), e.id))
    for escalation in one_by_one:
        try:
            with db.session.begin_nested():
                carry_out(escalation)
            done += 1
        except Exception as exc:  # an operation that fails is retried, then shown as an incident
            _record_failure(escalation, exc, now)
            failed += 1
    db.session.commit()
    return done, failed, taken


def deliver_one(escalation_id: int, now: datetime | None = None, actor_id: int | None = None) -> str:
    """Carry out one escalation now (a person's retry): "done", "failed", "waiting" (the catch-up
    rule holds it back, or a sweep is carrying it out: it goes out by itself) or "cancelled" (its
    step is closed, or an earlier rung withdrawn).

    The instance is locked before the escalation, in the order completion and withdrawal take
    them, so none of them can wait on another in a circle."""
    now = now or clock.now()
    instance_id = db.session.scalar(select(Escalation.instance_id).where(Escalation.id == escalation_id))
    if instance_id is None:
        db.session.rollback()
        return "failed"
    lock_instances([instance_id], wait=True)
    query = select(Escalation).where(Escalation.id == escalation_id).execution_options(populate_existing=True)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    escalation = db.session.scalars(query).first()
    if escalation is None or escalation.status != "pending":
        status = escalation.status if escalation is not None else "pending"  # None: a sweep holds it
        db.session.rollback()
        return {"done": "done", "pending": "waiting", "incident": "failed"}.get(status, "cancelled")
    decision = gate([escalation], now)[escalation.id]
    if not decision.fire:
        audits: list[dict[str, Any]] = []
        _hold(escalation, decision, audits)
        audit.record_many(audits)
        db.session.commit()
        return "cancelled" if decision.cancel else "waiting"
    try:
        with db.session.begin_nested():
            carry_out(escalation, actor_id)
        outcome = "done"
    except Exception as exc:
        _record_failure(escalation, exc, now)
        outcome = "failed"
    db.session.commit()
    return outcome


def _record_failure(escalation: Escalation, exc: Exception, now: datetime) -> None:
    """Count a failed attempt (the savepoint already undid its work); back off, or raise an incident."""
    escalation.attempts += 1
    escalation.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if escalation.attempts >= current_app.config.get("ESCALATION_MAX_ATTEMPTS", MAX_ATTEMPTS):
        escalation.status = "incident"
        escalation.next_attempt_at = None
        audit.record(
            None,
            "escalation.incident",
            "escalation",
            escalation.id,
            after={"error": escalation.last_error, "attempts": escalation.attempts},
            unit_id=escalation.unit_id,
        )
    else:
        escalation.next_attempt_at = now + timedelta(minutes=2**escalation.attempts)


def retry(escalation_id: int, actor_id: int) -> str:
    """A person retries an incident now; the outcome as deliver_one gives it."""
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound(_l("督办事项不存在"))
    if escalation.status != "incident":
        db.session.rollback()
        return {"done": "done", "pending": "waiting"}.get(escalation.status, "cancelled")
    escalation.status, escalation.next_attempt_at = "pending", clock.now()
    audit.record(
        actor_id,
        "escalation.retry",
        "escalation",
        escalation_id,
        before={"status": "incident"},
        after={"status": "pending"},
        unit_id=escalation.unit_id,
    )
    db.session.commit()
    return deliver_one(escalation_id, actor_id=actor_id)


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, level)
