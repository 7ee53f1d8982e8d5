"""开门整治: what residents may see of a published campaign, and the switches that publish it.

Everything public is reached by random slugs and tokens; internal ids, people and comments stay inside.
"""

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from app import clock
from app.errors import Invalid, NotFound
from app.extensions import db
from app.i18n import _l
from app.models import (
    Campaign,
    CampaignUnit,
    Evidence,
    LedgerItem,
    LedgerStatus,
    ProcessInstance,
    PublicNotice,
    Task,
    Unit,
)
from app.models.base import new_public_slug
from app.services.escalation import notices_public
from app.services.oversight import matrix
from app.services.shared import audit

PUBLIC_ITEM_STATUSES = ("rectifying", "rectified", "closed")


@dataclass
class UnitCard:
    slug: str
    name: str
    phase: str | None
    items: int
    closed: int


@dataclass
class PublicItem:
    item: LedgerItem
    files: list[Evidence] = field(default_factory=list)


# ---- what the public sees --------------------------------------------------------------


def published_campaigns() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).filter_by(published=True).order_by(Campaign.issued_on.desc())))


def campaign(slug: str) -> Campaign | None:
    return db.session.scalar(select(Campaign).filter_by(public_slug=slug, published=True))


def item_counts(campaign_id: int) -> tuple[int, int]:
    total, closed = db.session.execute(
        select(func.count(), func.sum(case((LedgerItem.status == LedgerStatus.CLOSED, 1), else_=0))).where(
            LedgerItem.campaign_id == campaign_id, LedgerItem.status.in_(PUBLIC_ITEM_STATUSES)
        )
    ).one()
    return int(total or 0), int(closed or 0)


def progress(campaign_id: int, page: int, per_page: int) -> tuple[matrix.Matrix, list[UnitCard]]:
    """Phase counts for the campaign and one page of unit cards (figures from the progress matrix's SQL)."""
    grid = matrix.progress_matrix(campaign_id, page=page, per_page=per_page)
    slugs = dict(
        db.session.execute(
            select(CampaignUnit.unit_id, CampaignUnit.public_slug).where(
                CampaignUnit.campaign_id == campaign_id, CampaignUnit.unit_id.in_([r.unit_id for r in grid.rows])
            )
        )
        .tuples()
        .all()
    )
    cards = [
        UnitCard(slug, r.unit_name, r.phase, r.ledger_open + r.ledger_closed, r.ledger_closed)
        for r in grid.rows
        if (slug := slugs.get(r.unit_id))
    ]
    return grid, cards


def search_units(campaign_id: int, name: str, limit: int = 50) -> list[UnitCard]:
    """Units whose name contains `name`, with their phase and item counts (a campaign may have 20,000)."""
    rows = db.session.execute(
        select(Unit.id, Unit.name, CampaignUnit.public_slug, ProcessInstance.phase)
        .join(Unit, Unit.id == CampaignUnit.unit_id)
        .outerjoin(
            ProcessInstance,
            (ProcessInstance.campaign_id == CampaignUnit.campaign_id)
            & (ProcessInstance.unit_id == CampaignUnit.unit_id),
        )
        .where(
            CampaignUnit.campaign_id == campaign_id,
            CampaignUnit.public_slug.is_not(None),
            Unit.name.contains(name, autoescape=True),
        )
        .order_by(Unit.code)
        .limit(limit)
    ).all()
    counts = {
        uid: (int(n or 0), int(c or 0))
        for uid, n, c in db.session.execute(
            select(
                LedgerItem.unit_id, func.count(), func.sum(case((LedgerItem.status == LedgerStatus.CLOSED, 1), else_=0))
            )
            .where(
                LedgerItem.campaign_id == campaign_id,
                LedgerItem.status.in_(PUBLIC_ITEM_STATUSES),
                LedgerItem.unit_id.in_([r[0] for r in rows]),
            )
            .group_by(LedgerItem.unit_id)
        )
    }
    return [UnitCard(slug, unit_name, phase, *counts.get(uid, (0, 0))) for uid, unit_name, slug, phase in rows]


