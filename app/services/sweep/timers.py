"""The sweep: advancing instances whose timers are due, then carrying out their escalations.

Any number of sweeps may run at once (several scheduler processes, a hand-run `flask scheduler
tick`). Each claims a small batch of due instances inside the transaction that advances them:
on PostgreSQL with FOR UPDATE SKIP LOCKED, so two sweeps never take the same row; on SQLite by
taking the write lock up front (BEGIN IMMEDIATE), so sweeps and their reads are serialised and
nothing read is stale when it is written. Only due rows are ever loaded. A sweep killed half-way
loses nothing: an uncommitted batch is simply due again, and the escalation key (instance,
task, level) is unique in the database, so nothing is recorded twice.
"""

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app import clock
from app.engine import runtime
from app.extensions import db
from app.models import InstanceStatus, ProcessInstance
from app.services.escalation import escalations
from app.services.messaging import mailer
from app.services.shared import audit
from app.services.tasks import workflow

log = logging.getLogger(__name__)

# Bounds one sweep; what is left is due again at the next one.
MAX_BATCHES = 1000
MAX_DELIVERY_ROUNDS = 100
# On SQLite a waiting writer polls the lock every 100 ms at most (its busy handler), so a sweep
# that commits and at once takes the lock again would shut out web requests and other sweeps
# for as long as it has work. Between full batches it stands aside for that long.
SQLITE_YIELD_SECONDS = 0.1


@dataclass
class TickResult:
    advanced: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    escalations_done: int = 0
    escalations_failed: int = 0
    batches: int = 0
    emails_sent: int = 0
    emails_failed: int = 0


def tick(now: datetime | None = None, batch_size: int = 100, stop: Callable[[], bool] | None = None) -> TickResult:
    """Advance every due instance in batches (one transaction each), then deliver escalations.

    `stop()` is asked between batches: a scheduler shutting down ends after the current one.
    """
    stop = stop or (lambda: False)
    result = TickResult()
    db.session.rollback()  # the caller's snapshot must not outlive the sweep's writes
    with sweep_session():
        finished = _advance(now or clock.now(), batch_size, stop, result) and _deliver(batch_size, stop, result)
    if not finished:
        return result
    # Outside the sweep's session: a slow mail server must not hold SQLite's write lock.
    result.emails_sent, result.emails_failed = mailer.deliver_emails(clock.now())
    return result


def advance(now: datetime | None = None, batch_size: int = 100) -> TickResult:
    """Only the first half of a sweep: advance due instances, recording their rungs as pending."""
    result = TickResult()
    db.session.rollback()
    with sweep_session():
        _advance(now or clock.now(), batch_size, lambda: False, result)
    return result


def _advance(now: datetime, batch_size: int, stop: Callable[[], bool], result: TickResult) -> bool:
    """Advance due instances batch by batch; False if stopped half-way."""
    # Instances that failed, or are somehow still due after advancing, are not retried in this sweep.
    skip: set[int] = set()
    for _ in range(MAX_BATCHES):
        if stop():
            return False
        claimed = _advance_batch(now, batch_size, skip, result)
        if claimed < batch_size:
            break
        _stand_aside()
    return True


def _deliver(batch_size: int, stop: Callable[[], bool], result: TickResult) -> bool:
    """Carry out the pending rungs that are due, round by round; False if stopped half-way."""
    fired: set[escalations.Step] = set()  # steps that had a rung carried out in this sweep: none gets a second
    for _ in range(MAX_DELIVERY_ROUNDS):
        if stop():
            return False
        # Escalations recorded just now are due from the moment they were recorded.
        done, failed, taken = escalations.deliver_pending(clock.now(), limit=batch_size, fired=fired)
        result.escalations_done += done
        result.escalations_failed += failed
        if taken < batch_size:
            break
        _stand_aside()
    return True


def _stand_aside() -> None:
    if db.engine.dialect.name == "sqlite":
        time.sleep(SQLITE_YIELD_SECONDS)


