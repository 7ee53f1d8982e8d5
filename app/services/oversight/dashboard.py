"""The campaign dashboard's figures: each one GROUP BY over the projected tables, never a workflow.

Every figure is narrowed by the same UnitFilter (unit kind, lead department), and each returns
plain data that the page's charts draw and that names the keys its drill-down lists take. The
page and its charts read them through `figure()`, computed once per campaign data version in
each process (figure_cache).
"""

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, SQLColumnExpression, and_, case, cast, func, literal, select

from app import clock
from app.extensions import db
from app.models import (
    Campaign,
    CampaignUnit,
    Escalation,
    LedgerItem,
    LedgerStatus,
    ProcessInstance,
    Task,
    TaskStatus,
    Unit,
)
from app.models.campaign import PHASES
from app.models.escalation import ESCALATION_STATUSES, LEVELS
from app.models.ledger import LEDGER_SOURCES
from app.services.accounts import unit_filter
from app.services.accounts.unit_filter import UnitFilter
from app.services.oversight import figure_cache, lights, matrix

SERIES_DAYS = 30
RANK_LIMIT = 20
# Ledger items once accepted; "proposed" ones are still a self-check's draft list.
LEDGER_STATUSES = ("rectifying", "rectified", "closed")
# Where each phase stands on the way to the end (closed = 100 %).
PHASE_STEP = {phase: i for i, phase in enumerate((*PHASES, "closed"))}


def launched_campaigns() -> list[tuple[int, str, str]]:
    """(id, doc_number, title) of every campaign that has been launched, newest first."""
    return list(
        db.session.execute(
            select(Campaign.id, Campaign.doc_number, Campaign.title)
            .where(Campaign.status.in_(("launching", "launched", "closed")))
            .order_by(Campaign.id.desc())
        ).tuples()
    )


def units_by_phase(campaign_id: int, units: UnitFilter, due_soon_days: int, now: datetime) -> dict[str, Any]:
    """Enrolled units per phase (not started first, closed last), split by their worst light."""
    cells = matrix.phase_lights(campaign_id, units, due_soon_days, now)
    phases = [matrix.NOT_STARTED, *matrix.MATRIX_PHASES]
    lights = [*matrix.LIGHTS, matrix.NO_LIGHT]
    return {
        "phases": phases,
        "lights": lights,
        "counts": {shade: [cells.get((phase, shade), 0) for phase in phases] for shade in lights},
        "totals": [sum(cells.get((phase, shade), 0) for shade in lights) for phase in phases],
    }


