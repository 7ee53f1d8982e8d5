"""The audit trail's hash chain: sealing a transaction's events as it commits, verifying,
anchoring, and the retention guard.

Events are inserted as they happen, unchained. Just before a transaction commits, its events
(those its savepoints kept) are sealed: the writer locks the one row of `audit_chain_head`
(SELECT ... FOR UPDATE on PostgreSQL; SQLite has one writer at a time anyway), gives each event
the next place in the chain (`seq`) and its hash chained to the previous one's, moves the head
and commits. The head is the last lock a transaction takes and it is held only for those few
statements and the commit, so writers never wait on each other in the middle of their work and
no two can deadlock over it. Seqs are given in commit order, so every snapshot of the trail
holds the chain's first n places, without gaps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Connection, bindparam, delete, event, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from app import clock
from app.errors import DomainError
from app.extensions import db
from app.i18n import N_, LazyText, _l
from app.models.audit import CHAIN_ALGORITHM, CONTENT_FIELDS, GENESIS, AuditChainHead, AuditEvent, chain_hash

HEAD_ID = 1
_events = AuditEvent.__table__
_head = AuditChainHead.__table__
_PURGE = "audit_purge"  # the execution option that lets purge() delete (old) events
_PENDING = "audit_chain_pending"  # session.info: ids of the events this transaction wrote


class AuditImmutable(DomainError):
    """A change to the audit trail no role may make."""

    status = 403
    code = "audit_immutable"


# --------------------------------------------------------------------------- sealing


def _head_locked(conn: Connection) -> Any:
    return conn.execute(
        select(_head.c.last_seq, _head.c.last_hash).where(_head.c.id == HEAD_ID).with_for_update()
    ).first()


def _lock_head(conn: Connection) -> tuple[int, str]:
    """Lock the head (held until the transaction ends) and return its last seq and hash."""
    row = _head_locked(conn)
    if row is None:
        # No head (a database whose tables were emptied): start after the newest event there
        # is. Writers racing to create it: one inserts, the others wait for it and lock it.
        last = conn.execute(
            select(_events.c.seq, _events.c.hash)
            .where(_events.c.seq.is_not(None))
            .order_by(_events.c.seq.desc())
            .limit(1)
        ).first()
        last_seq, last_hash = (last.seq, last.hash or GENESIS) if last is not None else (0, GENESIS)
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(
            dialect_insert(_head)
            .values(id=HEAD_ID, last_seq=last_seq, last_hash=last_hash, base_seq=0, base_hash=GENESIS)
            .on_conflict_do_nothing()
        )
        row = _head_locked(conn)
    return int(row.last_seq), str(row.last_hash)


def chain(last_seq: int, last_hash: str, rows: Iterable[dict[str, Any]]) -> tuple[int, str]:
    """Give each row (an event's columns, in order) its place and link after (last_seq,
    last_hash); return the new last place and hash."""
    for row in rows:
        last_seq += 1
        row["seq"] = last_seq
        row["prev_hash"] = last_hash
        row["hash_alg"] = CHAIN_ALGORITHM
        row["hash"] = last_hash = chain_hash(CHAIN_ALGORITHM, last_hash, row)
    return last_seq, last_hash


def seal(conn: Connection, ids: set[int]) -> int:
    """Chain the events `ids` written by this transaction (those still there: a savepoint that
    rolled back took its own with it), in id order, after the head; return how many."""
    last_seq, last_hash = _lock_head(conn)
    columns = [_events.c[name] for name in CONTENT_FIELDS if name != "seq"]
    found = conn.execute(
        select(*columns).where(_events.c.id.between(min(ids), max(ids)), _events.c.seq.is_(None)).order_by(_events.c.id)
    )
    # The range may hold other transactions' events too, if they committed unchained (forged):
    # only this transaction's own are sealed.
    rows = [dict(row._mapping) for row in found if row.id in ids]
    if not rows:
        return 0
    last_seq, last_hash = chain(last_seq, last_hash, rows)
    conn.execute(
        update(_events)
        .where(_events.c.id == bindparam("b_id"))
        .values(
            seq=bindparam("b_seq"),
            prev_hash=bindparam("b_prev"),
            hash=bindparam("b_hash"),
            hash_alg=bindparam("b_alg"),
        ),
        [
            {"b_id": r["id"], "b_seq": r["seq"], "b_prev": r["prev_hash"], "b_hash": r["hash"], "b_alg": r["hash_alg"]}
            for r in rows
        ],
    )
    conn.execute(update(_head).where(_head.c.id == HEAD_ID).values(last_seq=last_seq, last_hash=last_hash))
    return len(rows)


def _pending(session: Session) -> set[int]:
    pending: set[int] = session.info.setdefault(_PENDING, set())
    return pending


def append(rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert many events (each from audit.values) in one executemany; they are chained when
    the transaction commits."""
    if not rows:
        return
    ids = db.session.scalars(insert(AuditEvent).returning(AuditEvent.id), [dict(row) for row in rows]).all()
    _pending(db.session()).update(ids)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """Refuse changing or deleting an event through the ORM."""
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditImmutable(_l("审计事件不可删除"))
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditImmutable(_l("审计事件不可修改"))


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    """Remember the events added with session.add (audit.record), to seal them at commit."""
    ids = [obj.id for obj in session.new if isinstance(obj, AuditEvent)]
    if ids:
        _pending(session).update(ids)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    """Seal this transaction's events, last thing before it commits (not at a savepoint's
    release: the head's lock would then be held for the rest of the transaction)."""
    if session.in_nested_transaction():
        return
    session.flush()
    ids = session.info.pop(_PENDING, None)
    if ids:
        seal(session.connection(), ids)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A transaction that ended without committing leaves no events to seal."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """An ORM UPDATE or DELETE of audit events is refused (purge() alone deletes, old ones)."""
    if not (state.is_update or state.is_delete):
        return
    if any(m.class_ is AuditEvent for m in state.all_mappers):
        if state.is_delete and state.execution_options.get(_PURGE):
            return
        raise AuditImmutable(_l("审计事件不可修改或删除"))


# --------------------------------------------------------------------------- verifying


@dataclass
class Problem:
    kind: str  # altered | deleted | inserted | head | anchor
    event_id: int | None
    seq: int | None
    message: LazyText


def _altered(event_id: int, seq: int | None) -> Problem:
    return Problem("altered", event_id, seq, _l("审计事件 #%(id)s 已被修改", id=event_id))


def _deleted(first: int, last: int, after_id: int | None) -> Problem:
    """Places first..last of the chain are missing (after the event `after_id`, if any)."""
    if first == last:
        message = _l("链序号 %(seq)s 的审计事件已被删除", seq=first)
    else:
        message = _l("链序号 %(first)s–%(last)s 的审计事件已被删除", first=first, last=last)
    if after_id is not None:
        message = _l("%(message)s（在审计事件 #%(id)s 之后）", message=message, id=after_id)
    return Problem("deleted", None, first, message)


def _inserted(event_id: int, seq: int | None) -> Problem:
    return Problem("inserted", event_id, seq, _l("审计事件 #%(id)s 不是本系统写入的（被插入）", id=event_id))


@dataclass
class Verification:
    count: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    head_id: int | None = None
    base_seq: int = 0
    algorithms: dict[str, int] = field(default_factory=dict)
    problem: Problem | None = None
    checked_at: datetime = field(default_factory=clock.now)

    @property
    def ok(self) -> bool:
        return self.problem is None


@contextmanager
def _rows_after(seq: int) -> Iterator[Iterator[Any]]:
    """The events after place `seq`, in chain order, streamed (one statement: one snapshot)."""
    stmt = select(_events).where(_events.c.seq > seq).order_by(_events.c.seq).execution_options(yield_per=2000)
    rows = db.session.execute(stmt)
    try:
        yield iter(rows)
    finally:
        rows.close()


class _Walk:
    """The chain walked so far: the last event accepted (its place, hash and id)."""

    def __init__(self, result: Verification, base_seq: int, base_hash: str):
        self.result = result
        self.seq, self.hash, self.id = base_seq, base_hash, None
        self.watch: int | None = None  # a place whose hash the head names
        self.watched: str | None = None

    def extend(self, rows: Iterator[Any]) -> bool:
        """Accept rows that continue the chain; False (with the problem) at the first that does not."""
        result = self.result
        for row in rows:
            if row.seq <= self.seq:  # a place taken twice
                result.problem = _inserted(row.id, row.seq)
                return False
            if row.seq > self.seq + 1:
                result.problem = _deleted(self.seq + 1, row.seq - 1, self.id)
                return False
            try:
                digest = chain_hash(row.hash_alg, row.prev_hash, dict(row._mapping))
            except (ValueError, TypeError):  # an algorithm or a link that is no such thing
                digest = None
            if digest != row.hash:
                result.problem = _altered(row.id, row.seq)
                return False
            if row.prev_hash != self.hash:
                # This event is intact but the one before it is not the one it was chained to:
                # that one was changed and its hash recomputed (or, at the start, events before
                # this one were deleted).
                result.problem = _altered(self.id, self.seq) if self.id is not None else _altered(row.id, row.seq)
                return False
            self.seq, self.hash, self.id = row.seq, row.hash, row.id
            if row.seq == self.watch:
                self.watched = row.hash
            result.count += 1
            result.algorithms[row.hash_alg] = result.algorithms.get(row.hash_alg, 0) + 1
        return True


def _head_row() -> Any:
    return db.session.execute(select(_head).where(_head.c.id == HEAD_ID)).first()


def _event_at(seq: int) -> Any:
    return db.session.execute(select(_events.c.id, _events.c.hash).where(_events.c.seq == seq)).first()


def verify(max_rounds: int = 20) -> Verification:
    """Walk the chain in seq order; stop at the first altered, deleted or inserted event.

    Writers may append meanwhile (verify takes no lock; a writer moves the head in the same
    transaction as it seals its events). A walk that starts after the head was read must reach
    the place the head names, with its hash, or events were deleted (or altered); a head read
    after a walk knows every event that walk saw, so an event past it was not written by the
    application. While the head has moved on, the walk goes on from where it stopped. Last, an
    event outside the chain (no place, or a place before its start) was not written by the
    application either."""
    result = Verification()
    head = _head_row()
    walk = _Walk(result, *((head.base_seq, head.base_hash) if head is not None else (0, GENESIS)))
    result.base_seq = walk.seq
    for _ in range(max_rounds):
        before = head
        walk.watch = before.last_seq if before is not None else None
        walk.watched = walk.hash if walk.watch == walk.seq else None
        with _rows_after(walk.seq) as rows:
            if not walk.extend(rows):
                return result
        if before is not None:
            # This walk started after `before` was read: it must have reached it, unchanged.
            if walk.seq < before.last_seq:
                result.problem = _deleted(walk.seq + 1, before.last_seq, walk.id)
                return result
            if walk.watched != before.last_hash:
                named = _event_at(before.last_seq)
                result.problem = (
                    _altered(named.id, before.last_seq) if named else _deleted(before.last_seq, before.last_seq, None)
                )
                return result
        head = _head_row()
        if head is None:
            if result.count:
                result.problem = Problem("head", None, None, _l("审计链的链头记录已被删除"))
            return result
        if walk.seq > head.last_seq:
            # A head read after the walk knows every event the walk saw.
            forged = _event_at(head.last_seq + 1)
            result.problem = _inserted(forged.id if forged else 0, head.last_seq + 1)
            return result
        if walk.seq == head.last_seq:
            if walk.hash != head.last_hash:
                result.problem = _altered(walk.id or 0, walk.seq)
                return result
            break
        # Events appended meanwhile: walk on from here.
    stray = db.session.scalar(
        select(func.min(_events.c.id)).where(or_(_events.c.seq.is_(None), _events.c.seq <= result.base_seq))
    )
    if stray is not None:
        result.problem = _inserted(stray, None)
        return result
    result.head_seq, result.head_hash, result.head_id = walk.seq, walk.hash, walk.id
    return result


_PROBLEMS = {
    "altered": N_("审计事件 #%(id)s 已被修改"),
    "deleted": N_("链序号 %(seq)s 起的审计事件已被删除"),
    "inserted": N_("审计事件 #%(id)s 不是本系统写入的（被插入）"),
    "head": N_("审计链的链头记录已被删除"),
}


@dataclass
class LastVerification:
    """The last verification, as remembered on the chain's head."""

    at: datetime
    count: int
    problem: str | None
    event_id: int | None
    seq: int | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def message(self) -> LazyText | None:
        if self.problem is None:
            return None
        return _l(_PROBLEMS.get(self.problem, _PROBLEMS["altered"]), id=self.event_id, seq=self.seq)


