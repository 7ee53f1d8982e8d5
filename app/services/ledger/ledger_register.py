"""The ledger as a register (整改台账): items of a campaign or a unit, filtered and paged, each with
its result, evidence and escalations gathered in a few set-based queries (never per item)."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.i18n import gettext
from app.models import (
    Campaign,
    Escalation,
    Evidence,
    LedgerItem,
    ProcessInstance,
    Submission,
    SupervisionLetter,
    Task,
    Unit,
)
from app.models.escalation import LEVEL_NAMES
from app.services.ledger import ledger
from app.services.shared import paging
from app.services.shared.paging import Page

PER_PAGE = 50


@dataclass
class Filters:
    status: str | None = None
    source: str | None = None
    unit_id: int | None = None

    def clean(self) -> "Filters":
        """Unknown values are dropped rather than matching nothing."""
        return Filters(
            status=self.status if self.status in ledger.STATUS_NAMES else None,
            source=self.source if self.source in ledger.SOURCE_NAMES else None,
            unit_id=self.unit_id,
        )


@dataclass
class Escalated:
    """A rung the unit met: carried out (and perhaps withdrawn since), dated when it was carried out."""

    level: str
    fired_at: datetime
    letter: SupervisionLetter | None = None
    withdrawn: bool = False

    @property
    def label(self) -> str:
        return self.letter.doc_number if self.letter else LEVEL_NAMES.get(self.level, self.level)


@dataclass
class Row:
    item: LedgerItem
    result: str = ""
    completed_on: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    escalations: list[Escalated] = field(default_factory=list)


def _query(campaign_id: int, filters: Filters) -> Select[tuple[LedgerItem]]:
    query = select(LedgerItem).where(LedgerItem.campaign_id == campaign_id)
    chosen = (
        (LedgerItem.unit_id, filters.unit_id),
        (LedgerItem.status, filters.status),
        (LedgerItem.source, filters.source),
    )
    return query.where(*(column == value for column, value in chosen if value))


def _ordered(query: Select[tuple[LedgerItem]]) -> Select[tuple[LedgerItem]]:
    return (
        query.join(Unit, Unit.id == LedgerItem.unit_id)
        .options(joinedload(LedgerItem.unit))
        .order_by(Unit.code, LedgerItem.seq)
    )


def page(campaign_id: int, filters: Filters, page_number: int = 1, per_page: int = PER_PAGE) -> Page[Row]:
    query = _query(campaign_id, filters.clean())
    items, total, page_number = paging.fetch(query, _ordered(query), page_number, per_page)
    return Page(details(items), total, page_number, per_page)


def all_rows(campaign_id: int, filters: Filters) -> list[Row]:
    """Every matching item (for export)."""
    return details(list(db.session.scalars(_ordered(_query(campaign_id, filters.clean())))))


def details(items: list[LedgerItem]) -> list[Row]:
    """Result and evidence come from each item's latest rectification report; escalations from the ladder."""
    rows = {item.id: Row(item) for item in items}
    if not rows:
        return []
    latest = (
        select(Task.ledger_item_id, func.max(Submission.id).label("submission_id"))
        .join(Submission, Submission.task_id == Task.id)
        .where(Task.ledger_item_id.in_(rows), Task.form_key == "rectify_item")
        .group_by(Task.ledger_item_id)
        .subquery()
    )
    reports = db.session.execute(
        select(latest.c.ledger_item_id, Submission).join(Submission, Submission.id == latest.c.submission_id)
    ).all()
    task_item = {}
    for item_id, submission in reports:
        data = submission.data or {}
        rows[item_id].result = str(data.get("measures_taken") or "")
        rows[item_id].completed_on = str(data.get("completed_on") or "")
        task_item[submission.task_id] = item_id
    if task_item:
        for evidence in db.session.scalars(
            select(Evidence).where(Evidence.task_id.in_(task_item)).order_by(Evidence.id)
        ):
            rows[task_item[evidence.task_id]].evidence.append(evidence)
    escalated = db.session.execute(
        select(Escalation, SupervisionLetter)
        .outerjoin(SupervisionLetter, SupervisionLetter.escalation_id == Escalation.id)
        # Rungs still waiting their turn, or cancelled unexecuted, never reached the unit.
        .where(Escalation.ledger_item_id.in_(rows), Escalation.status.in_(("done", "withdrawn")))
        .order_by(Escalation.done_at, Escalation.id)
    ).all()
    for escalation, letter in escalated:
        rows[escalation.ledger_item_id].escalations.append(
            Escalated(
                escalation.level, escalation.done_at or escalation.fired_at, letter, escalation.status == "withdrawn"
            )
        )
    return [rows[item.id] for item in items]


def result_text(row: Row) -> str:
    """完成情况 as a ledger writes it: when it was done and what was done (the state has its own column)."""
    if not row.completed_on:
        return row.result
    when = gettext("%(date)s完成", date=row.completed_on)
    return gettext("%(when)s：%(result)s", when=when, result=row.result) if row.result else when


def instance_of(campaign_id: int, unit_id: int) -> ProcessInstance | None:
    return db.session.scalar(select(ProcessInstance).filter_by(campaign_id=campaign_id, unit_id=unit_id))


def campaign(campaign_id: int) -> Campaign | None:
    return db.session.get(Campaign, campaign_id)


def unit(unit_id: int) -> Unit | None:
    return db.session.get(Unit, unit_id)


def launched_campaigns() -> list[Campaign]:
    """Campaigns that have instances, newest first (a draft has no ledger yet)."""
    return list(
        db.session.scalars(
            select(Campaign).where(Campaign.id.in_(select(ProcessInstance.campaign_id))).order_by(Campaign.id.desc())
        )
    )
