"""The instance viewer: an instance's progress drawn on its version's diagram, with its timeline."""

from flask import render_template

from app.models.roles import VIEW_INSTANCE_DIAGRAM
from app.services.tasks import instance_view
from app.web.authz import role_required

from . import bp


@bp.get("/instances/<int:instance_id>", endpoint="instance")
@role_required(VIEW_INSTANCE_DIAGRAM)
def instance(instance_id: int):
    found = instance_view.view(instance_id)  # InstanceNotFound: a 404 page (app.web.errors)
    marks = {element_id: f"mark-{state}" for element_id, state in found.states.items()}
    return render_template(
        "designer/instance.html",
        view=found,
        instance=found.instance,
        marks=marks,
        state_names=instance_view.STATE_NAMES,
        states=instance_view.STATES,
    )
