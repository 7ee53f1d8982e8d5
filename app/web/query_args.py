"""Reading the query string: one place that decides what a filter or page number may be.

A value a route cannot use is treated as absent (the list shows unfiltered, page 1), never
passed on: a 25-digit number would overflow the database's integer, a date like 9999-12-31
overflows the day after it. Routes that must refuse say so themselves."""

from datetime import date

from flask import request

from app.web.guards import MAX_ID

# Dates people filter by: anything outside is a typo or a probe.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
MAX_PAGE = 100_000


def int_arg(name: str, args=None) -> int | None:
    """A positive id or number from the query string, or None."""
    value = ((args if args is not None else request.args).get(name) or "").strip()
    if not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def page_arg(name: str = "page", args=None) -> int:
    """A page number: 1 unless a sensible one was asked for."""
    number = int_arg(name, args)
    return number if number is not None and number <= MAX_PAGE else 1


def date_arg(name: str, args=None) -> date | None:
    """A YYYY-MM-DD date within EARLIEST .. LATEST, or None (2026-02-30 is None too)."""
    try:
        day = date.fromisoformat(((args if args is not None else request.args).get(name) or "").strip())
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def choice_arg(name: str, allowed, args=None) -> str | None:
    """The value if it is one of `allowed` (a collection of strings), else None."""
    value = (args if args is not None else request.args).get(name) or None
    return value if value in allowed else None