def remember(result: Verification) -> None:
    """Keep `result` on the head for the audit page (the caller commits)."""
    problem = result.problem
    db.session.execute(
        update(_head)
        .where(_head.c.id == HEAD_ID)
        .values(
            verified_at=result.checked_at,
            verified_count=result.count,
            verified_problem=problem.kind if problem is not None else None,
            verified_event_id=problem.event_id if problem is not None else None,
            verified_seq=problem.seq if problem is not None else None,
        )
    )


def last_verification() -> LastVerification | None:
    row = db.session.execute(select(_head).where(_head.c.id == HEAD_ID)).first()
    if row is None or row.verified_at is None:
        return None
    return LastVerification(
        row.verified_at, row.verified_count or 0, row.verified_problem, row.verified_event_id, row.verified_seq
    )


def verify_and_remember() -> Verification:
    """Verify the chain and keep the result for the audit page, in its own short transaction."""
    result = verify()
    remember(result)
    db.session.commit()
    return result


# --------------------------------------------------------------------------- anchoring


def anchor(verification: Verification | None = None) -> dict[str, Any]:
    """The chain's head and length, for an archive outside the database."""
    v = verification or verify()
    return {
        "head_seq": v.head_seq,
        "head_hash": v.head_hash,
        "head_id": v.head_id,
        "count": v.count,
        "base_seq": v.base_seq,
        "hash_alg": CHAIN_ALGORITHM,
        "anchored_at": v.checked_at.isoformat(),
    }


