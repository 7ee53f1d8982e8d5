"""Running in production: the probes (/healthz, /readyz), the request id on every response and
in the log lines, the refusal of insecure settings, and gunicorn started for real with the
repository's gunicorn.conf.py."""

import logging
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import g
from flask_migrate import upgrade
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from app import InsecureConfiguration, create_app, insecure_settings
from app.extensions import db
from app.logs import KeyValueFormatter, quote
from app.web import health
from config import ProductionConfig, TestConfig

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = secrets.token_hex(32)


# ------------------------------------------------------------------------------------ the probes
def test_healthz_answers_without_the_database(app, client):
    with app.app_context():
        engine = db.engine
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    app.config["CALENDAR_CHECK_SECONDS"] = 0  # every app context looks at the stored calendar...
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/login")
        assert statements  # ... a page's does
        statements.clear()
        resp = client.get("/healthz")
        assert statements == []  # the probe's does not
    finally:
        event.remove(engine, "before_cursor_execute", count)
        app.config["CALENDAR_CHECK_SECONDS"] = TestConfig.CALENDAR_CHECK_SECONDS
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    assert resp.headers["Cache-Control"] == "no-store"


def test_readyz_at_head(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["migrations"] == "head" and len(body["revision"]) == 1


def test_readyz_database_unreachable(client, monkeypatch):
    def unreachable(conn):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(health.MigrationContext, "configure", unreachable)
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {"status": "unavailable", "database": "unreachable", "error": "OperationalError"}


def _own_app(tmp_path, **settings):
    """An app on a database of its own (never the suite's)."""
    values = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'own.db'}", "UPLOAD_DIR": str(tmp_path / "up")}
    values.update(settings)
    return create_app(type("OwnConfig", (TestConfig,), values))


@pytest.fixture
def own_app(tmp_path):
    application = _own_app(tmp_path)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_readyz_not_migrated_and_not_at_head(own_app):
    client = own_app.test_client()
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["migrations"] == "not migrated" and body["current"] == [] and body["fix"] == "flask db upgrade"

    scripts = ScriptDirectory(own_app.extensions["migrate"].directory)
    (head,) = scripts.get_heads()
    previous = scripts.get_revision(head).down_revision
    with own_app.app_context():
        upgrade(revision=previous)
    body = client.get("/readyz").get_json()
    assert client.get("/readyz").status_code == 503
    assert body["migrations"] == "not at head" and body["current"] == [previous] and body["head"] == [head]

    with own_app.app_context():
        upgrade()
    assert client.get("/readyz").status_code == 200


# ------------------------------------------------------------------------------------ request ids
HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize("path", ["/healthz", "/login", "/nowhere", "/public/?q=%00"])
def test_every_response_has_a_request_id(client, path):
    first, second = client.get(path), client.get(path)
    assert HEX32.fullmatch(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_well_formed_request_id_is_passed_on(client):
    resp = client.get("/healthz", headers={"X-Request-ID": "nginx-5f2c9a"})
    assert resp.headers["X-Request-ID"] == "nginx-5f2c9a"


@pytest.mark.parametrize("given", ["two words", "x" * 129, 'a"b', "a=b level=ERROR", "é"])
def test_a_malformed_request_id_is_replaced(client, given):
    resp = client.get("/healthz", headers={"X-Request-ID": given})
    assert HEX32.fullmatch(resp.headers["X-Request-ID"])


def test_log_lines_carry_the_request_id(app):
    record = logging.LogRecord("app.test", logging.WARNING, __file__, 1, 'said "%s"', ("hello world",), None)
    with app.test_request_context("/"):
        g.request_id = "abc123"
        line = KeyValueFormatter().format(record)
    assert "level=WARNING logger=app.test request_id=abc123" in line
    assert line.endswith(r'msg="said \"hello world\""')
    outside = KeyValueFormatter().format(record)
    assert "request_id=- " in outside


def test_logfmt_values_cannot_split_a_line():
    assert quote("plain") == "plain"
    assert quote("") == '""'
    assert quote("a b\nlevel=ERROR") == r'"a b\nlevel=ERROR"'


# ---------------------------------------------------------------------------- production settings
def _production(tmp_path, **settings):
    values = {
        "SECRET_KEY": GOOD_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "WEB_WORKERS": 1,
        "SQLITE_MULTI_WORKER": False,
        "SESSION_COOKIE_SECURE": True,
        "DEBUG": False,
    }
    values.update(settings)
    return type("ProdConfig", (ProductionConfig,), values)


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "dev-only-change-me"}, "SECRET_KEY is the development default"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter than 32 characters"),
        ({"DEBUG": True}, "debug mode is on"),
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE is off"),
        ({"WEB_WORKERS": 4}, "DATABASE_URL is SQLite under 4 web workers"),
    ],
)
def test_production_refuses_insecure_settings(tmp_path, settings, said):
    with pytest.raises(InsecureConfiguration) as refused:
        create_app(_production(tmp_path, **settings))
    message = str(refused.value)
    assert message.startswith("Rectify refuses to start in production mode (ProdConfig)")
    assert said in message and "deploy/rectify.env.example" in message
    assert not (tmp_path / "uploads").exists()  # refused before anything was set up


