"""Withdrawing an escalation issued wrongly (撤回): kept, with who, when and why; never deleted.

A withdrawn letter no longer asks for an acknowledgement; a withdrawn notice leaves the public
page (the internal list keeps it, marked withdrawn); the unit is told. Rungs of the same step
still waiting their turn are cancelled with it: the ladder does not climb on a wrong rung.
"""

from sqlalchemy import select

from app import clock
from app.errors import NotFound, Refused
from app.extensions import db
from app.i18n import N_, _l
from app.models import Escalation, PublicNotice, SupervisionLetter
from app.models.escalation import LEVEL_NAMES
from app.services.escalation import escalations, ladder, notices_public
from app.services.messaging import notifications
from app.services.shared import audit

MAX_REASON = 1000


NEED_REASON = N_("撤回须填写理由")
ALREADY = N_("该督办已撤回")
NEVER_CARRIED_OUT = N_("该督办未执行（环节已办结），无需撤回")


class WithdrawRefused(Refused):
    code = "withdraw_refused"


def withdraw(escalation_id: int, actor_id: int, reason: str) -> Escalation:
    """Withdraw one rung (and what it issued) with a reason; LookupError, or WithdrawRefused."""
    reason = (reason or "").strip()[:MAX_REASON]
    if not reason:
        raise WithdrawRefused(NEED_REASON)
    escalation = _locked(escalation_id)
    if escalation is None:
        raise NotFound(_l("督办事项不存在"))
    if escalation.status == "withdrawn":
        raise WithdrawRefused(ALREADY)
    if escalation.status == "cancelled":
        raise WithdrawRefused(NEVER_CARRIED_OUT)
    _withdraw(escalation, actor_id, reason)
    db.session.commit()
    return escalation


def withdraw_notice(notice_id: int, actor_id: int, reason: str) -> PublicNotice:
    """Take a public notice down; one the ladder published withdraws its rung with it."""
    reason = (reason or "").strip()[:MAX_REASON]
    if not reason:
        raise WithdrawRefused(notices_public.NEED_REASON)
    notice = db.session.get(PublicNotice, notice_id)
    if notice is None:
        raise NotFound(_l("通报不存在"))
    escalation = _locked(notice.escalation_id) if notice.escalation_id else None
    db.session.refresh(notice)
    if notice.withdrawn_at is not None:
        raise WithdrawRefused(notices_public.ALREADY)
    if escalation is not None and escalation.status != "withdrawn":
        _withdraw(escalation, actor_id, reason)
    else:
        notices_public.take_down(notice, actor_id, reason)
        _tell_unit(notice.unit_id, "notice", reason)
    db.session.commit()
    return notice


def _locked(escalation_id: int) -> Escalation | None:
    """The escalation read under its instance's lock, then its own (the order completion and
    the sweep keep): a rung being carried out right now is waited for, not overwritten."""
    instance_id = db.session.scalar(select(Escalation.instance_id).where(Escalation.id == escalation_id))
    if instance_id is None:
        return None
    escalations.lock_instances([instance_id], wait=True)
    query = select(Escalation).where(Escalation.id == escalation_id).execution_options(populate_existing=True)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update()
    return db.session.scalars(query).first()


def _withdraw(escalation: Escalation, actor_id: int, reason: str) -> None:
    now = clock.now()
    before = escalation.status
    escalation.status, escalation.next_attempt_at = "withdrawn", None
    escalation.withdrawn_at, escalation.withdrawn_by_id, escalation.closed_reason = now, actor_id, reason
    audit.record(
        actor_id,
        "escalation.withdraw",
        "escalation",
        escalation.id,
        before={"status": before},
        after={"status": "withdrawn", "level": escalation.level, "reason": reason},
        unit_id=escalation.unit_id,
    )
    letter = db.session.scalars(select(SupervisionLetter).filter_by(escalation_id=escalation.id)).first()
    if letter is not None and letter.withdrawn_at is None:
        letter.withdrawn_at, letter.withdrawn_by_id, letter.withdraw_reason = now, actor_id, reason
        audit.record(
            actor_id,
            "letter.withdraw",
            "supervision_letter",
            letter.id,
            before={"withdrawn": False},
            after={"withdrawn": True, "doc_number": letter.doc_number, "reason": reason},
            unit_id=letter.unit_id,
        )
    notice = db.session.scalars(select(PublicNotice).filter_by(escalation_id=escalation.id)).first()
    if notice is not None and notice.withdrawn_at is None:
        notices_public.take_down(notice, actor_id, reason)
    if before == "done":  # the unit was told of it: it is told of the withdrawal too
        _tell_unit(escalation.unit_id, escalation.level, reason, letter, escalation)
    _cancel_later_rungs(escalation, actor_id)


def _cancel_later_rungs(escalation: Escalation, actor_id: int) -> None:
    query = (
        select(Escalation)
        .where(
            Escalation.instance_id == escalation.instance_id,
            Escalation.spiff_task_id == escalation.spiff_task_id,
            Escalation.status.in_(("pending", "incident")),
            Escalation.id != escalation.id,
        )
        .order_by(Escalation.id)
        .execution_options(populate_existing=True)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update()
    for rung in db.session.scalars(query):
        if ladder.rank(rung.level) <= ladder.rank(escalation.level):
            continue
        before = rung.status
        rung.status, rung.next_attempt_at = "cancelled", None
        rung.closed_reason = escalations.CANCEL_REASONS["withdrawn"]
        audit.record(
            actor_id,
            "escalation.cancel",
            "escalation",
            rung.id,
            before={"status": before},
            after={"status": "cancelled", "reason": rung.closed_reason},
            unit_id=rung.unit_id,
        )


def _tell_unit(
    unit_id: int, level: str, reason: str, letter: SupervisionLetter | None = None, escalation: Escalation | None = None
) -> None:
    what = letter.doc_number if letter is not None else LEVEL_NAMES.get(level, level)
    if escalation is not None and escalation.task is not None:
        title = notifications.compose(notifications.STEP_WITHDRAWN, step=escalation.task.name, level=what)
    else:
        title = notifications.compose(notifications.WITHDRAWN, level=what)
    link = (
        f"/letters/{letter.id}"
        if letter is not None
        else (f"/my/tasks/{escalation.task_id}" if escalation is not None and escalation.task_id else None)
    )
    notifications.notify_unit(
        unit_id, level, title, notifications.compose(notifications.WITHDRAWN_BODY, reason=reason), link=link
    )
