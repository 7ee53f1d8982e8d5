"""What every request passes before a route sees it: URL parts that no route could use are
answered 404 or 400 with a message here, so a hostile value never reaches a query (a 25-digit
id overflows the database's integer, a NUL byte is refused by PostgreSQL: both were 500s)."""

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from app.safe_text import has_forbidden

# Ids are the database's INTEGER (32 bits on PostgreSQL): a larger number names nothing.
MAX_ID = 2**31 - 1
# A query value longer than this is no search a person typed (the longest we take is 64).
MAX_ARG_CHARS = 1000


class IdConverter(IntegerConverter):
    """<int:...> bounded to what an id can be: 0 .. MAX_ID; anything else does not match (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's own parameter name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def check_request() -> None:
    """400 for a path or query string holding control characters or an absurdly long value."""
    if has_forbidden(request.path) or any(
        has_forbidden(k) or has_forbidden(v) for k, values in request.args.lists() for v in values
    ):
        abort(400, description=_("请求参数含有无效字符"))
    if any(len(v) > MAX_ARG_CHARS for values in request.args.listvalues() for v in values):
        abort(400, description=_("请求参数过长"))


def register(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)
