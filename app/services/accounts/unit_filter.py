"""The dashboard's unit filter (kind, lead department), shared by every aggregate and list behind it."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import QueryableAttribute

from app.extensions import db
from app.models import Unit
from app.models.unit import UNIT_KINDS

LEAD_MAX = 128


@dataclass
class UnitFilter:
    kind: str | None = None
    lead_department: str | None = None

    def __post_init__(self) -> None:
        self.kind = self.kind if self.kind in UNIT_KINDS else None
        self.lead_department = (self.lead_department or "").strip()[:LEAD_MAX] or None

    def __bool__(self) -> bool:
        return bool(self.kind or self.lead_department)

    def where(self, unit_id_column: QueryableAttribute[Any]) -> list[ColumnElement[bool]]:
        """Conditions keeping rows whose unit matches (none when the filter is empty)."""
        if not self:
            return []
        units = select(Unit.id)
        if self.kind:
            units = units.where(Unit.kind == self.kind)
        if self.lead_department:
            units = units.where(Unit.lead_department == self.lead_department)
        return [unit_id_column.in_(units)]

    def args(self) -> dict[str, Any]:
        """As the query arguments the dashboard and its lists read (see from_args), for url_for."""
        return {k: v for k, v in (("kind", self.kind), ("lead", self.lead_department)) if v}

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "UnitFilter":
        return cls(kind=args.get("kind") or None, lead_department=args.get("lead") or None)


def lead_departments() -> list[str]:
    """Every lead department named on a unit, for the filter's choices (one index scan, whatever the campaign)."""
    return list(
        db.session.scalars(
            select(Unit.lead_department)
            .distinct()
            .where(Unit.lead_department.is_not(None))
            .order_by(Unit.lead_department)
        )
    )
