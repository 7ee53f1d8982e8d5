"""The campaign dashboard: figures as JSON for the page's ECharts, and the lists each figure drills down to."""

from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import clock
from app.models.campaign import PHASE_NAMES
from app.models.roles import ESCALATE, OVERSEE_ALL_UNITS
from app.services.accounts.unit_filter import UnitFilter
from app.services.campaigns import campaigns
from app.services.ledger.ledger import SOURCE_NAMES, STATUS_NAMES
from app.services.oversight import dashboard, dashboard_lists, lights, matrix
from app.web.authz import role_required
from app.web.query_args import date_arg, int_arg, page_arg

from . import bp

PER_PAGE = 50
LEVEL_NAMES = {"reminder": _l("催办"), "letter": _l("督办函"), "notice": _l("通报")}
ESCALATION_STATUS_NAMES = {
    "pending": _l("待执行"),
    "done": _l("已执行"),
    "incident": _l("故障"),
    "cancelled": _l("已取消"),
    "withdrawn": _l("已撤回"),
}
NO_LIGHT_NAME = _l("无待办")


def _campaign_or_404(campaign_id: int):
    campaign = campaigns.get_campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _light_name(shade: str) -> str:
    return _(lights.LABELS[shade]) if shade in lights.LABELS else str(NO_LIGHT_NAME)


def _phase_name(phase: str) -> str:
    return _(PHASE_NAMES[phase]) if phase in PHASE_NAMES else _("未启动")


@bp.get("/dashboard", endpoint="dashboard")
@role_required(OVERSEE_ALL_UNITS)
def dashboard_page():
    choices = dashboard.launched_campaigns()
    wanted = int_arg("campaign")
    campaign_id = wanted if wanted in {c[0] for c in choices} else (choices[0][0] if choices else None)
    if wanted is not None and campaign_id != wanted:
        abort(404)
    if campaign_id is None:
        return render_template("supervisor/dashboard.html", campaign=None, choices=choices)
    units = UnitFilter.from_args(request.args)
    now = clock.now()
    by_phase, leads = dashboard.page(campaign_id, units, now, current_app.config["DUE_SOON_DAYS"])
    return render_template(
        "supervisor/dashboard.html",
        campaign=_campaign_or_404(campaign_id),
        choices=choices,
        units=units,
        leads=leads,
        by_phase=by_phase,
        phase_name=_phase_name,
        light_name=_light_name,
        figures=FIGURES,
    )


def _matrix_url(campaign_id: int, units: UnitFilter, **drill) -> str:
    return url_for("admin.campaign_matrix", campaign_id=campaign_id, **units.args(), **drill)


def _units_by_phase(campaign_id: int, units: UnitFilter, now) -> dict:
    data = dashboard.figure("units_by_phase", campaign_id, units, now, current_app.config["DUE_SOON_DAYS"])
    return {
        **data,
        "phase_names": [_phase_name(p) for p in data["phases"]],
        "light_names": [_light_name(s) for s in data["lights"]],
        "drill": {
            shade: [_matrix_url(campaign_id, units, phase=p, light=shade) for p in data["phases"]]
            for shade in data["lights"]
        },
    }


def _overdue_series(campaign_id: int, units: UnitFilter, now) -> dict:
    data = dashboard.figure("overdue_series", campaign_id, units, now)
    return {
        **data,
        "drill": [
            url_for("supervisor.dashboard_overdue", campaign_id=campaign_id, day=day, **units.args())
            for day in data["days"]
        ],
    }


def _ledger_by_source(campaign_id: int, units: UnitFilter, now) -> dict:
    data = dashboard.figure("ledger_by_source", campaign_id, units, now)
    return {
        **data,
        "source_names": [_(SOURCE_NAMES[s]) if s in SOURCE_NAMES else s for s in data["sources"]],
        "status_names": [_(STATUS_NAMES[s]) for s in data["statuses"]],
        "drill": {
            status: [
                url_for(
                    "supervisor.dashboard_items", campaign_id=campaign_id, source=source, status=status, **units.args()
                )
                for source in data["sources"]
            ]
            for status in data["statuses"]
        },
    }


def _escalation_url(campaign_id: int, units: UnitFilter, level: str, status: str) -> str:
    # The escalation board acts on what it lists: only those who escalate drill down into it.
    if current_user.role in ESCALATE:
        return url_for("supervisor.escalations", campaign=campaign_id, level=level, status=status, **units.args())
    return url_for(
        "supervisor.dashboard_escalations", campaign_id=campaign_id, level=level, status=status, **units.args()
    )


