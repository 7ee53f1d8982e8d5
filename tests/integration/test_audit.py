"""The audit trail: JSON-safe values, written with the caller's transaction, read back by entity and unit."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from app.services.accounts import users
from app.services.shared import audit


def _count():
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_record_is_json_safe_and_committed_by_the_caller(app, make_unit):
    unit_id = make_unit("T01")
    with app.app_context():
        start = _count()
        event = audit.record(
            None,
            "ledger_item.update",
            "ledger_item",
            7,
            before={"deadline": date(2025, 6, 30), "investment": Decimal("1000.50")},
            after={
                "deadline": date(2025, 7, 31),
                "at": datetime(2025, 1, 2, 3, 4, tzinfo=UTC),
                "tags": {"x"},
                "nested": {"amount": Decimal("2")},
            },
            unit_id=unit_id,
        )
        db.session.commit()
        event_id = event.id
    with app.app_context():
        stored = db.session.get(AuditEvent, event_id)
        assert _count() == start + 1
        assert stored.entity_id == "7"
        assert stored.before == {"deadline": "2025-06-30", "investment": "1000.50"}
        assert stored.after["at"] == "2025-01-02T03:04:00+00:00"
        assert stored.after["tags"] == ["x"] and stored.after["nested"] == {"amount": "2"}
        assert stored.unit_id == unit_id


def test_record_does_not_commit(app):
    with app.app_context():
        audit.record(None, "x.y", "thing", 1)
        db.session.rollback()
        assert _count() == 0


def test_record_uses_the_clock(app):
    moment = datetime(2025, 5, 4, 3, 2, 1, tzinfo=UTC)
    with app.app_context(), time_machine.travel(moment, tick=False):
        audit.record(None, "x.y", "thing", 1)
        db.session.commit()
        assert db.session.scalar(select(AuditEvent.at)) == moment


def test_readers_order_and_limit(app, make_unit):
    base = datetime(2025, 1, 1, tzinfo=UTC)
    with time_machine.travel(base, tick=False) as traveller:
        unit_id = make_unit("T01")  # audited as unit.create at `base`, before the steps below
        other_unit = make_unit("T02")
        traveller.shift(timedelta(minutes=1))
        with app.app_context():
            for i in range(5):
                audit.record(None, f"step.{i}", "task", 42, unit_id=unit_id)
                traveller.shift(timedelta(minutes=1))
            audit.record(None, "other", "task", 43, unit_id=other_unit)
            db.session.commit()
    with app.app_context():
        assert [e.action for e in audit.for_entity("task", 42)] == [f"step.{i}" for i in range(5)]
        assert [e.action for e in audit.for_entity("task", "43")] == ["other"]
        latest = audit.for_unit(unit_id, limit=2)
        assert [e.action for e in latest] == ["step.4", "step.3"]
        assert [e.action for e in audit.for_unit(unit_id)][-1] == "unit.create"


def test_user_creation_is_audited_without_the_hash(app, make_unit):
    unit_id = make_unit("T01")
    with app.app_context():
        user = users.create_user("clerk", "Passw0rd!", "unit_staff", "办事员", unit_id=unit_id)
        [event] = audit.for_entity("user", user.id)
        assert event.action == "user.create"
        assert event.before is None
        assert event.after["username"] == "clerk" and event.after["unit_id"] == unit_id
        assert "password_hash" not in event.after
        assert user.password_hash not in str(event.after)
        assert event.unit_id == unit_id


def test_unit_creation_is_audited(app):
    with app.app_context():
        from app.services.accounts import units

        unit = units.ensure_unit("Z1", "某镇", "township")
        audit_unit = audit.for_entity("unit", unit.id)
        assert [e.action for e in audit_unit] == ["unit.create"]
        assert audit_unit[0].after == {
            "code": "Z1",
            "name": "某镇",
            "kind": "township",
            "parent_code": None,
            "lead_department": None,
        }
        # ensure_unit is idempotent: the second call neither changes nor audits anything.
        assert units.ensure_unit("Z1", "别的名字", "district").name == "某镇"
        assert len(audit.for_entity("unit", unit.id)) == 1
