"""Assessors: the assessment queue (gated on a cleared ledger) and the task page."""

from flask import render_template

from app.models.roles import ASSESS, Role
from app.services.appraisal import score_sheets
from app.services.campaigns import campaigns
from app.services.ledger import ledger
from app.services.tasks import tasks
from app.web import task_page
from app.web.authz import role_required
from app.web.errors import answers_too_large
from app.web.query_args import int_arg, page_arg

from . import (
    appraisal,  # noqa: F401  (the appraisal pages attach their routes to bp)
    bp,
)

PER_PAGE = 50


@bp.get("/queue", endpoint="queue")
@role_required(ASSESS)
def queue():
    campaign_id = int_arg("campaign")
    result = tasks.queue(Role.ASSESSOR, campaign_id=campaign_id, page=page_arg(), per_page=PER_PAGE)
    # Open items per row, for the page at once (the service refuses an assessment anyway).
    open_by_instance = ledger.open_counts(t.instance_id for t in result.rows)
    open_counts = {t.id: open_by_instance[t.instance_id] for t in result.rows}
    # The appraisal score sheet (考核评分) beside the assessment, for campaigns that attached a scheme.
    sheets = score_sheets.sheets_for([(t.campaign_id, t.unit_id) for t in result.rows])
    return render_template(
        "assessor/queue.html",
        result=result,
        open_counts=open_counts,
        sheets=sheets,
        campaign_id=campaign_id,
        campaigns=campaigns.list_campaigns(),
    )


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"], endpoint="task")
@answers_too_large
@role_required(ASSESS)
def task(task_id: int):
    return task_page.handle(task_id, "assessor.queue")
