"""督办函 pages: the list, the printable letter, 签收, the DOCX, and a letter issued by hand."""

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.models.roles import ESCALATE, SEE_UNIT_RECORDS, UNIT_WORK
from app.services.accounts import users
from app.services.campaigns import campaigns
from app.services.escalation import letter_docx, letters, manual_letters
from app.services.shared.paging import Page
from app.web import unit_picker
from app.web.authz import current_unit_id, role_required
from app.web.form_values import optional_date
from app.web.query_args import int_arg, page_arg

from . import bp


def _letter_or_404(letter_id: int):
    return letters.get_for(current_user, letter_id)  # NotFound: a 404 page (app.web.errors)


@bp.get("", endpoint="index")
@role_required(SEE_UNIT_RECORDS)
def index():
    page_number = page_arg()
    if current_user.role in UNIT_WORK:
        unit_id = current_unit_id()
        # Staff bound to no unit have no letters (unit_id=None would mean every unit's).
        found, waiting = letters.search(unit_id=unit_id, page_number=page_number) if unit_id else (Page([], 0, 1, 1), 0)
        return render_template("letters/list.html", result=found, waiting=waiting, filters=None, picker=None)
    acknowledged = {"yes": True, "no": False}.get(request.args.get("acknowledged", ""))
    # Letters of any campaign: the picker searches every unit.
    campaign_id, picker = int_arg("campaign"), unit_picker.picked()
    filters = {"campaign": campaign_id, "acknowledged": request.args.get("acknowledged", "")}
    found, waiting = letters.search(
        unit_id=picker.unit_id, campaign_id=campaign_id, acknowledged=acknowledged, page_number=page_number
    )
    return render_template(
        "letters/list.html",
        result=found,
        waiting=waiting,
        filters=filters,
        picker=picker,
        campaigns=campaigns.list_campaigns(),
    )


def _render_letter(letter, status: int = 200):
    names = users.display_names([letter.acknowledged_by_id])
    return render_template(
        "letters/letter.html",
        letter=letter,
        acknowledged_by=names.get(letter.acknowledged_by_id),
        can_acknowledge=(
            current_user.role in UNIT_WORK and letter.acknowledged_at is None and letter.withdrawn_at is None
        ),
    ), status


@bp.get("/<int:letter_id>", endpoint="letter")
@role_required(SEE_UNIT_RECORDS)
def letter(letter_id: int):
    return _render_letter(_letter_or_404(letter_id))


@bp.post("/<int:letter_id>/acknowledge", endpoint="acknowledge")
@role_required(SEE_UNIT_RECORDS)
def acknowledge(letter_id: int):
    try:
        found = letters.acknowledge(letter_id, current_user)  # NotFound, Forbidden: app.web.errors
    except letters.LetterWithdrawn:
        flash(_("该督办函已撤回，无需签收"), "warning")
        return redirect(url_for("letters.letter", letter_id=letter_id))
    flash(_("已签收%(doc)s", doc=found.doc_number), "success")
    return redirect(url_for("letters.letter", letter_id=found.id))


@bp.get("/<int:letter_id>.docx", endpoint="docx")
@role_required(SEE_UNIT_RECORDS)
def docx(letter_id: int):
    found = _letter_or_404(letter_id)
    names = users.display_names([found.acknowledged_by_id])
    body = letter_docx.render(found, names.get(found.acknowledged_by_id))
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": letter_docx.content_disposition(found), "Cache-Control": "private, no-store"},
    )


@bp.post("/manual/<int:task_id>", endpoint="manual")
@role_required(ESCALATE)
def manual(task_id: int):
    back = request.form.get("next") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("letters.index")
    try:
        new_due = optional_date(request.form.get("new_due"))
    except ValueError:
        flash(_("新的办理期限格式不正确，应为 YYYY-MM-DD"), "error")
        return redirect(back)
    try:
        issued = manual_letters.issue_manual(current_user, task_id, new_due)  # NotFound, Forbidden: app.web.errors
    except manual_letters.LetterRefused as exc:
        flash(_(exc.message), "error")
        return redirect(back)
    flash(_("已发出%(doc)s", doc=issued.doc_number), "success")
    return redirect(url_for("letters.letter", letter_id=issued.id))
