"""The audit trail's hash chain: every event chained to the previous one's hash; `flask audit
verify` names the first event altered, deleted or inserted behind the application's back; the
anchor round trip; and no role deletes events younger than the retention period."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select, text, update

from app.extensions import db
from app.models import AuditChainHead, AuditEvent
from app.models.audit import CHAIN_ALGORITHM, GENESIS, chain_hash
from app.services.shared import audit, audit_chain
from tests.conftest import csrf_from


@pytest.fixture(autouse=True)
def _empty_trail(app):
    """Each test starts from an empty trail (the session's set-up deployed diagrams, audited)."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(AuditEvent.__table__.delete())
        conn.execute(AuditChainHead.__table__.delete())


def _write(app, n=5, start=0):
    """n events, one transaction each; the ids of every event in the trail, in chain order."""
    with app.app_context():
        for i in range(start, start + n):
            audit.record(None, "thing.update", "thing", i, before={"n": i}, after={"n": i + 1, "名": "改"})
            db.session.commit()
        return [e.id for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def _verify(app):
    with app.app_context():
        return audit_chain.verify()


def _sql(app, statement, **params):
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()


def _rewrite_chain(app, event_id, after):
    """What someone with the database in hand could do: change one event and recompute every
    hash from it on, and the head's (the chain then verifies on its own; only an anchor tells)."""
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id >= event_id).order_by(AuditEvent.seq)))
        prev = rows[0].prev_hash
        for row in rows:
            fields = row.content()
            if row.id == event_id:
                fields["after"] = after
            digest = chain_hash(CHAIN_ALGORITHM, prev, fields)
            db.session.execute(
                AuditEvent.__table__.update()
                .where(AuditEvent.__table__.c.id == row.id)
                .values(after=fields["after"], prev_hash=prev, hash=digest)
            )
            prev = digest
        db.session.execute(AuditChainHead.__table__.update().values(last_hash=prev))
        db.session.commit()


def test_a_clean_chain_verifies_and_the_cli_says_so(app, runner):
    ids = _write(app)
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert [e.seq for e in events] == [1, 2, 3, 4, 5]
        assert events[0].prev_hash == GENESIS
        for before, event in zip(events, events[1:], strict=False):
            assert event.prev_hash == before.hash
        assert {e.hash_alg for e in events} == {CHAIN_ALGORITHM}
        assert events[2].hash == chain_hash(CHAIN_ALGORITHM, events[2].prev_hash, events[2].content())
    result = _verify(app)
    assert result.ok and result.count == 5 and result.head_id == ids[-1] and result.head_seq == 5
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 0, out.output
    assert "5 条事件" in out.output


def test_the_platform_offers_sm3_or_the_chain_says_sha256():
    import hashlib

    try:
        hashlib.new("sm3")
    except ValueError:
        assert CHAIN_ALGORITHM == "sha256"
    else:
        assert CHAIN_ALGORITHM == "sm3"


def test_an_update_made_in_sql_is_named(app, runner):
    ids = _write(app)
    _sql(app, "UPDATE audit_events SET after = :after WHERE id = :id", after='{"n": 99}', id=ids[2])
    result = _verify(app)
    assert result.problem.kind == "altered" and result.problem.event_id == ids[2]
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1
    assert f"#{ids[2]} 已被修改" in out.output


def test_a_changed_actor_or_time_is_named_too(app):
    ids = _write(app)
    _sql(app, "UPDATE audit_events SET action = 'thing.delete' WHERE id = :id", id=ids[0])
    assert _verify(app).problem.event_id == ids[0]


def test_a_delete_made_in_sql_is_named(app, runner):
    ids = _write(app)
    _sql(app, "DELETE FROM audit_events WHERE id = :id", id=ids[2])
    result = _verify(app)
    assert result.problem.kind == "deleted" and result.problem.seq == 3
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1 and f"链序号 3 的审计事件已被删除（在审计事件 #{ids[1]} 之后）" in out.output


def test_deleting_the_first_event_is_named(app):
    ids = _write(app)
    _sql(app, "DELETE FROM audit_events WHERE id = :id", id=ids[0])
    problem = _verify(app).problem
    assert (problem.kind, problem.seq) == ("deleted", 1)


def test_deleting_the_newest_events_is_named(app, runner):
    ids = _write(app)
    _sql(app, "DELETE FROM audit_events WHERE id >= :id", id=ids[3])
    problem = _verify(app).problem
    assert (problem.kind, problem.seq) == ("deleted", 4)
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1 and "链序号 4–5 的审计事件已被删除" in out.output


