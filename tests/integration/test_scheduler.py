"""The scheduler: the sweep takes only due instances, in batches, locked against other sweeps;
`flask scheduler run` is one coalesced APScheduler job; web workers never start one."""

import logging
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Engine

from app.extensions import db
from app.jobs import scheduler
from app.models import Escalation, ProcessInstance
from app.services.campaigns import launch
from app.services.sweep import timers
from tests.integration.sweep_support import ROOT, subprocess_env
from tests.support import PHASES, make_campaign

EARLY = [("deploy", "动员部署", date(2026, 11, 1), date(2026, 11, 10)), *PHASES[1:]]
LAUNCHED = datetime(2026, 11, 2, 1, tzinfo=UTC)
# After the early campaign's deploy deadline (10 November), before the normal one (10 December).
BETWEEN = datetime(2026, 11, 12, 2, tzinfo=UTC)


def two_campaigns(make_unit, n_early: int, n_late: int) -> tuple[list[int], list[int]]:
    """Instances of a campaign whose deploy step is overdue at BETWEEN, and of one that is not."""
    units = [make_unit(f"T{i:02d}") for i in range(n_early + n_late)]
    with time_machine.travel(LAUNCHED, tick=False):
        early = make_campaign(units[:n_early], doc_number="测政发〔2026〕1号", phases=EARLY)
        late = make_campaign(units[n_early:], doc_number="测政发〔2026〕2号")
        launch.launch_all(early, None)
        launch.launch_all(late, None)

    def ids(campaign_id):
        return list(db.session.scalars(select(ProcessInstance.id).filter_by(campaign_id=campaign_id)))

    return ids(early), ids(late)


@pytest.fixture
def loaded():
    """Ids of every ProcessInstance the ORM loads while the test runs."""
    seen: list[int] = []

    def on_load(target, context):
        seen.append(target.id)

    event.listen(ProcessInstance, "load", on_load)
    yield seen
    event.remove(ProcessInstance, "load", on_load)


def test_sweep_loads_only_due_instances(app, ctx, make_unit, loaded):
    due, not_due = two_campaigns(make_unit, 3, 4)
    db.session.expunge_all()
    loaded.clear()
    with time_machine.travel(BETWEEN, tick=False):
        result = timers.tick()
    assert result.advanced == 3 and result.failed == []
    assert sorted(set(loaded)) == sorted(due)
    # The due ones climbed the first rung (the reminder on the due date); the others did not move.
    assert sorted(db.session.scalars(select(Escalation.instance_id))) == sorted(due)
    assert all(e.status == "done" for e in db.session.scalars(select(Escalation)))
    with time_machine.travel(BETWEEN, tick=False):
        loaded.clear()
        assert timers.tick().advanced == 0
        assert loaded == []  # an idle sweep loads nothing


def test_sweep_takes_due_instances_in_small_batches(app, ctx, make_unit):
    due, _ = two_campaigns(make_unit, 5, 1)
    with time_machine.travel(BETWEEN, tick=False):
        result = timers.tick(batch_size=2)
    assert (result.advanced, result.batches) == (5, 3)
    assert result.escalations_done == 5


def test_stop_is_asked_between_batches(app, ctx, make_unit):
    two_campaigns(make_unit, 3, 0)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 1  # let one batch through, then stop

    with time_machine.travel(BETWEEN, tick=False):
        assert timers.tick(batch_size=2, stop=stop).advanced == 2
        assert timers.tick(batch_size=2).advanced == 1  # the rest is still due for the next sweep


def test_an_instance_that_cannot_be_loaded_does_not_hold_up_the_others(app, ctx, make_unit, caplog):
    due, _ = two_campaigns(make_unit, 3, 0)
    broken = db.session.get(ProcessInstance, due[0])
    broken.state = b"not a workflow"
    db.session.commit()
    with time_machine.travel(BETWEEN, tick=False), caplog.at_level(logging.ERROR):
        result = timers.tick(batch_size=2)
        assert result.advanced == 2 and [i for i, _ in result.failed] == [due[0]]
        # Still due: the next sweep tries it again.
        assert [i for i, _ in timers.tick().failed] == [due[0]]
    assert db.session.get(ProcessInstance, due[0]).next_timer_at <= BETWEEN


