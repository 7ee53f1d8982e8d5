"""Status lights (红黄绿灯) for anything with a due time."""
from datetime import datetime, timedelta

from app import clock

GREEN, YELLOW, RED = "green", "yellow", "red"


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


LABELS = {GREEN: N_("按时"), YELLOW: N_("临期"), RED: N_("逾期")}


def light(due_at: datetime | None, due_soon_days: int = 3, now: datetime | None = None) -> str:
    """Green on time, yellow when due within `due_soon_days`, red when overdue."""
    if due_at is None:
        return GREEN
    now = now or clock.now()
    if due_at < now:
        return RED
    if due_at - now <= timedelta(days=due_soon_days):
        return YELLOW
    return GREEN
