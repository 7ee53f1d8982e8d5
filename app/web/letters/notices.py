"""The internal list of 通报: every notice, withdrawn ones too with who, when and why; withdrawal."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models.roles import ESCALATE
from app.services.accounts import users
from app.services.campaigns import campaigns
from app.services.escalation import notices_public, withdrawal
from app.web.authz import role_required
from app.web.form_values import posted_text
from app.web.query_args import int_arg

from . import bp

# The service's refusals, marked here so the catalog has them (the service stays free of Babel).
SERVICE_MESSAGES = (_l("撤回通报须填写理由"), _l("该通报已撤回"))


def _render(errors: dict | None = None, reasons: dict | None = None, status: int = 200):
    campaign_id = int_arg("campaign")
    found = notices_public.published(campaign_id, include_withdrawn=True)
    return render_template(
        "letters/notices.html",
        notices=found,
        campaign_id=campaign_id,
        campaigns=campaigns.list_campaigns(),
        names=users.display_names(n.withdrawn_by_id for n in found),
        errors=errors or {},
        reasons=reasons or {},
    ), status


@bp.get("/notices", endpoint="notices")
@role_required(ESCALATE)
def notices():
    return _render()


@bp.post("/notices/<int:notice_id>/withdraw", endpoint="withdraw_notice")
@role_required(ESCALATE)
def withdraw_notice(notice_id: int):
    reason = posted_text("reason")
    try:
        withdrawal.withdraw_notice(notice_id, current_user.id, reason)  # NotFound: app.web.errors
    except withdrawal.WithdrawRefused as exc:
        # Shown beside the reason field of that notice, with what was typed kept.
        return _render({notice_id: _(exc.message)}, {notice_id: reason}, 400)
    flash(_("通报已撤回，撤回记录已存档"), "success")
    return redirect(url_for("letters.notices"))
