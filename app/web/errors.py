"""Error pages: Chinese HTML for people, JSON for /api callers; never a bare 500."""
from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "请求有误",
    403: "无权访问",
    404: "页面不存在或无权查看",
    405: "不支持的请求方式",
    409: "数据已被他人修改，请刷新后重试",
    413: "上传的内容过大",
    429: "尝试次数过多，请稍后再试",
    500: "服务器内部错误",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


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
        # A description our code gave (abort(400, description=...)) is for people; werkzeug's own are not.
        if e.description and e.description != type(e).description:
            return _respond(e.code or 500, str(e.description))
        return _respond(e.code or 500, _(MESSAGES.get(e.code or 500, e.name)))

    @app.errorhandler(Exception)
    def unhandled(e: Exception):
        app.logger.exception("unhandled error")
        return _respond(500, _(MESSAGES[500]))