def _escalations_by_level(campaign_id: int, units: UnitFilter, now) -> dict:
    data = dashboard.figure("escalations_by_level", campaign_id, units, now)
    return {
        **data,
        "level_names": [str(LEVEL_NAMES[level]) for level in data["levels"]],
        "status_names": [str(ESCALATION_STATUS_NAMES[s]) for s in data["statuses"]],
        "drill": {
            status: [_escalation_url(campaign_id, units, level, status) for level in data["levels"]]
            for status in data["statuses"]
        },
    }


def _progress_ranking(campaign_id: int, units: UnitFilter, now) -> dict:
    data = dashboard.figure("progress_ranking", campaign_id, units, now, lagging=request.args.get("order") != "leading")
    for row in data["rows"]:
        row["phase_name"] = _phase_name(row["phase"])
        row["drill"] = (
            url_for("supervisor.instance", instance_id=row["instance_id"])
            if row["instance_id"]
            else _matrix_url(campaign_id, units, phase=matrix.NOT_STARTED)
        )
    return data


# name -> (title, builder); the page draws one chart per entry, in this order.
FIGURES = {
    "units_by_phase": (_l("各阶段单位数"), _units_by_phase),
    "overdue_series": (_l("逾期事项趋势（近30天）"), _overdue_series),
    "ledger_by_source": (_l("整改台账：按来源和状态"), _ledger_by_source),
    "escalations_by_level": (_l("督办升级：按层级"), _escalations_by_level),
    "progress_ranking": (_l("单位进度排名"), _progress_ranking),
}


@bp.get("/dashboard/<int:campaign_id>/figures/<name>.json", endpoint="dashboard_figure")
@role_required(OVERSEE_ALL_UNITS)
def dashboard_figure(campaign_id: int, name: str):
    if name not in FIGURES:
        return jsonify({"error": _("没有这个图表")}), 404
    if campaigns.get_campaign(campaign_id) is None:
        return jsonify({"error": _("专项整治不存在")}), 404
    return jsonify(FIGURES[name][1](campaign_id, UnitFilter.from_args(request.args), clock.now()))


def _list_context(campaign_id: int) -> dict:
    units = UnitFilter.from_args(request.args)
    return {
        "campaign": _campaign_or_404(campaign_id),
        "units": units,
        "leads": dashboard.lead_departments(campaign_id),
        "back": url_for("supervisor.dashboard", campaign=campaign_id, **units.args()),
        "page_number": page_arg(),
    }


@bp.get("/dashboard/<int:campaign_id>/items", endpoint="dashboard_items")
@role_required(OVERSEE_ALL_UNITS)
def dashboard_items(campaign_id: int):
    context = _list_context(campaign_id)
    source = request.args.get("source") if request.args.get("source") in SOURCE_NAMES else None
    status = request.args.get("status") if request.args.get("status") in dashboard.LEDGER_STATUSES else None
    result = dashboard_lists.ledger_items(
        campaign_id, context["units"], source, status, context["page_number"], PER_PAGE
    )
    return render_template(
        "supervisor/dashboard_items.html",
        result=result,
        source=source,
        status=status,
        source_names=SOURCE_NAMES,
        status_names=STATUS_NAMES,
        statuses=dashboard.LEDGER_STATUSES,
        **context,
    )


@bp.get("/dashboard/<int:campaign_id>/overdue", endpoint="dashboard_overdue")
@role_required(OVERSEE_ALL_UNITS)
def dashboard_overdue(campaign_id: int):
    context = _list_context(campaign_id)
    today = clock.today()
    day = date_arg("day") if request.args.get("day") else today
    if day is None:
        return redirect(url_for("supervisor.dashboard_overdue", campaign_id=campaign_id, **context["units"].args()))
    day = min(day, today)
    result = dashboard_lists.overdue_on(
        campaign_id, context["units"], day, clock.now(), context["page_number"], PER_PAGE
    )
    return render_template("supervisor/dashboard_overdue.html", result=result, day=day, **context)


@bp.get("/dashboard/<int:campaign_id>/escalations", endpoint="dashboard_escalations")
@role_required(OVERSEE_ALL_UNITS)
def dashboard_escalations(campaign_id: int):
    """A read-only list of the campaign's escalations, for those who do not act on the board."""
    context = _list_context(campaign_id)
    level = request.args.get("level") if request.args.get("level") in LEVEL_NAMES else None
    status = request.args.get("status") if request.args.get("status") in ESCALATION_STATUS_NAMES else None
    result = dashboard_lists.escalations(campaign_id, context["units"], level, status, context["page_number"], PER_PAGE)
    return render_template(
        "supervisor/dashboard_escalations.html",
        result=result,
        level=level,
        status=status,
        level_names=LEVEL_NAMES,
        status_names=ESCALATION_STATUS_NAMES,
        **context,
    )
