"""Probes for the service manager and load balancers, both anonymous.

- /healthz (liveness): the process answers; 200 always, and nothing touches the database (the
  calendar's look at the stored years is skipped for it), so a slow database restarts no worker.
- /readyz (readiness): the database answers and its schema is at the migrations' head; 200 with
  JSON, else 503 with JSON saying what is wrong (unreachable, not migrated, not at head)."""

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.services import calendar

bp = Blueprint("health", __name__)

LIVENESS_PATH = "/healthz"


def _answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(LIVENESS_PATH)
def healthz():
    return _answer({"status": "ok"}, 200)


def migration_heads(app: Flask) -> frozenset[str]:
    """The head revisions of the migrations the app ships (read once per process)."""
    heads = app.extensions.get("migration_heads")
    if heads is None:
        heads = frozenset(ScriptDirectory(app.extensions["migrate"].directory).get_heads())
        app.extensions["migration_heads"] = heads
    return heads


@bp.get("/readyz")
def readyz():
    heads = migration_heads(current_app)
    try:
        with db.engine.connect() as conn:
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        return _answer({"status": "unavailable", "database": "unreachable", "error": type(exc).__name__}, 503)
    if current != heads:
        problem = "not migrated" if not current else "not at head"
        body = {
            "status": "unavailable",
            "database": "ok",
            "migrations": problem,
            "current": sorted(current),
            "head": sorted(heads),
            "fix": "flask db upgrade",
        }
        return _answer(body, 503)
    return _answer({"status": "ok", "database": "ok", "migrations": "head", "revision": sorted(heads)}, 200)


class _Unwatched:
    """WSGI middleware: the liveness probe is served without the calendar's database look."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != LIVENESS_PATH:
            return self.wsgi_app(environ, start_response)
        with calendar.unwatched():
            return self.wsgi_app(environ, start_response)


def install(app: Flask) -> None:
    # Flask's documented way to add WSGI middleware; mypy sees an assignment to a method.
    app.wsgi_app = _Unwatched(app.wsgi_app)  # type: ignore[method-assign]
