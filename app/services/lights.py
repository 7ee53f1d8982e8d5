"""Status lights (红黄绿灯) for anything with a due time."""
from datetime import datetime, timedelta

from app import clock

GREEN, YELLOW, RED = "green", "yellow", "red"
LABELS = {GREEN: "按时", YELLOW: "临期", RED: "逾期"}


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
