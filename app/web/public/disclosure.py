"""开门整治: a published campaign's notice, progress and each unit's commitments, for residents."""

from flask import abort, render_template, request, send_file

from app.models.campaign import PHASE_NAMES
from app.services.disclosure import disclosure
from app.services.ledger import ledger
from app.services.tasks import evidence
from app.web import paging
from app.web.query_args import page_arg

from . import bp

UNITS_PER_PAGE = 30


@bp.get("/c/<slug>", endpoint="campaign")
def campaign(slug: str):
    found = disclosure.campaign(slug) or abort(404)
    page = page_arg()
    grid, cards = disclosure.progress(found.id, page, UNITS_PER_PAGE)
    query = (request.args.get("q") or "").strip()[:64]
    if query:
        cards = disclosure.search_units(found.id, query)
    total, closed = disclosure.item_counts(found.id)
    return render_template(
        "public/campaign.html",
        campaign=found,
        grid=grid,
        paging=paging.of_matrix(grid),
        cards=cards,
        items_total=total,
        items_closed=closed,
        query=query,
        closed_items=disclosure.recently_closed(found.id),
        notices=disclosure.notices(found.id),
        phase_names=PHASE_NAMES,
    )


@bp.get("/c/<slug>/u/<unit_slug>", endpoint="unit")
def unit(slug: str, unit_slug: str):
    found = disclosure.campaign(slug) or abort(404)
    enrolled = disclosure.enrolment(found.id, unit_slug) or abort(404)
    items = disclosure.unit_items(found.id, enrolled.unit_id)
    return render_template(
        "public/unit.html",
        campaign=found,
        enrolled=enrolled,
        unit=enrolled.unit,
        items=items,
        phase=disclosure.unit_phase(found.id, enrolled.unit_id),
        phase_names=PHASE_NAMES,
        notices=disclosure.notices(found.id, enrolled.unit_id),
        status_names=ledger.STATUS_NAMES,
        source_names=ledger.SOURCE_NAMES,
    )


@bp.get("/files/<token>", endpoint="file")
def file(token: str):
    row = disclosure.public_file(token) or abort(404)
    path = evidence.path_of(row)
    if not path.is_file():
        abort(404)
    response = send_file(path, as_attachment=True, download_name=row.filename, mimetype=row.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