def test_the_newest_deleted_then_a_new_event_written_is_still_named(app):
    ids = _write(app)
    _sql(app, "DELETE FROM audit_events WHERE id = :id", id=ids[-1])
    result = _verify(app)
    assert result.problem.kind == "deleted" and result.problem.seq == 5
    _write(app, 1, start=10)  # the head remembers the deleted one: the new event links to it
    result = _verify(app)
    assert result.problem.kind == "deleted" and result.problem.seq == 5


def test_a_forged_insert_is_named(app, runner):
    """A row without a place in the chain: the application never commits one."""
    ids = _write(app)
    _sql(
        app,
        "INSERT INTO audit_events (id, at, action, entity_type, entity_id) "
        "VALUES (:id, '2025-01-01 00:00:00.000000', 'thing.update', 'thing', '7')",
        id=ids[-1] + 1,
    )
    result = _verify(app)
    assert result.problem.kind == "inserted" and result.problem.event_id == ids[-1] + 1
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1 and f"#{ids[-1] + 1} 不是本系统写入的" in out.output


def test_a_forged_insert_with_a_well_computed_hash_is_named(app):
    ids = _write(app)
    with app.app_context():
        last = db.session.get(AuditEvent, ids[-1])
        fields = dict(
            id=ids[-1] + 1,
            seq=last.seq + 1,
            at=datetime(2025, 1, 1, tzinfo=UTC),
            actor_id=None,
            action="thing.update",
            entity_type="thing",
            entity_id="7",
            unit_id=None,
            before=None,
            after={"forged": True},
        )
        digest = chain_hash(CHAIN_ALGORITHM, last.hash, fields)
        db.session.execute(
            AuditEvent.__table__.insert().values(**fields, prev_hash=last.hash, hash=digest, hash_alg=CHAIN_ALGORITHM)
        )
        db.session.commit()
    result = _verify(app)
    assert result.problem.kind == "inserted" and result.problem.event_id == ids[-1] + 1


def test_a_forged_event_in_the_middle_is_named(app):
    ids = _write(app)
    _sql(app, "DELETE FROM audit_events WHERE id = :id", id=ids[2])
    _sql(
        app,
        "INSERT INTO audit_events (id, seq, at, action, entity_type, entity_id, prev_hash, hash, hash_alg) "
        "VALUES (:id, 3, '2025-01-01 00:00:00.000000', 'x', 'thing', '7', :p, :h, :a)",
        id=ids[2],
        p="1" * 64,
        h="2" * 64,
        a=CHAIN_ALGORITHM,
    )
    result = _verify(app)
    assert result.problem.event_id == ids[2]


def test_anchor_round_trip(app, runner, tmp_path):
    ids = _write(app)
    anchor = tmp_path / "anchor.json"
    out = runner.invoke(args=["audit", "anchor", "--out", str(anchor)])
    assert out.exit_code == 0, out.output
    data = json.loads(anchor.read_text(encoding="utf-8"))
    assert data["head_id"] == ids[-1] and data["head_seq"] == 5 and data["count"] == 5
    assert data["hash_alg"] == CHAIN_ALGORITHM
    printed = runner.invoke(args=["audit", "anchor"])
    assert json.loads(printed.output)["head_hash"] == data["head_hash"]

    _write(app, 3, start=20)  # the chain grows: it still extends the anchor
    out = runner.invoke(args=["audit", "verify", "--anchor", str(anchor)])
    assert out.exit_code == 0, out.output

    # Rewritten from the anchored event on, hashes recomputed: the chain verifies, the anchor does not.
    _rewrite_chain(app, ids[-1], {"n": 0})
    assert _verify(app).ok
    out = runner.invoke(args=["audit", "verify", "--anchor", str(anchor)])
    assert out.exit_code == 1 and f"#{ids[-1]}" in out.output


def test_bulk_record_many_chains_in_order_after_pending_events(app):
    with app.app_context():
        audit.record(None, "a.pending", "thing", 1)
        audit.record_many([audit.values(None, "b.bulk", "thing", i, after={"i": i}) for i in range(50)])
        audit.record(None, "c.after", "thing", 2)
        db.session.commit()
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert [e.action for e in events] == ["a.pending"] + ["b.bulk"] * 50 + ["c.after"]
        assert [e.seq for e in events] == list(range(1, 53))
    result = _verify(app)
    assert result.ok and result.count == 52


