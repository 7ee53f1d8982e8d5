"""The unit pickers' search (GET /units/search?q=塘渡&campaign=3&limit=20): JSON, a bounded number
of units whose name or code contains q, within a campaign's enrolled units when one is given.

Only those who see every unit (OVERSEE_ALL_UNITS) pick units; unit staff see their own unit only and
get 403. Errors are JSON too: {"error": {"code", "message", "details"}} (app.web.errors)."""

from flask import jsonify, request

from app.errors import Invalid
from app.i18n import _l
from app.models.roles import OVERSEE_ALL_UNITS
from app.services.accounts import unit_search
from app.web.authz import role_required
from app.web.errors import answers_json
from app.web.guards import MAX_ID

from . import bp


def _number(name: str, refusal) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID:
        raise Invalid(refusal, code=f"bad_{name}")
    return int(raw)


@bp.get("/search", endpoint="search")
@answers_json
@role_required(OVERSEE_ALL_UNITS)
def search():
    limit = _number("limit", _l("limit须为正整数（最多%(max)s）", max=unit_search.LIMIT_MAX))
    campaign_id = _number("campaign", _l("campaign须为专项整治的编号"))
    found = unit_search.search(request.args.get("q", ""), campaign_id, limit or unit_search.LIMIT)
    response = jsonify({"units": [u.as_json() for u in found.units], "more": found.more})
    response.headers["Cache-Control"] = "private, no-store"
    return response
