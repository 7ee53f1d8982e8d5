"""登录限制: the office sees the login throttles (an account name or a client address with recent
failed logins, and when its next attempt is allowed) and lifts one."""

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import clock
from app.models.login_throttle import KIND_NAMES
from app.models.roles import ADMINISTER
from app.services.accounts import login_throttle
from app.web.authz import role_required
from app.web.form_values import posted_int
from app.web.query_args import choice_arg

from . import bp


@bp.get("/login-throttles", endpoint="login_throttles")
@role_required(ADMINISTER)
def login_throttles():
    kind = choice_arg("kind", tuple(KIND_NAMES))
    rows = login_throttle.current(kind)
    return render_template(
        "admin/login_throttles.html",
        rows=rows,
        kind=kind,
        kind_names=KIND_NAMES,
        names=login_throttle.display_names(rows),
        now=clock.now(),
        forget_hours=current_app.config["LOGIN_THROTTLE_FORGET_HOURS"],
    )


@bp.post("/login-throttles/lift", endpoint="login_throttle_lift")
@role_required(ADMINISTER)
def login_throttle_lift():
    throttle_id = posted_int("throttle_id")
    lifted = login_throttle.lift(throttle_id, current_user.id) if throttle_id else None
    if lifted is None:
        flash(_("该登录限制已不存在（可能已解除或已过期）"), "info")
    else:
        flash(_("已解除对%(kind)s %(key)s的登录限制", kind=_(KIND_NAMES[lifted.kind]), key=lifted.key), "success")
    return redirect(url_for("admin.login_throttles", kind=choice_arg("kind", tuple(KIND_NAMES))))
