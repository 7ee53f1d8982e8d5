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

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def clamp(page_number: int, total: int, per_page: int) -> int:
    """The page number within the pages there are (page 99 of 3 shows page 3)."""
    return min(max(page_number, 1), max((total + per_page - 1) // per_page, 1))


def count(query: Select[Any]) -> int:
    """How many rows `query` gives."""
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def fetch(query: Select[Any], ordered: Select[tuple[T]], page_number: int, per_page: int) -> tuple[list[T], int, int]:
    """Count `query`, clamp the page number to the pages there are, and load that page of `ordered`
    (the same query with its ordering and eager loads): (rows, total, page number)."""
    total = count(query)
    page_number = clamp(page_number, total, per_page)
    rows = list(db.session.scalars(ordered.offset((page_number - 1) * per_page).limit(per_page)))
    return rows, total, page_number
