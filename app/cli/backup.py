"""`flask backup`: one archive of the database and every uploaded file; restore it; verify it."""

import time
from pathlib import Path

import click
from flask.cli import AppGroup

from app.i18n import gettext

group = AppGroup("backup", help="备份与恢复 / backup and restore: create, restore, verify")

# Progress is printed at most this often (seconds), and only when there is much to copy.
PROGRESS_EVERY = 2.0
PROGRESS_MIN_BYTES = 64 * 1024 * 1024


def _progress():
    last = [0.0]

    def show(files: int, total_files: int, done: int, total: int) -> None:
        now = time.monotonic()
        if total < PROGRESS_MIN_BYTES or (now - last[0] < PROGRESS_EVERY and files < total_files):
            return
        last[0] = now
        click.echo(
            gettext(
                "  上传文件：%(files)s/%(total_files)s 个，%(done)s/%(total)s MB",
                files=files,
                total_files=total_files,
                done=done // (1024 * 1024),
                total=total // (1024 * 1024),
            )
        )

    return show


@group.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path):
    """Write PATH (a tar archive): the database, every file under UPLOAD_DIR, and a manifest of checksums."""
    from app.services.operations import backup

    made = backup.create(path, progress=_progress())
    click.echo(
        gettext(
            "已备份到 %(path)s：%(dialect)s 数据库（迁移版本 %(revision)s）和 %(files)s 个上传文件（%(bytes)s 字节）",
            path=str(made.path),
            dialect=made.dialect,
            revision=made.revision or "-",
            files=made.files,
            bytes=made.bytes,
        )
    )


@group.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def restore_command(path: Path):
    """Restore PATH into the configured database and UPLOAD_DIR, both of which must be empty."""
    from app.services.operations import backup

    done = backup.restore(path, progress=_progress())
    click.echo(
        gettext(
            "已恢复：%(tables)s 张表共 %(rows)s 行（迁移版本 %(revision)s），%(files)s 个上传文件，校验和全部一致",
            tables=done.tables,
            rows=done.rows,
            revision=done.revision or "-",
            files=done.files,
        )
    )
    click.echo(gettext("如果程序版本比备份新，请再运行 flask db upgrade"))


@group.command("verify")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def verify_command(path: Path):
    """Check PATH without restoring: the manifest, every member's size and SHA-256. Exit 1 if anything is wrong."""
    from app.services.operations import backup

    checked = backup.verify(path)
    if not checked.ok:
        click.echo(gettext("备份文件有问题：%(path)s", path=str(path)), err=True)
        for problem in checked.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1)
    manifest = checked.manifest or {}
    click.echo(
        gettext(
            "备份完好：%(members)s 个成员校验和一致；创建于 %(created)s，程序版本 %(version)s，迁移版本 %(revision)s",
            members=len(manifest.get("members", [])),
            created=manifest.get("created_at", "-"),
            version=manifest.get("app_version", "-"),
            revision=manifest.get("alembic_revision") or "-",
        )
    )
