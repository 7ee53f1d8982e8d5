"""Unit staff: the unit's to-do list, its ledger, and the task page."""

from flask import redirect, render_template, url_for

from app.models.campaign import PHASE_NAMES
from app.models.roles import UNIT_WORK
from app.services.ledger import ledger
from app.services.tasks import tasks
from app.web import task_page
from app.web.authz import current_unit_id, role_required
from app.web.errors import answers_too_large

from . import bp


@bp.get("/tasks", endpoint="tasks")
@role_required(UNIT_WORK)
def task_list():
    unit_id = current_unit_id()
    open_tasks = tasks.open_for_unit(unit_id) if unit_id else []
    done = tasks.done_for_unit(unit_id, limit=20) if unit_id else []
    return render_template("staff/tasks.html", open_tasks=open_tasks, done=done)


@bp.get("/ledger", endpoint="ledger")
@role_required(UNIT_WORK)
def ledger_page():
    unit_id = current_unit_id()
    instances = tasks.instances_of_unit(unit_id) if unit_id else []
    items = ledger.for_instances(instance.id for instance in instances)
    ledgers = [(instance, items[instance.id]) for instance in instances]
    return render_template(
        "staff/ledger.html",
        ledgers=ledgers,
        status_names=ledger.STATUS_NAMES,
        origin_names=ledger.ORIGIN_NAMES,
        phase_names=PHASE_NAMES,
    )


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"], endpoint="task")
@answers_too_large
@role_required(UNIT_WORK)
def task(task_id: int):
    return task_page.handle(task_id, "staff.tasks")


@bp.get("/instances/<int:instance_id>", endpoint="instance")
@role_required(UNIT_WORK)
def instance(instance_id: int):
    # One page shows an instance to every role; it checks the unit itself.
    return redirect(url_for("supervisor.instance", instance_id=instance_id))
