"""通报: public notices about overdue units; withdrawn with a reason, never deleted."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import clock
from app.extensions import db
from app.i18n import N_
from app.models import Escalation, PublicNotice
from app.services.shared import audit


def publish(escalation: Escalation, actor_id: int | None = None) -> PublicNotice:
    step = escalation.task.name if escalation.task else escalation.element_id
    what = f"整改事项「{escalation.ledger_item.title}」" if escalation.ledger_item else f"「{step}」"
    due = clock.to_local(escalation.due_at)
    since = f"，自{due:%Y年%m月%d日}起逾期" if due else ""
    notice = PublicNotice(
        escalation_id=escalation.id,
        campaign_id=escalation.campaign_id,
        unit_id=escalation.unit_id,
        task_id=escalation.task_id,
        summary=f"{escalation.unit.name}{what}逾期未完成{since}，经督办仍未办结，予以通报。",
        overdue_since=escalation.due_at,
        published_at=clock.now(),
    )
    db.session.add(notice)
    db.session.flush()
    audit.record(
        actor_id,
        "notice.publish",
        "public_notice",
        notice.id,
        after={"summary": notice.summary},
        unit_id=notice.unit_id,
    )
    return notice


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
