"""Backups: one tar archive holding the database and every file under UPLOAD_DIR.

    manifest.json          format, app version, Alembic revision, creation time, the database's
                           dialect and per-table row counts, and every member's size and SHA-256
    database/rectify.sqlite3   SQLite: a copy made with the online backup API (sqlite3 backup)
    database/rectify.pgdump    PostgreSQL: `pg_dump --format=custom`
    uploads/<path>         each file under UPLOAD_DIR, at its path below it

The manifest is the archive's last member: its checksums are taken while the members are written.
restore() accepts only an empty database (no tables) and an empty upload folder; it checks every
checksum before it writes anything, and again on what it wrote. Members are read by the names the
manifest gives, each checked to stay inside its folder: nothing in an archive is extracted blindly.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

from flask import current_app
from sqlalchemy import URL, create_engine, inspect, make_url, text
from sqlalchemy.engine import Connection

from app import clock
from app.errors import DomainError
from app.extensions import db
from app.i18n import N_, LazyText

FORMAT = "rectify-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/rectify.sqlite3"
PG_MEMBER = "database/rectify.pgdump"
UPLOADS = "uploads/"
CHUNK = 1024 * 1024
# Files an upload in progress writes before it moves them into place (app/services/tasks/evidence.py).
IN_PROGRESS_PREFIX = ".upload-"

Progress = Callable[[int, int, int, int], None]  # files done, files in all, bytes done, bytes in all


class BackupError(DomainError):
    code = "backup_failed"
    status = 409


@dataclass
class Created:
    path: Path
    files: int
    bytes: int
    revision: str | None
    dialect: str


@dataclass
class Restored:
    files: int
    tables: int
    rows: int
    revision: str | None
    dialect: str


@dataclass
class Verified:
    manifest: dict[str, Any] | None = None
    problems: list[LazyText] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def app_version() -> str:
    """The version in pyproject.toml (the installed package's, when installed)."""
    try:
        return metadata.version("rectify")
    except metadata.PackageNotFoundError:
        pass
    try:
        with (Path(current_app.root_path).parent / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


# --- create ---------------------------------------------------------------------------------------


def create(path: Path, progress: Progress | None = None) -> Created:
    """Write the archive at `path` (refused if it exists); a half-written archive is removed."""
    path = Path(path)
    if path.exists():
        raise BackupError(N_("备份文件已存在：%(path)s"), path=str(path))
    url = _database_url()
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    uploads = list(_upload_files(upload_dir))
    total_bytes = sum(size for _, _, size in uploads)
    members: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="rectify-backup-") as work:
        if url.get_backend_name() == "sqlite":
            dump, db_member = Path(work) / "rectify.sqlite3", SQLITE_MEMBER
            _sqlite_backup(_sqlite_path(url), dump)
            revision, counts = _sqlite_facts(dump)
        elif url.get_backend_name() == "postgresql":
            dump, db_member = Path(work) / "rectify.pgdump", PG_MEMBER
            revision, counts = _pg_dump(url, dump)
        else:
            raise BackupError(N_("不支持备份这种数据库：%(name)s"), name=url.get_backend_name())
        try:
            with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
                members.append(_add(archive, db_member, dump))
                if progress:
                    progress(0, len(uploads), 0, total_bytes)
                done_bytes = 0
                for number, (source, relative, size) in enumerate(uploads, start=1):
                    members.append(_add(archive, UPLOADS + relative, source))
                    done_bytes += size
                    if progress:
                        progress(number, len(uploads), done_bytes, total_bytes)
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "app_version": app_version(),
                    "alembic_revision": revision,
                    "created_at": clock.now().isoformat(timespec="seconds"),
                    "database": {"dialect": url.get_backend_name(), "member": db_member, "tables": counts},
                    "members": members,
                }
                body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(clock.now().timestamp()), 0o644
                archive.addfile(info, _BytesReader(body))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return Created(path, len(uploads), total_bytes, revision, url.get_backend_name())


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at : end], min(end, len(self.data))
        return chunk