def test_sweep_claims_are_exclusive(app, ctx, make_unit):
    """Each database's own mechanism: PostgreSQL skips rows another sweep holds;
    SQLite's sweep takes the write lock before its first read."""
    if db.engine.dialect.name == "postgresql":
        _postgresql_sweep_skips_rows_another_sweep_holds(app, make_unit)
    else:
        _sqlite_sweep_takes_the_write_lock_before_its_first_read(app)


def _postgresql_sweep_skips_rows_another_sweep_holds(app, make_unit):
    due, _ = two_campaigns(make_unit, 3, 0)
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with other.connect() as conn:
            conn.execute(text("SELECT id FROM process_instances WHERE id = :id FOR UPDATE"), {"id": due[0]})
            with time_machine.travel(BETWEEN, tick=False):
                result = timers.tick()
            assert result.advanced == 2  # not blocked, and not taken twice
            conn.rollback()
        with time_machine.travel(BETWEEN, tick=False):
            assert timers.tick().advanced == 1
    finally:
        other.dispose()
    assert db.session.query(Escalation).count() == 3


def _sqlite_sweep_takes_the_write_lock_before_its_first_read(app):
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with timers.sweep_session():
            db.session.execute(select(ProcessInstance.id).limit(1)).all()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            db.session.rollback()
            other.execute("BEGIN IMMEDIATE")  # released with the sweep's transaction
            other.execute("ROLLBACK")
        # Outside the sweep, the app's own session still reads without taking the write lock.
        db.session.execute(select(ProcessInstance.id).limit(1)).all()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        db.session.rollback()
        other.close()


def test_each_sweep_plans_the_next_one_after_it_ends_so_sweeps_never_overlap(app):
    app.config["SCHEDULER_INTERVAL"] = 45
    try:
        sched = scheduler.build(app)
    finally:
        app.config["SCHEDULER_INTERVAL"] = 30
    (first,) = sched.get_jobs()
    assert first.id == "sweep-0" and first.trigger.run_date <= datetime.now(UTC)  # the first sweep runs at start
    with time_machine.travel(BETWEEN, tick=False):
        first.func()  # the sweep itself, on an empty database
        ended = datetime.now(UTC)
    second = next(job for job in sched.get_jobs() if job.id == "sweep-1")
    # Planned from the end of the sweep: a long sweep is followed by one sweep, never overlapped,
    # and no "maximum number of running instances reached" warnings pile up in the log.
    assert second.trigger.run_date == ended + timedelta(seconds=45)
    assert second.misfire_grace_time is None


def test_sweep_job_runs_in_its_own_app_context_and_logs_counts(app, make_unit, caplog, monkeypatch):
    # Alembic's fileConfig (run by the app fixture) disables loggers that existed before it.
    monkeypatch.setattr(logging.getLogger("app.jobs.scheduler"), "disabled", False)
    with app.app_context():
        two_campaigns(make_unit, 2, 1)
    with time_machine.travel(BETWEEN, tick=False), caplog.at_level(logging.INFO, logger="app.jobs.scheduler"):
        result = scheduler.sweep(app, 100, threading.Event())
    assert result.advanced == 2
    assert "sweep: 2 advanced, 0 failed, 2 escalations carried out" in caplog.text


def test_web_app_never_starts_a_scheduler(app):
    code = "import sys; from app import create_app; create_app(); print('apscheduler' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=subprocess_env(app),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip() == "False"


def test_scheduler_run_command_is_registered(runner):
    result = runner.invoke(args=["scheduler", "run", "--help"])
    assert result.exit_code == 0 and "--interval" in result.output and "--batch-size" in result.output


