"""The unit picker of a list's filter bar (templates/_filters.html unit_picker): a text box for a unit's
name or code (`unit_q`) and the id of the unit picked (`unit`). With its script
(assets/src/unit-picker.entry.js) the box searches as one types (units.search) and sets the id;
without it, the server reads the text: the unit it names, or the first few it could mean to pick from.

Only the picked unit is loaded, by id: a page never lists every unit (a province has ~20,000)."""

from dataclasses import dataclass, field

from flask import request, url_for

from app.services.accounts import unit_search
from app.services.accounts.unit_search import UnitMatch
from app.web.query_args import int_arg

ID, TEXT = "unit", "unit_q"
CHOICES = 10  # units offered when the typed text names none exactly (no script)


@dataclass
class Picked:
    unit: UnitMatch | None = None  # the unit the list is filtered by
    text: str = ""  # what the box shows
    choices: list[UnitMatch] = field(default_factory=list)  # the text named no unit: these contain it
    more: bool = False  # more units contain it than `choices`
    campaign_id: int | None = None  # the search's scope

    @property
    def unit_id(self) -> int | None:
        return self.unit.id if self.unit else None

    @property
    def unresolved(self) -> bool:
        """Text was typed that names no one unit: the list is not filtered by unit."""
        return bool(self.text) and self.unit is None

    def search_url(self) -> str:
        return url_for("units.search", campaign=self.campaign_id) if self.campaign_id else url_for("units.search")

    def choice_url(self, unit: UnitMatch) -> str:
        """This list again (its other filters kept, from page 1) filtered by `unit`."""
        # As paging's page_url: url_for's own arguments (_external, _anchor, ...) are never passed on.
        kept = (name for name in request.args if name not in (ID, TEXT, "page") and not name.startswith("_"))
        values: dict = {name: request.args.getlist(name) for name in kept}
        values.update(request.view_args or {})
        values.update({ID: unit.id, TEXT: unit.name})
        return url_for(request.endpoint or "", **values)


def picked(campaign_id: int | None = None) -> Picked:
    """The unit the request's filter picks, within the campaign's enrolled units when one is given.

    The id wins while the box still shows that unit (or the box was not sent: a link such as
    ?unit=5); text typed over it, or sent without an id, is looked up; an empty box picks none."""
    text = (request.args.get(TEXT) or "").strip()[: unit_search.TEXT_MAX]
    unit_id = int_arg(ID)
    if unit_id:
        unit = unit_search.get(unit_id, campaign_id)
        if unit and (TEXT not in request.args or unit_search.named(unit, text)):
            return Picked(unit, unit.name, campaign_id=campaign_id)
    if not text:
        return Picked(campaign_id=campaign_id)
    unit, found = unit_search.resolve(text, campaign_id, CHOICES)
    if unit:
        return Picked(unit, unit.name, campaign_id=campaign_id)
    return Picked(None, text, found.units, found.more, campaign_id)
