"""The stored calendar and each process's in-memory snapshot of it (app.workdays).

Deadlines are computed everywhere (web workers, the scheduler process, commands), always from the
snapshot app.workdays holds, never from the database. Each process keeps its snapshot current:
at its first app context, then at most every CALENDAR_CHECK_SECONDS by one query on an indexed
column (count and max revision of holiday_years: every change gives a new, unique revision),
at the start of every scheduler sweep, and at once in the process that made a change.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Flask, appcontext_pushed
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import SQLAlchemyError

from app import workdays
from app.extensions import db
from app.models import AuditEvent, Campaign, CampaignPhase, CampaignStatus, HolidayDay, HolidayYear, User

log = logging.getLogger(__name__)

Token = tuple[str, int, int | None]  # (database, count, max revision) of the stored years
_token: Token | None = None  # what is installed
_checked_at: float | None = None  # time.monotonic() of the last look
# Set while serving something that must not touch the database (the liveness probe, /healthz).
_unwatched: ContextVar[bool] = ContextVar("calendar_unwatched", default=False)


def _token_of(conn: Connection) -> Token:
    count, revision = conn.execute(select(func.count(HolidayYear.id), func.max(HolidayYear.revision))).one()
    return (db.engine.url.render_as_string(hide_password=True), count, revision)


def load(conn: Connection | None = None) -> workdays.Calendar:
    """The calendar the stored years give (through `conn`, or the session's transaction)."""
    execute = conn.execute if conn is not None else db.session.execute
    rows = execute(select(HolidayYear.id, HolidayYear.year, HolidayYear.source))
    years = {row.id: (row.year, row.source) for row in rows}
    days: dict[int, dict[date, workdays.Day]] = {year_id: {} for year_id in years}
    for row in execute(select(HolidayDay.year_id, HolidayDay.day, HolidayDay.kind, HolidayDay.name)):
        days[row.year_id][row.day] = workdays.Day(row.kind, row.name or "")
    return workdays.build(
        workdays.Arrangement(year, source, dict(sorted(days[year_id].items())))
        for year_id, (year, source) in years.items()
    )


def refresh(max_age: float | None = None) -> bool:
    """Install the stored calendar if it changed since this process last looked; True if it did.

    `max_age`: look at most this often (seconds); None looks now. Uses its own short connection,
    so it holds no lock and leaves the caller's transaction alone. A database without the table
    (before `flask db upgrade`) or out of reach leaves the snapshot as it is."""
    global _token, _checked_at
    now = time.monotonic()
    if max_age is not None and _checked_at is not None and now - _checked_at < max_age:
        return False
    try:
        with db.engine.connect() as conn:
            token = _token_of(conn)
            if token == _token:
                _checked_at = now
                return False
            calendar = load(conn)
    except SQLAlchemyError as exc:
        log.debug("calendar: stored years not readable (%s); keeping the snapshot", exc.__class__.__name__)
        return False
    workdays.install(calendar)
    _token, _checked_at = token, now
    return True


@contextmanager
def unwatched() -> Iterator[None]:
    """App contexts pushed inside this block do not look at the stored calendar."""
    token = _unwatched.set(True)
    try:
        yield
    finally:
        _unwatched.reset(token)


def _on_app_context(app: Flask, **extra: object) -> None:
    if _unwatched.get():
        return
    interval = app.config.get("CALENDAR_CHECK_SECONDS", 10)
    database = db.engine.url.render_as_string(hide_password=True)
    if _token is None or _token[0] != database:
        refresh()  # this process's first look at this database
    elif interval >= 0:
        refresh(max_age=interval)


def watch(app: Flask) -> None:
    """Keep the snapshot current in every process of this app (web requests, commands, sweeps)."""
    appcontext_pushed.connect(_on_app_context, app, weak=False)


def reset_for_tests() -> None:
    """Forget the snapshot and read the stored years again (the tests empty the tables)."""
    global _token, _checked_at
    workdays.reset()
    _token = _checked_at = None
    refresh()


def installed_token() -> Token | None:
    return _token


# ---- what the pages and commands show -------------------------------------------------------


@dataclass
class YearRow:
    year: int
    source: str | None  # office, package, or None (uncovered)
    holidays: int = 0
    workdays: int = 0
    entered_by: str | None = None
    entered_at: datetime | None = None
    stored: bool = False
    campaigns: list[str] = field(default_factory=list)  # campaigns with dates in an uncovered year


@dataclass
class YearView:
    year: int
    source: str | None
    days: list[tuple[date, workdays.Day]]
    stored: HolidayYear | None
    in_package: bool
    history: list[AuditEvent]

    @property
    def holidays(self) -> list[tuple[date, workdays.Day]]:
        return [(d, v) for d, v in self.days if v.kind == workdays.HOLIDAY]

    @property
    def adjusted_workdays(self) -> list[tuple[date, workdays.Day]]:
        return [(d, v) for d, v in self.days if v.kind == workdays.WORKDAY]


def _campaign_years() -> dict[int, list[str]]:
    """Years in which a campaign not yet closed has a phase date, with the campaigns' numbers."""
    rows = db.session.execute(
        select(Campaign.doc_number, CampaignPhase.starts, CampaignPhase.ends)
        .join(CampaignPhase, CampaignPhase.campaign_id == Campaign.id)
        .where(Campaign.status != CampaignStatus.CLOSED)
    )
    years: dict[int, set[str]] = {}
    for doc_number, starts, ends in rows:
        for day in (starts, ends):
            if day is not None:
                years.setdefault(day.year, set()).add(doc_number)
        if ends is not None and ends.month == 12:  # working days counted from late December cross over
            years.setdefault(ends.year + 1, set()).add(doc_number)
    return {year: sorted(numbers) for year, numbers in years.items()}


def overview(today: date, all_years: bool = False) -> list[YearRow]:
    """Every year worth showing, newest first: stored and package years (the last few unless
    `all_years`), this year and the next two, and every year a running campaign reaches."""
    refresh()
    calendar = workdays.current()
    stored = {row.year: row for row in db.session.scalars(select(HolidayYear))}
    users = {row.entered_by_id for row in stored.values() if row.entered_by_id}
    names: dict[int, str] = {}
    if users:
        names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(users))).tuples().all())
    needed = _campaign_years()
    years = set(range(today.year, today.year + 3)) | set(needed)
    known = set(calendar.years) | set(stored)
    years |= known if all_years else {y for y in known if y >= today.year - 2}
    rows = []
    for year in sorted(years, reverse=True):
        arrangement = calendar.years.get(year)
        row = stored.get(year)
        kinds = [d.kind for d in arrangement.days.values()] if arrangement else []
        rows.append(
            YearRow(
                year=year,
                source=arrangement.source if arrangement else None,
                holidays=kinds.count(workdays.HOLIDAY),
                workdays=kinds.count(workdays.WORKDAY),
                # None: entered by a command
                entered_by=names.get(row.entered_by_id)
                if row and row.source == "office" and row.entered_by_id
                else None,
                entered_at=row.entered_at if row else None,
                stored=row is not None,
                campaigns=needed.get(year, []) if arrangement is None else [],
            )
        )
    return rows


def year_view(year: int) -> YearView:
    refresh()
    arrangement = workdays.current().years.get(year)
    stored = db.session.scalar(select(HolidayYear).where(HolidayYear.year == year))
    history = list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "holiday_year", AuditEvent.entity_id == str(year))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(50)
        )
    )
    return YearView(
        year=year,
        source=arrangement.source if arrangement else None,
        days=sorted(arrangement.days.items()) if arrangement else [],
        stored=stored,
        in_package=year in workdays.package_years(),
        history=history,
    )
