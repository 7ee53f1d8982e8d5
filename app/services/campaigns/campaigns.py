"""Campaigns: create one from a notice, edit it while a draft, enrol units."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from app import clock, workdays
from app.extensions import db
from app.i18n import ITEMS, Joined, LazyText, _l
from app.models import Campaign, CampaignPhase, CampaignTask, CampaignUnit, ProcessInstance, Unit
from app.models.base import new_public_slug
from app.models.campaign import PHASE_NAMES, PHASES
from app.services.campaigns.notices import (
    REQUIRED_PHASES,
    UNIT_KINDS_SELECTABLE,
    CampaignError,
    NoticeInput,
    split_units,
)
from app.services.shared import audit, data_versions

# ---- validation --------------------------------------------------------------

LADDER_LEVELS = ("reminder", "letter", "notice")
LADDER_MAX_DAYS = 60


def _validate_ladder(ladder: dict[str, Any] | None) -> None:
    if not ladder:
        return
    previous: float = -1
    for level in LADDER_LEVELS:
        rung = ladder.get(level)
        if rung is None:
            continue
        days, unit = rung.get("days"), rung.get("unit")
        if not isinstance(days, int) or not 0 <= days <= LADDER_MAX_DAYS:
            raise CampaignError(_l("天数须为0到%(max)s之间的整数", max=LADDER_MAX_DAYS), f"{level}_days")
        if unit not in ("working", "calendar"):
            raise CampaignError(_l("请选择工作日或自然日"), f"{level}_unit")
        # Compare in roughly the same scale: the ladder must climb, never step back.
        approx = days * (7 / 5 if unit == "working" else 1)
        if approx < previous:
            raise CampaignError(_l("督办阶梯须逐级递进：督办函不早于催办，通报不早于督办函"), f"{level}_days")
        previous = approx


def calendar_warning(campaign: Campaign) -> list[int]:
    """Years of the campaign no holiday arrangement covers (working days count weekends only
    there, until the office enters them); a deadline late in December reaches into the next year."""
    days = [d for p in campaign.phases for d in (p.starts, p.ends)] + [campaign.follow_up_on]
    years = {d.year for d in days if d} | {d.year + 1 for d in days if d and d.month == 12}
    return workdays.uncovered(years)


def _validate(notice: NoticeInput, campaign_id: int | None = None) -> None:
    _validate_ladder(notice.ladder)
    doc_number = (notice.doc_number or "").strip()
    if not doc_number:
        raise CampaignError(_l("请填写文号"), "doc_number")
    taken = select(Campaign.id).where(Campaign.doc_number == doc_number)
    if campaign_id is not None:
        taken = taken.where(Campaign.id != campaign_id)
    if db.session.scalar(taken) is not None:
        raise CampaignError(_l("文号已存在"), "doc_number")
    if not (notice.issuer or "").strip():
        raise CampaignError(_l("请填写发文机关"), "issuer")
    if notice.issued_on is None:
        raise CampaignError(_l("请填写发文日期"), "issued_on")
    if not (notice.title or "").strip():
        raise CampaignError(_l("请填写标题"), "title")
    if len((notice.kind or "").strip()) > 64:
        raise CampaignError(_l("整治类别不能超过64个字"), "kind")
    seen: set[str] = set()
    for i, phase in enumerate(notice.phases):
        key = phase.get("key")
        if key not in PHASES:
            raise CampaignError(_l("未知的阶段：%(key)s", key=key), f"phases.{i}.key")
        if key in seen:
            raise CampaignError(_l("阶段“%(phase)s”重复", phase=LazyText(PHASE_NAMES[key])), f"phases.{i}.key")
        seen.add(key)
        if phase.get("starts") is None:
            raise CampaignError(_l("请填写开始日期"), f"phases.{i}.starts")
        if phase.get("ends") is None:
            raise CampaignError(_l("请填写截止日期"), f"phases.{i}.ends")
        if phase["ends"] < phase["starts"]:
            raise CampaignError(_l("截止日期不能早于开始日期"), f"phases.{i}.ends")
    for key in REQUIRED_PHASES:
        if key not in seen:
            raise CampaignError(_l("缺少“%(phase)s”阶段", phase=LazyText(PHASE_NAMES[key])), "phases")
    numbers: set[int] = set()
    for i, task in enumerate(notice.tasks):
        no = task.get("no")
        if not isinstance(no, int) or no < 1:
            raise CampaignError(_l("任务序号应为正整数"), f"tasks.{i}.no")
        if no in numbers:
            raise CampaignError(_l("任务序号 %(no)s 重复", no=no), f"tasks.{i}.no")
        numbers.add(no)
        if not (task.get("title") or "").strip():
            raise CampaignError(_l("请填写任务内容"), f"tasks.{i}.title")
        if not (task.get("lead_unit") or "").strip():
            raise CampaignError(_l("请填写牵头单位"), f"tasks.{i}.lead_unit")
        if task.get("starts") and task.get("ends") and task["ends"] < task["starts"]:
            raise CampaignError(_l("截止日期不能早于开始日期"), f"tasks.{i}.ends")


def _fill(campaign: Campaign, notice: NoticeInput) -> None:
    campaign.doc_number = notice.doc_number.strip()
    campaign.issuer = notice.issuer.strip()
    assert notice.issued_on is not None  # _validate refused a notice without one
    campaign.issued_on = notice.issued_on
    campaign.title = notice.title.strip()
    campaign.body = notice.body or ""
    campaign.follow_up_on = notice.follow_up_on
    campaign.ladder = dict(notice.ladder or {})
    campaign.kind = (notice.kind or "").strip()
    ordered = sorted(notice.phases, key=lambda p: PHASES.index(p["key"]))
    campaign.phases = [
        CampaignPhase(
            key=p["key"],
            name=(p.get("name") or "").strip() or PHASE_NAMES[p["key"]],
            position=PHASES.index(p["key"]),
            starts=p["starts"],
            ends=p["ends"],
        )
        for p in ordered
    ]
    campaign.tasks = [
        CampaignTask(
            no=t["no"],
            title=t["title"].strip(),
            lead_unit=t["lead_unit"].strip(),
            responsible_units=split_units(t.get("responsible_units")),
            starts=t.get("starts"),
            ends=t.get("ends"),
        )
        for t in sorted(notice.tasks, key=lambda t: t["no"])
    ]


def snapshot(campaign: Campaign) -> dict[str, Any]:
    """The notice as stored, for audit before/after."""
    return {
        "doc_number": campaign.doc_number,
        "issuer": campaign.issuer,
        "issued_on": campaign.issued_on,
        "title": campaign.title,
        "follow_up_on": campaign.follow_up_on,
        "status": campaign.status,
        "ladder": campaign.ladder,
        "kind": campaign.kind,
        "phases": [{"key": p.key, "starts": p.starts, "ends": p.ends} for p in campaign.phases],
        "tasks": [{"no": t.no, "title": t.title, "lead_unit": t.lead_unit} for t in campaign.tasks],
    }


# ---- use cases -------------------------------------------------------------


def create_campaign(notice: NoticeInput, actor_id: int | None) -> Campaign:
    """Validate a notice and store it as a draft campaign."""
    _validate(notice)
    campaign = Campaign(status="draft", created_at=clock.now(), launch_total=0, launch_done=0)
    _fill(campaign, notice)
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor_id, "campaign.create", "campaign", campaign.id, after=snapshot(campaign))
    db.session.commit()
    return campaign


def update_campaign(campaign_id: int, notice: NoticeInput, actor_id: int | None) -> Campaign:
    """Change a draft's notice; once launched, deadlines live in the running instances."""
    campaign = _get_or_error(campaign_id)
    if campaign.status != "draft":
        raise CampaignError(_l("专项整治已启动，不能再修改通知"))
    _validate(notice, campaign_id=campaign.id)
    before = snapshot(campaign)
    # Old rows go first: the new phases reuse their (campaign, key) pairs.
    campaign.phases.clear()
    campaign.tasks.clear()
    db.session.flush()
    _fill(campaign, notice)
    audit.record(actor_id, "campaign.update", "campaign", campaign.id, before=before, after=snapshot(campaign))
    db.session.commit()
    return campaign


