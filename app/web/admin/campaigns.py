"""Campaign pages: list, notice form, detail with enrolment, launch with progress, progress matrix."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models.campaign import PHASE_NAMES
from app.models.roles import MANAGE_CAMPAIGNS, VIEW_CAMPAIGNS
from app.services.accounts import unit_filter
from app.services.accounts.unit_filter import UnitFilter
from app.services.appraisal import appraisal_schemes
from app.services.appraisal.appraisal_schemes import SchemeError
from app.services.campaigns import campaigns, launch
from app.services.campaigns.launch import LaunchError
from app.services.campaigns.notices import CampaignError
from app.services.escalation import ladder
from app.services.oversight import matrix
from app.web import paging
from app.web.authz import role_required
from app.web.query_args import choice_arg, page_arg

from . import bp
from .campaign_forms import CampaignForm, EnrolForm, PhaseRow, TaskRow, blank_notice_data, notice_form_data

# Designers see campaigns read-only (their menu links here); only admins change them.
STATUS_LABELS = {"draft": _l("草稿"), "launching": _l("启动中"), "launched": _l("已启动"), "closed": _l("已结束")}
MATRIX_PER_PAGE = 200


@bp.context_processor
def _campaign_labels() -> dict:
    return {"campaign_status_labels": STATUS_LABELS, "phase_names": PHASE_NAMES}


def _campaign_or_404(campaign_id: int):
    campaign = campaigns.get_campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/campaigns", endpoint="campaigns")
@role_required(VIEW_CAMPAIGNS)
def campaigns_page():
    items = campaigns.list_campaigns()
    counts = campaigns.enrolled_counts([c.id for c in items])
    return render_template("admin/campaign_list.html", campaigns=items, counts=counts)


def _save_notice(form: CampaignForm, campaign_id: int | None):
    """Validate and store the form; on a service error, attach it beside the field and return None."""
    if not form.validate_on_submit():
        return None
    try:
        notice = form.to_notice()
        if campaign_id is None:
            campaign = campaigns.create_campaign(notice, current_user.id)
        else:
            campaign = campaigns.update_campaign(campaign_id, notice, current_user.id)
    except CampaignError as exc:
        if not form.add_error(exc.field, exc.message):
            form.form_errors.append(exc.message)
        return None
    _attach_chosen_scheme(form, campaign)
    return campaign


def _attach_chosen_scheme(form: CampaignForm, campaign) -> None:
    """The form's 考核方案 choice; the notice is saved already, so a refusal is only reported."""
    chosen = form.scheme_template.data
    current = appraisal_schemes.scheme_for(campaign.id)
    if (current.template_id if current else None) == (int(chosen) if chosen else None):
        return
    try:
        if chosen:
            appraisal_schemes.attach(campaign.id, int(chosen), current_user.id)
        else:
            appraisal_schemes.detach(campaign.id, current_user.id)
    except SchemeError as exc:
        flash(_(exc.message), "error")


def _scheme_choices(campaign_id: int | None) -> list:
    """Latest template versions, plus the older one a campaign may already hold."""
    templates = appraisal_schemes.list_templates()
    current = appraisal_schemes.scheme_for(campaign_id) if campaign_id else None
    if current is not None and current.template is not None and current.template not in templates:
        templates.append(current.template)
    return templates


def _render_form(form: CampaignForm, campaign):
    # Blank rows the page's script copies when "添加阶段/添加任务" is pressed.
    blank_rows = {"phases": PhaseRow(prefix="phases-__i__-"), "tasks": TaskRow(prefix="tasks-__i__-")}
    status = 400 if request.method == "POST" else 200
    return render_template("admin/campaign_form.html", form=form, campaign=campaign, blank_rows=blank_rows), status


