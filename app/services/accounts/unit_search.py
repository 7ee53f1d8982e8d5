"""Finding a unit by part of its name or code, for the unit pickers: a bounded search (a province
has ~20,000 units, so no page lists them all), optionally within one campaign's enrolled units."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select

from app.errors import Invalid, NotFound
from app.extensions import db
from app.i18n import _l
from app.models import Campaign, CampaignUnit, Unit

LIMIT = 20  # matches a picker shows
LIMIT_MAX = 50  # the most one search answers, whatever it asks for
TEXT_MAX = 64  # longer than any unit's code, and than any part of a name a person types


@dataclass(frozen=True)
class UnitMatch:
    id: int
    code: str
    name: str
    kind: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class Found:
    units: list[UnitMatch]
    more: bool  # more units match than were returned: the person should type more


def _columns() -> Select[Any]:
    return select(Unit.id, Unit.code, Unit.name, Unit.kind)


def _in_scope(stmt: Select[Any], campaign_id: int | None) -> Select[Any]:
    if campaign_id is None:
        return stmt
    enrolled = select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign_id)
    return stmt.where(Unit.id.in_(enrolled))


def _checked(text: str, campaign_id: int | None) -> str:
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise Invalid(_l("搜索内容不能超过%(max)s个字符", max=TEXT_MAX), code="search_too_long")
    if campaign_id is not None and db.session.get(Campaign, campaign_id) is None:
        raise NotFound(_l("专项整治不存在"))
    return text


def search(text: str, campaign_id: int | None = None, limit: int = LIMIT) -> Found:
    """Units whose name or code contains `text` (any case), exact and leading matches first, then by
    code; at most `limit` (capped at LIMIT_MAX). An empty text matches every unit in scope."""
    text = _checked(text, campaign_id)
    limit = min(max(limit, 1), LIMIT_MAX)
    stmt = _in_scope(_columns(), campaign_id)
    if text:
        lowered = text.lower()
        code = func.lower(Unit.code)
        stmt = stmt.where(Unit.name.icontains(text, autoescape=True) | Unit.code.icontains(text, autoescape=True))
        rank = case(
            ((code == lowered) | (Unit.name == text), 0),
            (code.startswith(lowered, autoescape=True) | Unit.name.startswith(text, autoescape=True), 1),
            else_=2,
        )
        stmt = stmt.order_by(rank, Unit.code)
    else:
        stmt = stmt.order_by(Unit.code)
    rows = db.session.execute(stmt.limit(limit + 1)).all()
    return Found([UnitMatch(*row) for row in rows[:limit]], len(rows) > limit)


def get(unit_id: int, campaign_id: int | None = None) -> UnitMatch | None:
    """The unit with this id if it is in scope (enrolled in the campaign, when one is given)."""
    row = db.session.execute(_in_scope(_columns(), campaign_id).where(Unit.id == unit_id)).first()
    return UnitMatch(*row) if row else None


def named(match: UnitMatch, text: str) -> bool:
    """Whether `text` is this unit's name or code (the code in any case)."""
    text = text.strip()
    return text == match.name or text.lower() == match.code.lower()


def resolve(text: str, campaign_id: int | None = None, limit: int = LIMIT) -> tuple[UnitMatch | None, Found]:
    """The one unit `text` names (its exact name or code, or the only unit that contains it), else
    None with the first matches, for a form submitted without the picker's script."""
    found = search(text, campaign_id, limit)
    exact = [m for m in found.units if named(m, text)]
    if len(exact) == 1:
        return exact[0], found
    if len(found.units) == 1 and not found.more:
        return found.units[0], found
    return None, found
