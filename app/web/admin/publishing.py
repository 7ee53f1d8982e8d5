"""开门整治: the campaign office publishes a campaign on the public site, or takes it down."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.roles import MANAGE_CAMPAIGNS
from app.services.disclosure import disclosure
from app.web.authz import role_required

from . import bp


@bp.post("/campaigns/<int:campaign_id>/publish", endpoint="campaign_publish")
@role_required(MANAGE_CAMPAIGNS)
def campaign_publish(campaign_id: int):
    published = request.form.get("published") == "1"
    disclosure.set_published(campaign_id, published, current_user.id)  # NotFound: app.web.errors
    flash(_("已在公开公示网站发布") if published else _("已从公开公示网站撤下"), "success")
    return redirect(url_for("admin.campaign_detail", campaign_id=campaign_id))
