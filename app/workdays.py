"""Working days (工作日) in China: public holidays and adjusted working days (调休).

The calendar is an in-memory snapshot of each year's arrangement (节假日安排). Which
arrangement a year follows is decided when the snapshot is built (`build`): a year stored in
the database wins (entered by the office, or seeded from the package), else the
chinesecalendar package's own data, else the year is uncovered and only weekends are skipped
(`covered(year)` says so, and a warning is logged once per year and process). The service
app.services.calendar loads the stored years and installs the snapshot in every process.
Pure functions: no Flask, no database.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _package

log = logging.getLogger(__name__)

WORKDAY_END = time(17, 30)
_tz = ZoneInfo("Asia/Shanghai")
_warned: set[int] = set()

HOLIDAY, WORKDAY = "holiday", "workday"
DAY_KINDS = (HOLIDAY, WORKDAY)
OFFICE, PACKAGE = "office", "package"
# The package names its holidays in English; offices and the State Council's notice in Chinese.
PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
PACKAGE_VERSION = getattr(chinese_calendar, "__version__", "")


@dataclass(frozen=True)
class Day:
    kind: str  # HOLIDAY or WORKDAY (a weekend day worked in exchange)
    name: str = ""


@dataclass(frozen=True)
class Arrangement:
    """One year's holidays and adjusted working days, and where they came from."""

    year: int
    source: str  # OFFICE or PACKAGE
    days: Mapping[date, Day] = field(default_factory=dict)


@dataclass(frozen=True)
class Calendar:
    """The arrangements in force, by year; a year absent is uncovered (weekends only)."""

    years: Mapping[int, Arrangement]

    def source(self, year: int) -> str | None:
        arrangement = self.years.get(year)
        return arrangement.source if arrangement else None

    def covered(self, year: int) -> bool:
        return year in self.years

    def day(self, day: date) -> Day | None:
        arrangement = self.years.get(day.year)
        return arrangement.days.get(day) if arrangement else None

    def is_workday(self, day: date) -> bool:
        arrangement = self.years.get(day.year)
        if arrangement is None:
            if day.year not in _warned:
                _warned.add(day.year)
                log.warning("节假日数据未覆盖%s年：该年只按周末计算工作日", day.year)
            return day.weekday() < 5
        listed = arrangement.days.get(day)
        if listed is not None:
            return listed.kind == WORKDAY
        return day.weekday() < 5

    def add_working_days(self, day: date, days: int) -> date:
        current, left = day, days
        while left > 0:
            current += timedelta(days=1)
            if self.is_workday(current):
                left -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            if self.is_workday(current):
                count += 1
        return count

    def differing_years(self, other: "Calendar") -> list[int]:
        """Years whose working days differ between two calendars (coverage alone does not count:
        an arrangement entered as the package had it changes no deadline)."""
        changed = []
        for year in sorted(set(self.years) | set(other.years)):
            mine, theirs = self.years.get(year), other.years.get(year)
            if _kinds(mine) != _kinds(theirs):
                changed.append(year)
        return changed


def _kinds(arrangement: Arrangement | None) -> dict[date, str] | None:
    """A year's days that differ from a plain week (None: uncovered, i.e. a plain week)."""
    if arrangement is None:
        return {}
    return {d: v.kind for d, v in arrangement.days.items() if (v.kind == WORKDAY) != (d.weekday() < 5)}


@cache
def package_years() -> Mapping[int, Arrangement]:
    """The chinesecalendar package's arrangements, by year, with Chinese names."""
    years: dict[int, dict[date, Day]] = {}
    first = min(_package.holidays).year
    last = max(_package.holidays).year
    for year in range(first, last + 1):
        years[year] = {}
    for day, name in _package.holidays.items():
        years[day.year][day] = Day(HOLIDAY, PACKAGE_NAMES.get(str(name), str(name)))
    for day, name in _package.workdays.items():
        years.setdefault(day.year, {})[day] = Day(WORKDAY, PACKAGE_NAMES.get(str(name), str(name)) + "调休")
    return {year: Arrangement(year, PACKAGE, dict(sorted(days.items()))) for year, days in years.items()}


def build(stored: Iterable[Arrangement] = ()) -> Calendar:
    """The calendar in force: a stored year wins, else the package's year, else uncovered."""
    years = dict(package_years())
    for arrangement in stored:
        years[arrangement.year] = arrangement
    return Calendar(years)


_calendar = build()


def install(calendar: Calendar) -> None:
    """Make `calendar` the one every function here uses (in this process)."""
    global _calendar
    _calendar = calendar


def current() -> Calendar:
    return _calendar


def reset() -> None:
    """Back to the package's data alone (what an empty database means)."""
    install(build())


def configure(timezone: str, workday_end: time | None = None) -> None:
    global _tz, WORKDAY_END
    _tz = ZoneInfo(timezone)
    if workday_end is not None:
        WORKDAY_END = workday_end


def local_tz() -> ZoneInfo:
    return _tz


def covered(year: int) -> bool:
    """Whether an arrangement covers this year (else weekends only are counted)."""
    return _calendar.covered(year)


def source(year: int) -> str | None:
    """OFFICE, PACKAGE, or None for an uncovered year."""
    return _calendar.source(year)


def uncovered(years: Iterable[int]) -> list[int]:
    return sorted({y for y in years if not _calendar.covered(y)})


def is_workday(day: date) -> bool:
    return _calendar.is_workday(day)


def add_working_days(day: date, days: int) -> date:
    """The day `days` working days after `day` (0: `day` itself)."""
    return _calendar.add_working_days(day, days)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start)."""
    return _calendar.working_days_between(start, end)


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
