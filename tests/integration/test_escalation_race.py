"""A completion and an escalation racing each other, in two real processes on PostgreSQL.

One process completes the units' overdue steps while the other carries out their pending
supervision letters, both at full speed and from opposite ends, round after round. Every step
must end with its letter carried out *before* the completion or cancelled and never carried out:
no letter, no notification, for a step already closed. "Before" is read off the audit trail's
ids, which the database hands out in the order the rows are written: each side writes its event
while it holds the instance's row lock, so the ids order the two transactions (the processes'
clocks may differ by a few milliseconds; a sequence does not). Always on the PostgreSQL server (in a
database of its own), whatever the suite runs on: its row locks are what is being tested.
"""

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from flask_migrate import upgrade
from sqlalchemy import insert, make_url, select

from app import create_app
from app.extensions import db
from app.models import AuditEvent, Escalation, Notification, SupervisionLetter, Task, Unit, User
from app.services.campaigns import launch
from app.services.design import processes
from app.services.sweep import timers
from config import TestConfig
from tests.integration.sweep_support import wait_for
from tests.support import make_campaign

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TZ = ZoneInfo("Asia/Shanghai")
REMINDED = datetime(2026, 12, 10, 17, 31, tzinfo=TZ)  # deploy due 12-10 17:30: the reminders go out
LETTERS_DUE = datetime(2026, 12, 15, 17, 31, tzinfo=TZ)  # due + 3 working days: the letters are recorded
ROUNDS = 4
UNITS = 30

# Both children connect first and say so; the test then writes the start instant (real time) to
# `go`, and both start from it on the same moved clock.
PRELUDE = """
import json, os, sys, time
from pathlib import Path
import time_machine
from app import create_app
from app.extensions import db
app = create_app()
with app.app_context():
    db.session.execute(db.text("SELECT 1")).all()
    db.session.rollback()
gate = Path(os.environ["GATE_DIR"])
(gate / f"ready-{os.getpid()}").touch()
deadline = time.monotonic() + 120
while not (gate / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.001)
start = float((gate / "go").read_text())
time.sleep(max(0.0, start - time.time()))
# Each child's clock is CLOCK_AT + (real time - start): the same clock in both processes.
clock = time_machine.travel(float(os.environ["CLOCK_AT"]) + (time.time() - start), tick=True)
clock.start()
"""

COMPLETE = (
    PRELUDE
    + """
from app.models import User
from app.services.tasks import tasks
from tests.support import DEPLOY, submit, upload
conflicts = []
with app.app_context():
    for pair in json.loads(os.environ["WORK"]):
        task_id, user_id = pair
        try:
            submit(app, user_id, task_id, DEPLOY, {"plan": upload()})
        except tasks.Conflict as exc:
            conflicts.append([task_id, exc.message])
        db.session.remove()
print(json.dumps({"conflicts": conflicts}))
"""
)

DELIVER = (
    PRELUDE
    + """
from sqlalchemy import func, select
from app.models import Escalation
from app.services.escalation import escalations
done = rounds = 0
with app.app_context():
    deadline = time.time() + 120
    while time.time() < deadline:
        rounds += 1
        d, failed, taken = escalations.deliver_pending(limit=1)
        done += d
        assert failed == 0
        if taken == 0:
            waiting = db.session.scalar(select(func.count()).select_from(Escalation).where(
                Escalation.status == "pending", Escalation.level == "letter"))
            db.session.rollback()
            if not waiting:
                break
print(json.dumps({"done": done, "rounds": rounds}))
"""
)


def _suite_pg_url():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    return make_url(url)


