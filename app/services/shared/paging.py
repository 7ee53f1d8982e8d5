"""One page of a list: the rows, the total, and which page of how many."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from app.extensions import db

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int
    more: bool = False  # there are more than `total` rows: counting stopped there (see fetch's cap)

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def clamp(page_number: int, total: int, per_page: int) -> int:
    """The page number within the pages there are (page 99 of 3 shows page 3)."""
    return min(max(page_number, 1), max((total + per_page - 1) // per_page, 1))


def count(query: Select[Any], cap: int | None = None) -> int:
    """How many rows `query` gives; with `cap`, counting stops at cap + 1 (a list of hundreds of
    thousands need not be counted to the last row on every page view)."""
    if cap is not None:
        query = query.limit(cap + 1)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def fetch(
    query: Select[Any], ordered: Select[tuple[T]], page_number: int, per_page: int, cap: int | None = None
) -> tuple[list[T], int, int]:
    """Count `query` (up to `cap` + 1 rows, when given), clamp the page number to the pages there
    are, and load that page of `ordered` (the same query with its ordering and eager loads):
    (rows, total, page number)."""
    total = count(query, cap)
    page_number = clamp(page_number, total if cap is None else min(total, cap), per_page)
    rows = list(db.session.scalars(ordered.offset((page_number - 1) * per_page).limit(per_page)))
    return rows, total, page_number