def check_anchor(anchored: Mapping[str, Any], verification: Verification) -> Problem | None:
    """Whether the (verified) chain still extends an anchor written earlier: the anchored
    place still holds the anchored hash (a chain rewritten from there on, hashes recomputed,
    would verify on its own but not against the anchor)."""
    try:
        head_seq, head_hash = int(anchored["head_seq"]), str(anchored["head_hash"])
    except (KeyError, TypeError, ValueError):
        return Problem("anchor", None, None, _l("锚点文件格式不正确"))
    if head_seq == 0 or head_seq <= verification.base_seq:
        return None  # an empty chain then, or a part purged since after the retention period
    stored = _event_at(head_seq)
    if stored is None:
        return _deleted(head_seq, head_seq, None)
    if stored.hash != head_hash:
        return Problem(
            "altered",
            stored.id,
            head_seq,
            _l("审计事件 #%(id)s 与锚点记录的哈希不符（链被改写）", id=stored.id),
        )
    return None


def load_anchor(text: str) -> dict[str, Any]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("anchor is not a JSON object")
    return data


def write_daily_anchor(directory: Path) -> Path | None:
    """Verify the chain and, if it holds, write today's anchor (audit-anchor-YYYY-MM-DD.json)
    into `directory` unless it is there already; the result is remembered for the audit page.
    Returns the file written, None if today's was there; raises AuditChainBroken if the chain
    does not verify (no anchor is written for a broken chain)."""
    target = directory / f"audit-anchor-{clock.today().isoformat()}.json"
    if target.exists():
        return None
    result = verify_and_remember()
    if result.problem is not None:
        raise AuditChainBroken(result.problem.message)
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(anchor(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    partial.replace(target)  # never half a file under the final name
    return target


class AuditChainBroken(DomainError):
    status = 409
    code = "audit_chain_broken"


# --------------------------------------------------------------------------- retention


def retention_days() -> int:
    return int(current_app.config.get("AUDIT_RETENTION_DAYS", 180))


def purge(older_than_days: int, actor_id: int | None = None) -> int:
    """Delete the events older than `older_than_days` days, oldest first, keeping the chain
    checkable (its base moves to the last one deleted). Refused below the retention period."""
    keep = retention_days()
    if older_than_days < keep:
        raise AuditImmutable(_l("审计事件至少保留 %(days)s 天，不能删除更新的事件", days=keep), code="audit_retention")
    cutoff = clock.now() - timedelta(days=older_than_days)
    conn = db.session.connection()
    _lock_head(conn)
    # The chain is cut at a prefix: up to the first event that is not old enough.
    first_young = conn.scalar(select(func.min(_events.c.seq)).where(_events.c.at >= cutoff))
    last_old = conn.scalar(
        select(func.max(_events.c.seq)).where(_events.c.seq < first_young)
        if first_young is not None
        else select(func.max(_events.c.seq))
    )
    if last_old is None:
        return 0
    base_hash = conn.scalar(select(_events.c.hash).where(_events.c.seq == last_old))
    result = db.session.execute(delete(AuditEvent).where(AuditEvent.seq <= last_old), execution_options={_PURGE: True})
    deleted = int(getattr(result, "rowcount", 0))
    conn.execute(update(_head).where(_head.c.id == HEAD_ID).values(base_seq=last_old, base_hash=base_hash or GENESIS))
    db.session.add(
        AuditEvent(
            at=clock.now(),
            actor_id=actor_id,
            action="audit.purge",
            entity_type="audit",
            entity_id=str(last_old),
            after={"deleted": deleted, "older_than_days": older_than_days, "up_to_seq": last_old},
        )
    )
    return deleted
