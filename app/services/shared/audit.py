"""The audit trail: who changed what, when, with the state before and after."""

import enum
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AuditEvent

from . import audit_chain


def json_safe(value: Any) -> Any:
    """Turn dates, Decimals, sets and the like into values a JSON column accepts."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        # A string keeps the exact amount (investment in 万元 must not drift through float).
        return str(value)
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def values(
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    unit_id: int | None = None,
) -> dict[str, Any]:
    """The column values of one audit event."""
    return dict(
        at=clock.now(),
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id="" if entity_id is None else str(entity_id),
        unit_id=unit_id,
        before=json_safe(before) if before is not None else None,
        after=json_safe(after) if after is not None else None,
    )


def record(
    actor_id: int | None,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    unit_id: int | None = None,
) -> AuditEvent:
    """Add an audit event (the arguments of `values`) to the current session; the calling
    service commits it with its change (the flush chains it: audit_chain)."""
    event = AuditEvent(**values(actor_id, action, entity_type, entity_id, before, after, unit_id))
    db.session.add(event)
    return event


def record_many(rows: list[dict[str, Any]]) -> None:
    """Write many events (each from `values`) in one executemany, for the sweep's batches,
    chained to the trail (two statements more per batch, whatever its size)."""
    audit_chain.append(rows)


def for_entity(entity_type: str, entity_id: int | str) -> list[AuditEvent]:
    """Every event about one entity, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(db.session.scalars(stmt))


def for_unit(unit_id: int, limit: int = 100) -> list[AuditEvent]:
    """The latest events about one unit, newest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.unit_id == unit_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
