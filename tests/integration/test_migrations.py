"""Migrations: one Alembic head, and `flask db upgrade` on an empty database builds exactly
the schema the models declare (SQLite and the local PostgreSQL server)."""

import os
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, make_url, text

from app import create_app
from app.extensions import db
from app.models import Base
from config import TestConfig
from tests.databases import admin_conninfo, per_worker

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# Its own database, so this test never disturbs the database the suite runs on; one per xdist
# worker (rectify_migrations_gw0, ...), so parallel workers never drop each other's.
PG_DATABASE = per_worker("rectify_migrations")


def _script_directory() -> ScriptDirectory:
    cfg = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def test_migrations_have_a_single_head():
    heads = _script_directory().get_heads()
    assert len(heads) == 1, f"several Alembic heads, merge them: {heads}"


def _drop_pg_database(url) -> None:
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    """URL of a database that has never seen a migration."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    # Migrations are checked on the PostgreSQL server even when the suite runs on SQLite.
    suite_url = os.environ.get("DATABASE_URL", "")
    if not suite_url.startswith("postgresql"):
        suite_url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    url = make_url(suite_url)
    _drop_pg_database(url)
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    try:
        yield url.set(database=PG_DATABASE).render_as_string(hide_password=False)
    finally:
        _drop_pg_database(url)


@pytest.fixture
def fresh_app(empty_database_url, tmp_path):
    overrides = {"SQLALCHEMY_DATABASE_URI": empty_database_url, "UPLOAD_DIR": str(tmp_path / "uploads")}
    application = create_app(type("MigrationTestConfig", (TestConfig,), overrides))
    with application.app_context():
        try:
            yield application
        finally:
            db.session.remove()
            db.engine.dispose()


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(fresh_app):
    upgrade()

    with db.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert version == _script_directory().get_current_head()
    assert diff == [], "models and migrations disagree; run `flask db migrate`:\n" + "\n".join(map(str, diff))

    downgrade(revision="base")
    left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert left == set(), f"downgrade to base left tables behind: {sorted(left)}"