def test_a_rolled_back_batch_leaves_the_chain_whole(app):
    _write(app, 2)
    with app.app_context():
        with db.session.begin_nested():
            audit.record_many([audit.values(None, "kept", "thing", 1)])
        try:
            with db.session.begin_nested():
                audit.record_many([audit.values(None, "lost", "thing", 2)])
                raise RuntimeError
        except RuntimeError:
            pass
        audit.record_many([audit.values(None, "kept", "thing", 3)])
        db.session.commit()
    result = _verify(app)
    assert result.ok and result.count == 4


def test_the_application_neither_changes_nor_deletes_an_event(app):
    ids = _write(app, 2)
    with app.app_context():
        event = db.session.get(AuditEvent, ids[0])
        event.action = "changed"
        with pytest.raises(audit_chain.AuditImmutable):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEvent, ids[0]))
        with pytest.raises(audit_chain.AuditImmutable):
            db.session.flush()
        db.session.rollback()
        for statement in (delete(AuditEvent), update(AuditEvent).values(action="x")):
            with pytest.raises(audit_chain.AuditImmutable):
                db.session.execute(statement)
            db.session.rollback()
    assert _verify(app).ok


def test_an_event_is_chained_when_its_transaction_commits_not_before(app):
    """Writing an event takes no lock on the chain: the head moves only at commit, so a
    transaction that audits and then waits for another lock holds nothing others need for
    their own audit (the deadlock an append-time lock would risk)."""
    _write(app, 1)
    with app.app_context():
        event = audit.record(None, "open.txn", "thing", 1)
        audit.record_many([audit.values(None, "open.bulk", "thing", 2)])
        db.session.flush()
        assert event.seq is None and event.hash is None
        assert db.session.get(AuditChainHead, 1).last_seq == 1
        db.session.commit()
        stored = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [(e.action, e.seq) for e in stored][-2:] == [("open.txn", 2), ("open.bulk", 3)]
        assert db.session.get(AuditChainHead, 1).last_seq == 3
    assert _verify(app).ok


def test_a_transaction_rolled_back_leaves_no_pending_events_behind(app):
    _write(app, 1)
    with app.app_context():
        audit.record(None, "lost", "thing", 1)
        db.session.flush()
        db.session.rollback()
        audit.record(None, "kept", "thing", 2)
        db.session.commit()
    result = _verify(app)
    assert result.ok and result.count == 2


def test_events_younger_than_the_retention_period_are_never_purged(app, runner):
    with time_machine.travel(datetime(2024, 1, 1, tzinfo=UTC), tick=False):
        _write(app, 3)
    young = _write(app, 2, start=3)[-2:]
    assert app.config["AUDIT_RETENTION_DAYS"] == 180
    with app.app_context():
        with pytest.raises(audit_chain.AuditImmutable):
            audit_chain.purge(179)
        db.session.rollback()
    out = runner.invoke(args=["audit", "purge", "--older-than-days", "30"])
    assert out.exit_code == 1 and "180" in out.output

    out = runner.invoke(args=["audit", "purge", "--older-than-days", "180"])
    assert out.exit_code == 0, out.output
    with app.app_context():
        left = [e.id for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert left[:2] == young and len(left) == 3  # and the purge itself, audited
        cutoff = datetime.now(UTC) - timedelta(days=180)
        assert all(e.at >= cutoff for e in db.session.scalars(select(AuditEvent)))
    result = _verify(app)
    assert result.ok and result.count == 3


def test_the_audit_page_verifies_on_demand_and_shows_the_last_result(app, login_as, make_unit):
    sup = login_as("supervisor", username="chainsup")
    html = sup.get("/audit/").get_data(as_text=True)
    assert 'data-status="unknown"' in html
    resp = sup.client.post("/audit/verify", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 302
    html = sup.get("/audit/").get_data(as_text=True)
    assert 'data-status="ok"' in html and "审计链校验通过" in html

    with app.app_context():
        first = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id))
    _sql(app, "UPDATE audit_events SET action = 'forged' WHERE id = :id", id=first)
    sup.client.post("/audit/verify", data={"csrf_token": csrf_from(html)})
    html = sup.get("/audit/").get_data(as_text=True)
    assert 'data-status="failed"' in html and f"审计事件 #{first} 已被修改" in html

    unit = login_as("unit_staff", unit_id=make_unit("C01"), username="chainstaff")
    token = csrf_from(unit.get("/", follow_redirects=True).get_data(as_text=True))
    assert unit.client.post("/audit/verify", data={"csrf_token": token}).status_code == 403


def test_the_cli_remembers_its_verification_for_the_page(app, runner):
    _write(app, 2)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        last = audit_chain.last_verification()
        assert last is not None and last.ok and last.count == 2


