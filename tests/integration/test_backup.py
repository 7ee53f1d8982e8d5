"""`flask backup create / restore / verify`: a seeded campaign (instances, letters, audit rows,
evidence files) goes into one archive and comes back row for row and byte for byte, on SQLite
and on PostgreSQL (in databases of this test's own, whatever the suite runs on); verify names a
corrupted member; restore refuses a target that is not empty."""

import io
import os
import tarfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from flask_migrate import upgrade
from sqlalchemy import func, make_url, select

from app import create_app
from app.extensions import db
from app.models import AuditEvent, Base, Evidence, ProcessInstance, SupervisionLetter
from app.services.design import processes
from app.services.sweep import timers
from config import TestConfig

TZ = ZoneInfo("Asia/Shanghai")
EARLY = datetime(2026, 11, 23, 0, 15, tzinfo=TZ)  # as the demo seed's own test


def _pg_base():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        url = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    return make_url(url)


def _admin(base) -> str:
    return base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


def _make_app(url: str, uploads: Path):
    overrides = {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(uploads)}
    return create_app(type("BackupTestConfig", (TestConfig,), overrides))


def _forget_caches():
    processes.forget_cached()  # keyed by database URL, but the test's databases come and go


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(request, tmp_path):
    """(source app, target app): the source migrated, the target's database and upload folder empty."""
    names = []
    if request.param == "sqlite":
        src_url, dst_url = f"sqlite:///{tmp_path / 'src.db'}", f"sqlite:///{tmp_path / 'dst.db'}"
    else:
        base = _pg_base()
        names = [f"rectify_backup_src_{os.getpid()}", f"rectify_backup_dst_{os.getpid()}"]
        try:
            with psycopg.connect(_admin(base), autocommit=True) as conn:
                for name in names:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    conn.execute(f"CREATE DATABASE {name}")
        except psycopg.OperationalError as exc:  # pragma: no cover - CI always has the server
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        src_url, dst_url = (base.set(database=n).render_as_string(hide_password=False) for n in names)
    _forget_caches()
    src = _make_app(src_url, tmp_path / "src-uploads")
    dst = _make_app(dst_url, tmp_path / "dst-uploads")
    with src.app_context():
        upgrade()
        processes.deploy_all()
    try:
        yield src, dst
    finally:
        for application in (src, dst):
            with application.app_context():
                db.session.remove()
                db.engine.dispose()
        _forget_caches()
        if names:
            with psycopg.connect(_admin(_pg_base()), autocommit=True) as conn:
                for name in names:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _seed(application) -> None:
    """The demo's campaign, swept until letters go out."""
    with application.app_context():
        with time_machine.travel(EARLY, tick=False):
            result = application.test_cli_runner().invoke(args=["demo", "seed"])
            assert result.exit_code == 0, result.output
            timers.tick()
        with time_machine.travel(EARLY + timedelta(days=10), tick=False):
            timers.tick()
        with time_machine.travel(EARLY + timedelta(days=20), tick=False):
            timers.tick()
        db.session.remove()


def _tables(application) -> dict:
    """Every row of every table, in primary-key order."""
    with application.app_context():
        out = {}
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(row) for row in db.session.execute(select(table).order_by(*order)).all()]
        out["alembic_version"] = list(db.session.execute(db.text("SELECT version_num FROM alembic_version")).all())
        db.session.remove()
        return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _invoke(application, *args):
    with application.app_context():
        return application.test_cli_runner().invoke(args=list(args))


