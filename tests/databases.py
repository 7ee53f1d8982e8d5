"""Databases for parallel runs: under pytest-xdist every worker (gw0, gw1, ...) has its own, so
workers never see each other's rows; serial runs use the configured database itself."""

import contextlib
import os

import psycopg
from psycopg import errors, sql
from sqlalchemy import make_url


def worker_name() -> str:
    """'gw0', 'gw1', ... under xdist; '' when the suite runs in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def per_worker(name: str) -> str:
    """A database name of this worker's own: test -> test_gw0."""
    worker = worker_name()
    return f"{name}_{worker}" if worker else name


def admin_conninfo(url) -> str:
    """libpq conninfo for the server's `postgres` database (psycopg does not read SQLAlchemy URLs)."""
    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def create_pg_database(url, name: str) -> None:
    """CREATE DATABASE unless it exists (another run may create it at the same moment)."""
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def worker_pg_url(url: str) -> str:
    """The PostgreSQL URL this worker runs on: DATABASE_URL's database with the worker's suffix
    (none in a serial run), created when missing."""
    parsed = make_url(url)
    name = per_worker(parsed.database)
    create_pg_database(parsed, name)
    return parsed.set(database=name).render_as_string(hide_password=False)
