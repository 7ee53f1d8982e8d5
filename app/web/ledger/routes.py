"""The rectification ledger (整改台账) of a campaign and of one unit in it: the register with
filters, export to .xlsx/CSV, the import template and the import."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.roles import OVERSEE_ALL_UNITS, SEE_UNIT_RECORDS, SUPERVISE, UNIT_WORK
from app.services.findings import ledger_import
from app.services.ledger import ledger, ledger_export, ledger_register
from app.services.tasks import tasks
from app.web import unit_picker
from app.web.authz import current_unit_id, role_required, unit_scope_or_404
from app.web.downloads import check_format, download
from app.web.query_args import int_arg

from . import bp

# Imported items go straight into rectification, as a supervisor's finding does (SUPERVISE); units
# propose theirs through the self-check, which a supervisor reviews.


def _filters(unit_id: int | None = None) -> ledger_register.Filters:
    return ledger_register.Filters(
        status=request.args.get("status") or None,
        source=request.args.get("source") or None,
        unit_id=unit_id,
    ).clean()


def _campaign_or_404(campaign_id: int):
    campaign = ledger_register.campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _unit_or_404(campaign_id: int, unit_id: int):
    unit_scope_or_404(unit_id)
    campaign = _campaign_or_404(campaign_id)
    instance = ledger_register.instance_of(campaign_id, unit_id)
    if instance is None:
        abort(404)
    return campaign, instance


def _export(campaign, unit, filters: ledger_register.Filters, fmt: str) -> Response:
    check_format(fmt)
    rows = ledger_register.all_rows(campaign.id, filters)
    data = ledger_export.xlsx(campaign, unit, rows) if fmt == "xlsx" else ledger_export.csv(rows)
    return download(data, ledger_export.filename_of(campaign, unit, fmt), fmt)


def _render(campaign, instance, errors=None, status: int = 200):
    unit = instance.unit if instance else None
    picker = None if unit else unit_picker.picked(campaign.id)
    filters = _filters(unit.id if unit else picker.unit_id if picker else None)
    result = ledger_register.page(campaign.id, filters, max(int_arg("page") or 1, 1))
    return render_template(
        "ledger/register.html",
        campaign=campaign,
        instance=instance,
        unit=unit,
        result=result,
        filters=filters,
        picker=picker,
        status_names=ledger.STATUS_NAMES,
        source_names=ledger.SOURCE_NAMES,
        origin_names=ledger.ORIGIN_NAMES,
        errors=errors,
        may_import=current_user.role in SUPERVISE,
        max_mb=ledger_import.MAX_BYTES // 1024 // 1024,
    ), status


@bp.get("/", endpoint="index")
@role_required(SEE_UNIT_RECORDS)
def index():
    if current_user.role in UNIT_WORK:
        unit_id = current_unit_id()
        entries = [
            (
                i.campaign,
                url_for("ledger.unit", campaign_id=i.campaign_id, unit_id=i.unit_id),
                url_for("audit.instance", instance_id=i.id),
            )
            for i in (tasks.instances_of_unit(unit_id) if unit_id else [])
        ]
    else:
        entries = [
            (c, url_for("ledger.campaign", campaign_id=c.id), url_for("audit.campaign", campaign_id=c.id))
            for c in ledger_register.launched_campaigns()
        ]
    return render_template("ledger/index.html", entries=entries)


@bp.get("/campaigns/<int:campaign_id>", endpoint="campaign")
@role_required(OVERSEE_ALL_UNITS)
def campaign_page(campaign_id: int):
    return _render(_campaign_or_404(campaign_id), None)


@bp.get("/campaigns/<int:campaign_id>/export.<fmt>", endpoint="campaign_export")
@role_required(OVERSEE_ALL_UNITS)
def campaign_export(campaign_id: int, fmt: str):
    campaign = _campaign_or_404(campaign_id)
    return _export(campaign, None, _filters(unit_picker.picked(campaign.id).unit_id), fmt)


@bp.get("/campaigns/<int:campaign_id>/units/<int:unit_id>", endpoint="unit")
@role_required(SEE_UNIT_RECORDS)
def unit_page(campaign_id: int, unit_id: int):
    campaign, instance = _unit_or_404(campaign_id, unit_id)
    return _render(campaign, instance)


@bp.get("/campaigns/<int:campaign_id>/units/<int:unit_id>/export.<fmt>", endpoint="unit_export")
@role_required(SEE_UNIT_RECORDS)
def unit_export(campaign_id: int, unit_id: int, fmt: str):
    campaign, instance = _unit_or_404(campaign_id, unit_id)
    return _export(campaign, instance.unit, _filters(unit_id), fmt)


@bp.get("/template.xlsx", endpoint="template")
@role_required(SUPERVISE)
def template():
    campaign = ledger_register.campaign(int_arg("campaign") or 0)
    return download(ledger_export.template(campaign), "整改台账导入模板.xlsx", "xlsx")


def _import(campaign, instance):
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render(campaign, instance, [ledger_import.RowError(0, "", _("请选择要导入的Excel文件"))], 400)
    result = ledger_import.import_items(
        campaign,
        upload.read(ledger_import.MAX_BYTES + 1),
        upload.filename,
        current_user.id,
        only_unit=instance.unit if instance else None,
    )
    if not result.ok:
        return _render(campaign, instance, result.errors, 400)
    flash(_("已导入 %(n)d 个整改事项，已交各单位整改", n=len(result.items)), "success")
    if instance:
        return redirect(url_for("ledger.unit", campaign_id=campaign.id, unit_id=instance.unit_id))
    return redirect(url_for("ledger.campaign", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/import", endpoint="campaign_import")
@role_required(SUPERVISE)
def campaign_import(campaign_id: int):
    return _import(_campaign_or_404(campaign_id), None)


@bp.post("/campaigns/<int:campaign_id>/units/<int:unit_id>/import", endpoint="unit_import")
@role_required(SUPERVISE)
def unit_import(campaign_id: int, unit_id: int):
    return _import(*_unit_or_404(campaign_id, unit_id))
