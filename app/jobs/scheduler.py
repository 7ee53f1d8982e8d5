"""The scheduler process: one APScheduler job that runs the sweep every SCHEDULER_INTERVAL seconds.

It runs only in its own process (`flask scheduler run`); create_app never starts it, so web
workers never sweep. Several scheduler processes may run at once: the sweep itself makes
that safe (see app/services/sweep/timers.py).
"""

import logging
import signal
import threading
import time
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from app.extensions import db
from app.services import calendar
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


def build(
    app: Flask, interval: int | None = None, batch_size: int = 100, stopping: threading.Event | None = None
) -> BlockingScheduler:
    """A blocking scheduler with the sweep job; the first sweep runs at once."""
    interval = interval or app.config["SCHEDULER_INTERVAL"]
    stopping = stopping or threading.Event()
    # One worker thread: sweeps never overlap within a process (max_instances=1 says so too).
    scheduler = BlockingScheduler(executors={"default": ThreadPoolExecutor(1)}, timezone=UTC)
    scheduler.add_job(
        sweep,
        IntervalTrigger(seconds=interval),
        args=(app, batch_size, stopping),
        id=JOB_ID,
        name="sweep due timers",
        next_run_time=datetime.now(UTC),
        # A sweep that overran its interval is followed by one sweep, not a burst of catch-ups;
        # a run later than one interval is dropped, the next one does the same work.
        coalesce=True,
        max_instances=1,
        misfire_grace_time=interval,
    )
    return scheduler


def run(app: Flask, interval: int | None = None, batch_size: int = 100) -> None:
    """Run until SIGTERM or SIGINT; the sweep under way ends after its current batch."""
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
