"""Fixtures: a real database (SQLite file, or PostgreSQL when DATABASE_URL says so),
schema built by the migrations, emptied after every test."""

import os
import re

import pytest
import time_machine
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import create_app
from app.extensions import db
from app.models import Base, ProcessDefinition
from tests.databases import worker_pg_url
from tests.support import BASE

# Fixtures that live beside their helpers, shared by several test packages: registered here
# rather than imported by name into each test module (which would shadow them, F811).
pytest_plugins = ["tests.integration.ledger_world"]

TEST_DB_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture(autouse=True)
def _base_clock():
    """Every test starts at BASE (ticking), never at the machine's date; a test that travels
    itself nests its own time_machine.travel inside this one."""
    with time_machine.travel(BASE, tick=True):
        yield


def _database_url(tmp_path_factory) -> str:
    if TEST_DB_URL.startswith("postgresql"):
        return worker_pg_url(TEST_DB_URL)  # under xdist, a database per worker: test_gw0, ...
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'rectify-test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    upload_dir = tmp_path_factory.mktemp("uploads")

    class Cfg:
        TESTING = True
        SQLALCHEMY_DATABASE_URI = url
        UPLOAD_DIR = str(upload_dir)

    from config import TestConfig

    cfg = type("SessionTestConfig", (TestConfig,), {k: v for k, v in vars(Cfg).items() if k.isupper()})
    application = create_app(cfg)
    # The shipped versions are deployed at BASE too, not at the machine's date.
    with application.app_context(), time_machine.travel(BASE, tick=True):
        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        from app.services.design import processes

        processes.deploy_all()
        # The shipped diagrams stay deployed for the whole session; versions a test deploys go.
        application.config["TEST_SHIPPED_DEFINITIONS"] = set(db.session.scalars(select(ProcessDefinition.id)))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()  # close pooled connections (an unclosed one is a ResourceWarning)


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after each test that used the app, keeping the shipped process versions."""
    yield
    if "app" not in request.fixturenames:
        return
    empty_tables(request.getfixturevalue("app"))


def empty_tables(application) -> None:
    """Every table emptied but the shipped process versions (and the calendar cache with them)."""
    with application.app_context():
        db.session.remove()
        shipped = application.config["TEST_SHIPPED_DEFINITIONS"]
        tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name != "alembic_version"]
        # DELETE rather than TRUNCATE ... CASCADE: the cascade would also empty the kept
        # process_definitions (they reference users). Dependents go first (reversed order).
        with db.engine.begin() as conn:
            for table in tables:
                if table.name == "process_definitions":
                    dropped = conn.execute(table.delete().where(table.c.id.not_in(shipped))).rowcount
                else:
                    conn.execute(table.delete())
        if dropped:
            from app.services.design import processes

            processes.forget_cached()  # a later version may reuse a dropped one's id
        # The working-day calendar this process holds follows the emptied tables (no stored year).
        from app.services import calendar

        calendar.reset_for_tests()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in page"
    return match.group(1)


class Actor:
    """A logged-in test client for one user."""

    def __init__(self, client, user):
        self.client = client
        self.user = user

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post_form(self, url, data, form_url=None, **kw):
        """GET the page that holds the form (for its CSRF token), then POST."""
        page = self.client.get(form_url or url)
        payload = dict(data)
        payload["csrf_token"] = csrf_from(page.get_data(as_text=True))
        return self.client.post(url, data=payload, **kw)


@pytest.fixture
def make_unit(app):
    from app.services.accounts import units

    def _make(code="T01", name=None, kind="township"):
        with app.app_context():
            return units.ensure_unit(code=code, name=name or f"测试单位{code}", kind=kind).id

    return _make


@pytest.fixture
def make_user(app):
    from app.services.accounts import users

    def _make(role, unit_id=None, username=None, password="Passw0rd!"):
        with app.app_context():
            user = users.create_user(
                username=username or f"{role}{unit_id or ''}",
                password=password,
                role=role,
                display_name=f"测试{role}",
                unit_id=unit_id,
            )
            return user.id

    return _make


@pytest.fixture
def login_as(app, make_user):
    """login_as(role, unit_id=None) -> Actor with a fresh client logged in through the form."""

    def _login(role, unit_id=None, username=None):
        user_id = make_user(role, unit_id=unit_id, username=username)
        client = app.test_client()
        with app.app_context():
            from app.models import User

            user = db.session.get(User, user_id)
            name = user.username
        page = client.get("/login")
        resp = client.post(
            "/login",
            data={"username": name, "password": "Passw0rd!", "csrf_token": csrf_from(page.get_data(as_text=True))},
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return Actor(client, user_id)

    return _login
