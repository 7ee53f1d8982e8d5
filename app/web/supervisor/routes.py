"""Supervisors: the review queue, the task page, and one unit's instance with its full history."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.forms import registry as forms
from app.models.campaign import PHASE_NAMES
from app.models.roles import ESCALATE, SEE_UNIT_RECORDS, SUPERVISE, Role
from app.services.campaigns import campaigns
from app.services.disclosure import disclosure
from app.services.escalation import manual_letters
from app.services.findings import findings
from app.services.ledger import ledger
from app.services.tasks import evidence, tasks
from app.web import task_page
from app.web.authz import role_required
from app.web.errors import answers_too_large
from app.web.query_args import int_arg, page_arg

from . import (
    board,  # noqa: F401  (the escalation board attaches its routes to bp)
    bp,
    dashboard,  # noqa: F401  (so does the campaign dashboard)
    tips,  # noqa: F401  (the tip box triage attaches its routes to bp)
)

# The kinds of supervisor work, by form key (verify_item covers added items too).
KINDS = {"review_self_check": _l("审核自查"), "verify_item": _l("核查销号"), "follow_up_review": _l("回头看")}
PER_PAGE = 50
INSTANCE_STATUS = {"running": _l("进行中"), "completed": _l("已办结"), "error": _l("出错")}
TASK_STATUS = {"ready": _l("待办理"), "completed": _l("已办结"), "cancelled": _l("已取消")}


@bp.get("/queue", endpoint="queue")
@role_required(SUPERVISE)
def queue():
    campaign_id = int_arg("campaign")
    kind = request.args.get("kind") or None
    if kind not in KINDS:
        kind = None
    result = tasks.queue(Role.SUPERVISOR, campaign_id=campaign_id, form_key=kind, page=page_arg(), per_page=PER_PAGE)
    return render_template(
        "supervisor/queue.html",
        result=result,
        kinds=KINDS,
        kind=kind,
        campaign_id=campaign_id,
        campaigns=campaigns.list_campaigns(),
    )


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"], endpoint="task")
@answers_too_large
@role_required(SUPERVISE)
def task(task_id: int):
    return task_page.handle(task_id, "supervisor.queue")


def _history(instance_id: int) -> list[dict]:
    files_by_task: dict[int, list] = {}
    for row in evidence.for_instance(instance_id):
        if row.task_id is not None:
            files_by_task.setdefault(row.task_id, []).append(row)
    steps = []
    for step, submission in tasks.instance_history(instance_id):
        files = task_page.files_by_field(files_by_task.get(step.id, []))
        steps.append(
            {
                "task": step,
                "submission": submission,
                "answers": task_page.answers(submission.form_key, submission.data, files) if submission else None,
            }
        )
    return steps


def _render_instance(instance, item_form=None, status: int = 200):
    can_add = current_user.role in SUPERVISE and instance.status == "running"
    if can_add and item_form is None:
        item_form = forms.build_form("add_ledger_item")
    steps = _history(instance.id)
    letter_of = manual_letters.letters_by_task(step["task"].id for step in steps)
    # Overdue unit steps without a letter get the 发督办函 button.
    may_issue = current_user.role in ESCALATE
    overdue = {step["task"].id for step in steps if may_issue and manual_letters.is_overdue(step["task"])}
    return render_template(
        "supervisor/instance.html",
        instance=instance,
        items=ledger.for_instance(instance.id),
        steps=steps,
        letter_of=letter_of,
        overdue=overdue,
        phase_names=PHASE_NAMES,
        instance_status=INSTANCE_STATUS,
        task_status=TASK_STATUS,
        status_names=ledger.STATUS_NAMES,
        origin_names=ledger.ORIGIN_NAMES,
        item_form=item_form if can_add else None,
        item_definition=forms.load_definition("add_ledger_item") if can_add else None,
        item_files=disclosure.item_files(instance.id),
    ), status


@bp.get("/instances/<int:instance_id>", endpoint="instance")
@role_required(SEE_UNIT_RECORDS)
def instance(instance_id: int):
    try:
        found = tasks.instance_for(current_user, instance_id)
    except tasks.TaskNotFound:
        abort(404)
    return _render_instance(found)


@bp.post("/instances/<int:instance_id>/items", endpoint="add_item")
@role_required(SUPERVISE)
def add_item(instance_id: int):
    try:
        found = tasks.instance_for(current_user, instance_id)
    except tasks.TaskNotFound:
        abort(404)
    form = forms.build_form("add_ledger_item", formdata=request.form)
    try:
        item = findings.add_item(current_user, found.id, form)
    except tasks.TaskNotFound:
        abort(404)
    except tasks.FormInvalid:
        flash(_("表单有误，请按提示修改"), "error")
        return _render_instance(found, form)
    except tasks.Conflict as exc:
        flash(exc.message, "error")
        return _render_instance(found, form, 409)
    flash(_("已新增整改事项 #%(seq)d：%(title)s，已通知单位整改", seq=item.seq, title=item.title), "success")
    return redirect(url_for("supervisor.instance", instance_id=found.id))
