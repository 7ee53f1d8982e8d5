"""The lists behind the dashboard's figures: one paged, joined query each, filtered as the figure was."""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import QueryableAttribute, contains_eager

from app.extensions import db
from app.models import Escalation, LedgerItem, Task, Unit
from app.services.accounts.unit_filter import UnitFilter
from app.services.escalation import board
from app.services.oversight.dashboard import LEDGER_STATUSES, day_start, overdue_filter
from app.services.shared import paging
from app.services.shared.paging import Page, T


def _page(
    query: Select[tuple[T]], order: tuple[Any, ...], page: int, per_page: int, count_column: QueryableAttribute[int]
) -> Page[T]:
    total = db.session.scalar(select(func.count()).select_from(query.with_only_columns(count_column).subquery())) or 0
    page = paging.clamp(page, total, per_page)
    rows = list(db.session.scalars(query.order_by(*order).limit(per_page).offset((page - 1) * per_page)))
    return Page(rows, total, page, per_page)


def ledger_items(
    campaign_id: int,
    units: UnitFilter,
    source: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[LedgerItem]:
    """Accepted ledger items of the campaign, by unit and number, narrowed by source and status."""
    query = (
        select(LedgerItem)
        .join(LedgerItem.unit)
        .options(contains_eager(LedgerItem.unit))
        .where(
            LedgerItem.campaign_id == campaign_id,
            LedgerItem.status.in_(LEDGER_STATUSES),
            *units.where(LedgerItem.unit_id),
        )
    )
    if source:
        query = query.where(LedgerItem.source == source)
    if status:
        query = query.where(LedgerItem.status == status)
    return _page(query, (Unit.code, LedgerItem.seq), page, per_page, LedgerItem.id)


def overdue_on(
    campaign_id: int, units: UnitFilter, day: date, now: datetime, page: int = 1, per_page: int = 50
) -> Page[Task]:
    """The unit steps counted as overdue at the end of `day` (today: now), longest overdue first."""
    next_day = day_start(day + timedelta(days=1))
    query = (
        select(Task)
        .join(Task.unit)
        .options(contains_eager(Task.unit))
        .where(
            *overdue_filter(campaign_id, units, now),
            Task.due_at < next_day,
            Task.completed_at.is_(None) | (Task.completed_at >= next_day),
        )
    )
    return _page(query, (Task.due_at, Task.id), page, per_page, Task.id)


def escalations(
    campaign_id: int,
    units: UnitFilter,
    level: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Escalation]:
    """The campaign's escalations as the board lists them, newest first."""
    return board.escalations(
        board.BoardFilter(campaign_id=campaign_id, level=level, status=status, units=units),
        page=page,
        per_page=per_page,
    )
