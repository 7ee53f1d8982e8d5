"""Error pages: HTML for people, JSON for /api and XHR callers; never a bare 500.

A DomainError that no route handled is answered here with its own status and message: an error
page, or {"error": {"code", "message", "details"}} for JSON callers. Routes that must show the
message beside a form (re-rendering what was typed) still catch their errors themselves."""

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors import DomainError
from app.i18n import N_
from app.services.shared import uploads

MESSAGES = {
    400: N_("请求有误"),
    403: N_("无权访问"),
    404: N_("页面不存在或无权查看"),
    405: N_("不支持的请求方式"),
    409: N_("数据已被他人修改，请刷新后重试"),
    413: N_("上传的内容过大"),
    429: N_("尝试次数过多，请稍后再试"),
    500: N_("服务器内部错误"),
}


def answers_too_large(view):
    """Mark a view that shows its own page for a post over MAX_CONTENT_LENGTH: such a body is never
    read (not even for the CSRF token), so the view runs again with g.body_too_large set, its own
    checks first, and shows its form with the limits instead of a bare error page."""
    view.answers_too_large = True
    return view


def answers_json(view):
    """Mark a view whose callers are scripts: its errors (a refused role, a bad parameter) are
    answered in JSON whatever the request's Accept header says."""
    view.answers_json = True
    return view


def _too_large_page(e: HTTPException):
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not getattr(view, "answers_too_large", False) or g.get("body_too_large"):
        return None
    g.body_too_large = True
    try:
        # As Flask dispatches a view (ensure_sync returns a plain view as it is).
        return current_app.make_response(current_app.ensure_sync(view)(**(request.view_args or {})))
    except HTTPException as inner:
        return _respond(inner.code or 500, _(MESSAGES.get(inner.code or 500, inner.name)))


def _too_large_message() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return _(MESSAGES[413])
    return _("上传的内容过大：单次提交不能超过 %(limit)s，请缩小或减少文件后重新提交", limit=uploads.megabytes(limit))


def _wants_json() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return (
        request.path.startswith("/api/")
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
        or getattr(view, "answers_json", False)
    )


def _respond(code: int, message: str):
    if _wants_json():
        return jsonify({"error": message, "status": code}), code
    return render_template("error.html", code=code, message=message), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return _respond(400, _("表单已过期或缺少安全令牌，请刷新页面后重新提交"))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code == 413:
            return _too_large_page(e) or _respond(413, _too_large_message())
        # A description our code gave (abort(400, description=...)) is for people; werkzeug's own are not.
        if e.description and e.description != type(e).description:
            return _respond(e.code or 500, str(e.description))
        return _respond(e.code or 500, _(MESSAGES.get(e.code or 500, e.name)))

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        # A refusal the route did not show itself: its words, in the reader's language, and its status.
        if e.status >= 500:
            app.logger.error("%s: %s", type(e).__name__, e.text.msgid)
        if _wants_json():
            return jsonify(e.as_json()), e.status
        return render_template("error.html", code=e.status, message=e.message), e.status

    @app.errorhandler(Exception)
    def unhandled(e: Exception):
        app.logger.exception("unhandled error")
        return _respond(500, _(MESSAGES[500]))