@pytest.fixture
def race_app(tmp_path):
    """The app on a PostgreSQL database of its own (one per test process), migrated and deployed."""
    name = f"rectify_race_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    base = _suite_pg_url()
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = base.set(database=name).render_as_string(hide_password=False)
    overrides = {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(tmp_path / "uploads")}
    application = create_app(type("RaceTestConfig", (TestConfig,), overrides))
    with application.app_context():
        upgrade()
        processes.deploy_all()
        try:
            yield application
        finally:
            db.session.remove()
            db.engine.dispose()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _overdue_round(number: int) -> dict:
    """UNITS units whose deploy step is overdue with its letter recorded and due now."""
    db.session.execute(
        insert(Unit),
        [dict(code=f"R{number}{i:03d}", name=f"竞态单位{number}-{i}", kind="township") for i in range(UNITS)],
    )
    unit_ids = list(db.session.scalars(select(Unit.id).where(Unit.code.like(f"R{number}%")).order_by(Unit.id)))
    # Nobody logs in: the completing process acts as these users directly, so no real hash.
    db.session.execute(
        insert(User),
        [
            dict(
                username=f"r{u}",
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
    campaign_id = make_campaign(unit_ids, doc_number=f"竞政发〔2026〕{number}号")
    launch.launch_all(campaign_id, None)
    with time_machine.travel(REMINDED, tick=False):
        timers.tick()
    with time_machine.travel(LETTERS_DUE, tick=False):
        timers.advance()  # letters recorded, not carried out: the race is for them
    users = dict(db.session.execute(select(User.unit_id, User.id).where(User.unit_id.in_(unit_ids))).all())
    tasks = db.session.execute(
        select(Task.id, Task.unit_id)
        .where(Task.campaign_id == campaign_id, Task.element_id == "deploy", Task.status == "ready")
        .order_by(Task.instance_id)
    ).all()
    pending = db.session.query(Escalation).filter_by(campaign_id=campaign_id, level="letter", status="pending").count()
    assert len(tasks) == UNITS and pending == UNITS
    # The completer works from the last instance back; the deliverer takes the letters as recorded.
    return {"campaign_id": campaign_id, "work": [[t, users[u]] for t, u in reversed(tasks)]}


def _real_time() -> float:
    """The machine's clock (the children's), whatever this test process's clock is moved to."""
    return time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()


def _race(app, world, gate: Path) -> tuple[dict, dict]:
    for old in gate.iterdir():
        old.unlink()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "RECTIFY_CONFIG": "config.TestConfig",
        "SMTP_HOST": "",
        "PYTHONPATH": ROOT,
        "GATE_DIR": str(gate),
        "CLOCK_AT": str(LETTERS_DUE.timestamp() + 60),
        "WORK": json.dumps(world["work"]),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for script in (COMPLETE, DELIVER)
    ]
    results = []
    try:
        wait_for(lambda: len(list(gate.glob("ready-*"))) == 2, 120, "both processes ready")
        (gate / "go.tmp").write_text(str(_real_time() + 0.2))
        (gate / "go.tmp").rename(gate / "go")  # whole, never half-written
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return results[0], results[1]


def _event(action: str, entity_id: int) -> int:
    """The id of the one audit event of this action on this entity."""
    return db.session.scalars(select(AuditEvent.id).filter_by(action=action, entity_id=str(entity_id))).one()


def test_completion_and_escalation_race_ends_with_the_letter_first_or_never(race_app, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    outcomes = {"done": 0, "cancelled": 0}
    for number in range(1, ROUNDS + 1):
        world = _overdue_round(number)
        completed, delivered = _race(race_app, world, gate)
        assert completed["conflicts"] == [], completed
        db.session.rollback()
        letters = {
            (e.instance_id, e.spiff_task_id): e
            for e in db.session.scalars(
                select(Escalation).where(
                    Escalation.campaign_id == world["campaign_id"],
                    Escalation.level == "letter",
                    Escalation.element_id == "deploy",
                )
            )
        }
        steps = db.session.scalars(
            select(Task).where(Task.campaign_id == world["campaign_id"], Task.element_id == "deploy")
        ).all()
        assert len(steps) == UNITS and len(letters) == UNITS
        for task in steps:
            letter = letters[(task.instance_id, task.spiff_task_id)]
            assert task.status == "completed", task.id
            issued = db.session.scalars(select(SupervisionLetter).filter_by(escalation_id=letter.id)).all()
            told = db.session.scalars(select(Notification).filter_by(escalation_id=letter.id)).all()
            completion = _event("task.complete", task.id)
            if letter.status == "done":
                assert len(issued) == 1 and told, letter.id
                assert _event("letter.issue", issued[0].id) < completion, letter.id  # the letter first
            else:
                assert letter.status == "cancelled", (letter.id, letter.status)
                assert issued == [] and told == [], letter.id
                # Cancelled by the completion itself (its own event, same transaction) or by the
                # sweep after it.
                cancel = db.session.scalars(
                    select(AuditEvent).filter_by(action="escalation.cancel", entity_id=str(letter.id))
                ).one()
                assert cancel.actor_id == task.completed_by_id or cancel.id > completion, letter.id
            outcomes[letter.status] += 1
        issued_now = db.session.query(SupervisionLetter).filter_by(campaign_id=world["campaign_id"]).count()
        assert delivered["done"] == issued_now == sum(1 for e in letters.values() if e.status == "done")
    print(f"\n{ROUNDS} rounds of {UNITS} races: {outcomes}")
    assert sum(outcomes.values()) == ROUNDS * UNITS
    # The two processes really met: some letters went out first, some steps closed first.
    assert outcomes["done"] > 0 and outcomes["cancelled"] > 0, outcomes
    # The letters' numbers ran on across the rounds with no gap and no duplicate (a cancelled one took none).
    numbers = sorted(db.session.scalars(select(SupervisionLetter.number)))
    assert numbers == list(range(1, outcomes["done"] + 1))
