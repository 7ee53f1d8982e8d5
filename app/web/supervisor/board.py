"""The escalation board: escalations by level, unit and age, incidents, and bulk actions on overdue tasks."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import clock
from app.models.roles import ESCALATE
from app.services.accounts import unit_filter
from app.services.accounts.unit_filter import UnitFilter
from app.services.escalation import board, escalations, withdrawal
from app.web.authz import role_required
from app.web.form_values import optional_date, posted_ids, posted_text
from app.web.query_args import int_arg, page_arg

from . import bp

PER_PAGE = 50
LEVELS = {"reminder": _l("催办"), "letter": _l("督办函"), "notice": _l("通报")}
STATUSES = {
    "pending": _l("待执行"),
    "done": _l("已执行"),
    "incident": _l("故障"),
    "cancelled": _l("已取消"),
    "withdrawn": _l("已撤回"),
}
# The service's refusals, marked here so the catalog has them (the service stays free of Babel).
WITHDRAW_MESSAGES = (
    _l("撤回须填写理由"),
    _l("该督办已撤回"),
    _l("该督办未执行（环节已办结），无需撤回"),
    _l("环节已办结，未再执行"),
    _l("前一级督办已撤回，未再执行"),
)
FILTER_ARGS = ("campaign", "level", "unit", "status", "min_age", "kind", "lead")


def _filter(args) -> board.BoardFilter:
    return board.BoardFilter(
        campaign_id=int_arg("campaign", args),
        level=args.get("level") or None,
        unit=(args.get("unit") or "")[:64],
        status=args.get("status") or None,
        min_age_days=int_arg("min_age", args),
        units=UnitFilter.from_args(args),
    )


def _kept_args(args) -> dict:
    """The filter as query arguments, to keep across paging and after a bulk action."""
    return {name: args.get(name) for name in FILTER_ARGS if args.get(name)}


@bp.get("/escalations", endpoint="escalations")
@role_required(ESCALATE)
def escalation_board():
    flt = _filter(request.args)
    page = board.escalations(flt, page=page_arg("page"), per_page=PER_PAGE)
    overdue = board.overdue_tasks(flt, page=page_arg("tpage"), per_page=PER_PAGE)
    return render_template(
        "supervisor/board.html",
        flt=flt,
        page=page,
        overdue=overdue,
        counts=board.level_counts(flt),
        incidents=board.incidents(flt),
        reached=board.levels_reached([t.id for t in overdue.rows]),
        campaigns=board.campaign_choices(),
        levels=LEVELS,
        statuses=STATUSES,
        kept=_kept_args(request.args),
        age_days=board.age_days,
        today=clock.today().isoformat(),
        now=clock.now(),
        leads=unit_filter.lead_departments(),
    )


def _back():
    return redirect(url_for("supervisor.escalations", **_kept_args(request.form)))


def _summary(result: board.BulkResult, done_message: str) -> None:
    if result.done:
        flash(done_message, "success")
    if result.skipped:
        reasons = _("；").join(
            _("#%(id)s：%(reason)s", id=task_id, reason=reason) for task_id, reason in result.skipped[:20]
        )
        flash(_("跳过 %(n)d 项：%(reasons)s", n=len(result.skipped), reasons=reasons), "warning")


@bp.post("/escalations/bulk", endpoint="escalations_bulk")
@role_required(ESCALATE)
def escalations_bulk():
    task_ids = posted_ids("task_id")
    action = request.form.get("action")
    if not task_ids:
        flash(_("请至少勾选一项逾期事项"), "error")
        return _back()
    if action == "remind":
        result = board.remind(current_user, task_ids)
        _summary(result, _("已催办 %(n)d 项，已通知相关单位", n=len(result.done)))
    elif action == "letter":
        try:
            new_due = optional_date(request.form.get("new_due"))
        except ValueError:
            flash(_("新的办理期限格式有误，应为 年-月-日"), "error")
            return _back()
        result = board.issue_letters(current_user, task_ids, new_due)
        _summary(result, _("已发出督办函 %(n)d 份", n=len(result.done)))
    else:
        flash(_("请选择要执行的操作"), "error")
    return _back()


@bp.post("/escalations/<int:escalation_id>/retry", endpoint="escalation_retry")
@role_required(ESCALATE)
def escalation_retry(escalation_id: int):
    try:
        outcome = escalations.retry(escalation_id, current_user.id)
    except LookupError:
        flash(_("督办事项不存在"), "error")
        return _back()
    if outcome == "done":
        flash(_("已重新执行，执行成功"), "success")
    elif outcome == "waiting":
        flash(_("已恢复待执行：按督办阶梯须等上一级满期后才执行，届时自动执行"), "info")
    elif outcome == "cancelled":
        flash(_("该环节已办结或上一级督办已撤回，此项不再执行"), "info")
    else:
        flash(_("重新执行仍然失败，请查看错误信息"), "error")
    return _back()


@bp.post("/escalations/<int:escalation_id>/withdraw", endpoint="escalation_withdraw")
@role_required(ESCALATE)
def escalation_withdraw(escalation_id: int):
    """Withdraw a rung issued wrongly, with a reason (its letter or public notice with it)."""
    try:
        escalation = withdrawal.withdraw(escalation_id, current_user.id, posted_text("reason"))
    except LookupError:
        flash(_("督办事项不存在"), "error")
        return _back()
    except withdrawal.WithdrawRefused as exc:
        flash(_(exc.message), "error")
        return _back()
    flash(_("已撤回%(level)s，撤回记录已存档", level=LEVELS.get(escalation.level, escalation.level)), "success")
    return _back()