def recently_closed(campaign_id: int, limit: int = 10) -> list[tuple[LedgerItem, str, str]]:
    """The latest 销号 items with their unit's name and public slug."""
    rows = db.session.execute(
        select(LedgerItem, Unit.name, CampaignUnit.public_slug)
        .join(Unit, Unit.id == LedgerItem.unit_id)
        .join(
            CampaignUnit,
            (CampaignUnit.campaign_id == LedgerItem.campaign_id) & (CampaignUnit.unit_id == LedgerItem.unit_id),
        )
        .where(LedgerItem.campaign_id == campaign_id, LedgerItem.status == LedgerStatus.CLOSED)
        .order_by(LedgerItem.closed_at.desc())
        .limit(limit)
    )
    return [(item, name, slug) for item, name, slug in rows]


def enrolment(campaign_id: int, unit_slug: str) -> CampaignUnit | None:
    return db.session.scalar(select(CampaignUnit).filter_by(campaign_id=campaign_id, public_slug=unit_slug))


def unit_phase(campaign_id: int, unit_id: int) -> str | None:
    return db.session.scalar(select(ProcessInstance.phase).filter_by(campaign_id=campaign_id, unit_id=unit_id))


def unit_items(campaign_id: int, unit_id: int) -> list[PublicItem]:
    """The unit's public commitments with the files a supervisor published for them."""
    items = list(
        db.session.scalars(
            select(LedgerItem)
            .where(
                LedgerItem.campaign_id == campaign_id,
                LedgerItem.unit_id == unit_id,
                LedgerItem.status.in_(PUBLIC_ITEM_STATUSES),
            )
            .order_by(LedgerItem.seq)
        )
    )
    by_id = {i.id: PublicItem(i) for i in items}
    if by_id:
        files = db.session.execute(
            select(Task.ledger_item_id, Evidence)
            .join(Task, Task.id == Evidence.task_id)
            .where(Task.ledger_item_id.in_(list(by_id)), Evidence.is_public.is_(True))
            .order_by(Evidence.id)
        )
        seen: set[tuple[int, str]] = set()
        for item_id, row in files:
            # A returned item lists its earlier files again (same blob): show each once.
            if (item_id, row.sha256) not in seen:
                seen.add((item_id, row.sha256))
                by_id[item_id].files.append(row)
    return list(by_id.values())


def notices(campaign_id: int, unit_id: int | None = None) -> list[PublicNotice]:
    shown = notices_public.published(campaign_id)
    return [n for n in shown if unit_id is None or n.unit_id == unit_id]


def public_file(token: str) -> Evidence | None:
    """A published file of a published campaign, else nothing."""
    row = db.session.scalar(select(Evidence).filter_by(public_token=token, is_public=True))
    if row is None or row.instance_id is None:
        return None
    published = db.session.scalar(
        select(Campaign.published)
        .join(ProcessInstance, ProcessInstance.campaign_id == Campaign.id)
        .where(ProcessInstance.id == row.instance_id)
    )
    return row if published else None


# ---- the switches ---------------------------------------------------------------------


def set_published(campaign_id: int, published: bool, actor_id: int) -> Campaign:
    found = db.session.get(Campaign, campaign_id)
    if found is None:
        raise NotFound(_l("专项整治不存在"))
    before = found.published
    found.published = published
    audit.record(
        actor_id,
        "campaign.publish" if published else "campaign.unpublish",
        "campaign",
        found.id,
        before={"published": before},
        after={"published": published},
    )
    db.session.commit()
    return found


def item_files(instance_id: int) -> list[tuple[Evidence, LedgerItem]]:
    """Files submitted for the instance's ledger items: what a supervisor may publish."""
    return list(
        db.session.execute(
            select(Evidence, LedgerItem)
            .join(Task, Task.id == Evidence.task_id)
            .join(LedgerItem, LedgerItem.id == Task.ledger_item_id)
            .where(Evidence.instance_id == instance_id)
            .order_by(LedgerItem.seq, Evidence.id)
        ).tuples()
    )


def set_file_public(evidence_id: int, public: bool, actor_id: int) -> Evidence:
    row = db.session.get(Evidence, evidence_id)
    if row is None:
        raise NotFound(_l("文件不存在"))
    if public and not db.session.scalar(select(Task.ledger_item_id).where(Task.id == row.task_id)):
        raise Invalid(_l("只有整改事项的佐证材料可以公开"))
    before = row.is_public
    row.is_public = public
    if public and row.public_token is None:
        row.public_token = new_public_slug()
    audit.record(
        actor_id,
        "evidence.publish" if public else "evidence.unpublish",
        "evidence",
        row.id,
        before={"is_public": before},
        after={"is_public": public, "at": clock.now()},
        unit_id=row.unit_id,
    )
    db.session.commit()
    return row
