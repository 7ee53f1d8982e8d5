"""What the designer's properties panel offers to choose from: forms, operations, roles, phases
(labels in the reader's language, written into the page's JSON)."""

from typing import Any

from app.engine import definitions, operations
from app.extensions import db
from app.forms import registry as form_registry
from app.i18n import N_, LazyText, _l
from app.models import ProcessDefinition
from app.models.campaign import PHASE_NAMES

# The overdue ladder's rungs as launch puts them in process data (`ladder[...]`).
LADDER_LEVELS = {"reminder": _l("催办"), "letter": _l("督办函"), "notice": _l("通报")}
OFFSET_UNITS = {"working": _l("工作日"), "calendar": _l("自然日")}
# What the registered operations do, in words; one registered later shows by its name alone.
OPERATION_LABELS = {
    "send_reminder": _l("催办"),
    "issue_supervision_letter": _l("督办函"),
    "publish_public_notice": _l("通报"),
    "notify_unit": _l("通知单位"),
}
LABEL = N_("%(value)s（%(name)s）")


def options() -> dict[str, Any]:
    """The choices of the properties panel, as JSON-ready data."""
    forms = []
    for key in sorted(form_registry.known_keys()):
        forms.append({"value": key, "label": _l(LABEL, value=key, name=str(form_registry.load_definition(key).title))})
    ops = [
        {
            "value": name,
            "label": _l(LABEL, value=name, name=OPERATION_LABELS[name]) if name in OPERATION_LABELS else name,
        }
        for name in sorted(operations.names())
    ]
    return {
        "forms": forms,
        "operations": ops,
        "roles": list(definitions.ROLES),
        "phases": [
            {"value": key, "label": _l(LABEL, value=key, name=LazyText(name))}
            for key, name in PHASE_NAMES.items()
            if key != "closed"
        ],
        "ladder_levels": [{"value": k, "label": v} for k, v in LADDER_LEVELS.items()],
        "offset_units": [{"value": k, "label": v} for k, v in OFFSET_UNITS.items()],
    }


def definition(definition_id: int) -> ProcessDefinition | None:
    """A deployed version, to open in the modeler or download."""
    return db.session.get(ProcessDefinition, definition_id)
