"""Application factory."""

import os
from datetime import time
from pathlib import Path

from flask import Flask, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app import clock, i18n, workdays
from app.extensions import babel, csrf, db, login_manager, migrate


def create_app(config_object: object | str | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    if config_object is None:
        config_object = os.environ.get("RECTIFY_CONFIG", "config.DevelopmentConfig")
    app.config.from_object(config_object)
    if app.config.get("PRODUCTION"):
        refuse_insecure(app, config_object)
    clock.set_timezone(app.config["TIMEZONE"])
    hour, minute = (int(x) for x in app.config["WORKDAY_END"].split(":"))
    workdays.configure(app.config["TIMEZONE"], time(hour, minute))
    _ensure_dirs(app)
    _trust_proxies(app)
    register_extensions(app)
    register_calendar(app)
    register_data_versions()
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


# The development default of config.Config; never a production key.
DEV_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_KEY_CHARS = 32


class InsecureConfiguration(RuntimeError):
    """Production mode was asked for with settings that are not safe to serve with."""


def insecure_settings(app: Flask) -> list[str]:
    """What is unsafe in this production app's settings, one sentence each (empty: nothing)."""
    config = app.config
    problems = []
    key = config.get("SECRET_KEY") or ""
    if not key:
        problems.append("SECRET_KEY is not set")
    elif key == DEV_SECRET_KEY:
        problems.append("SECRET_KEY is the development default")
    elif len(key) < MIN_SECRET_KEY_CHARS:
        problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_CHARS} characters")
    if problems:
        problems[-1] += " (make one: python3 -c 'import secrets; print(secrets.token_hex(32))')"
    if app.debug or config.get("DEBUG"):
        problems.append("debug mode is on (FLASK_DEBUG): its debugger runs code for anyone who sees an error page")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off: session cookies would travel over plain HTTP")
    workers = int(config.get("WEB_WORKERS") or 1)
    sqlite = str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite")
    if sqlite and workers > 1 and not config.get("SQLITE_MULTI_WORKER"):
        problems.append(
            f"DATABASE_URL is SQLite under {workers} web workers (WEB_WORKERS): use PostgreSQL, "
            "or WEB_WORKERS=1, or set SQLITE_MULTI_WORKER=1 to say several workers on SQLite are meant"
        )
    return problems


def refuse_insecure(app: Flask, config_object: object) -> None:
    problems = insecure_settings(app)
    if problems:
        name = config_object if isinstance(config_object, str) else getattr(config_object, "__name__", config_object)
        raise InsecureConfiguration(
            f"Rectify refuses to start in production mode ({name}) with insecure settings:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
            + "\nSet them in the environment file (deploy/rectify.env.example lists them)."
        )


def _ensure_dirs(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)


def _trust_proxies(app: Flask) -> None:
    # Behind N reverse proxies the client's address (the tip box's rate limit) is in X-Forwarded-For.
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask's documented way to add WSGI middleware; mypy sees an assignment to a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _select_locale() -> str:
    lang = request.args.get("lang")
    if lang in ("zh_CN", "en"):
        session["lang"] = lang
    return session.get("lang", "zh_CN")


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    _translate_lazy_text(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(session_id: str):
        from app.services.accounts import users

        # "<id>:<session version>": a session ended on the server (logout, password change) loads nobody.
        return users.session_user(session_id)


def _translate_lazy_text(app: Flask) -> None:
    # Text from every layer (app.i18n) is put into words in the request's locale when shown
    # (outside a request, in the source language), and a LazyText in JSON becomes its words too.
    from flask import has_request_context
    from flask.json.provider import DefaultJSONProvider
    from flask_babel import gettext

    i18n.install(lambda msgid: gettext(msgid) if has_request_context() else msgid)

    class JSONProvider(DefaultJSONProvider):
        @staticmethod
        def default(o):
            if isinstance(o, i18n.LazyText):
                return str(o)
            return DefaultJSONProvider.default(o)

    app.json_provider_class = JSONProvider
    app.json = JSONProvider(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # WAL lets readers work while the scheduler or a launch writes; foreign keys are off by default.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the database; a power cut may lose the last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint_inside_a_transaction(conn, name):
    # Python's sqlite3 opens a transaction only before a write. A SAVEPOINT sent when only reads
    # came before would itself open one, and its RELEASE would then commit: the work of a
    # `begin_nested()` block committed early, without the session's commit (so without the
    # audit chain's seal or the data versions' change), and kept if the transaction later rolls
    # back. So open the transaction first, as the first write would.
    dbapi_connection = conn.connection.driver_connection
    if type(dbapi_connection).__module__.startswith("sqlite3") and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def register_calendar(app: Flask) -> None:
    # Every process keeps its working-day calendar as the office last stored it.
    from app.services import calendar

    calendar.watch(app)


def register_data_versions() -> None:
    # Its session events give each campaign a new data version with every change its dashboard counts.
    from app.services.shared import data_versions  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from app.web import register

    register(app)


def register_errorhandlers(app: Flask) -> None:
    from app.web.errors import register as register_errors

    register_errors(app)


def register_commands(app: Flask) -> None:
    from app.cli import register as register_cli

    register_cli(app)


def register_template_helpers(app: Flask) -> None:
    from app.web.helpers import register as register_helpers

    register_helpers(app)
