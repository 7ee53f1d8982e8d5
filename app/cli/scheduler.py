import logging

import click
from flask import current_app
from flask.cli import AppGroup

group = AppGroup("scheduler", help="定时器 / timers")


@group.command("tick")
@click.option("--batch-size", default=100, show_default=True, help="每批推进的实例数")
def tick_command(batch_size: int):
    """Advance every instance whose timer is due, then exit."""
    from app.services import calendar
    from app.services.sweep import timers

    calendar.resume(budget=current_app.config["CALENDAR_RECOMPUTE_SECONDS"])
    result = timers.tick(batch_size=batch_size)
    click.echo(f"已推进 {result.advanced} 个实例")
    for instance_id, error in result.failed:
        click.echo(f"实例 {instance_id} 推进失败：{error}", err=True)
    if result.failed:
        raise SystemExit(1)


@group.command("run")
@click.option(
    "--interval", type=click.IntRange(min=1), default=None, help="两次巡检之间的秒数（默认取配置 SCHEDULER_INTERVAL）"
)
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(min=1), help="每批推进的实例数")
def run_command(interval: int | None, batch_size: int):
    """Run the scheduler in this process until SIGTERM or Ctrl-C: a sweep every interval."""
    from app.jobs import scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler says "Running job ..." on every run; our own line after each sweep is enough.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    # SpiffWorkflow logs every task's change of state at INFO: thousands of lines a sweep.
    logging.getLogger("spiff").setLevel(logging.WARNING)
    # The app itself, not the context-local proxy (typed as Flask), for the scheduler's threads.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler.run(app, interval=interval, batch_size=batch_size)