def _claim(now: datetime, limit: int, skip: set[int]) -> list[ProcessInstance]:
    """Lock and load up to `limit` due instances, oldest timer first."""
    query = (
        select(ProcessInstance)
        .where(ProcessInstance.next_timer_at <= now, ProcessInstance.status == InstanceStatus.RUNNING)
        .order_by(ProcessInstance.next_timer_at)
        .limit(limit)
    )
    if skip:
        query = query.where(ProcessInstance.id.not_in(skip))
    if db.engine.dialect.name == "postgresql":
        # Rows another sweep holds are passed over; it advances them.
        query = query.with_for_update(skip_locked=True, of=ProcessInstance)
    return list(db.session.scalars(query))


def _advance_batch(now: datetime, limit: int, skip: set[int], result: TickResult) -> int:
    """Claim a batch, advance each instance, save them together; one commit. Rows claimed.

    The engine runs instance by instance; the saving goes out for the whole batch at once
    (workflow.save_many). If that fails, the instances are saved one by one under a savepoint
    each, as a failure then stays with the instance that caused it.
    """
    instances = _claim(now, limit, skip)
    advanced: list[tuple[ProcessInstance, runtime.Run]] = []
    for instance in instances:
        try:
            run = workflow.load(instance)
            run.advance()  # refreshes the timers, fires those due, runs the engine
        except Exception as exc:
            _failed(instance, exc, skip, result)
        else:
            advanced.append((instance, run))
    saved: list[ProcessInstance] = []
    retry: list[ProcessInstance] = []
    try:
        with db.session.begin_nested():
            workflow.save_many(advanced, now)
        saved = [instance for instance, _ in advanced]
    except Exception:
        log.warning("sweep: saving the batch together failed; saving one by one", exc_info=True)
        retry = [instance for instance, _ in advanced]
    for instance in retry:
        db.session.expire(instance)  # whatever the failed batch left in memory, read it afresh
        try:
            with db.session.begin_nested():
                run = workflow.load(instance)  # its in-memory run went with the failed batch
                run.advance()
                workflow.save(instance, run, None)
        except Exception as exc:
            _failed(instance, exc, skip, result)
        else:
            saved.append(instance)
    for instance in saved:
        result.advanced += 1
        if instance.next_timer_at is not None and instance.next_timer_at <= now:
            skip.add(instance.id)
    db.session.commit()
    result.batches += 1
    return len(instances)


def _failed(instance: ProcessInstance, exc: Exception, skip: set[int], result: TickResult) -> None:
    """An instance that cannot advance is left out of this sweep; an engine error is recorded on it."""
    instance_id = instance.id
    skip.add(instance_id)
    if isinstance(exc, workflow.EngineError):
        instance.error = str(exc)
        audit.record(
            None, "instance.error", "process_instance", instance_id, after={"error": str(exc)}, unit_id=instance.unit_id
        )
        result.failed.append((instance_id, str(exc)))
    else:  # a bug in one instance must not hold up the others; it stays due
        log.error("sweep: instance %s failed", instance_id, exc_info=exc)
        result.failed.append((instance_id, f"{type(exc).__name__}: {exc}"))


# -- SQLite: the sweep's own session, whose transactions begin with BEGIN IMMEDIATE


@contextmanager
def sweep_session() -> Iterator[None]:
    """Within this block `db.session` is the sweep's session (on SQLite; a no-op elsewhere).

    pysqlite begins transactions lazily, at the first write, so two sweeps could both read a
    row as pending and both act on it. The sweep's engine turns the driver's own transaction
    handling off and begins every transaction with BEGIN IMMEDIATE, which takes the write
    lock before the first read. Only the sweep uses it; web requests keep the app's engine.
    """
    if db.engine.dialect.name != "sqlite":
        yield
        return
    registry = db.session.registry
    previous = registry() if registry.has() else None
    session = Session(bind=_immediate_engine())
    # A plain Session stands in for Flask-SQLAlchemy's subclass (which only adds choosing an engine by bind key).
    registry.set(session)  # type: ignore[arg-type]
    try:
        yield
    finally:
        session.close()
        if previous is not None:
            registry.set(previous)
        else:
            registry.clear()


def _immediate_engine() -> Engine:
    engine = current_app.extensions.get("rectify.sweep_engine")
    if engine is None:
        # NullPool: nothing stays open between sweeps (tests and short-lived `flask scheduler tick`).
        engine = create_engine(db.engine.url, poolclass=NullPool)

        @event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection: sqlite3.Connection, connection_record: object) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        current_app.extensions["rectify.sweep_engine"] = engine
    return engine
