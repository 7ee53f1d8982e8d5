"""监督工作箱: residents report a problem and follow it with the receipt code they are given once."""

import math

from flask import abort, current_app, g, make_response, render_template, request
from flask_babel import gettext as _

from app import clock
from app.models.login_throttle import RECEIPT_ADDRESS, RECEIPT_CODE
from app.services.accounts import login_throttle
from app.services.disclosure import rate_limits, tips
from app.services.ledger.ledger import STATUS_NAMES as ITEM_STATUS_NAMES
from app.services.shared import uploads
from app.web.errors import answers_too_large

from . import bp
from .tip_forms import LookupForm, TipForm

# Room for the text fields and multipart framing beyond the photos themselves.
FORM_OVERHEAD = 256 * 1024


def _limited(action: str, limit_key: str) -> bool:
    cfg = current_app.config
    key = rate_limits.client_key(action, request.remote_addr)
    return not rate_limits.hit(key, cfg[limit_key], cfg["TIP_RATE_WINDOW"])


def _too_many():
    minutes = current_app.config["TIP_RATE_WINDOW"] // 60
    message = _("提交过于频繁：同一网络每 %(m)d 分钟内提交次数有限，请稍后再试。", m=minutes)
    return render_template("error.html", code=429, message=message), 429


def _form(campaign, unit_slug: str | None = None, posted: bool = True) -> TipForm:
    # A post whose body is never read (over MAX_CONTENT_LENGTH) gets an empty form, not a second 413.
    form = TipForm() if posted else TipForm(formdata=None)
    form.unit.choices = [("", _("请选择"))] + tips.unit_choices(campaign.id, unit_slug or form.unit.data)
    if request.method == "GET" and unit_slug:
        form.unit.data = unit_slug
    return form


def _render_form(campaign, form, status: int = 200, error: str | None = None):
    cfg = current_app.config
    return render_template(
        "public/tip_form.html",
        campaign=campaign,
        form=form,
        error=error,
        max_photos=cfg["TIP_MAX_PHOTOS"],
        max_mb=cfg["TIP_MAX_PHOTO_BYTES"] // (1024 * 1024),
        max_total=uploads.megabytes(cfg["TIP_MAX_TOTAL_BYTES"]),
        max_text=cfg["TIP_MAX_TEXT"],
    ), status


@bp.route("/c/<slug>/tips/new", methods=["GET", "POST"], endpoint="tip_new")
@answers_too_large
def tip_new(slug: str):
    campaign = tips.open_campaign(slug) or abort(404)
    if request.method == "GET":
        return _render_form(campaign, _form(campaign, request.args.get("unit")))
    cfg = current_app.config
    cap = cfg["TIP_MAX_TOTAL_BYTES"] + FORM_OVERHEAD
    if g.get("body_too_large") or (request.content_length or 0) > cap:
        # Up to MAX_CONTENT_LENGTH the body is read, so what was typed is shown again; beyond, it is not.
        unread = g.get("body_too_large") or (request.content_length or 0) > (cfg["MAX_CONTENT_LENGTH"] or cap)
        return _render_form(
            campaign,
            _form(campaign, posted=not unread),
            413,
            _(
                "提交的内容过大：照片最多 %(n)d 张，每张不超过 %(mb)s，合计不超过 %(total)s。"
                "照片未能保存，请缩小或减少照片后重新选择",
                n=cfg["TIP_MAX_PHOTOS"],
                mb=uploads.megabytes(cfg["TIP_MAX_PHOTO_BYTES"]),
                total=uploads.megabytes(cfg["TIP_MAX_TOTAL_BYTES"]),
            ),
        )
    # Only accepted tips count against the limits: a resident who mistypes loses no slot.
    client = rate_limits.client_key("tip", request.remote_addr)
    window = cfg["TIP_RATE_WINDOW"]
    if (
        rate_limits.used(client, window) >= cfg["TIP_RATE_PER_CLIENT"]
        or rate_limits.used("tip:all", window) >= cfg["TIP_RATE_TOTAL"]
    ):
        return _too_many()
    form = _form(campaign)
    if not form.validate():
        return _render_form(campaign, form, 400)
    data = tips.TipInput(
        unit_slug=form.unit.data,
        description=form.description.data,
        place=form.place.data,
        project=form.project.data or "",
        contact=form.contact.data or "",
        photos=request.files.getlist("photos"),
    )
    try:
        tip, code = tips.submit(campaign, data)
    except tips.TipError as exc:
        if exc.field in form:
            form[exc.field].errors.append(exc.message)
        return _render_form(campaign, form, exc.status, exc.message)
    rate_limits.hit(client, cfg["TIP_RATE_PER_CLIENT"], window)
    rate_limits.hit("tip:all", cfg["TIP_RATE_TOTAL"], window)
    response = make_response(
        render_template("public/tip_receipt.html", campaign=campaign, tip=tip, code=tips.format_code(code))
    )
    # The code is shown this once: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tips/status", methods=["GET", "POST"], endpoint="tip_status")
def tip_status():
    form = LookupForm()
    if request.method == "GET":
        return render_template("public/tip_status.html", form=form, tip=None)
    if not form.validate():
        return render_template("public/tip_status.html", form=form, tip=None), 400
    # A correct code always opens its tip: residents behind one carrier address never lock each
    # other out. Wrong codes slow down, per address and per code tried, with growing delays (the
    # codes are long and random, so guessing is hopeless anyway; the delays keep a guesser's load down).
    tip = tips.lookup(form.code.data)
    if tip is None:
        code_key = rate_limits.client_key("receipt", tips.normalise_code(form.code.data))
        try:
            login_throttle.wrong_guess([(RECEIPT_ADDRESS, request.remote_addr or "unknown"), (RECEIPT_CODE, code_key)])
        except login_throttle.Refused as refused:
            wait = max(math.ceil((refused.until - clock.now()).total_seconds()), 1)
            message = _("错误的回执码输入过多，请在 %(s)d 秒后再试（正确的回执码不受限制）。", s=wait)
            return render_template("error.html", code=429, message=message), 429
        return render_template(
            "public/tip_status.html", form=form, tip=None, error=_("未找到该回执码对应的举报，请核对后重新输入")
        ), 404
    response = make_response(
        render_template(
            "public/tip_status.html",
            form=form,
            tip=tip,
            status_names=tips.STATUS_NAMES,
            item_status_names=ITEM_STATUS_NAMES,
            unit_slug=tips.unit_slug(tip),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
