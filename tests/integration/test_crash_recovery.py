"""A scheduler killed mid-sweep (SIGKILL) loses nothing: restarted, it finishes the work, and
nothing is done twice: one escalation per step and level, letter numbers without a gap (the
letters and notices come in the later sweeps the catch-up rule leaves them to)."""

import signal
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import Escalation, ProcessInstance, Task
from app.services.sweep import timers
from tests.integration.sweep_support import (
    ROOT,
    assert_exactly_once,
    counts,
    flask_command,
    overdue_campaign,
    subprocess_env,
    wait_for,
)

UNITS = 40


def start_scheduler(app) -> subprocess.Popen:
    return subprocess.Popen(
        flask_command("scheduler", "run", "--interval", "1", "--batch-size", "3"),
        cwd=ROOT,
        env=subprocess_env(app),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill_9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert_nothing_locked()


def assert_nothing_locked() -> None:
    """The killed process's transaction died with it: every row (PostgreSQL) or the database's
    write lock (SQLite) can be taken at once, without waiting."""
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        for model in (ProcessInstance, Escalation, Task):
            db.session.execute(select(model.id).with_for_update(nowait=True)).all()
        db.session.rollback()
        return
    with sqlite3.connect(db.engine.url.database, timeout=0) as conn:
        conn.execute("BEGIN IMMEDIATE")  # raises "database is locked" if a writer were still holding it
        conn.rollback()


def test_scheduler_killed_mid_sweep_finishes_after_restart_without_duplicates(app, ctx):
    world = overdue_campaign(UNITS)
    procs = []
    try:
        # Killed while advancing: some batches committed, instances still due.
        procs.append(start_scheduler(app))
        at_kill = wait_for(
            lambda: (c := counts())["escalations"] and c, 120, "the first committed batch", proc=procs[-1]
        )
        kill_9(procs[-1])
        after = counts()
        assert 0 < after["due"] < UNITS and after["escalations"] < 3 * UNITS, (at_kill, after)

        # Killed while carrying out escalations: some done, some still pending.
        procs.append(start_scheduler(app))
        wait_for(lambda: (c := counts())["done"] > 3 and c, 120, "escalations carried out", proc=procs[-1])
        kill_9(procs[-1])
        after = counts()
        assert after["done"] < 3 * UNITS and after["incident"] == 0, after

        # The third run finishes the sweep's work, then stops cleanly on SIGTERM. (30 days overdue,
        # every rung was recorded at once; a sweep carries out one a step: the reminders.)
        procs.append(start_scheduler(app))
        wait_for(
            lambda: (c := counts())["due"] == 0 and c["done"] == UNITS and c["pending"] == 2 * UNITS,
            180,
            "all work done",
            poll=0.1,
            proc=procs[-1],
        )
        procs[-1].send_signal(signal.SIGTERM)
        out, _ = procs[-1].communicate(timeout=60)
        assert procs[-1].returncode == 0, out
        assert "sweep:" in out and "scheduler: stopped" in out, out
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    # Later sweeps climb the rest of the ladder, still once a step and level.
    start = datetime.now(UTC)
    for days in (8, 25):
        with time_machine.travel(start + timedelta(days=days), tick=False):
            timers.tick()
    assert_exactly_once(world["unit_ids"])
