from pathlib import Path

import click
from flask.cli import AppGroup

group = AppGroup("processes", help="流程图：部署与版本 / diagrams: deploy and versions")


@group.command("deploy")
def deploy_command():
    """Deploy processes/*.bpmn; an unchanged diagram keeps its version."""
    from app.services.design import processes

    try:
        results = processes.deploy_all()
    except processes.DiagramError as exc:
        for problem in exc.problems:
            click.echo(f"错误：{problem}", err=True)
        raise SystemExit(1) from None
    for definition, created in results:
        state = "新版本" if created else "未变化"
        click.echo(
            f"{definition.filename}: {definition.process_key} v{definition.version} "
            f"({state}, {definition.content_hash[:12]})"
        )


@group.command("list")
def list_command():
    """List deployed versions with who deployed them and how many instances run on each."""
    from app.services.design import designer

    for v in reversed(designer.versions()):
        click.echo(
            f"{v.process_key} v{v.version} {v.deployed_at:%Y-%m-%d %H:%M} {v.content_hash[:12]} {v.filename} "
            f"{v.deployed_by or '系统'} 运行中 {v.running_instances}"
        )


@group.command("lint")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def lint_command(files):
    """Lint diagrams: one line per problem (file:element: severity: message); exit 1 on any error."""
    from app.services.design import designer

    errors = 0
    for path in files:
        problems = designer.lint(path.read_bytes(), path.name)
        for p in problems:
            click.echo(f"{path}:{p.element_id or '-'}: {p.severity}: {p.message}")
        errors += sum(p.is_error for p in problems)
        if not problems:
            click.echo(f"{path}: ok")
    if errors:
        raise SystemExit(1)


@group.command("migrate")
@click.argument("campaign_ref", metavar="CAMPAIGN")
@click.option("--version", "version", type=click.IntRange(min=1), default=None, help="目标版本号（默认最新版本）")
@click.option("--process", "process_key", default="rectification", show_default=True, help="流程")
@click.option("--instance", "instance_ids", type=int, multiple=True, help="只迁移这些实例（可重复；默认全部可迁移的）")
@click.option("--dry-run", is_flag=True, help="只列出哪些实例可以迁移、哪些不能及原因")
def migrate_command(campaign_ref, version, process_key, instance_ids, dry_run):
    """Move a campaign's running instances to another version (dry run first)."""
    from app.services.campaigns import campaigns
    from app.services.design import designer
    from app.services.tasks import migration

    campaign = campaigns.find_campaign(campaign_ref)
    target = next((v for v in designer.versions(process_key) if version in (None, v.version)), None)
    if campaign is None or target is None:
        click.echo(
            f"错误：找不到专项整治 {campaign_ref}" if campaign is None else f"错误：找不到 {process_key} 的该版本",
            err=True,
        )
        raise SystemExit(1)
    if dry_run:
        for c in migration.dry_run(campaign.id, target.id):
            state = "可迁移" if c.can_migrate else "不能迁移：" + "；".join(map(str, c.reasons))
            click.echo(f"实例 {c.instance_id} {c.unit_name} v{c.from_version} → v{target.version}：{state}")
        return
    result = migration.migrate(campaign.id, target.id, list(instance_ids) or None, None)
    click.echo(f"已迁移 {len(result.moved)} 个实例到 v{target.version}")
    for instance_id, reasons in result.skipped.items():
        click.echo(f"实例 {instance_id} 未迁移：{'；'.join(map(str, reasons))}", err=True)
