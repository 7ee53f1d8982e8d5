"""Overdue work for tests that run the sweep in other processes.

The campaign is launched with the clock moved back and then left overdue at the test's clock:
the deploy deadline was 30 days ago, so its reminder, letter (3 working days) and notice
(10 working days) timers are all due now. The child processes run on the test's clock too
(tests/child_clock/sitecustomize.py), never on the machine's date.
"""

import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import Escalation, Notification, ProcessInstance, PublicNotice, SupervisionLetter, Unit, User
from app.services.campaigns import launch
from tests.support import make_campaign

ROOT = Path(__file__).resolve().parents[2]


def overdue_campaign(n_units: int) -> dict:
    """n units, one staff user each, a launched campaign whose deploy step is 30 days overdue."""
    today = date.today()
    phases = [
        ("deploy", "动员部署", today - timedelta(days=60), today - timedelta(days=30)),
        ("self_check", "自查自纠", today - timedelta(days=29), today + timedelta(days=60)),
        ("rectification", "整改落实", today + timedelta(days=61), today + timedelta(days=120)),
        ("assessment", "总结评估", today + timedelta(days=121), today + timedelta(days=150)),
    ]
    db.session.execute(
        insert(Unit), [dict(code=f"S{i:04d}", name=f"巡检单位{i}", kind="township") for i in range(n_units)]
    )
    unit_ids = list(db.session.scalars(select(Unit.id).order_by(Unit.id)))
    # Staff only need to exist (notifications go to them); nobody logs in, so no real hash.
    db.session.execute(
        insert(User),
        [
            dict(
                username=f"s{u}",
                display_name=f"联络员{u}",
                password_hash="-",
                role="unit_staff",
                unit_id=u,
                active=True,
            )
            for u in unit_ids
        ],
    )
    db.session.commit()
    launched_at = datetime.combine(today - timedelta(days=59), datetime.min.time(), UTC)
    with time_machine.travel(launched_at, tick=False):
        campaign_id = make_campaign(unit_ids, phases=phases)
        launch.launch_all(campaign_id, None)
    due = db.session.scalar(
        select(func.count()).select_from(ProcessInstance).where(ProcessInstance.next_timer_at <= datetime.now(UTC))
    )
    assert due == n_units, "the ladder timers should be due in real time"
    return {"campaign_id": campaign_id, "unit_ids": unit_ids}


CHILD_CLOCK = ROOT / "tests" / "child_clock"


def subprocess_env(app) -> dict:
    """Environment for a child process on the test session's database (this worker's) and on
    the test's clock: it starts where the test's clock stands now and ticks on from there."""
    real = time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()
    offset = time.time() - real
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "RECTIFY_CONFIG": "config.TestConfig",
        "FLASK_APP": "wsgi.py",
        "SMTP_HOST": "",
        "PYTHONPATH": f"{CHILD_CLOCK}{os.pathsep}{ROOT}",
        "RECTIFY_TEST_CLOCK_OFFSET": repr(offset),
    }


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", *args]


def counts() -> dict:
    """What the sweep has done so far, read fresh."""
    db.session.rollback()
    now = datetime.now(UTC)
    by_status = dict(db.session.execute(select(Escalation.status, func.count()).group_by(Escalation.status)).all())
    return {
        "due": db.session.scalar(
            select(func.count()).select_from(ProcessInstance).where(ProcessInstance.next_timer_at <= now)
        ),
        "escalations": sum(by_status.values()),
        "pending": by_status.get("pending", 0),
        "done": by_status.get("done", 0),
        "incident": by_status.get("incident", 0),
    }


def wait_for(predicate, timeout: float, what: str, poll: float = 0.01, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            log = getattr(proc, "log", None)  # a file, where the test sent the output there
            said = log.read_text(encoding="utf-8", errors="replace") if log is not None else proc.stdout.read()
            raise AssertionError(f"process exited ({proc.returncode}) before {what}: {said}")
        time.sleep(poll)
    raise AssertionError(f"timed out waiting for {what}")


def assert_exactly_once(unit_ids: list[int]) -> None:
    """One reminder, one letter and one notice per unit, all carried out; letters 1..N, no gap."""
    db.session.rollback()
    n = len(unit_ids)
    rows = db.session.execute(select(Escalation.unit_id, Escalation.level, Escalation.status)).all()
    assert len(rows) == 3 * n
    assert sorted((u, lvl) for u, lvl, _ in rows) == sorted(
        (u, lvl) for u in unit_ids for lvl in ("letter", "notice", "reminder")
    )
    assert {s for _, _, s in rows} == {"done"}
    letters = db.session.execute(select(SupervisionLetter.unit_id, SupervisionLetter.number)).all()
    assert sorted(num for _, num in letters) == list(range(1, n + 1))
    assert sorted(u for u, _ in letters) == sorted(unit_ids)
    assert sorted(db.session.scalars(select(PublicNotice.unit_id))) == sorted(unit_ids)
    # Each staff member heard once of each rung.
    per_user = db.session.execute(
        select(Notification.user_id, Notification.kind, func.count()).group_by(Notification.user_id, Notification.kind)
    ).all()
    assert len(per_user) == 3 * n and {c for _, _, c in per_user} == {1}
