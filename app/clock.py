"""The one clock of the application: every 'now' comes from here so tests can move time."""

from datetime import UTC, date, datetime, time
from typing import overload
from zoneinfo import ZoneInfo

__all__ = ["UTC", "end_of_day", "local_now", "local_tz", "now", "set_timezone", "to_local", "today"]
_tz = ZoneInfo("Asia/Shanghai")


def set_timezone(name: str) -> None:
    global _tz
    _tz = ZoneInfo(name)


def local_tz() -> ZoneInfo:
    return _tz


def now() -> datetime:
    """Aware current time in UTC."""
    return datetime.now(UTC)


def local_now() -> datetime:
    return datetime.now(_tz)


def today() -> date:
    return local_now().date()


def end_of_day(d: date) -> datetime:
    """A deadline date means the end of that local day."""
    return datetime.combine(d, time(23, 59, 59), tzinfo=_tz)


@overload
def to_local(value: datetime) -> datetime: ...
@overload
def to_local(value: None) -> None: ...
@overload
def to_local(value: datetime | None) -> datetime | None: ...
def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_tz)
