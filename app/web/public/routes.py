"""Public pages that need no login: the 通报 about overdue units (withdrawn ones are not shown)."""
from flask import redirect, render_template, request, url_for

from app.services import notices_public

from . import bp


@bp.get("/", endpoint="index")
def index():
    return redirect(url_for("public.notices"))


@bp.get("/notices", endpoint="notices")
def notices():
    shown = notices_public.published()
    # Only campaigns that have a notice to show are offered (drafts are not public).
    campaigns = {n.campaign_id: n.campaign for n in shown}
    campaign_id = request.args.get("campaign", type=int)
    if campaign_id:
        shown = [n for n in shown if n.campaign_id == campaign_id]
    return render_template("public/notices.html", notices=shown, campaign_id=campaign_id,
                           campaigns=sorted(campaigns.values(), key=lambda c: c.issued_on, reverse=True))
