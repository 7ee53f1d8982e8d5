"""Moving a campaign's running instances to another version: dry run, then migrate the chosen."""

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.models.roles import DESIGN
from app.services.campaigns import campaigns
from app.services.design import designer
from app.services.tasks import migration
from app.web.authz import role_required
from app.web.form_values import posted_ids

from . import bp


def _page(campaign, target_id: int | None, result=None, status: int = 200):
    versions = designer.versions()
    candidates, error = None, None
    if target_id is not None:
        try:
            candidates = migration.dry_run(campaign.id, target_id)
        except migration.MigrationError as exc:
            error, status = str(exc), 400
    return render_template(
        "designer/migrate.html",
        campaign=campaign,
        versions=versions,
        target_id=target_id,
        candidates=candidates,
        result=result,
        error=error,
    ), status


def _campaign_or_404(campaign_id: int):
    campaign = campaigns.get_campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _target_arg(source) -> int | None:
    value = source.get("target", "")
    return int(value) if value.isdigit() else None


@bp.get("/campaigns/<int:campaign_id>/migrate", endpoint="migrate")
@role_required(DESIGN)
def migrate(campaign_id: int):
    return _page(_campaign_or_404(campaign_id), _target_arg(request.args))


@bp.post("/campaigns/<int:campaign_id>/migrate", endpoint="migrate_run")
@role_required(DESIGN)
def migrate_run(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    target_id = _target_arg(request.form)
    if target_id is None:
        flash(_("请选择目标版本"), "error")
        return _page(campaign, None, status=400)
    if request.form.get("scope") == "all_safe":
        instance_ids = None
    else:
        instance_ids = posted_ids("instance")
        if not instance_ids:
            flash(_("请勾选要迁移的实例，或选择「迁移全部可迁移的实例」"), "error")
            return _page(campaign, target_id, status=400)
    try:
        result = migration.migrate(campaign.id, target_id, instance_ids, current_user.id)
    except migration.MigrationError as exc:
        flash(str(exc), "error")
        return _page(campaign, target_id, status=400)
    flash(
        _("已迁移 %(moved)d 个实例，未迁移 %(skipped)d 个", moved=len(result.moved), skipped=len(result.skipped)),
        "success" if result.moved else "warning",
    )
    return _page(campaign, target_id, result)
