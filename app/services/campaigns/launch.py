"""Launching a campaign: one process instance per enrolled unit, in batches.

Every instance of a campaign starts from the same process data (the campaign's deadlines),
so the start is run once per batch and its state copied to each unit's row; each batch is
one transaction and a unit never gets a second instance (unique campaign_id + unit_id).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app import clock, workdays
from app.engine import runtime
from app.errors import Refused
from app.extensions import db
from app.i18n import ITEMS, Joined, LazyText, _l
from app.models import Campaign, CampaignUnit, ProcessInstance, Task
from app.services.design import processes
from app.services.escalation import escalations, ladder
from app.services.shared import audit
from app.services.tasks import workflow

REVIEW_DAYS = 5  # working days after the self-check deadline
FOLLOW_UP_AFTER_DAYS = 90
# Without a follow-up phase in the notice, the review is due a month after its date.
FOLLOW_UP_DAYS = 30


class LaunchError(Refused):
    """A launch refused; `past` lists the phases whose deadline has passed, when that is why."""

    code = "launch_refused"

    def __init__(self, message: str | LazyText, past: list[tuple[str, date]] | None = None, status: int | None = None):
        self.past = past or []
        super().__init__(
            message,
            details=[{"phase": name, "ends": day.isoformat()} for name, day in self.past] or None,
            status=status,
        )


def past_deadlines(campaign: Campaign, now: datetime | None = None) -> list[tuple[str, date]]:
    """(phase name, deadline) of the phases whose deadline has already passed.

    A unit's step is due at the end of its phase's last working day. A campaign launched with
    such a deadline would start its units overdue and their ladder at once, so launching waits
    until the office sets new deadlines (the campaign's form, while it is a draft)."""
    now = now or clock.now()
    return [
        (p.name, p.ends)
        for p in sorted(campaign.phases, key=lambda p: p.position)
        if p.ends is not None and workdays.end_of_working_day(p.ends) <= now
    ]


@dataclass
class LaunchProgress:
    total: int
    done: int
    started_now: int
    finished: bool


def process_data(campaign: Campaign) -> dict[str, Any]:
    """Process data every instance of the campaign starts with."""
    ends = {p.key: p.ends for p in campaign.phases}
    deadlines = {key: runtime.iso(day) for key, day in ends.items()}
    if "self_check" in ends:
        deadlines["review"] = runtime.iso(workdays.add_working_days(ends["self_check"], REVIEW_DAYS))
    follow_up_day = campaign.follow_up_on or next((p.starts for p in campaign.phases if p.key == "follow_up"), None)
    if follow_up_day is None:
        last = ends.get("assessment") or max(ends.values())
        follow_up_day = last + timedelta(days=FOLLOW_UP_AFTER_DAYS)
    follow_up_at = datetime.combine(follow_up_day, time(9, 0), tzinfo=clock.local_tz())
    if "follow_up" not in deadlines:
        deadlines["follow_up"] = runtime.iso(follow_up_day + timedelta(days=FOLLOW_UP_DAYS))
    return {
        "campaign_id": campaign.id,
        "deadlines": deadlines,
        "follow_up_at": follow_up_at.isoformat(),
        # The multi-instance output is a map so every remedial round can write into it again.
        "ledger_done": {},
        "ladder": ladder.ladder_of(campaign),
        # New deadlines of returned steps (set when a review or a verification returns them).
        "self_check_redo_due": None,
        "item_redo_due": None,
    }


def _pending_units(campaign_id: int, limit: int) -> list[int]:
    started = select(ProcessInstance.unit_id).where(ProcessInstance.campaign_id == campaign_id)
    return list(
        db.session.scalars(
            select(CampaignUnit.unit_id)
            .where(CampaignUnit.campaign_id == campaign_id, CampaignUnit.unit_id.not_in(started))
            .order_by(CampaignUnit.unit_id)
            .limit(limit)
        )
    )


def _counts(campaign_id: int) -> tuple[int, int]:
    from sqlalchemy import func

    total = db.session.scalar(select(func.count()).select_from(CampaignUnit).filter_by(campaign_id=campaign_id))
    done = db.session.scalar(select(func.count()).select_from(ProcessInstance).filter_by(campaign_id=campaign_id))
    return total or 0, done or 0


def launch_next_batch(
    campaign_id: int, actor_id: int | None, batch_size: int | None = None, *, allow_past_deadlines: bool = False
) -> LaunchProgress:
    """Start instances for the next batch of enrolled units that have none; one transaction.

    The first batch is refused while a phase's deadline is already past (past_deadlines);
    `allow_past_deadlines` is for the demo, which plays a campaign already under way."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise LaunchError(_l("专项整治不存在"), status=404)
    if not campaign.phases:
        raise LaunchError(_l("该专项整治尚未设置阶段与时限，不能启动"))
    definition = processes.latest("rectification")
    if definition is None:
        raise LaunchError(_l("尚未部署整治流程，请先运行 flask processes deploy"))
    size = batch_size or current_app.config["LAUNCH_BATCH_SIZE"]
    now = clock.now()
    if campaign.launched_at is None and not allow_past_deadlines:
        past = past_deadlines(campaign, now)
        if past:
            listed = Joined(
                [_l("%(name)s（%(date)s）", name=name, date=f"{day:%Y-%m-%d}") for name, day in past], ITEMS
            )
            raise LaunchError(
                _l("以下阶段的截止日期已过：%(phases)s。请先修改为新的截止日期，再启动。", phases=listed), past
            )
    unit_ids = _pending_units(campaign_id, size)
    if unit_ids:
        template = runtime.start(processes.bundle_of(definition), process_data(campaign))
        state, ready = template.dump(), template.ready_tasks()
        phase = workflow.phase_of(template, ready, "deploy")
        next_timer = template.next_timer_at()
        try:
            ids = db.session.scalars(
                insert(ProcessInstance).returning(ProcessInstance.id, sort_by_parameter_order=True),
                [
                    dict(
                        campaign_id=campaign_id,
                        unit_id=u,
                        definition_id=definition.id,
                        status="running",
                        phase=phase,
                        round=1,
                        state=state,
                        lock_version=1,
                        next_timer_at=next_timer,
                        created_at=now,
                        updated_at=now,
                    )
                    for u in unit_ids
                ],
            ).all()
        except IntegrityError:
            db.session.rollback()
            raise LaunchError(_l("另一个启动操作正在进行，请稍后刷新进度")) from None
        rows = []
        for instance_id, unit_id in zip(ids, unit_ids, strict=True):
            for r in ready:
                rows.append(workflow.task_values(instance_id, campaign_id, unit_id, r, phase, now))
        if rows:
            db.session.execute(insert(Task), rows)
        _record_fired_rungs(template, campaign_id, list(zip(ids, unit_ids, strict=True)), now)
        audit.record_many(
            [
                dict(
                    at=now,
                    actor_id=actor_id,
                    action="instance.start",
                    entity_type="process_instance",
                    entity_id=str(i),
                    unit_id=u,
                    before=None,
                    after={"campaign_id": campaign_id, "definition_version": definition.version, "phase": phase},
                )
                for i, u in zip(ids, unit_ids, strict=True)
            ],
        )
    total, done = _counts(campaign_id)
    before = campaign.status
    campaign.status = "launched" if done >= total else "launching"
    campaign.launch_total, campaign.launch_done = total, done
    if campaign.launched_at is None and done:
        campaign.launched_at = now
    if before != campaign.status:
        audit.record(
            actor_id,
            "campaign.launch",
            "campaign",
            campaign_id,
            before={"status": before},
            after={"status": campaign.status, "instances": done},
        )
    db.session.commit()
    return LaunchProgress(total=total, done=done, started_now=len(unit_ids), finished=done >= total)


def _record_fired_rungs(template: runtime.Run, campaign_id: int, started: list[tuple[int, int]], now: datetime) -> None:
    """Rungs whose timers fired as the template started (a deadline already past, which only the
    demo allows): recorded for every instance, so the ladder takes them up one at a time."""
    payloads = [e.payload for e in template.take_effects() if e.kind == "escalate"]
    if not payloads:
        return
    tasks = {
        (i, s): t
        for t, i, s in db.session.execute(
            select(Task.id, Task.instance_id, Task.spiff_task_id).where(Task.instance_id.in_([i for i, _ in started]))
        )
    }
    rows = []
    for instance_id, unit_id in started:
        # values_for reads these few attributes; the rows themselves were inserted in bulk above.
        instance = SimpleNamespace(id=instance_id, campaign_id=campaign_id, unit_id=unit_id)
        for payload in payloads:
            task_id = tasks.get((instance_id, payload["spiff_task_id"]))
            task = (
                SimpleNamespace(
                    id=task_id, element_id=payload.get("element_id") or "", ledger_item_id=None, due_at=None
                )
                if task_id
                else None
            )
            rows.append(escalations.values_for(instance, payload, task, now))
    escalations.record_many(rows)


def launch_all(
    campaign_id: int,
    actor_id: int | None,
    batch_size: int | None = None,
    progress: Callable[[LaunchProgress], object] | None = None,
    *,
    allow_past_deadlines: bool = False,
) -> LaunchProgress:
    """Run batches until every enrolled unit has an instance; `progress(p)` after each batch."""
    while True:
        result = launch_next_batch(campaign_id, actor_id, batch_size, allow_past_deadlines=allow_past_deadlines)
        if progress:
            progress(result)
        if result.finished or result.started_now == 0:
            return result
