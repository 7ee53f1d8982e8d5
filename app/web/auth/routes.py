"""Login, logout, changing one's password, the session rules (idle timeout, first-login password
change) and the role-based landing page."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app import clock
from app.extensions import login_manager
from app.services.accounts import password_policy, users
from app.web.authz import can

from . import bp
from .forms import ChangePasswordForm, LoginForm
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


# The session's last request (epoch seconds, from app.clock); older than SESSION_IDLE_MINUTES ends it.
SEEN = "seen"
# What a user who must change their first password may still reach.
FIRST_LOGIN_ENDPOINTS = {"auth.change_password", "auth.logout", "static"}


def _clear_session() -> None:
    """Nothing from before survives but the language choice."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _start_session(user) -> None:
    _clear_session()
    login_user(user)
    session[SEEN] = clock.now().timestamp()


@bp.before_app_request
def session_rules():
    """Every request of a logged-in user: end a session left idle too long, and keep a user whose
    password must be changed on the change-password page."""
    if request.endpoint in (None, "static") or not current_user.is_authenticated:
        return None
    now = clock.now().timestamp()
    seen = session.get(SEEN)
    minutes = current_app.config["SESSION_IDLE_MINUTES"]
    if not isinstance(seen, (int, float)) or now - seen > minutes * 60:
        users.record_idle_timeout(current_user.id)
        logout_user()
        _clear_session()
        flash(_("您已超过%(n)d分钟未操作，为安全起见已退出，请重新登录", n=minutes), "warning")
        back = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
        return redirect(url_for("auth.login", next=back) if back else url_for("auth.login"))
    session[SEEN] = now
    if current_user.must_change_password and request.endpoint not in FIRST_LOGIN_ENDPOINTS:
        return redirect(url_for("auth.change_password"))
    return None


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
            _start_session(user)  # nothing from before the login survives into the user's session
            if user.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(next_url or _home_url())
    form.password.data = ""
    return render_template("auth/login.html", form=form, error=error, next_url=next_url)


@bp.post("/logout")
@login_required
def logout():
    users.record_logout(current_user.id)  # ends this session and any copy of its cookie
    logout_user()
    _clear_session()
    flash(_("您已安全退出"), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    forced = current_user.must_change_password
    if form.validate_on_submit():
        try:
            user = users.change_password(current_user.id, form.current.data, form.new.data, request.remote_addr)
        except users.LoginError as exc:
            form.current.errors.append(exc.message)
        except users.PasswordError as exc:
            form.new.errors.extend(str(p) for p in exc.problems)
        else:
            _start_session(user)  # the other sessions ended with the change; this one goes on
            flash(_("密码已修改，其他浏览器中的登录均已退出"), "success")
            return redirect(_home_url())
    return render_template("auth/change_password.html", form=form, forced=forced, policy=password_policy.describe())
