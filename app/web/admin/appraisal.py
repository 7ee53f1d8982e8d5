"""The campaign office's appraisal actions: attach a scheme, set the interview quota, confirm the ranking,
send a sheet back, and keep interview (约谈) and written self-examination (书面检查) records."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.roles import MANAGE_CAMPAIGNS
from app.services.appraisal import appraisal_schemes, interviews, ranking, score_sheets
from app.services.appraisal.interviews import InterviewError, InterviewInput
from app.services.shared.input_errors import InputError
from app.web.authz import role_required
from app.web.form_values import posted_int, posted_text

from . import bp
from .appraisal_forms import InterviewForm, SelfExaminationForm


def _to_campaign(campaign_id: int):
    return redirect(url_for("admin.campaign_detail", campaign_id=campaign_id) + "#appraisal")


def _to_ranking(campaign_id: int):
    return redirect(url_for("assessor.ranking", campaign_id=campaign_id))


def _attempt(action, success: str) -> None:
    """Run a use case and flash its outcome: the success message, or the service's own reason."""
    try:
        action()
    except InputError as exc:
        flash(_(exc.message), "error")
    else:
        flash(success, "success")


@bp.post("/campaigns/<int:campaign_id>/appraisal")
@role_required(MANAGE_CAMPAIGNS)
def appraisal_attach(campaign_id: int):
    template_id = posted_int("template")
    if template_id is None:
        flash(_("请选择考核方案"), "error")
    else:
        _attempt(lambda: appraisal_schemes.attach(campaign_id, template_id, current_user.id), _("已挂接考核方案"))
    return _to_campaign(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/appraisal/settings")
@role_required(MANAGE_CAMPAIGNS)
def appraisal_settings(campaign_id: int):
    _attempt(
        lambda: appraisal_schemes.update_settings(
            campaign_id, posted_int("bottom_n"), request.form.get("kind"), current_user.id
        ),
        _("已保存考核设置"),
    )
    return _to_campaign(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/appraisal/finalise")
@role_required(MANAGE_CAMPAIGNS)
def appraisal_finalise(campaign_id: int):
    _attempt(lambda: ranking.finalise(campaign_id, current_user.id), _("排名已确认"))
    return _to_ranking(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/appraisal/units/<int:unit_id>/reopen")
@role_required(MANAGE_CAMPAIGNS)
def appraisal_reopen(campaign_id: int, unit_id: int):
    _attempt(
        lambda: score_sheets.reopen(campaign_id, unit_id, posted_text("reason"), current_user.id),
        _("评分表已退回，评估组可修改后重新提交"),
    )
    return redirect(url_for("assessor.score_sheet", campaign_id=campaign_id, unit_id=unit_id))


def _interview_input(form: InterviewForm) -> InterviewInput:
    return InterviewInput(
        held_on=form.held_on.data,
        leader_interviewed=form.leader_interviewed.data or "",
        interviewer=form.interviewer.data or "",
        minutes=form.minutes.data or "",
        follow_up_actions=form.follow_up_actions.data or "",
        follow_up_status=form.follow_up_status.data,
    )


def _save_interview(form: InterviewForm, save) -> bool:
    """Validate and save; a service error goes beside its field, nothing typed is lost."""
    if not form.validate_on_submit():
        return False
    try:
        save(_interview_input(form))
    except InterviewError as exc:
        _place_errors(form, exc)
        return False
    return True


def _place_errors(form, exc: InputError) -> None:
    """Each service message beside its input; one without an input above the form."""
    for name, message in exc.errors.items():
        form[name].errors = [*form[name].errors, _(message)]
    if not exc.errors:
        form.form_errors.append(_(exc.message))


def _render_interview(form, unit, campaign_id: int, interview=None):
    status = 400 if request.method == "POST" else 200
    return render_template(
        "appraisal/interview_form.html", form=form, unit=unit, campaign_id=campaign_id, interview=interview
    ), status


@bp.route("/campaigns/<int:campaign_id>/units/<int:unit_id>/interviews/new", methods=["GET", "POST"])
@role_required(MANAGE_CAMPAIGNS)
def interview_new(campaign_id: int, unit_id: int):
    unit = score_sheets.enrolled_unit(campaign_id, unit_id)
    if unit is None:
        abort(404)
    form = InterviewForm()
    if _save_interview(form, lambda values: interviews.create(campaign_id, unit_id, values, current_user.id)):
        flash(_("已登记约谈记录"), "success")
        return _to_ranking(campaign_id)
    return _render_interview(form, unit, campaign_id)


@bp.route("/interviews/<int:interview_id>/edit", methods=["GET", "POST"])
@role_required(MANAGE_CAMPAIGNS)
def interview_edit(interview_id: int):
    interview = interviews.get(interview_id)
    if interview is None:
        abort(404)
    form = InterviewForm(obj=interview) if request.method == "GET" else InterviewForm()
    if _save_interview(form, lambda values: interviews.update(interview_id, values, current_user.id)):
        flash(_("已保存约谈记录"), "success")
        return _to_ranking(interview.campaign_id)
    return _render_interview(form, interview.unit, interview.campaign_id, interview)


@bp.post("/interviews/<int:interview_id>/delete")
@role_required(MANAGE_CAMPAIGNS)
def interview_delete(interview_id: int):
    try:
        campaign_id = interviews.delete(interview_id, current_user.id)
    except InterviewError:
        abort(404)
    flash(_("已删除约谈记录"), "success")
    return _to_ranking(campaign_id)


@bp.route("/self-examinations/<int:record_id>", methods=["GET", "POST"])
@role_required(MANAGE_CAMPAIGNS)
def self_examination(record_id: int):
    record = interviews.get_self_examination(record_id)
    if record is None:
        abort(404)
    form = SelfExaminationForm(obj=record) if request.method == "GET" else SelfExaminationForm()
    if form.validate_on_submit():
        try:
            interviews.record_self_examination(
                record_id, form.status.data, form.received_on.data, form.note.data or "", current_user.id
            )
        except InterviewError as exc:
            _place_errors(form, exc)
        else:
            flash(_("已保存书面检查记录"), "success")
            return _to_ranking(record.campaign_id)
    status = 400 if request.method == "POST" else 200
    return render_template("appraisal/self_examination.html", form=form, record=record), status