def _local_day(column: SQLColumnExpression[Any], now: datetime) -> ColumnElement[Any]:
    """The local calendar day of a stored (naive UTC) moment, as SQL."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        tz = str(clock.local_tz())
        return cast(func.timezone(tz, func.timezone("UTC", column)), Date)
    # SQLite has no time zones: shift by the zone's offset now (China keeps no daylight saving).
    offset = clock.to_local(now).utcoffset()
    assert offset is not None  # an aware local time
    minutes = int(offset.total_seconds() // 60)
    return func.date(column, f"{minutes:+d} minutes")


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def overdue_filter(campaign_id: int, units: UnitFilter, now: datetime) -> list[ColumnElement[bool]]:
    """Unit steps that were overdue at some moment up to now (cancelled steps are left out)."""
    return [
        Task.campaign_id == campaign_id,
        Task.role == "unit_staff",
        Task.status != TaskStatus.CANCELLED,
        Task.due_at.is_not(None),
        Task.due_at < now,
        (Task.completed_at.is_(None)) | (Task.completed_at > Task.due_at),
        *units.where(Task.unit_id),
    ]


def day_start(day: date) -> datetime:
    """The first moment of a local calendar day."""
    return datetime.combine(day, time.min, tzinfo=clock.local_tz())


def overdue_series(campaign_id: int, units: UnitFilter, now: datetime, days: int = SERIES_DAYS) -> dict[str, Any]:
    """Overdue unit steps at the end of each of the last `days` days (today: now), from when each
    step fell due and when it was done: one GROUP BY over both days, summed up here."""
    today = clock.to_local(now).date()
    first = today - timedelta(days=days - 1)
    where = overdue_filter(campaign_id, units, now)
    due_day = _local_day(Task.due_at, now)
    done_day = _local_day(Task.completed_at, now)
    change: dict[date, int] = {}
    # One pass: each (fell due, done) pair of days adds on the first and takes off on the second.
    for fell_due, done, n in db.session.execute(
        select(due_day, done_day, func.count()).where(*where).group_by(due_day, done_day)
    ):
        change[_as_date(fell_due)] = change.get(_as_date(fell_due), 0) + n
        if done is not None:
            change[_as_date(done)] = change.get(_as_date(done), 0) - n
    running = sum(n for day, n in change.items() if day < first)
    series = []
    for i in range(days):
        day = first + timedelta(days=i)
        running += change.get(day, 0)
        series.append(running)
    return {"days": [(first + timedelta(days=i)).isoformat() for i in range(days)], "counts": series}


def ledger_by_source(campaign_id: int, units: UnitFilter) -> dict[str, Any]:
    """Accepted ledger items per source (意见来源), split by status."""
    stmt = (
        select(LedgerItem.source, LedgerItem.status, func.count())
        .where(
            LedgerItem.campaign_id == campaign_id,
            LedgerItem.status.in_(LEDGER_STATUSES),
            *units.where(LedgerItem.unit_id),
        )
        .group_by(LedgerItem.source, LedgerItem.status)
    )
    cells = {(source, status): n for source, status, n in db.session.execute(stmt)}
    sources = list(LEDGER_SOURCES) + sorted({s for s, _ in cells} - set(LEDGER_SOURCES))
    return {
        "sources": sources,
        "statuses": list(LEDGER_STATUSES),
        "counts": {status: [cells.get((source, status), 0) for source in sources] for status in LEDGER_STATUSES},
    }


def escalations_by_level(campaign_id: int, units: UnitFilter) -> dict[str, Any]:
    """Rungs of the overdue ladder per level (催办, 督办函, 通报), split by status."""
    stmt = (
        select(Escalation.level, Escalation.status, func.count())
        .where(Escalation.campaign_id == campaign_id, *units.where(Escalation.unit_id))
        .group_by(Escalation.level, Escalation.status)
    )
    cells = {(level, status): n for level, status, n in db.session.execute(stmt)}
    return {
        "levels": list(LEVELS),
        "statuses": list(ESCALATION_STATUSES),
        "counts": {status: [cells.get((level, status), 0) for level in LEVELS] for status in ESCALATION_STATUSES},
    }


def progress_ranking(
    campaign_id: int, units: UnitFilter, limit: int = RANK_LIMIT, lagging: bool = True
) -> dict[str, Any]:
    """Units ranked by progress: the phase reached (of six steps to closed), and within rectification the
    share of ledger items closed. `lagging` puts the least advanced first."""
    ledger = (
        select(
            LedgerItem.unit_id.label("unit_id"),
            func.count().label("total"),
            func.sum(case((LedgerItem.status == LedgerStatus.CLOSED, 1), else_=0)).label("closed"),
        )
        .where(LedgerItem.campaign_id == campaign_id, LedgerItem.status.in_(LEDGER_STATUSES))
        .group_by(LedgerItem.unit_id)
        .subquery()
    )
    step = case(*((ProcessInstance.phase == p, literal(i)) for p, i in PHASE_STEP.items()), else_=literal(0))
    within = case(
        (
            and_(ProcessInstance.phase == "rectification", ledger.c.total > 0),
            cast(ledger.c.closed, Float) / ledger.c.total,
        ),
        else_=literal(0.0),
    )
    progress = (100.0 * (step + within) / (len(PHASE_STEP) - 1)).label("progress")
    stmt = (
        select(Unit.code, Unit.name, ProcessInstance.id, ProcessInstance.phase, progress)
        .select_from(CampaignUnit)
        .join(Unit, Unit.id == CampaignUnit.unit_id)
        .outerjoin(
            ProcessInstance,
            and_(
                ProcessInstance.campaign_id == CampaignUnit.campaign_id, ProcessInstance.unit_id == CampaignUnit.unit_id
            ),
        )
        .outerjoin(ledger, ledger.c.unit_id == CampaignUnit.unit_id)
        .where(CampaignUnit.campaign_id == campaign_id, *units.where(CampaignUnit.unit_id))
        .order_by(progress.asc() if lagging else progress.desc(), Unit.code)
        .limit(limit)
    )
    rows = [
        {
            "code": code,
            "name": name,
            "instance_id": iid,
            "phase": phase or matrix.NOT_STARTED,
            "progress": round(float(p or 0), 1),
        }
        for code, name, iid, phase, p in db.session.execute(stmt)
    ]
    return {"lagging": lagging, "rows": rows}


FIGURES = ("units_by_phase", "overdue_series", "ledger_by_source", "escalations_by_level", "progress_ranking")


def figure(
    name: str,
    campaign_id: int,
    units: UnitFilter,
    now: datetime,
    due_soon_days: int = 3,
    lagging: bool = True,
    versions: figure_cache.Versions | None = None,
) -> dict[str, Any]:
    """The figure `name` as its function above computes it, from the cache while the campaign's
    data have not changed (and no open step has fallen due since)."""
    narrowed = (units.kind, units.lead_department)
    if name == "units_by_phase":
        # The lights depend on the due-soon limit (the day, the working-day calendar) and on now.
        soon = lights.soon_limit(now, due_soon_days)
        return figure_cache.cached(
            name,
            campaign_id,
            (*narrowed, soon),
            lambda: units_by_phase(campaign_id, units, due_soon_days, now),
            now,
            versions,
        )
    if name == "overdue_series":
        today = clock.to_local(now).date()
        return figure_cache.cached(
            name, campaign_id, (*narrowed, today), lambda: overdue_series(campaign_id, units, now), now, versions
        )
    if name == "ledger_by_source":
        compute = partial(ledger_by_source, campaign_id, units)
        return figure_cache.cached(name, campaign_id, narrowed, compute, versions=versions)
    if name == "escalations_by_level":
        compute = partial(escalations_by_level, campaign_id, units)
        return figure_cache.cached(name, campaign_id, narrowed, compute, versions=versions)
    if name == "progress_ranking":
        compute = partial(progress_ranking, campaign_id, units, lagging=lagging)
        return figure_cache.cached(name, campaign_id, (*narrowed, lagging), compute, versions=versions)
    raise KeyError(name)


def lead_departments(campaign_id: int, versions: figure_cache.Versions | None = None) -> list[str]:
    """The filter's choices (every lead department named on a unit), kept like a figure: a unit
    added or changed gives every campaign a new data version."""
    return figure_cache.cached("lead_departments", campaign_id, (), unit_filter.lead_departments, versions=versions)


def page(campaign_id: int, units: UnitFilter, now: datetime, due_soon_days: int) -> tuple[dict[str, Any], list[str]]:
    """What the dashboard page draws itself: units per phase and light, and the filter's choices
    (the data versions read once for both)."""
    versions = figure_cache.read_versions(campaign_id)
    by_phase = figure("units_by_phase", campaign_id, units, now, due_soon_days, versions=versions)
    return by_phase, lead_departments(campaign_id, versions)
