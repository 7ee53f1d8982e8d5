import click
from flask.cli import AppGroup

group = AppGroup("scheduler", help="定时器 / timers")


@group.command("tick")
@click.option("--batch-size", default=100, show_default=True, help="每批推进的实例数")
def tick_command(batch_size: int):
    """Advance every instance whose timer is due, then exit."""
    from app.services import timers

    result = timers.tick(batch_size=batch_size)
    click.echo(f"已推进 {result.advanced} 个实例")
    for instance_id, error in result.failed:
        click.echo(f"实例 {instance_id} 推进失败：{error}", err=True)
    if result.failed:
        raise SystemExit(1)
