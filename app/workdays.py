"""Working days (工作日) in China: public holidays and adjusted working days (调休).

Uses the chinesecalendar package; for a year it does not cover, only weekends are
skipped, and `covered(year)` says so (the log and the campaign page show the warning).
Pure functions: no Flask, no database.
"""
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

WORKDAY_END = time(17, 30)
_tz = ZoneInfo("Asia/Shanghai")
_warned: set[int] = set()


def configure(timezone: str, workday_end: time | None = None) -> None:
    global _tz, WORKDAY_END
    _tz = ZoneInfo(timezone)
    if workday_end is not None:
        WORKDAY_END = workday_end


def local_tz() -> ZoneInfo:
    return _tz


def covered(year: int) -> bool:
    """Whether the holiday data covers this year (else weekends only are counted)."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("节假日数据未覆盖%s年：该年只按周末计算工作日", day.year)
        return day.weekday() < 5


def add_working_days(day: date, days: int) -> date:
    """The day `days` working days after `day` (0: `day` itself)."""
    current, left = day, days
    while left > 0:
        current += timedelta(days=1)
        if is_workday(current):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if is_workday(current):
            count += 1
    return count


def end_of_working_day(day: date) -> datetime:
    """A deadline on a day falls at the end of its working day (17:30 local unless configured)."""
    return datetime.combine(day, WORKDAY_END, tzinfo=_tz)


def shift(moment: datetime, amount: int, unit: str = "working") -> datetime:
    """`moment` moved by `amount` working days (kept at the end of the working day) or calendar days."""
    local = moment.astimezone(_tz)
    if unit == "calendar":
        return local + timedelta(days=amount)
    if unit != "working":
        raise ValueError(f"unknown day unit {unit!r}")
    return end_of_working_day(add_working_days(local.date(), amount))