class _Hashing:
    """A file read through, hashed on the way."""

    def __init__(self, handle: IO[bytes]):
        self.handle, self.digest, self.size = handle, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _add(archive: tarfile.TarFile, name: str, source: Path) -> dict[str, Any]:
    info = archive.gettarinfo(str(source), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with source.open("rb") as handle:
        reader = _Hashing(handle)
        archive.addfile(info, reader)
    if reader.size != info.size:  # the file changed while it was read
        raise BackupError(N_("文件在备份过程中被改动：%(name)s"), name=str(source))
    return {"name": name, "size": reader.size, "sha256": reader.digest.hexdigest()}


def _upload_files(root: Path) -> Iterator[tuple[Path, str, int]]:
    """(path, path below root in POSIX form, size) of each regular file, in a stable order."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            source = Path(folder) / name
            if name.startswith(IN_PROGRESS_PREFIX) or source.is_symlink() or not source.is_file():
                continue
            yield source, source.relative_to(root).as_posix(), source.stat().st_size


def _database_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(N_("只能备份或恢复文件形式的 SQLite 数据库"))
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path) -> None:
    """A consistent copy of a live database (sqlite3's online backup API)."""
    if not source.is_file():
        raise BackupError(N_("找不到数据库文件：%(path)s"), path=str(source))
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _row_counts(conn: Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in sorted(inspect(conn).get_table_names()):
        quoted = conn.dialect.identifier_preparer.quote(name)
        counts[name] = int(conn.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())  # noqa: S608
    return counts


def _revision(conn: Connection, counts: dict[str, int]) -> str | None:
    if "alembic_version" not in counts:
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _sqlite_facts(path: Path) -> tuple[str | None, dict[str, int]]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            counts = _row_counts(conn)
            return _revision(conn, counts), counts
    finally:
        engine.dispose()


def _pg_env(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment that carries it."""
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return target, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(N_("找不到 %(tool)s：请安装 PostgreSQL 客户端（postgresql-client）"), tool=name)
    return found


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(
            N_("%(tool)s 失败（退出码 %(status)s）：%(error)s"),
            tool=Path(args[0]).name,
            status=done.returncode,
            error=done.stderr.strip()[-2000:],
        )


def _pg_dump(url: URL, target: Path) -> tuple[str | None, dict[str, int]]:
    """pg_dump in the snapshot the row counts were taken in, so the manifest says what it holds."""
    tool = _tool("pg_dump")
    conn_str, env = _pg_env(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            counts = _row_counts(conn)
            revision = _revision(conn, counts)
            _run([tool, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", conn_str], env)
            conn.rollback()
    finally:
        engine.dispose()
    return revision, counts


# --- verify ---------------------------------------------------------------------------------------


def _safe_member(name: str) -> bool:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or not pure.parts:
        return False
    if name in (SQLITE_MEMBER, PG_MEMBER):
        return True
    return name.startswith(UPLOADS) and len(pure.parts) > 1


def verify(path: Path) -> Verified:
    """Read the whole archive: the manifest present and sound, every member's size and checksum."""
    return _read(Path(path), None)


def _read(path: Path, sink: Callable[[str, Iterator[bytes]], None] | None) -> Verified:
    """Check the archive; with a sink, each member named by a sound manifest also goes to it."""
    result = Verified()
    problems = result.problems
    if not path.is_file():
        problems.append(LazyText(N_("找不到备份文件：%(path)s"), path=str(path)))
        return result
    try:
        with tarfile.open(path, "r:*") as archive:
            infos = archive.getmembers()
            manifest = _manifest(archive, infos, problems)
            if manifest is None:
                return result
            result.manifest = manifest
            expected = {m["name"]: m for m in manifest["members"]}
            seen: set[str] = set()
            for info in infos:
                if info.name == MANIFEST:
                    continue
                if info.name not in expected:
                    problems.append(LazyText(N_("清单中没有的成员：%(name)s"), name=info.name))
                    continue
                if info.name in seen:
                    problems.append(LazyText(N_("成员重复：%(name)s"), name=info.name))
                    continue
                seen.add(info.name)
                problems.extend(_check_member(archive, info, expected[info.name], sink))
            for name in expected:
                if name not in seen:
                    problems.append(LazyText(N_("缺少成员：%(name)s"), name=name))
    except (tarfile.TarError, OSError, EOFError) as exc:
        problems.append(LazyText(N_("备份文件无法读取：%(error)s"), error=str(exc)))
    return result


def _manifest(archive: tarfile.TarFile, infos: list[tarfile.TarInfo], problems: list[LazyText]) -> Any:
    found = [info for info in infos if info.name == MANIFEST]
    if not found:
        problems.append(LazyText(N_("备份中没有清单（manifest.json）")))
        return None
    handle = archive.extractfile(found[-1]) if found[-1].isfile() else None
    try:
        manifest = json.loads(handle.read()) if handle else None
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        problems.append(LazyText(N_("清单（manifest.json）不是 Rectify 备份清单")))
        return None
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(LazyText(N_("不支持的备份格式版本：%(version)s"), version=str(manifest.get("format_version"))))
        return None
    members = manifest.get("members")
    database = manifest.get("database")
    sound = (
        isinstance(members, list)
        and all(
            isinstance(m, dict)
            and isinstance(m.get("name"), str)
            and isinstance(m.get("size"), int)
            and isinstance(m.get("sha256"), str)
            for m in members
        )
        and isinstance(database, dict)
        and database.get("dialect") in ("sqlite", "postgresql")
        and isinstance(database.get("tables"), dict)
    )
    if not sound or not isinstance(members, list) or not isinstance(database, dict):
        problems.append(LazyText(N_("清单（manifest.json）内容不完整")))
        return None
    names = [m["name"] for m in members]
    unsafe = [name for name in names if not _safe_member(name)]
    for name in unsafe:
        problems.append(LazyText(N_("清单中的成员名不安全：%(name)s"), name=name))
    if len(set(names)) != len(names):
        problems.append(LazyText(N_("清单中有重复的成员")))
    if database.get("member") not in names:
        problems.append(LazyText(N_("清单没有列出数据库文件")))
    return None if problems else manifest


def _check_member(
    archive: tarfile.TarFile,
    info: tarfile.TarInfo,
    entry: dict[str, Any],
    sink: Callable[[str, Iterator[bytes]], None] | None,
) -> list[LazyText]:
    if not info.isfile():
        return [LazyText(N_("成员不是普通文件：%(name)s"), name=info.name)]
    handle = archive.extractfile(info)
    if handle is None:
        return [LazyText(N_("成员无法读取：%(name)s"), name=info.name)]
    digest, size = hashlib.sha256(), 0

    def chunks() -> Iterator[bytes]:
        nonlocal size
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            yield chunk

    if sink is None:
        for _ in chunks():
            pass
    else:
        sink(info.name, chunks())
    if size != entry["size"]:
        return [LazyText(N_("成员大小不符：%(name)s"), name=info.name)]
    if digest.hexdigest() != entry["sha256"]:
        return [LazyText(N_("成员校验和不符（SHA-256）：%(name)s"), name=info.name)]
    return []


# --- restore --------------------------------------------------------------------------------------


def restore(path: Path, progress: Progress | None = None) -> Restored:
    """Restore the archive at `path` into the configured, empty database and upload folder."""
    path = Path(path)
    url = _database_url()
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        _sqlite_path(url)
    _refuse_unless_empty(upload_dir)
    checked = verify(path)  # every checksum, before anything is written
    if not checked.ok:
        raise BackupError(
            N_("备份文件未通过校验，未恢复：%(problems)s"), problems="；".join(str(p) for p in checked.problems)
        )
    manifest = checked.manifest
    assert manifest is not None  # a sound archive has one
    if manifest["database"]["dialect"] != dialect:
        raise BackupError(
            N_("备份来自 %(source)s 数据库，不能恢复到 %(target)s 数据库"),
            source=manifest["database"]["dialect"],
            target=dialect,
        )
    uploads = [m for m in manifest["members"] if m["name"].startswith(UPLOADS)]
    total_bytes = sum(m["size"] for m in uploads)
    db.session.remove()
    db.engine.dispose()
    with tempfile.TemporaryDirectory(prefix="rectify-restore-") as work:
        dump = Path(work) / "database"
        written: list[Path] = []
        done = {"files": 0, "bytes": 0}

        def sink(name: str, chunks: Iterator[bytes]) -> None:
            if name.startswith(UPLOADS):
                target = _inside(upload_dir, name.removeprefix(UPLOADS))
                target.parent.mkdir(parents=True, exist_ok=True)
                written.append(target)
            else:
                target = dump
            with target.open("xb") as out:
                for chunk in chunks:
                    out.write(chunk)
            if name.startswith(UPLOADS):
                done["files"] += 1
                done["bytes"] += target.stat().st_size
                if progress:
                    progress(done["files"], len(uploads), done["bytes"], total_bytes)

        try:
            if progress:
                progress(0, len(uploads), 0, total_bytes)
            again = _read(path, sink)  # written while hashed: the archive cannot change in between
            if not again.ok or again.manifest != manifest:
                raise BackupError(N_("备份文件在恢复过程中被改动，未恢复"))
            _restore_database(url, dump, manifest)
            _check_written(upload_dir, uploads)
        except BaseException:
            for target in written:
                target.unlink(missing_ok=True)
            raise
        finally:
            db.engine.dispose()
    tables = manifest["database"]["tables"]
    return Restored(len(uploads), len(tables), sum(tables.values()), manifest["alembic_revision"], dialect)


def _inside(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise BackupError(N_("清单中的成员名不安全：%(name)s"), name=relative)
    return target


def _refuse_unless_empty(upload_dir: Path) -> None:
    with db.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables:
        raise BackupError(
            N_("目标数据库不是空的（已有 %(count)s 张表，如 %(table)s），未恢复：请恢复到新建的空数据库"),
            count=len(tables),
            table=sorted(tables)[0],
        )
    if upload_dir.exists() and any(upload_dir.iterdir()):
        raise BackupError(N_("上传文件目录不是空的（%(path)s），未恢复：请恢复到空目录"), path=str(upload_dir))


def _restore_database(url: URL, dump: Path, manifest: dict[str, Any]) -> None:
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        staged = target.with_name(target.name + ".restoring")
        shutil.copyfile(dump, staged)
        os.replace(staged, target)
        if _sha256(target) != _entry(manifest, SQLITE_MEMBER)["sha256"]:
            raise BackupError(N_("恢复后的数据库文件校验和不符"))
        engine = create_engine(url)
    else:
        conn_str, env = _pg_env(url)
        _run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={conn_str}",
                str(dump),
            ],
            env,
        )
        engine = create_engine(url)
    try:
        with engine.connect() as conn:
            counts = _row_counts(conn)
            revision = _revision(conn, counts)
    finally:
        engine.dispose()
    if counts != manifest["database"]["tables"] or revision != manifest["alembic_revision"]:
        raise BackupError(N_("恢复后的数据库与备份清单不符（表或行数不同）"))


def _entry(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in manifest["members"] if m["name"] == name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_written(upload_dir: Path, uploads: list[dict[str, Any]]) -> None:
    """Every restored file read back from disk against its checksum."""
    for entry in uploads:
        target = _inside(upload_dir, entry["name"].removeprefix(UPLOADS))
        if not target.is_file() or _sha256(target) != entry["sha256"]:
            raise BackupError(N_("恢复后的文件校验和不符：%(name)s"), name=entry["name"])
