from pathlib import Path

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


@group.command("lint")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def lint_command(files):
    """Lint diagrams: one line per problem (file:element: severity: message); exit 1 on any error."""
    from app.services import designer

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