def test_production_lists_every_problem_at_once(tmp_path):
    with pytest.raises(InsecureConfiguration) as refused:
        create_app(_production(tmp_path, SECRET_KEY="", DEBUG=True, WEB_WORKERS=3))
    assert str(refused.value).count("\n  - ") == 3


def test_production_accepts_safe_settings(tmp_path):
    application = create_app(_production(tmp_path))
    assert insecure_settings(application) == []
    # Several workers on SQLite when asked for on purpose; on PostgreSQL without asking.
    create_app(_production(tmp_path, WEB_WORKERS=4, SQLITE_MULTI_WORKER=True))
    on_pg = create_app(_production(tmp_path, WEB_WORKERS=4, SQLALCHEMY_DATABASE_URI="postgresql+psycopg://x@/nowhere"))
    assert insecure_settings(on_pg) == []


def test_development_and_tests_are_not_checked(app):
    assert not app.config.get("PRODUCTION")


# ------------------------------------------------------------------------------------- gunicorn
def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RECTIFY_CONFIG", "config.TestConfig")  # kept: the file only sets a default
    for name, value in {
        "WEB_WORKERS": "3",
        "WEB_THREADS": "1",
        "WEB_TIMEOUT": "90",
        "WEB_BIND": "0.0.0.0:9000",
    }.items():
        monkeypatch.setenv(name, value)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (3, 1, "sync")
    assert (conf["timeout"], conf["bind"]) == (90, "0.0.0.0:9000")
    assert os.environ["RECTIFY_CONFIG"] == "config.TestConfig"
    formatters = conf["logconfig_dict"]["formatters"]
    assert formatters["keyvalue"]["()"] == "app.logs.KeyValueFormatter"
    assert "request_id=%({x-request-id}o)s" in conf["access_log_format"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_gunicorn_serves_with_the_repository_config(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("RECTIFY_CONFIG", "FLASK_DEBUG", "WEB_WORKERS")}
    env.update(
        SECRET_KEY=GOOD_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
        UPLOAD_DIR=str(tmp_path / "uploads"),
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_WORKERS="1",
        WEB_THREADS="2",
    )
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    status, headers, body = _get(f"http://127.0.0.1:{port}/healthz", {"X-Request-ID": "probe-1"})
                    break
                except OSError:
                    assert server.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            assert status == 200 and headers["X-Request-ID"] == "probe-1"
            status, _, body = _get(f"http://127.0.0.1:{port}/readyz")
            assert status == 503 and b"not migrated" in body  # nobody ran flask db upgrade here
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    lines = log.read_text().splitlines()
    access = [line for line in lines if "logger=gunicorn.access" in line]
    assert any("request_id=probe-1" in line and 'path="/healthz"' in line and "status=200" in line for line in access)
    assert any('path="/readyz"' in line and "status=503" in line for line in access)
    assert all(line.startswith("ts=") for line in lines), lines


def test_gunicorn_refuses_an_insecure_production_start(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("RECTIFY_CONFIG", "SECRET_KEY", "WEB_WORKERS")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'refused.db'}",
        UPLOAD_DIR=str(tmp_path / "uploads"),
        WEB_BIND=f"127.0.0.1:{_free_port()}",
        WEB_WORKERS="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "Rectify refuses to start in production mode" in done.stdout + done.stderr
    assert "SECRET_KEY is not set" in done.stdout + done.stderr