def test_a_seeded_campaign_round_trips_row_for_row_and_byte_for_byte(pair, tmp_path):
    src, dst = pair
    _seed(src)
    with src.app_context():
        counts = {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (ProcessInstance, SupervisionLetter, AuditEvent, Evidence)
        }
        db.session.remove()
    assert all(counts.values()), counts
    src_uploads = Path(src.config["UPLOAD_DIR"])
    assert _files(src_uploads), "the demo stores evidence files"

    archive = tmp_path / "rectify.tar"
    made = _invoke(src, "backup", "create", str(archive))
    assert made.exit_code == 0, made.output
    checked = _invoke(src, "backup", "verify", str(archive))
    assert checked.exit_code == 0, checked.output
    restored = _invoke(dst, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "校验和全部一致" in restored.output

    assert _tables(dst) == _tables(src)
    assert _files(Path(dst.config["UPLOAD_DIR"])) == _files(src_uploads)
    # Restoring a second time into the now full target is refused.
    again = _invoke(dst, "backup", "restore", str(archive))
    assert again.exit_code == 1 and "不是空的" in again.output


@pytest.fixture
def small(tmp_path):
    """A migrated SQLite source with two uploaded files, and its archive."""
    _forget_caches()
    src = _make_app(f"sqlite:///{tmp_path / 'src.db'}", tmp_path / "src-uploads")
    with src.app_context():
        upgrade()
    uploads = Path(src.config["UPLOAD_DIR"])
    (uploads / "ab").mkdir(parents=True)
    (uploads / "ab" / "abc").write_bytes(b"evidence one")
    (uploads / "cd").mkdir()
    (uploads / "cd" / "cde").write_bytes(b"evidence two")
    archive = tmp_path / "small.tar"
    made = _invoke(src, "backup", "create", str(archive))
    assert made.exit_code == 0, made.output
    yield src, archive
    with src.app_context():
        db.engine.dispose()
    _forget_caches()


def _rewrite(archive: Path, target: Path, change) -> None:
    """Copy the archive member by member; change(name, data) returns the new bytes or None to drop it."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as out:
        for info in source.getmembers():
            data = source.extractfile(info).read()
            new = change(info.name, data)
            if new is None:
                continue
            info.size = len(new)
            out.addfile(info, io.BytesIO(new))


def test_verify_names_a_corrupted_member_and_restore_refuses_it(small, tmp_path):
    src, archive = small
    bad = tmp_path / "bad.tar"
    _rewrite(archive, bad, lambda name, data: b"evidence 0ne" if name == "uploads/cd/cde" else data)
    checked = _invoke(src, "backup", "verify", str(bad))
    assert checked.exit_code == 1
    assert "uploads/cd/cde" in checked.output and "uploads/ab/abc" not in checked.output

    dst = _make_app(f"sqlite:///{tmp_path / 'dst.db'}", tmp_path / "dst-uploads")
    refused = _invoke(dst, "backup", "restore", str(bad))
    assert refused.exit_code == 1 and "uploads/cd/cde" in refused.output
    assert not any(Path(dst.config["UPLOAD_DIR"]).iterdir())
    with dst.app_context():
        assert db.session.execute(db.text("SELECT count(*) FROM sqlite_master")).scalar() == 0
        db.engine.dispose()


def test_verify_names_a_missing_manifest_a_missing_member_and_a_truncated_database(small, tmp_path):
    src, archive = small
    cases = {
        "no-manifest": (lambda name, data: None if name == "manifest.json" else data, "manifest.json"),
        "no-member": (lambda name, data: None if name == "uploads/ab/abc" else data, "uploads/ab/abc"),
        "short-db": (
            lambda name, data: data[:-512] if name.startswith("database/") else data,
            "database/rectify.sqlite3",
        ),
    }
    for case, (change, named) in cases.items():
        bad = tmp_path / f"{case}.tar"
        _rewrite(archive, bad, change)
        checked = _invoke(src, "backup", "verify", str(bad))
        assert checked.exit_code == 1, case
        assert named in checked.output, (case, checked.output)
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"not a tar at all" * 100)
    assert _invoke(src, "backup", "verify", str(garbage)).exit_code == 1


def test_restore_refuses_a_database_or_upload_folder_that_is_not_empty(small, tmp_path):
    src, archive = small
    # A migrated target database.
    full = _make_app(f"sqlite:///{tmp_path / 'full.db'}", tmp_path / "full-uploads")
    with full.app_context():
        upgrade()
    refused = _invoke(full, "backup", "restore", str(archive))
    assert refused.exit_code == 1 and "目标数据库不是空的" in refused.output
    assert not any(Path(full.config["UPLOAD_DIR"]).iterdir())
    # An empty database beside an upload folder that holds a file.
    crowded = _make_app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "crowded-uploads")
    (tmp_path / "crowded-uploads" / "stray.txt").write_bytes(b"someone else's")
    refused = _invoke(crowded, "backup", "restore", str(archive))
    assert refused.exit_code == 1 and "上传文件目录不是空的" in refused.output
    with crowded.app_context():
        assert db.session.execute(db.text("SELECT count(*) FROM sqlite_master")).scalar() == 0
    for application in (full, crowded):
        with application.app_context():
            db.engine.dispose()


def test_create_refuses_to_overwrite_an_archive(small):
    src, archive = small
    before = archive.read_bytes()
    again = _invoke(src, "backup", "create", str(archive))
    assert again.exit_code == 1 and "已存在" in again.output
    assert archive.read_bytes() == before


def test_create_and_restore_report_progress_for_large_uploads(small, tmp_path, monkeypatch):
    from app.cli import backup as backup_cli

    src, _ = small
    monkeypatch.setattr(backup_cli, "PROGRESS_MIN_BYTES", 0)  # two small files count as large here
    archive = tmp_path / "progress.tar"
    made = _invoke(src, "backup", "create", str(archive))
    assert made.exit_code == 0, made.output
    assert "上传文件：2/2 个" in made.output
    dst = _make_app(f"sqlite:///{tmp_path / 'dst.db'}", tmp_path / "dst-uploads")
    restored = _invoke(dst, "backup", "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "上传文件：2/2 个" in restored.output
    assert (tmp_path / "dst-uploads" / "cd" / "cde").read_bytes() == b"evidence two"
    with dst.app_context():
        db.engine.dispose()
