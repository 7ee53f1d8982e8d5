"""Status lights count working days: a deadline after a holiday is not 'due soon' yet."""

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from app import workdays
from app.services.oversight import lights

SH = ZoneInfo("Asia/Shanghai")


def test_yellow_within_three_working_days_not_calendar_days():
    now = datetime(2026, 9, 30, 9, tzinfo=SH)  # the day before National Day
    # 8 October is 8 calendar days away but only 1 working day (1–7 October are holidays).
    assert lights.light(datetime(2026, 10, 8, 17, 30, tzinfo=SH), 3, now) == lights.YELLOW
    assert lights.light(datetime(2026, 10, 12, 17, 30, tzinfo=SH), 3, now) == lights.GREEN
    assert lights.light(datetime(2026, 9, 29, 17, 30, tzinfo=SH), 3, now) == lights.RED
    assert lights.light(None, 3, now) == lights.GREEN


def test_working_days_use_holidays_and_adjusted_days():
    assert workdays.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert workdays.is_workday(date(2026, 10, 10))  # an adjusted working Saturday
    assert not workdays.is_workday(date(2026, 10, 1))
    assert workdays.end_of_working_day(date(2026, 9, 29)).strftime("%H:%M") == "17:30"


def test_uncovered_year_counts_weekends_only(caplog, monkeypatch):
    # The warning is logged once per year per process, and Alembic's fileConfig (run by the app fixture)
    # disables loggers that already exist: an earlier test must not hide it.
    monkeypatch.setattr(workdays, "_warned", set())
    monkeypatch.setattr(logging.getLogger("app.workdays"), "disabled", False)
    assert workdays.covered(2026) and not workdays.covered(2031)
    with caplog.at_level("WARNING", logger="app.workdays"):
        assert workdays.add_working_days(date(2031, 1, 3), 1) == date(2031, 1, 6)  # Friday + 1 = Monday
    assert any("2031" in r.getMessage() for r in caplog.records)


def test_calendar_and_working_shifts():
    due = workdays.end_of_working_day(date(2026, 9, 29))
    assert workdays.shift(due, 3).date() == date(2026, 10, 9)
    assert workdays.shift(due, 3, "calendar").date() == date(2026, 10, 2)
