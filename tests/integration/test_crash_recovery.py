"""A scheduler killed mid-sweep (SIGKILL) loses nothing: restarted, it finishes the work, and
nothing is done twice: one escalation per step and level, letter numbers without a gap (the
letters and notices come in the later sweeps the catch-up rule leaves them to).

The sweep covers thousands of due steps, and each kill lands while the scheduler is inside a
transaction that has written (PostgreSQL: its session, named rectify-scheduler, holds a
transaction id; SQLite: it holds the database's write lock), after some batches committed and
before the rest."""

import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select, text

from app.extensions import db
from app.jobs import scheduler
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

UNITS = 2000
BATCH = 50


def start_scheduler(app, log: Path) -> subprocess.Popen:
    # Its output goes to a file: a pipe nobody reads until the end would fill and stop it.
    with log.open("w") as out:
        proc = subprocess.Popen(
            flask_command("scheduler", "run", "--interval", "1", "--batch-size", str(BATCH)),
            cwd=ROOT,
            env=subprocess_env(app),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    proc.log = log  # type: ignore[attr-defined]
    return proc


def output(proc: subprocess.Popen) -> str:
    return proc.log.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def _postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def scheduler_sessions(writing: bool = False) -> int:
    """The scheduler's sessions on this database (PostgreSQL); with `writing`, only those inside
    a transaction that has written (it holds a transaction id)."""
    db.session.rollback()
    n = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = :name" + (" AND backend_xid IS NOT NULL" if writing else "")
        ),
        {"name": scheduler.APPLICATION_NAME},
    )
    db.session.rollback()
    return int(n or 0)


def scheduler_mid_transaction() -> bool:
    """Whether the scheduler is inside a transaction that has written, right now."""
    if _postgresql():
        return scheduler_sessions(writing=True) > 0
    db.session.rollback()
    try:
        with sqlite3.connect(db.engine.url.database, timeout=0) as conn:
            conn.execute("BEGIN IMMEDIATE")  # only the scheduler writes: if it is locked, it holds it
            conn.rollback()
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return True
    return False


def kill_9_mid_transaction(proc: subprocess.Popen, progress, what: str) -> dict:
    """Wait until `progress()` says some work is committed and the scheduler is inside a writing
    transaction, then SIGKILL it there; returns the progress seen just before."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        seen = progress()
        if seen and scheduler_mid_transaction():
            proc.send_signal(signal.SIGKILL)
            break
        if proc.poll() is not None:
            raise AssertionError(f"scheduler exited ({proc.returncode}) before {what}: {output(proc)}")
        time.sleep(0.005)
    else:
        proc.kill()
        proc.wait(timeout=30)
        raise AssertionError(f"timed out waiting for {what}: {output(proc)[-5000:]}")
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if _postgresql():
        # The server ends a dead client's session (rolling its transaction back) when it next
        # reads from the socket: wait for that, then nothing may be locked.
        wait_for(lambda: scheduler_sessions() == 0, 30, "the killed scheduler's session to end", poll=0.05)
    assert_nothing_locked()
    return seen


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


def test_scheduler_killed_mid_sweep_finishes_after_restart_without_duplicates(app, ctx, tmp_path):
    world = overdue_campaign(UNITS)
    procs = []
    try:
        # Killed inside a batch while advancing: some batches committed, the one under way lost,
        # instances still due.
        procs.append(start_scheduler(app, tmp_path / "scheduler-1.log"))
        at_kill = kill_9_mid_transaction(
            procs[-1], lambda: (c := counts())["escalations"] and c, "a batch advancing after the first committed"
        )
        after = counts()
        assert 0 < after["due"] < UNITS and after["escalations"] < 3 * UNITS, (at_kill, after)

        # Killed inside a batch while carrying out escalations: some done, some still pending.
        procs.append(start_scheduler(app, tmp_path / "scheduler-2.log"))
        at_kill = kill_9_mid_transaction(
            procs[-1], lambda: (c := counts())["done"] > BATCH and c, "a batch of escalations after the first"
        )
        after = counts()
        assert BATCH < after["done"] < UNITS and after["incident"] == 0, (at_kill, after)

        # The third run finishes the sweep's work, then stops cleanly on SIGTERM. (30 days overdue,
        # every rung was recorded at once; a sweep carries out one a step: the reminders.)
        procs.append(start_scheduler(app, tmp_path / "scheduler-3.log"))
        wait_for(
            lambda: (c := counts())["due"] == 0 and c["done"] == UNITS and c["pending"] == 2 * UNITS,
            600,
            "all work done",
            poll=0.2,
            proc=procs[-1],
        )
        procs[-1].send_signal(signal.SIGTERM)
        procs[-1].wait(timeout=60)
        out = output(procs[-1])
        assert procs[-1].returncode == 0, out
        assert "sweep:" in out and "scheduler: stopped" in out, out
        # A sweep longer than the interval is followed by the next, not by a warning a second.
        assert "maximum number of running instances" not in out, out
        assert "spiff.task" not in out  # nor by a line for every task of every instance
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # Later sweeps climb the rest of the ladder, still once a step and level.
    start = datetime.now(UTC)
    for days in (8, 25):
        with time_machine.travel(start + timedelta(days=days), tick=False):
            timers.tick()
    assert_exactly_once(world["unit_ids"])