_CHUNK = 500  # keeps IN (...) lists well under SQLite's bound-parameter limit


def _selected_units(selection: str) -> list[ColumnElement[bool] | None]:
    """WHERE clauses on Unit for an enrolment selection, one per chunk of codes; [None] means all."""
    selection = (selection or "").strip()
    if selection == "all":
        return [None]
    kind, _, value = selection.partition(":")
    if kind == "kind" and value in UNIT_KINDS_SELECTABLE:
        return [Unit.kind == value]
    if kind == "codes":
        codes = sorted(set(split_units(value)))
        if not codes:
            raise CampaignError(_l("请填写单位代码"), "units")
        chunks = [codes[i : i + _CHUNK] for i in range(0, len(codes), _CHUNK)]
        known: set[str] = set()
        for chunk in chunks:
            known.update(db.session.scalars(select(Unit.code).where(Unit.code.in_(chunk))))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise CampaignError(_l("未知的单位代码：%(codes)s", codes=Joined(unknown, ITEMS)), "units")
        return [Unit.code.in_(chunk) for chunk in chunks]
    raise CampaignError(_l("单位范围应为 all、kind:township、kind:department 或 codes:代码1,代码2"), "units")


def _give_public_slugs(campaign_unit_ids: Sequence[int]) -> None:
    # INSERT ... SELECT cannot call Python for a random slug per row, so they follow in one executemany.
    if campaign_unit_ids:
        db.session.execute(
            update(CampaignUnit), [{"id": i, "public_slug": new_public_slug()} for i in campaign_unit_ids]
        )


