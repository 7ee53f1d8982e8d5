"""`flask units ...`: import the unit roster from CSV/XLSX."""

from pathlib import Path

import click
from flask.cli import AppGroup

group = AppGroup("units", help="单位管理 (units)")


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(file: Path):
    """Import units from FILE (.csv or .xlsx); nothing is written if any row is wrong."""
    from app.services.accounts import units

    result = units.import_units(file.read_bytes(), file.name, actor_id=None)
    if result.errors:
        for error in result.errors:
            click.echo(f"第{error.row}行：{error.message}", err=True)
        click.echo(f"导入失败：{len(result.errors)}处错误，未导入任何数据", err=True)
        raise SystemExit(1)
    click.echo(f"导入成功：新增{result.created}个，更新{result.updated}个，未变化{result.unchanged}个")


@group.command("list")
@click.option("--kind", default=None, help="department / township / district / other")
def list_(kind):
    """List units."""
    from app.services.accounts import units

    for unit in units.list_units(kind=kind):
        click.echo(f"{unit.code}\t{unit.name}\t{unit.kind}\t{unit.parent_code or ''}")
