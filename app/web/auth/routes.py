"""Login, logout and the role-based landing page."""
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import login_manager
from app.services.accounts import users
from app.web.authz import can

from . import bp
from .forms import LoginForm
from .navigation import home_endpoint, template_context

# Drop the session when the cookie turns up from another browser or address (stolen cookie).
login_manager.session_protection = "strong"
bp.app_context_processor(template_context)
# Templates ask for permissions by name, never compare roles: {% if can('supervise') %}.
bp.add_app_template_global(can, "can")


def safe_next(target: str | None) -> str | None:
    """Only a relative path on this site is followed after login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _home_url() -> str:
    endpoint = home_endpoint(current_user.role)
    return url_for(endpoint) if endpoint else url_for("auth.home")


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(_home_url())


@bp.get("/home")
@login_required
def home():
    return render_template("auth/home.html")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or _home_url())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.username.data, form.password.data, request.remote_addr)
        except users.LoginError as exc:
            error = exc.message
        else:
            lang = session.get("lang")
            session.clear()  # nothing from before the login survives into the user's session
            if lang:
                session["lang"] = lang
            login_user(user)
            return redirect(next_url or _home_url())
    form.password.data = ""
    return render_template("auth/login.html", form=form, error=error, next_url=next_url)


@bp.post("/logout")
@login_required
def logout():
    users.record_logout(current_user.id)
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("您已安全退出"), "success")
    return redirect(url_for("auth.login"))
