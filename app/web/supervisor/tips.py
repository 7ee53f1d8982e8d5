"""监督工作箱 for the campaign office: triage residents' tips (accept into the ledger, or decline)."""

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.forms import registry as forms
from app.models.roles import TRIAGE_TIPS
from app.services.disclosure import tips
from app.services.tasks import tasks
from app.web.authz import role_required
from app.web.form_values import posted_text

from . import bp

ACCEPT_FORM = "accept_tip"


def _tip_or_404(tip_id: int):
    return tips.get(tip_id) or abort(404)


def _render(tip, accept_form=None, decline_error: str | None = None, status: int = 200):
    if accept_form is None and tip.status == "received":
        accept_form = forms.build_form(
            ACCEPT_FORM, data={"title": tip.description[:60].replace("\n", " "), "measures": "", "reply": ""}
        )
    return render_template(
        "supervisor/tip.html",
        tip=tip,
        accept_form=accept_form,
        accept_definition=forms.load_definition(ACCEPT_FORM),
        decline_error=decline_error,
        status_names=tips.STATUS_NAMES,
        has_instance=tips.running_instance(tip) is not None,
    ), status


@bp.get("/tips", endpoint="tips")
@role_required(TRIAGE_TIPS)
def tip_list():
    asked = request.args.get("status", "received")
    status = asked if asked in tips.STATUS_NAMES else None
    return render_template(
        "supervisor/tips.html",
        tips=tips.office_list(status),
        status=status,
        counts=tips.counts(),
        status_names=tips.STATUS_NAMES,
    )


@bp.get("/tips/<int:tip_id>", endpoint="tip")
@role_required(TRIAGE_TIPS)
def tip(tip_id: int):
    return _render(_tip_or_404(tip_id))


@bp.post("/tips/<int:tip_id>/accept", endpoint="tip_accept")
@role_required(TRIAGE_TIPS)
def tip_accept(tip_id: int):
    found = _tip_or_404(tip_id)
    form = forms.build_form(ACCEPT_FORM, formdata=request.form)
    try:
        accepted = tips.accept(current_user, found.id, form)
    except tasks.FormInvalid:
        flash(_("表单有误，请按提示修改"), "error")
        return _render(found, form, status=400)
    except tasks.Conflict as exc:
        flash(exc.message, "error")
        return _render(tips.get(tip_id), form, status=409)
    flash(
        _(
            "已受理，纳入%(unit)s整改台账 #%(seq)d，已通知单位整改",
            unit=accepted.unit.name,
            seq=accepted.ledger_item.seq,
        ),
        "success",
    )
    return redirect(url_for("supervisor.tip", tip_id=accepted.id))


@bp.post("/tips/<int:tip_id>/decline", endpoint="tip_decline")
@role_required(TRIAGE_TIPS)
def tip_decline(tip_id: int):
    found = _tip_or_404(tip_id)
    try:
        tips.decline(current_user, found.id, posted_text("reason"))
    except tips.TipError as exc:
        return _render(found, decline_error=exc.message, status=400)
    except tasks.Conflict as exc:
        flash(exc.message, "error")
        return _render(found, status=409)
    flash(_("已不予受理，理由将显示在举报查询页面"), "success")
    return redirect(url_for("supervisor.tip", tip_id=found.id))


@bp.get("/tips/<int:tip_id>/photos/<int:photo_id>", endpoint="tip_photo")
@role_required(TRIAGE_TIPS)
def tip_photo(tip_id: int, photo_id: int):
    row = tips.photo(tip_id, photo_id) or abort(404)
    path = tips.photo_path(row)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=row.content_type, download_name=f"tip-{tip_id}-{row.position + 1}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
