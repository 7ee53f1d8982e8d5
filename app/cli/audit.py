"""`flask audit ...`: verify the audit trail's hash chain, anchor it, purge old events."""

import json
from pathlib import Path

import click
from flask.cli import AppGroup

group = AppGroup("audit", help="审计日志：校验哈希链、锚定、按保留期清理 / audit trail: verify, anchor, purge")


@group.command("verify")
@click.option(
    "--anchor",
    "anchor_path",
    type=click.Path(exists=True, path_type=Path),
    help="锚点文件（anchor 写出的 JSON），或存放锚点文件的目录（逐个核对）",
)
def verify(anchor_path):
    """Walk the chain in order; exit 1 naming the first altered, deleted or inserted event
    (and, with --anchor, unless the chain still extends every anchor given)."""
    from app.services.shared import audit_chain

    result = audit_chain.verify_and_remember()
    problem = result.problem
    files: list[Path] = []
    if anchor_path is not None:
        files = sorted(anchor_path.glob("*.json")) if anchor_path.is_dir() else [anchor_path]
        if not files:
            raise click.ClickException(f"目录 {anchor_path} 中没有锚点文件（*.json）")
    for file in files if problem is None else []:
        try:
            anchored = audit_chain.load_anchor(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"锚点文件 {file} 无法读取：{exc}") from exc
        problem = audit_chain.check_anchor(anchored, result)
        if problem is not None:
            click.echo(f"锚点 {file} 核对失败", err=True)
            break
    if problem is not None:
        click.echo(f"审计链校验失败：{problem.message}", err=True)
        raise SystemExit(1)
    algorithms = ", ".join(f"{name} {n}" for name, n in sorted(result.algorithms.items())) or "-"
    click.echo(
        f"审计链完好：{result.count} 条事件，链头 序号 {result.head_seq}（事件 #{result.head_id or '-'}）"
        f" {result.head_hash}（{algorithms}）"
    )
    if files:
        click.echo(f"链仍延续 {len(files)} 个锚点（{anchor_path}）")


@group.command("anchor")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="写入文件（默认打印）")
def anchor(out_file):
    """Write the chain's head hash and count (JSON) for an archive outside the database; refused
    if the chain does not verify."""
    from app.services.shared import audit_chain

    result = audit_chain.verify()
    if result.problem is not None:
        click.echo(f"审计链校验失败：{result.problem.message}", err=True)
        raise SystemExit(1)
    text = json.dumps(audit_chain.anchor(result), ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        click.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        click.echo(f"锚点已写入 {out_file}：{result.count} 条事件，链头 序号 {result.head_seq}")


@group.command("purge")
@click.option(
    "--older-than-days", type=int, required=True, help="删除早于这么多天的事件（不得少于 AUDIT_RETENTION_DAYS）"
)
def purge(older_than_days):
    """Delete audit events older than the given number of days (never fewer than the retention
    setting); the chain stays verifiable from the first event kept."""
    from app.extensions import db
    from app.services.shared import audit_chain

    deleted = audit_chain.purge(older_than_days)
    db.session.commit()
    click.echo(f"已删除 {deleted} 条早于 {older_than_days} 天的审计事件")
