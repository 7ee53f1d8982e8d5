"""通报: public notices about overdue units; withdrawn with a reason, never deleted."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.i18n import N_
from app.models import Escalation, LedgerItem, PublicNotice, Unit
from app.services.shared import audit


@dataclass(frozen=True)
class Published:
    """A notice just published: what its rung's notification says of it."""

    escalation_id: int
    unit_id: int
    notice_id: int
    summary: str


def publish_many(batch: Sequence[Escalation], actor_id: int | None = None) -> list[Published]:
    """Publish the notices of many rungs in one executemany (adds to the caller's transaction).

    The unit names and ledger items they name are read in one statement each."""
    if not batch:
        return []
    now = clock.now()
    unit_names = dict(
        db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_({e.unit_id for e in batch}))).tuples().all()
    )
    item_ids = {e.ledger_item_id for e in batch if e.ledger_item_id}
    titles = (
        dict(
            db.session.execute(select(LedgerItem.id, LedgerItem.title).where(LedgerItem.id.in_(item_ids)))
            .tuples()
            .all()
        )
        if item_ids
        else {}
    )
    rows: list[dict[str, Any]] = []
    for escalation in sorted(batch, key=lambda e: e.id):
        step = escalation.task.name if escalation.task else escalation.element_id
        item = escalation.ledger_item_id
        what = f"整改事项「{titles[item]}」" if item else f"「{step}」"
        due = clock.to_local(escalation.due_at)
        since = f"，自{due:%Y年%m月%d日}起逾期" if due else ""
        rows.append(
            dict(
                escalation_id=escalation.id,
                campaign_id=escalation.campaign_id,
                unit_id=escalation.unit_id,
                task_id=escalation.task_id,
                summary=f"{unit_names[escalation.unit_id]}{what}逾期未完成{since}，经督办仍未办结，予以通报。",
                overdue_since=escalation.due_at,
                published_at=now,
            )
        )
    ids = db.session.scalars(insert(PublicNotice).returning(PublicNotice.id, sort_by_parameter_order=True), rows).all()
    audit.record_many(
        [
            audit.values(
                actor_id,
                "notice.publish",
                "public_notice",
                notice_id,
                after={"summary": row["summary"]},
                unit_id=row["unit_id"],
            )
            for row, notice_id in zip(rows, ids, strict=True)
        ]
    )
    return [
        Published(row["escalation_id"], row["unit_id"], notice_id, row["summary"])
        for row, notice_id in zip(rows, ids, strict=True)
    ]


NEED_REASON = N_("撤回通报须填写理由")
ALREADY = N_("该通报已撤回")


def take_down(notice: PublicNotice, actor_id: int, reason: str) -> None:
    """Withdraw a notice from the public page with a reason (adds to the session; the caller
    commits). Use withdrawal.withdraw_notice, which withdraws the ladder's rung with it."""
    notice.withdrawn_at, notice.withdrawn_by_id, notice.withdraw_reason = clock.now(), actor_id, reason[:1000]
    audit.record(
        actor_id,
        "notice.withdraw",
        "public_notice",
        notice.id,
        before={"withdrawn": False},
        after={"withdrawn": True, "reason": notice.withdraw_reason},
        unit_id=notice.unit_id,
    )


def published(campaign_id: int | None = None, include_withdrawn: bool = False) -> list[PublicNotice]:
    # Unit and campaign come with each notice: the pages show both (no query per row).
    query = (
        select(PublicNotice)
        .options(joinedload(PublicNotice.unit), joinedload(PublicNotice.campaign))
        .order_by(PublicNotice.published_at.desc())
    )
    if campaign_id:
        query = query.where(PublicNotice.campaign_id == campaign_id)
    if not include_withdrawn:
        query = query.where(PublicNotice.withdrawn_at.is_(None))
    return list(db.session.scalars(query))
