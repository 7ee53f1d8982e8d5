"""The audit trail viewer: per campaign (overseers) and per unit instance (overseers, and the
unit's own staff, who see only events about their unit), filtered, paged, exported."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.models.roles import OVERSEE_ALL_UNITS, SEE_UNIT_RECORDS
from app.services.campaigns import campaigns
from app.services.ledger import ledger_register
from app.services.oversight import audit_trail
from app.services.shared import audit_chain
from app.web import unit_picker
from app.web.authz import current_unit_id, role_required, unit_scope_or_404
from app.web.downloads import check_format, download
from app.web.query_args import date_arg, int_arg

from . import bp


def _filters(picker: unit_picker.Picked | None) -> audit_trail.Filters:
    """The trail's filters; a campaign's trail picks its unit with the unit picker (an instance's
    trail is one unit's already)."""
    return audit_trail.Filters(
        actor_id=int_arg("actor"),
        action=request.args.get("action") or None,
        entity_type=request.args.get("entity") or None,
        unit_id=picker.unit_id if picker else None,
        date_from=date_arg("from"),
        date_to=date_arg("to"),
    )


def _filter_args(filters: audit_trail.Filters) -> dict:
    return {
        "actor": filters.actor_id or "",
        "action": filters.action or "",
        "entity": filters.entity_type or "",
        "unit": filters.unit_id or "",
        "from": filters.date_from or "",
        "to": filters.date_to or "",
    }


def _campaign_scope(campaign_id: int):
    campaign = ledger_register.campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign, audit_trail.Scope(campaign.id)


def _instance_scope(instance_id: int):
    instance = audit_trail.instance(instance_id)
    if instance is None:
        abort(404)
    unit_scope_or_404(instance.unit_id)
    return instance, audit_trail.Scope(instance.campaign_id, instance, only_unit_id=current_unit_id())


def _picker(scope: audit_trail.Scope) -> unit_picker.Picked | None:
    return None if scope.instance else unit_picker.picked(scope.campaign_id)


def _render(title: str, scope: audit_trail.Scope, endpoint_args: dict, export_endpoint: str):
    picker = _picker(scope)
    filters = _filters(picker)
    result = audit_trail.page(scope, filters, max(int_arg("page") or 1, 1))
    args = _filter_args(filters)
    return render_template(
        "audit/trail.html",
        title=title,
        scope=scope,
        result=result,
        filters=filters,
        picker=picker,
        choices=audit_trail.choices(scope),
        action_names=audit_trail.ACTION_NAMES,
        entity_names=audit_trail.ENTITY_NAMES,
        export_args={**endpoint_args, **args},
        export_endpoint=export_endpoint,
    )


def _export(title: str, scope: audit_trail.Scope, fmt: str, filename: str):
    check_format(fmt)
    entries = audit_trail.all_entries(scope, _filters(_picker(scope)))
    data = audit_trail.export_xlsx(title, entries) if fmt == "xlsx" else audit_trail.export_csv(entries)
    return download(data, f"{filename}.{fmt}", fmt)


def _campaign_title(campaign) -> str:
    return f"{campaign.doc_number}《{campaign.title}》审计日志"


def _instance_title(instance) -> str:
    return f"{instance.unit.name} · {instance.campaign.doc_number} 审计日志"


@bp.get("/campaigns/<int:campaign_id>", endpoint="campaign")
@role_required(OVERSEE_ALL_UNITS)
def campaign_trail(campaign_id: int):
    campaign, scope = _campaign_scope(campaign_id)
    return _render(_campaign_title(campaign), scope, {"campaign_id": campaign.id}, "audit.campaign_export")


@bp.get("/campaigns/<int:campaign_id>/export.<fmt>", endpoint="campaign_export")
@role_required(OVERSEE_ALL_UNITS)
def campaign_export(campaign_id: int, fmt: str):
    campaign, scope = _campaign_scope(campaign_id)
    return _export(_campaign_title(campaign), scope, fmt, f"审计日志-{campaign.doc_number}")


@bp.get("/instances/<int:instance_id>", endpoint="instance")
@role_required(SEE_UNIT_RECORDS)
def instance_trail(instance_id: int):
    instance, scope = _instance_scope(instance_id)
    return _render(_instance_title(instance), scope, {"instance_id": instance.id}, "audit.instance_export")


@bp.get("/instances/<int:instance_id>/export.<fmt>", endpoint="instance_export")
@role_required(SEE_UNIT_RECORDS)
def instance_export(instance_id: int, fmt: str):
    instance, scope = _instance_scope(instance_id)
    return _export(
        _instance_title(instance), scope, fmt, f"审计日志-{instance.campaign.doc_number}-{instance.unit.name}"
    )


@bp.get("/", endpoint="index")
@role_required(OVERSEE_ALL_UNITS)
def index():
    return render_template(
        "audit/index.html", campaigns=campaigns.list_campaigns(), chain=audit_chain.last_verification()
    )


@bp.post("/verify", endpoint="verify")
@role_required(OVERSEE_ALL_UNITS)
def verify():
    """Walk the hash chain now (every event: a matter of seconds for a large trail) and keep
    the result shown on the audit page."""
    result = audit_chain.verify_and_remember()
    if result.problem is None:
        flash(_("审计链校验通过：%(n)d 条事件均未被修改、删除或插入", n=result.count), "success")
    else:
        flash(_("审计链校验失败：%(problem)s", problem=result.problem.message), "error")
    return redirect(url_for("audit.index"))
