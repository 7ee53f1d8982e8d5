"""Assessors: the assessment queue (gated on a cleared ledger) and the task page."""
from flask import render_template, request

from app.services.appraisal import score_sheets
from app.services.campaigns import campaigns
from app.services.ledger import ledger
from app.services.tasks import tasks
from app.web import task_page
from app.web.authz import role_required

from . import (
    appraisal,  # noqa: F401  (the appraisal pages attach their routes to bp)
    bp,
)

PER_PAGE = 50


@bp.get("/queue", endpoint="queue")
@role_required("assessor", "admin")
def queue():
    campaign = request.args.get("campaign", "")
    campaign_id = int(campaign) if campaign.isdigit() else None
    page_arg = request.args.get("page", "")
    page = max(int(page_arg), 1) if page_arg.isdigit() else 1
    result = tasks.queue("assessor", campaign_id=campaign_id, page=page, per_page=PER_PAGE)
    # One indexed count per row of a 50-row page: cheap, and the service refuses anyway.
    open_counts = {t.id: ledger.open_count(t.instance_id) for t in result.tasks}
    # The appraisal score sheet (考核评分) beside the assessment, for campaigns that attached a scheme.
    sheets = score_sheets.sheets_for([(t.campaign_id, t.unit_id) for t in result.tasks])
    return render_template("assessor/queue.html", result=result, open_counts=open_counts, sheets=sheets,
                           campaign_id=campaign_id, campaigns=campaigns.list_campaigns(),
                           pages=max((result.total + PER_PAGE - 1) // PER_PAGE, 1))


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"], endpoint="task")
@role_required("assessor", "admin")
def task(task_id: int):
    return task_page.handle(task_id, "assessor.queue")
