"""The audit trail, and the hash chain that makes it tamper-evident.

Every event has a place in the chain, `seq` (1, 2, 3, ... without gaps, given when its
transaction commits), and stores `hash` = H(prev_hash, canonical content) with the `prev_hash`
it was chained to (the hash of the event at seq - 1); the algorithm is recorded per row (SM3
where hashlib offers it, SHA-256 otherwise). The one-row `audit_chain_head` table remembers
the last link, so that deleting the newest events is noticed too, and its row lock orders
the committing writers."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

GENESIS = "0" * 64  # the prev_hash of the first event ever written


def _available(name: str) -> bool:
    try:
        hashlib.new(name)
    except (ValueError, TypeError):
        return False
    return True


CHAIN_ALGORITHM = "sm3" if _available("sm3") else "sha256"
CONTENT_FIELDS = ("id", "seq", "at", "actor_id", "action", "entity_type", "entity_id", "unit_id", "before", "after")


def _json_value(value: Any) -> Any:
    """The value as the JSON column gives it back (keys become strings, tuples lists)."""
    return None if value is None else json.loads(json.dumps(value, ensure_ascii=False))


def _at(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def canonical(fields: dict[str, Any]) -> bytes:
    """One event's content as bytes: the same before it is written and after it is read back."""
    content = {
        "id": int(fields["id"]),
        "seq": int(fields["seq"]),
        "at": _at(fields["at"]),
        "actor_id": fields.get("actor_id"),
        "action": fields["action"],
        "entity_type": fields["entity_type"],
        "entity_id": str(fields["entity_id"]),
        "unit_id": fields.get("unit_id"),
        "before": _json_value(fields.get("before")),
        "after": _json_value(fields.get("after")),
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(algorithm: str, prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of one event chained to the previous one's."""
    digest = hashlib.new(algorithm)
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(fields))
    return digest.hexdigest()


class AuditEvent(Base):
    """Who changed what, when, with the state before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    before: Mapped[dict | None]
    after: Mapped[dict | None]
    # The chain (null only on a row that was not written by the application: the application
    # chains its events in the transaction that writes them, before it commits).
    seq: Mapped[int | None] = mapped_column(unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    hash_alg: Mapped[str | None] = mapped_column(String(8))

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CONTENT_FIELDS}


class AuditChainHead(Base):
    """The one row (id 1) every committing writer locks: the last link written, and where the
    chain starts (base: the last event purged after the retention period, 0 and GENESIS if
    none)."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
    base_seq: Mapped[int]
    base_hash: Mapped[str] = mapped_column(String(64))
    # The last verification (page or `flask audit verify`): when, how many events, and the
    # first problem found (its kind and event), none if the chain verified.
    verified_at: Mapped[datetime | None]
    verified_count: Mapped[int | None]
    verified_problem: Mapped[str | None] = mapped_column(String(16))
    verified_event_id: Mapped[int | None]
    verified_seq: Mapped[int | None]