def _statements_of_a_sweep(make_unit, n_due: int, batch: int) -> tuple[int, timers.TickResult]:
    """Launch a campaign of n units overdue at BETWEEN, sweep, count the statements."""
    units = [make_unit(f"B{batch}{i:02d}") for i in range(n_due)]
    with time_machine.travel(LAUNCHED, tick=False):
        launch.launch_all(make_campaign(units, doc_number=f"测政发〔2026〕{10 + batch}号", phases=EARLY), None)
    count = [0]

    def on_execute(*args):
        count[0] += 1

    # Every engine: on SQLite the sweep has its own (BEGIN IMMEDIATE).
    event.listen(Engine, "before_cursor_execute", on_execute)
    try:
        with time_machine.travel(BETWEEN, tick=False):
            result = timers.tick()
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
    return count[0], result


def test_a_batch_is_saved_with_the_same_statements_however_many_it_holds(app, ctx, make_unit):
    _statements_of_a_sweep(make_unit, 1, batch=0)  # the first sweep also reads the deployed diagram
    few, result = _statements_of_a_sweep(make_unit, 2, batch=1)  # those swept before are not due again yet
    assert (result.advanced, result.escalations_done) == (2, 2)
    many, result = _statements_of_a_sweep(make_unit, 7, batch=2)
    assert (result.advanced, result.escalations_done) == (7, 7)
    assert many == few  # per batch, not per instance
    # What the batch wrote is what saving one by one writes: the rung, its task, its audit event.
    escalations = list(db.session.scalars(select(Escalation)))
    assert len(escalations) == 10 and all(e.task_id is not None and e.status == "done" for e in escalations)
    assert all(e.task.element_id == e.element_id == "deploy" for e in escalations)
    instances = list(db.session.scalars(select(ProcessInstance)))
    assert all(i.lock_version == 2 and i.next_timer_at > BETWEEN for i in instances)
    audited = db.session.scalars(text("SELECT entity_id FROM audit_events WHERE action = 'escalation.reminder'"))
    assert sorted(audited) == sorted(str(e.id) for e in escalations)


def _refuse_escalations_of(instance_id: int) -> tuple[str, str]:
    """A trigger that makes the database refuse any escalation of one instance (and its removal)."""
    if db.engine.dialect.name == "postgresql":
        return (
            f"""
            CREATE FUNCTION refuse_escalation() RETURNS trigger AS $$
            BEGIN IF NEW.instance_id = {instance_id} THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse BEFORE INSERT ON escalations FOR EACH ROW EXECUTE FUNCTION refuse_escalation();
        """,
            "DROP TRIGGER refuse ON escalations; DROP FUNCTION refuse_escalation();",
        )
    return (
        f"CREATE TRIGGER refuse BEFORE INSERT ON escalations WHEN NEW.instance_id = {instance_id} "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END",
        "DROP TRIGGER refuse",
    )


def test_when_a_batch_cannot_be_saved_together_each_instance_is_saved_alone(app, ctx, make_unit, caplog):
    due, _ = two_campaigns(make_unit, 4, 0)
    create, drop = _refuse_escalations_of(due[1])
    with db.engine.begin() as conn:
        conn.exec_driver_sql(create)
    try:
        with time_machine.travel(BETWEEN, tick=False), caplog.at_level(logging.WARNING):
            result = timers.tick()
    finally:
        with db.engine.begin() as conn:
            for statement in drop.split(";"):
                if statement.strip():
                    conn.execute(text(statement))
    assert result.advanced == 3 and [i for i, _ in result.failed] == [due[1]]
    assert "saving one by one" in caplog.text
    assert sorted(db.session.scalars(select(Escalation.instance_id))) == sorted(set(due) - {due[1]})
    refused = db.session.get(ProcessInstance, due[1])
    assert refused.lock_version == 1 and refused.next_timer_at <= BETWEEN  # untouched: due again next sweep
    with time_machine.travel(BETWEEN, tick=False):
        result = timers.tick()
    assert result.advanced == 1 and result.escalations_done == 1
    assert sorted(db.session.scalars(select(Escalation.instance_id))) == sorted(due)