@pytest.fixture
def pg_app(tmp_path):
    """The app on a PostgreSQL database of its own, migrated (dropped after)."""
    import os

    import psycopg
    from flask_migrate import upgrade
    from sqlalchemy import make_url

    from app import create_app
    from config import TestConfig

    name = f"rectify_audit_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    base = make_url(os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    url = base.set(database=name).render_as_string(hide_password=False)
    overrides = {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(tmp_path / "uploads")}
    application = create_app(type("AuditPgTestConfig", (TestConfig,), overrides))
    with application.app_context():
        upgrade()
    try:
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_concurrent_writers_on_postgresql_keep_one_chain(pg_app):
    """Eight threads append at once, one by one and in batches, some rolling back: the lock on
    the chain head serialises them, so the chain in id order verifies and has every committed
    event; a verification running meanwhile never reports a problem."""
    import threading

    writers, rounds = 8, 15
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            with pg_app.app_context():
                start.wait()
                for i in range(rounds):
                    if i % 3 == 0:
                        audit.record_many([audit.values(None, "t.bulk", "thing", f"{n}-{i}-{k}") for k in range(7)])
                    else:
                        audit.record(None, "t.one", "thing", f"{n}-{i}")
                    if i % 5 == 4:
                        db.session.rollback()
                    else:
                        db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    with pg_app.app_context(), db.engine.begin() as conn:
        conn.execute(AuditChainHead.__table__.delete())  # as the suite's clean-up leaves it: writers race to create it
    verdicts: list[str] = []
    done = threading.Event()

    def verify_meanwhile() -> None:
        try:
            with pg_app.app_context():
                while not done.is_set():
                    result = audit_chain.verify()
                    db.session.rollback()
                    verdicts.append("ok" if result.ok else str(result.problem.message))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    verifier = threading.Thread(target=verify_meanwhile)
    verifier.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    done.set()
    verifier.join(60)
    assert not errors, errors
    assert verdicts and set(verdicts) == {"ok"}, verdicts  # a walk racing the writers sees no problem
    committed_per_writer = sum((7 if i % 3 == 0 else 1) for i in range(rounds) if i % 5 != 4)
    with pg_app.app_context():
        result = audit_chain.verify()
        assert result.ok, result.problem and str(result.problem.message)
        assert result.count == writers * committed_per_writer
        seqs = list(db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        assert seqs == list(range(1, len(seqs) + 1))  # placed under the lock: no gaps


def test_the_migration_hashes_the_existing_events_in_id_order(tmp_path):
    """Events written before the chain existed are chained by the migration, in id order (gaps
    and all), and new events continue the chain."""
    from flask_migrate import upgrade

    from app import create_app
    from config import TestConfig

    overrides = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}", "UPLOAD_DIR": str(tmp_path / "up")}
    application = create_app(type("AuditMigrationTestConfig", (TestConfig,), overrides))
    with application.app_context():
        try:
            upgrade(revision="326795857af2")
            old = text(
                "INSERT INTO audit_events (id, at, action, entity_type, entity_id, unit_id, before, after) "
                "VALUES (:id, :at, 'thing.update', 'thing', :e, NULL, :b, :a)"
            )
            for i in (1, 2, 3, 5, 8):  # ids with gaps, as rolled-back transactions leave them
                db.session.execute(
                    old,
                    {"id": i, "at": f"2025-01-0{i} 08:00:00.00000{i}", "e": str(i), "b": None, "a": '{"名": "值"}'},
                )
            db.session.commit()

            upgrade()
            result = audit_chain.verify()
            assert result.ok and result.count == 5 and (result.head_id, result.head_seq) == (8, 5)
            head = db.session.get(AuditChainHead, 1)
            assert (head.last_seq, head.last_hash) == (5, result.head_hash)

            audit.record(None, "thing.new", "thing", 9)
            db.session.commit()
            result = audit_chain.verify()
            assert result.ok and result.count == 6 and result.head_seq == 6
        finally:
            db.session.remove()
            db.engine.dispose()