def enrol_units(campaign_id: int, selection: str, actor_id: int | None) -> int:
    """Enrol the selected units (already enrolled ones are skipped); returns how many are new."""
    campaign = _get_or_error(campaign_id)
    if campaign.status == "closed":
        raise CampaignError(_l("专项整治已结束，不能再纳入单位"), "units")
    already = exists().where(CampaignUnit.campaign_id == campaign.id, CampaignUnit.unit_id == Unit.id)
    added = 0
    # INSERT ... SELECT: enrolling 20,000 units is one statement, not 20,000.
    for where in _selected_units(selection):
        source = select(literal(campaign.id), Unit.id).where(~already)
        if where is not None:
            source = source.where(where)
        try:
            # Count what RETURNING gives back: psycopg reports no rowcount for this INSERT ... SELECT.
            new_ids = db.session.scalars(
                insert(CampaignUnit)
                .from_select(["campaign_id", "unit_id"], source, include_defaults=False)
                .returning(CampaignUnit.id)
                .execution_options(**data_versions.touching([campaign.id]))
            ).all()
        except IntegrityError:
            # Someone else enrolled some of the same units a moment ago.
            db.session.rollback()
            raise CampaignError(_l("其他人正在纳入单位，请稍后重试"), "units") from None
        added += len(new_ids)
        _give_public_slugs(new_ids)
    shown = selection if len(selection) <= 500 else selection[:500] + "…"
    audit.record(actor_id, "campaign.enrol", "campaign", campaign.id, after={"selection": shown, "enrolled": added})
    db.session.commit()
    return added


# ---- queries -----------------------------------------------------------------


def get_campaign(campaign_id: int) -> Campaign | None:
    return db.session.get(Campaign, campaign_id)


def _get_or_error(campaign_id: int) -> Campaign:
    campaign = get_campaign(campaign_id)
    if campaign is None:
        raise CampaignError(_l("专项整治不存在"))
    return campaign


def find_campaign(ref: str) -> Campaign | None:
    """A campaign by id or by doc number (for the command line)."""
    ref = str(ref).strip()
    if ref.isdigit():
        found = get_campaign(int(ref))
        if found is not None:
            return found
    return db.session.scalar(select(Campaign).where(Campaign.doc_number == ref))


def list_campaigns() -> list[Campaign]:
    """Newest first."""
    return list(db.session.scalars(select(Campaign).order_by(Campaign.issued_on.desc(), Campaign.id.desc())))


def enrolled_count(campaign_id: int) -> int:
    return (
        db.session.scalar(select(func.count()).select_from(CampaignUnit).where(CampaignUnit.campaign_id == campaign_id))
        or 0
    )


def enrolled_counts(campaign_ids: list[int]) -> dict[int, int]:
    """Enrolled units per campaign, in one GROUP BY."""
    if not campaign_ids:
        return {}
    rows = db.session.execute(
        select(CampaignUnit.campaign_id, func.count())
        .where(CampaignUnit.campaign_id.in_(campaign_ids))
        .group_by(CampaignUnit.campaign_id)
    )
    return dict(rows.tuples().all())


def started_count(campaign_id: int) -> int:
    """Units whose process instance has been started."""
    return (
        db.session.scalar(
            select(func.count()).select_from(ProcessInstance).where(ProcessInstance.campaign_id == campaign_id)
        )
        or 0
    )


def deadlines(campaign: Campaign) -> dict[str, date]:
    """Phase key -> the phase's last day; launch turns these into process data."""
    return {phase.key: phase.ends for phase in campaign.phases}
