"""app.workdays: which arrangement a year follows (stored > package > weekends only), and working
days counted over 春节 and across the new year under a year the office entered."""

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import workdays
from app.workdays import HOLIDAY, OFFICE, PACKAGE, WORKDAY, Arrangement, Day

SH = ZoneInfo("Asia/Shanghai")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "calendar"
KINDS = {"放假": HOLIDAY, "调休上班": WORKDAY, "holiday": HOLIDAY, "workday": WORKDAY}


def arrangement(path: Path, year: int, source: str = OFFICE) -> Arrangement:
    """A fixture file as the office would store it (2027's is made-up test data)."""
    with path.open(encoding="utf-8") as handle:
        rows = [list(r.values()) for r in csv.DictReader(handle)]
    return Arrangement(year, source, {date.fromisoformat(d): Day(KINDS[k], n) for d, k, n in rows})


OFFICE_2027 = arrangement(FIXTURES / "holidays-2027-test.csv", 2027)


@pytest.fixture
def installed():
    """Install a calendar for one test; this process's own goes back afterwards."""
    before = workdays.current()

    def _install(*stored: Arrangement) -> workdays.Calendar:
        calendar = workdays.build(stored)
        workdays.install(calendar)
        return calendar

    yield _install
    workdays.install(before)


def test_the_package_covers_its_years_in_chinese_and_matches_the_state_councils_2026():
    years = workdays.package_years()
    assert min(years) == 2004 and 2026 in years and 2027 not in years
    real = arrangement(FIXTURES / "holidays-2026.csv", 2026, PACKAGE)
    assert dict(years[2026].days) == dict(real.days)
    assert years[2026].days[date(2026, 2, 17)] == Day(HOLIDAY, "春节")
    assert years[2026].days[date(2026, 9, 20)] == Day(WORKDAY, "国庆节调休")


def test_an_office_year_counts_over_spring_festival_and_the_new_year(installed):
    assert not workdays.build().covered(2027)
    installed(OFFICE_2027)
    assert workdays.covered(2027) and workdays.source(2027) == OFFICE and workdays.source(2026) == PACKAGE
    # 春节 5–13 February: three working days after Thursday 4 February end on Wednesday 17 February.
    assert workdays.add_working_days(date(2027, 2, 4), 3) == date(2027, 2, 17)
    assert workdays.is_workday(date(2027, 2, 20))  # an adjusted working Saturday
    assert workdays.add_working_days(date(2027, 2, 4), 10) == date(2027, 2, 25)
    # Across the new year: 2026 from the package, 1–3 January 2027 from the office.
    assert workdays.add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 5)
    assert workdays.working_days_between(date(2026, 12, 30), date(2027, 1, 5)) == 3
    due = workdays.end_of_working_day(date(2027, 2, 4))
    assert workdays.shift(due, 3) == datetime(2027, 2, 17, 17, 30, tzinfo=SH)
    assert workdays.shift(due, 3, "calendar").date() == date(2027, 2, 7)


def test_an_uncovered_year_counts_weekends_only(installed):
    installed()
    assert not workdays.covered(2027) and workdays.source(2027) is None
    assert workdays.add_working_days(date(2027, 2, 4), 3) == date(2027, 2, 9)
    assert workdays.add_working_days(date(2026, 12, 30), 3) == date(2027, 1, 4)
    assert workdays.uncovered([2025, 2026, 2027, 2028, 2027]) == [2027, 2028]


def test_a_stored_year_wins_over_the_package(installed):
    mine = Arrangement(2026, OFFICE, {**workdays.package_years()[2026].days, date(2026, 12, 31): Day(HOLIDAY, "测试")})
    installed(mine)
    assert not workdays.is_workday(date(2026, 12, 31)) and workdays.source(2026) == OFFICE
    workdays.reset()
    assert workdays.is_workday(date(2026, 12, 31)) and workdays.source(2026) == PACKAGE


def test_differing_years_counts_working_days_not_sources_or_names():
    package = workdays.build()
    same = Arrangement(2026, OFFICE, {d: Day(v.kind, "改名") for d, v in workdays.package_years()[2026].days.items()})
    assert package.differing_years(workdays.build([same])) == []
    # Naming a plain weekend a holiday changes nothing; an uncovered year entered as a plain week neither.
    weekend = Arrangement(2027, OFFICE, {date(2027, 3, 6): Day(HOLIDAY, "周六")})
    assert package.differing_years(workdays.build([weekend])) == []
    assert package.differing_years(workdays.build([OFFICE_2027])) == [2027]
    assert workdays.build([OFFICE_2027]).differing_years(package) == [2027]
