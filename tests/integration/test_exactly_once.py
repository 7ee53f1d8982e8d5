"""Exactly once under several schedulers: two real processes sweep the same overdue campaign
at the same moment (PostgreSQL: SKIP LOCKED; SQLite: BEGIN IMMEDIATE) and every overdue step
still gets one reminder, one letter and one notice, one rung a sweep; letter numbers run 1..N
without a gap."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import Escalation
from tests.integration.sweep_support import ROOT, assert_exactly_once, overdue_campaign, subprocess_env, wait_for

UNITS = 60

# Both children load the app and connect, say so, and start sweeping together once the test
# has seen both ready (a fixed head start is not enough on a machine busy with other workers).
SWEEP = """
import json, os, sys, time
from pathlib import Path
from app import create_app
from app.services.sweep import timers
app = create_app()
with app.app_context():
    from app.extensions import db
    db.session.execute(db.text("SELECT 1")).all()  # connect before the start line
    db.session.rollback()
    gate = Path(os.environ["GATE_DIR"])
    (gate / f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 120
    while not (gate / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    result = timers.tick(batch_size=int(os.environ["BATCH"]))
    print(json.dumps({"advanced": result.advanced, "failed": result.failed, "batches": result.batches,
                      "escalations_done": result.escalations_done,
                      "escalations_failed": result.escalations_failed}))
"""


def _sweep_in_two_processes(app, gate: Path) -> list[dict]:
    """Both children sweep at the same moment, on the test's clock as it stands now."""
    for old in gate.iterdir():
        old.unlink()
    env = subprocess_env(app)
    env["GATE_DIR"] = str(gate)
    env["BATCH"] = "10"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEP], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = []
    try:
        wait_for(lambda: len(list(gate.glob("ready-*"))) == 2, 120, "both sweepers ready")
        (gate / "go").touch()
        for proc in procs:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert all(r["failed"] == [] and r["escalations_failed"] == 0 for r in results), results
    return results


def _by_level_and_status() -> dict:
    db.session.rollback()
    return {
        (level, status): n
        for level, status, n in db.session.execute(
            select(Escalation.level, Escalation.status, func.count()).group_by(Escalation.level, Escalation.status)
        )
    }


def test_two_scheduler_processes_escalate_each_step_exactly_once(app, ctx, tmp_path):
    world = overdue_campaign(UNITS)
    results = _sweep_in_two_processes(app, tmp_path)
    # Every instance advanced once in all, and both processes took part (they really overlapped).
    assert sum(r["advanced"] for r in results) == UNITS, results
    assert all(r["advanced"] > 0 for r in results), results
    # 30 days overdue, every rung's timer fired at once; one sweep still carries out one rung a step.
    assert _by_level_and_status() == {
        ("reminder", "done"): UNITS,
        ("letter", "pending"): UNITS,
        ("notice", "pending"): UNITS,
    }
    # The ladder climbs on in later sweeps, each again by two processes at once.
    start = datetime.now(UTC)
    with time_machine.travel(start + timedelta(days=8), tick=True):
        _sweep_in_two_processes(app, tmp_path)
        assert _by_level_and_status() == {
            ("reminder", "done"): UNITS,
            ("letter", "done"): UNITS,
            ("notice", "pending"): UNITS,
        }
    with time_machine.travel(start + timedelta(days=25), tick=True):
        _sweep_in_two_processes(app, tmp_path)
    assert_exactly_once(world["unit_ids"])
