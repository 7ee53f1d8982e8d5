"""The scheduler process: APScheduler runs the sweep, and each sweep plans the next one
SCHEDULER_INTERVAL seconds after it ends.

It runs only in its own process (`flask scheduler run`); create_app never starts it, so web
workers never sweep. Several scheduler processes may run at once: the sweep itself makes
that safe (see app/services/sweep/timers.py).
"""

import itertools
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from flask import Flask
from sqlalchemy import event

from app.extensions import db
from app.services import calendar
from app.services.shared import audit_chain
from app.services.sweep import timers

log = logging.getLogger(__name__)

JOB_ID = "sweep"


def sweep(app: Flask, batch_size: int, stopping: threading.Event) -> timers.TickResult:
    """One sweep in its own app context (and so its own session); logs what it did."""
    started = time.perf_counter()
    with app.app_context():
        try:
            # The calendar as the office last stored it, and deadlines still to recompute after a
            # change, before any timer fires on a stale deadline.
            calendar.refresh()
            try:
                calendar.resume(budget=app.config["CALENDAR_RECOMPUTE_SECONDS"])
            except Exception:  # the job keeps its place; the timers must not wait for it
                log.exception("sweep: recomputing deadlines after a calendar change failed")
                db.session.rollback()
            result = timers.tick(batch_size=batch_size, stop=stopping.is_set)
            anchor_audit_chain(app)
        finally:
            db.session.remove()
    elapsed = (time.perf_counter() - started) * 1000
    busy = result.advanced or result.escalations_done
    # An idle sweep every 30 s says nothing unless asked (DEBUG).
    level = logging.WARNING if result.failed or result.escalations_failed else (logging.INFO if busy else logging.DEBUG)
    log.log(
        level,
        "sweep: %d advanced, %d failed, %d escalations carried out, %d failed (%.0f ms)",
        result.advanced,
        len(result.failed),
        result.escalations_done,
        result.escalations_failed,
        elapsed,
    )
    for instance_id, error in result.failed:
        log.warning("sweep: instance %s: %s", instance_id, error)
    return result


def anchor_audit_chain(app: Flask) -> None:
    """Once a day (the first sweep of the day), verify the audit chain and write its anchor."""
    directory = app.config.get("AUDIT_ANCHOR_DIR")
    if not directory:
        return
    try:
        written = audit_chain.write_daily_anchor(Path(directory))
    except audit_chain.AuditChainBroken as exc:
        log.error("audit: the chain does not verify, no anchor written today: %s", exc)
    except Exception:  # the sweep goes on; tomorrow's first sweep tries again
        log.exception("audit: writing today's anchor failed")
        db.session.rollback()
    else:
        if written is not None:
            log.info("audit: chain verified, anchor written to %s", written)


def build(
    app: Flask, interval: int | None = None, batch_size: int = 100, stopping: threading.Event | None = None
) -> BlockingScheduler:
    """A blocking scheduler whose first sweep runs at once; each sweep then plans the next one
    `interval` seconds after it ends. So sweeps never overlap, and a sweep longer than the interval
    is simply followed by the next one (an interval trigger would log "maximum number of running
    instances reached" for every interval a long sweep overran, and the log would fill with them)."""
    every = timedelta(seconds=interval or app.config["SCHEDULER_INTERVAL"])
    stopping = stopping or threading.Event()
    # One worker thread: one sweep at a time within a process.
    scheduler = BlockingScheduler(executors={"default": ThreadPoolExecutor(1)}, timezone=UTC)
    runs = itertools.count()

    def sweep_then_plan_next() -> None:
        try:
            sweep(app, batch_size, stopping)
        finally:  # a sweep that failed is followed by the next one all the same
            if not stopping.is_set():
                _plan(scheduler, sweep_then_plan_next, datetime.now(UTC) + every, next(runs))

    _plan(scheduler, sweep_then_plan_next, datetime.now(UTC), next(runs))
    return scheduler


def _plan(scheduler: BlockingScheduler, job: Callable[[], None], when: datetime, run: int) -> None:
    # Each run its own id: the scheduler drops a finished one-off job by id, never the next run's.
    scheduler.add_job(
        job, DateTrigger(run_date=when), id=f"{JOB_ID}-{run}", name="sweep due timers", misfire_grace_time=None
    )


APPLICATION_NAME = "rectify-scheduler"


def name_connections(app: Flask, name: str = APPLICATION_NAME) -> None:
    """Name this process's PostgreSQL sessions (pg_stat_activity.application_name), so an
    administrator, or a test, can tell the scheduler's transactions from the web's."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _name(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT set_config('application_name', %s, false)", (name,))
        cursor.close()
        dbapi_connection.commit()  # a setting made in a transaction rolled back would be undone

    engine.dispose()  # connections opened before are named too, when opened again


def run(app: Flask, interval: int | None = None, batch_size: int = 100) -> None:
    """Run until SIGTERM or SIGINT; the sweep under way ends after its current batch."""
    name_connections(app)
    stopping = threading.Event()
    scheduler = build(app, interval, batch_size, stopping)

    def _stop(signum, frame):
        if stopping.is_set():
            return
        log.info("scheduler: %s received, stopping after the current batch", signal.Signals(signum).name)
        stopping.set()
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("scheduler: sweeping every %ss (batch %d)", interval or app.config["SCHEDULER_INTERVAL"], batch_size)
    scheduler.start()
    log.info("scheduler: stopped")
