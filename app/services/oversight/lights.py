"""Status lights (红黄绿灯) for anything with a due time."""

from datetime import datetime
from typing import Any

from sqlalchemy import Case, SQLColumnExpression, case

from app import clock, workdays

GREEN, YELLOW, RED = "green", "yellow", "red"


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


LABELS = {GREEN: N_("按时"), YELLOW: N_("临期"), RED: N_("逾期")}


def soon_limit(now: datetime, due_soon_days: int) -> datetime:
    """Due up to this moment counts as due soon: the end of the N-th working day from today."""
    today = clock.to_local(now).date()
    return workdays.end_of_working_day(workdays.add_working_days(today, due_soon_days))


def light(due_at: datetime | None, due_soon_days: int = 3, now: datetime | None = None) -> str:
    """Green on time, yellow when due within `due_soon_days` working days, red when overdue."""
    if due_at is None:
        return GREEN
    now = now or clock.now()
    if due_at < now:
        return RED
    if due_at <= soon_limit(now, due_soon_days):
        return YELLOW
    return GREEN


def light_sql(due: SQLColumnExpression[Any], now: datetime, soon: datetime) -> Case[str]:
    """The same light as `light()`, as a SQL expression over a due-time column (NULL is green)."""
    return case((due < now, RED), (due <= soon, YELLOW), else_=GREEN)
