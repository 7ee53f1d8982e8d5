"""The rectification ledger (整改台账): items, their states, and their process representation.

Functions here add to the session; the calling use case commits.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from app import clock, workdays
from app.engine import runtime
from app.extensions import db
from app.models import LedgerItem, LedgerStatus, ProcessInstance
from app.models.base import N_
from app.services.shared import audit

OPEN_STATUSES = ("rectifying", "rectified")
STATUS_NAMES = {
    "proposed": N_("待审核"),
    "rectifying": N_("正在整改"),
    "rectified": N_("已整改待核查"),
    "closed": N_("已销号"),
}
ORIGIN_NAMES = {
    "self_check": N_("自查自纠"),
    "supervision": N_("督导发现"),
    "remedial": N_("补课整改"),
    "follow_up": N_("回头看"),
    "tip": N_("群众举报"),
    "import": N_("台账导入"),
}
SOURCE_NAMES = {
    "residents": N_("居民群众"),
    "service_users": N_("服务对象"),
    "self_check": N_("自查自纠"),
    "supervision": N_("督导发现"),
    "tip_off": N_("信访举报"),
}


def _snapshot(item: LedgerItem) -> dict[str, Any]:
    return {
        "seq": item.seq,
        "title": item.title,
        "status": item.status,
        "deadline": item.deadline,
        "round": item.round,
        "origin": item.origin,
    }


def _next_seq(instance_id: int) -> int:
    return (db.session.scalar(select(func.max(LedgerItem.seq)).filter_by(instance_id=instance_id)) or 0) + 1


def _parse_deadline(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def create_items(
    instance: ProcessInstance, rows: list[dict[str, Any]], *, origin: str, status: str, actor_id: int | None
) -> list[LedgerItem]:
    """Create ledger items from form rows (title, source, measures, leader, department, deadline)."""
    seq = _next_seq(instance.id)
    items = []
    for offset, row in enumerate(rows):
        item = LedgerItem(
            instance_id=instance.id,
            campaign_id=instance.campaign_id,
            unit_id=instance.unit_id,
            seq=seq + offset,
            title=row["title"],
            source=row.get("source") or ("supervision" if origin == "supervision" else "self_check"),
            measures=row.get("measures") or "",
            responsible_leader=row.get("responsible_leader") or "",
            responsible_department=row.get("responsible_department") or "",
            deadline=_parse_deadline(row["deadline"]),
            status=status,
            origin=origin,
            round=instance.round,
            created_at=clock.now(),
            created_by_id=actor_id,
        )
        db.session.add(item)
        items.append(item)
    db.session.flush()
    for item in items:
        audit.record(actor_id, "ledger.create", "ledger_item", item.id, after=_snapshot(item), unit_id=item.unit_id)
    return items


def replace_proposed(instance: ProcessInstance, rows: list[dict[str, Any]], actor_id: int) -> list[LedgerItem]:
    """A (re)submitted self-check replaces the items it proposed before review."""
    old = list(db.session.scalars(select(LedgerItem).filter_by(instance_id=instance.id, status="proposed")))
    for item in old:
        audit.record(actor_id, "ledger.withdraw", "ledger_item", item.id, before=_snapshot(item), unit_id=item.unit_id)
        db.session.delete(item)
    db.session.flush()
    return create_items(instance, rows, origin="self_check", status="proposed", actor_id=actor_id)


def accept_proposed(instance: ProcessInstance, actor_id: int) -> list[LedgerItem]:
    items = list(
        db.session.scalars(
            select(LedgerItem).filter_by(instance_id=instance.id, status="proposed").order_by(LedgerItem.seq)
        )
    )
    for item in items:
        _set_status(item, "rectifying", actor_id)
    return items


def _set_status(item: LedgerItem, status: str, actor_id: int | None, action: str = "ledger.status") -> None:
    before = _snapshot(item)
    item.status = status
    item.closed_at = clock.now() if status == "closed" else None
    audit.record(actor_id, action, "ledger_item", item.id, before=before, after=_snapshot(item), unit_id=item.unit_id)


def mark_rectified(item_id: int, actor_id: int) -> None:
    _set_status(db.session.get_one(LedgerItem, item_id), "rectified", actor_id)


def verify(item_id: int, decision: str, actor_id: int) -> None:
    """销号 (close) or send the item back to rectifying."""
    item = db.session.get_one(LedgerItem, item_id)
    _set_status(
        item,
        "closed" if decision == "close" else "rectifying",
        actor_id,
        "ledger.close" if decision == "close" else "ledger.return",
    )


def reopen(instance: ProcessInstance, item_ids: list[int], actor_id: int) -> list[LedgerItem]:
    """A rebound found in the follow-up review reopens closed items."""
    items = list(
        db.session.scalars(
            select(LedgerItem).where(
                LedgerItem.instance_id == instance.id,
                LedgerItem.id.in_(item_ids),
                LedgerItem.status == LedgerStatus.CLOSED,
            )
        )
    )
    for item in items:
        item.reopen_count += 1
        item.round = instance.round
        _set_status(item, "rectifying", actor_id, "ledger.reopen")
    return items


def open_count(instance_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(LedgerItem)
            .where(LedgerItem.instance_id == instance_id, LedgerItem.status.in_(OPEN_STATUSES))
        )
        or 0
    )


def open_counts(instance_ids: Iterable[int]) -> dict[int, int]:
    """Open items of each instance, in one grouped query (a queue's page asks for all its rows at once)."""
    wanted = set(instance_ids)
    if not wanted:
        return {}
    found = db.session.execute(
        select(LedgerItem.instance_id, func.count())
        .where(LedgerItem.instance_id.in_(wanted), LedgerItem.status.in_(OPEN_STATUSES))
        .group_by(LedgerItem.instance_id)
    )
    counts = dict.fromkeys(wanted, 0)
    for instance_id, n in found.tuples():
        counts[instance_id] = n
    return counts


def for_instance(instance_id: int) -> list[LedgerItem]:
    return list(db.session.scalars(select(LedgerItem).filter_by(instance_id=instance_id).order_by(LedgerItem.seq)))


def for_instances(instance_ids: Iterable[int]) -> dict[int, list[LedgerItem]]:
    """The items of each instance, in one query (a unit's ledger page shows all its campaigns)."""
    found: dict[int, list[LedgerItem]] = {instance_id: [] for instance_id in instance_ids}
    if found:
        query = select(LedgerItem).where(LedgerItem.instance_id.in_(found)).order_by(LedgerItem.seq)
        for item in db.session.scalars(query):
            found[item.instance_id].append(item)
    return found


def closed_items(instance_id: int) -> list[LedgerItem]:
    return list(
        db.session.scalars(
            select(LedgerItem).filter_by(instance_id=instance_id, status="closed").order_by(LedgerItem.seq)
        )
    )


VERIFY_DAYS = 5  # working days


def as_process_item(item: LedgerItem) -> dict[str, Any]:
    """What the workflow carries per item: small, JSON-safe, with its own deadlines
    (supervisors verify within five working days of the item's deadline)."""
    return {
        "id": item.id,
        "seq": item.seq,
        "due": runtime.iso(item.deadline),
        "verify_due": runtime.iso(workdays.add_working_days(item.deadline, VERIFY_DAYS)),
    }


def as_process_items(items: list[LedgerItem]) -> list[dict[str, Any]]:
    return [as_process_item(i) for i in items]