def test_auditing_then_waiting_for_a_lock_cannot_deadlock_on_postgresql(pg_app):
    """A audits, then waits for a row B holds; B, holding it, audits and commits. Were the
    chain's head locked at A's first audit write, B could never commit (and PostgreSQL would
    kill one of them as a deadlock): the sweep auditing before it takes the letter counter,
    a supervisor's letter taking the counter before it audits. The head is taken at commit."""
    import threading

    from sqlalchemy import text as sql

    with pg_app.app_context(), db.engine.begin() as conn:
        conn.execute(sql("CREATE TABLE contended (id integer PRIMARY KEY)"))
        conn.execute(sql("INSERT INTO contended VALUES (1)"))
    b_holds, a_audited = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def lock_contended() -> None:
        db.session.execute(sql("SET LOCAL lock_timeout = '20s'"))
        db.session.execute(sql("SELECT id FROM contended WHERE id = 1 FOR UPDATE"))

    def a() -> None:
        try:
            with pg_app.app_context():
                assert b_holds.wait(20)
                audit.record(None, "a.first", "thing", 1)
                db.session.flush()
                a_audited.set()
                lock_contended()
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            a_audited.set()

    def b() -> None:
        try:
            with pg_app.app_context():
                lock_contended()
                b_holds.set()
                assert a_audited.wait(20)
                audit.record(None, "b.second", "thing", 2)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with pg_app.app_context():
        actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
        assert actions[-2:] == ["b.second", "a.first"]  # chained in the order they committed
        assert audit_chain.verify().ok


def test_the_scheduler_anchors_the_chain_once_a_day(app, runner, tmp_path, monkeypatch, caplog):
    """The first sweep of each day verifies the chain and writes that day's anchor; later sweeps
    that day write nothing; `verify --anchor DIR` checks every anchor there; a broken chain gets
    no anchor and an error in the log."""
    import logging

    from app.jobs import scheduler

    def anchor_audit_chain(app):
        with app.app_context():  # as inside the sweep
            scheduler.anchor_audit_chain(app)

    directory = tmp_path / "anchors"
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_DIR", str(directory))
    monkeypatch.setattr(logging.getLogger("app.jobs.scheduler"), "disabled", False)
    ids = _write(app, 3)
    start = datetime.now(UTC)
    anchor_audit_chain(app)
    first = sorted(directory.iterdir())
    assert len(first) == 1 and first[0].name.startswith("audit-anchor-")
    assert json.loads(first[0].read_text(encoding="utf-8"))["head_seq"] == 3
    anchor_audit_chain(app)
    assert sorted(directory.iterdir()) == first
    with app.app_context():
        assert audit_chain.last_verification().ok

    _write(app, 2, start=10)
    with time_machine.travel(start + timedelta(days=1), tick=False):
        anchor_audit_chain(app)
    anchors = sorted(directory.iterdir())
    assert len(anchors) == 2 and json.loads(anchors[1].read_text(encoding="utf-8"))["head_seq"] == 5
    out = runner.invoke(args=["audit", "verify", "--anchor", str(directory)])
    assert out.exit_code == 0 and "2 个锚点" in out.output, out.output

    # The first anchored event rewritten and the whole chain re-hashed after it: the chain on its
    # own verifies, the first day's anchor does not.
    _rewrite_chain(app, ids[2], {"n": "rewritten"})
    assert _verify(app).ok
    out = runner.invoke(args=["audit", "verify", "--anchor", str(directory)])
    assert out.exit_code == 1 and f"审计事件 #{ids[2]} 与锚点记录的哈希不符" in out.output

    # A chain that does not verify is not anchored.
    _sql(app, "UPDATE audit_events SET action = 'forged' WHERE id = :id", id=ids[0])
    with time_machine.travel(start + timedelta(days=2), tick=False), caplog.at_level(logging.ERROR):
        anchor_audit_chain(app)
    assert len(list(directory.iterdir())) == 2
    assert "the chain does not verify" in caplog.text
    with app.app_context():
        assert not audit_chain.last_verification().ok


def test_a_savepoint_after_reads_only_commits_nothing_before_the_transaction(app):
    """On SQLite a savepoint opened when only reads came before must not commit at its release:
    its events are sealed with the transaction, and a rollback takes them back."""
    _write(app, 1)
    with app.app_context():
        db.session.scalar(select(AuditEvent.id).limit(1))  # reads only
        with db.session.begin_nested():
            audit.record(None, "in.savepoint", "thing", 1)
        db.session.rollback()
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "in.savepoint")) is None
        db.session.scalar(select(AuditEvent.id).limit(1))
        with db.session.begin_nested():
            audit.record(None, "in.savepoint", "thing", 2)
        # Not committed yet: another connection does not see it.
        with db.engine.connect() as other:
            seen = other.execute(select(AuditEvent.id).where(AuditEvent.action == "in.savepoint")).first()
        assert seen is None
        db.session.commit()
    result = _verify(app)
    assert result.ok and result.count == 2
