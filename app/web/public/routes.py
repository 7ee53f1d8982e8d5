"""Public pages that need no login: the campaigns open to residents (开门整治), the 通报 about
overdue units (withdrawn ones are not shown), and the tip box. Only random slugs appear in URLs."""

from flask import render_template, request

from app.services.disclosure import disclosure
from app.services.escalation import notices_public

from . import (
    bp,
    tips,  # noqa: F401
)
from . import disclosure as disclosure_pages  # noqa: F401  (attach their routes to bp)


@bp.get("/", endpoint="index")
def index():
    return render_template("public/index.html", campaigns=disclosure.published_campaigns())


@bp.get("/notices", endpoint="notices")
def notices():
    shown = notices_public.published()
    # Only campaigns that have a notice to show are offered (drafts are not public).
    campaigns = {n.campaign_id: n.campaign for n in shown}
    slug = request.args.get("campaign") or None
    if slug:
        shown = [n for n in shown if n.campaign.public_slug == slug]
    return render_template(
        "public/notices.html",
        notices=shown,
        campaign_slug=slug,
        campaigns=sorted(campaigns.values(), key=lambda c: c.issued_on, reverse=True),
    )
