"""The menu of each role, and the template context every page (base.html) needs."""

from flask import current_app, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from app.models.roles import ROLE_LABELS, Role

# Where each role lands after login; earlier endpoints win, missing ones fall back to auth.home.
HOME_ENDPOINTS: dict[str, str] = {  # by role; a Role is its str
    Role.UNIT_STAFF: "staff.tasks",
    Role.SUPERVISOR: "supervisor.queue",
    Role.ASSESSOR: "assessor.queue",
    Role.ADMIN: "admin.campaigns",
    Role.DESIGNER: "designer.index",
}

# Other blueprints are written in parallel: an entry whose endpoint is not registered is not shown.
NAV = {
    Role.UNIT_STAFF: [
        ("staff.tasks", _l("我的待办")),
        ("staff.ledger", _l("整改台账")),
        ("letters.index", _l("督办函")),
    ],
    Role.SUPERVISOR: [
        ("supervisor.queue", _l("督导待办")),
        ("supervisor.dashboard", _l("督导看板")),
        ("ledger.index", _l("整改台账")),
        ("supervisor.escalations", _l("逾期督办")),
        ("supervisor.tips", _l("监督工作箱")),
        ("letters.index", _l("督办函")),
        ("letters.notices", _l("通报管理")),
        ("admin.campaigns", _l("专项整治")),
        ("audit.index", _l("审计日志")),
    ],
    Role.ASSESSOR: [
        ("assessor.queue", _l("评估待办")),
        ("supervisor.dashboard", _l("总体进度")),
        ("assessor.appraisals", _l("考核评分")),
        ("ledger.index", _l("整改台账")),
        ("letters.index", _l("督办函")),
        ("admin.campaigns", _l("专项整治")),
        ("audit.index", _l("审计日志")),
    ],
    Role.ADMIN: [
        ("admin.campaigns", _l("专项整治")),
        ("supervisor.dashboard", _l("督导看板")),
        ("ledger.index", _l("整改台账")),
        ("supervisor.escalations", _l("逾期督办")),
        ("assessor.appraisals", _l("考核评分")),
        ("supervisor.tips", _l("监督工作箱")),
        ("admin.units", _l("单位管理")),
        ("admin.users", _l("用户管理")),
        ("admin.login_throttles", _l("登录限制")),
        ("admin.calendar", _l("节假日安排")),
        ("designer.index", _l("流程设计")),
        ("letters.index", _l("督办函")),
        ("letters.notices", _l("通报管理")),
        ("audit.index", _l("审计日志")),
    ],
    Role.DESIGNER: [("designer.index", _l("流程设计")), ("admin.campaigns", _l("专项整治"))],
}
PUBLIC_NAV = [("public.index", _l("公开公示"))]


def home_endpoint(role: str) -> str | None:
    endpoint = HOME_ENDPOINTS.get(role)
    return endpoint if endpoint in current_app.view_functions else None


def nav_items() -> list[dict]:
    """The current user's menu: dicts with endpoint, label and whether it is the page being shown."""
    entries = list(NAV.get(current_user.role, [])) if current_user.is_authenticated else []
    entries += PUBLIC_NAV
    current_blueprint_endpoint = request.endpoint or ""
    return [
        {"endpoint": endpoint, "label": label, "active": endpoint == current_blueprint_endpoint}
        for endpoint, label in entries
        if endpoint in current_app.view_functions
    ]


def role_label(role: str) -> str:
    """A role's name for people, in the page's language."""
    return gettext(ROLE_LABELS[Role(role)]) if role in ROLE_LABELS else role


def current_locale() -> str:
    # Asking Babel (not the session) also runs the selector, which stores a ?lang= switch.
    return str(get_locale() or "zh_CN")


def lang_url(lang: str) -> str:
    """The current page in another language, keeping its query (e.g. the login page's next=)."""
    # The path's own arguments win over a query parameter of the same name (?year= on /calendar/<year>).
    values = {**request.args.to_dict(), **(request.view_args or {}), "lang": lang}
    if request.endpoint and request.method == "GET":
        try:
            return url_for(request.endpoint, **values)
        except (BuildError, ValueError, TypeError, KeyError):
            pass  # an error page for a half-matched URL: fall back to the home page
    return url_for("auth.index", lang=lang)


def template_context() -> dict:
    return {
        "nav_items": nav_items,
        "role_label": role_label,
        "current_locale": current_locale,
        "lang_url": lang_url,
    }
