"""`flask files check`: the upload folder against the records (orphan files, missing files)."""

import click
from flask.cli import AppGroup

group = AppGroup("files", help="上传文件 (uploaded files)")


@group.command("check")
@click.option("--fix", is_flag=True, help="Remove orphan files older than the grace period.")
@click.option(
    "--grace-hours",
    default=24.0,
    show_default=True,
    type=float,
    help="Orphans younger than this are left alone (a file may be being written).",
)
def check(fix: bool, grace_hours: float) -> None:
    """List files no record names and records whose file is missing; exit 1 if any problem remains."""
    from app.services.tasks import file_check

    report = file_check.check(fix=fix, grace_hours=grace_hours)
    for path in report.orphans:
        state = "已删除" if path in report.removed else "未删除"
        click.echo(f"孤立文件（无记录引用，{state}）：{path}")
    for table, row_id, sha in report.missing:
        click.echo(f"文件缺失：{table} #{row_id}（{sha}）", err=True)
    click.echo(
        f"检查了{report.checked_files}个文件：孤立{len(report.orphans)}个（删除{len(report.removed)}个），"
        f"记录缺文件{len(report.missing)}条"
    )
    if not report.clean:
        raise SystemExit(1)
