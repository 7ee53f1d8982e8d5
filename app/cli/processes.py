import click
from flask.cli import AppGroup

group = AppGroup("processes", help="流程图：部署与版本 / diagrams: deploy and versions")


@group.command("deploy")
def deploy_command():
    """Deploy processes/*.bpmn; an unchanged diagram keeps its version."""
    from app.services import processes

    try:
        results = processes.deploy_all()
    except processes.DiagramError as exc:
        for problem in exc.problems:
            click.echo(f"错误：{problem}", err=True)
        raise SystemExit(1) from None
    for definition, created in results:
        state = "新版本" if created else "未变化"
        click.echo(f"{definition.filename}: {definition.process_key} v{definition.version} ({state}, {definition.content_hash[:12]})")


@group.command("list")
def list_command():
    """List deployed versions."""
    from app.services import processes

    for d in processes.list_versions():
        click.echo(f"{d.process_key} v{d.version} {d.deployed_at:%Y-%m-%d %H:%M} {d.content_hash[:12]} {d.filename}")