@bp.route("/campaigns/new", methods=["GET", "POST"])
@role_required(MANAGE_CAMPAIGNS)
def campaign_new():
    form = CampaignForm() if request.method == "POST" else CampaignForm(data=blank_notice_data())
    form.set_scheme_choices(_scheme_choices(None))
    campaign = _save_notice(form, None)
    if campaign is not None:
        flash(_("已创建专项整治：%(doc)s", doc=campaign.doc_number), "success")
        return redirect(url_for("admin.campaign_detail", campaign_id=campaign.id))
    return _render_form(form, None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required(MANAGE_CAMPAIGNS)
def campaign_edit(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if request.method == "POST":
        form = CampaignForm()
    else:
        form = CampaignForm(data=notice_form_data(campaign, appraisal_schemes.scheme_for(campaign.id)))
    form.set_scheme_choices(_scheme_choices(campaign.id))
    if campaign.status != "draft":
        form.form_errors.append(_("专项整治已启动，不能再修改通知"))
    elif _save_notice(form, campaign.id) is not None:
        flash(_("已保存"), "success")
        return redirect(url_for("admin.campaign_detail", campaign_id=campaign.id))
    return _render_form(form, campaign)


def _render_detail(campaign, enrol_form: EnrolForm, status: int = 200):
    return render_template(
        "admin/campaign_detail.html",
        campaign=campaign,
        enrol_form=enrol_form,
        enrolled=campaigns.enrolled_count(campaign.id),
        started=campaigns.started_count(campaign.id),
        ladder=ladder.ladder_of(campaign),
        calendar_warning=campaigns.calendar_warning(campaign),
        past=_past_deadlines(campaign),
        appraisal=appraisal_schemes.panel(campaign.id),
    ), status


@bp.get("/campaigns/<int:campaign_id>")
@role_required(VIEW_CAMPAIGNS)
def campaign_detail(campaign_id: int):
    return _render_detail(_campaign_or_404(campaign_id), EnrolForm())


@bp.post("/campaigns/<int:campaign_id>/enrol")
@role_required(MANAGE_CAMPAIGNS)
def campaign_enrol(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            added = campaigns.enrol_units(campaign.id, form.selection(), current_user.id)
        except CampaignError as exc:
            form.codes.errors = [*form.codes.errors, exc.message]
            return _render_detail(campaign, form, 400)
        flash(_("新纳入 %(n)d 个单位", n=added), "success")
        return redirect(url_for("admin.campaign_detail", campaign_id=campaign.id))
    return _render_detail(campaign, form, 400)


def _past_deadlines(campaign) -> list:
    """Phases whose deadline has passed, while that still stops the launch (before the first batch)."""
    return launch.past_deadlines(campaign) if campaign.launched_at is None else []


def _past_message(past) -> str:
    listed = _("、").join(_("%(name)s（%(date)s）", name=name, date=f"{day:%Y-%m-%d}") for name, day in past)
    return _("以下阶段的截止日期已过：%(phases)s。请先修改为新的截止日期，再启动。", phases=listed)


@bp.get("/campaigns/<int:campaign_id>/launch")
@role_required(MANAGE_CAMPAIGNS)
def campaign_launch(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    return render_template(
        "admin/campaign_launch.html",
        campaign=campaign,
        past=_past_deadlines(campaign),
        enrolled=campaigns.enrolled_count(campaign.id),
        started=campaigns.started_count(campaign.id),
        batch_url=url_for("admin.campaign_launch_batch", campaign_id=campaign.id),
        autostart=request.args.get("go") == "1",
    )


def _json_error(message: str, status: int):
    return jsonify({"error": message}), status


@bp.post("/campaigns/<int:campaign_id>/launch/batch")
@role_required(MANAGE_CAMPAIGNS)
def campaign_launch_batch(campaign_id: int):
    """Start the next batch of instances; the launch page calls this until `finished`."""
    campaign = campaigns.get_campaign(campaign_id)
    if campaign is None:
        return _json_error(_("专项整治不存在"), 404)
    if campaign.status == "closed":
        return _json_error(_("专项整治已结束"), 409)
    if campaigns.enrolled_count(campaign.id) == 0:
        return _json_error(_("尚未纳入任何单位，请先纳入单位"), 400)
    try:
        progress = launch.launch_next_batch(
            campaign.id, current_user.id, batch_size=current_app.config["LAUNCH_BATCH_SIZE"]
        )
    except LaunchError as exc:
        return _json_error(_past_message(exc.past) if exc.past else str(exc), 400)
    return jsonify(
        {
            "total": progress.total,
            "done": progress.done,
            "started_now": progress.started_now,
            "finished": progress.finished,
        }
    )


@bp.get("/campaigns/<int:campaign_id>/matrix")
@role_required(VIEW_CAMPAIGNS)
def campaign_matrix(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    page = page_arg()
    units = UnitFilter.from_args(request.args)
    # The dashboard drills down here by phase (or not_started) and light (or none).
    phase = choice_arg("phase", (*matrix.MATRIX_PHASES, matrix.NOT_STARTED))
    light = choice_arg("light", (*matrix.LIGHTS, matrix.NO_LIGHT))
    result = matrix.progress_matrix(
        campaign.id,
        page=page,
        per_page=MATRIX_PER_PAGE,
        due_soon_days=current_app.config["DUE_SOON_DAYS"],
        units=units,
        phase=phase,
        light_name=light,
    )
    drill = {k: v for k, v in (("phase", phase), ("light", light)) if v}
    # The supervisor's instance page is another blueprint's; link to it only once it exists.
    instance_links = "supervisor.instance" in current_app.view_functions
    return render_template(
        "admin/matrix.html",
        campaign=campaign,
        matrix=result,
        paging=paging.of_matrix(result),
        phases=matrix.MATRIX_PHASES,
        instance_links=instance_links,
        units=units,
        drill=drill,
        kept=dict(units.args(), **drill),
        leads=unit_filter.lead_departments(),
    )
