"""`flask campaign ...`: create a campaign from a notice file, enrol units, launch."""

from datetime import date
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app import clock
from app.services.campaigns import campaigns, launch, notices
from app.services.campaigns.notices import CampaignError

group = AppGroup("campaign", help="专项整治：录入通知、纳入单位、启动")


def _date(ctx, param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("日期格式应为 YYYY-MM-DD") from None


def _campaign_or_exit(ref: str):
    campaign = campaigns.find_campaign(ref)
    if campaign is None:
        click.echo(f"错误：找不到专项整治 {ref}", err=True)
        raise SystemExit(1)
    return campaign


@group.command("create")
@click.option(
    "--notice",
    "notice_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="通知 YAML 文件（格式见 app/demo/data/notice-2014-54.yaml）",
)
@click.option("--self-check-until", callback=_date, help="自查自纠阶段截止日期（通知未写明时）")
@click.option("--follow-up-on", callback=_date, help="回头看日期")
@click.option("--shift-to-today", is_flag=True, help="平移全部日期，使第一个阶段从今天开始（演示用）")
def create(notice_file, self_check_until, follow_up_on, shift_to_today):
    """Create a draft campaign from a notice file; prints its id."""
    try:
        notice = notices.notice_from_yaml(notice_file.read_text(encoding="utf-8"))
        notice = notices.with_extra_phases(notice, self_check_until=self_check_until, follow_up_on=follow_up_on)
        if shift_to_today:
            notice = notices.shift_notice(notice, clock.today())
        campaign = campaigns.create_campaign(notice, actor_id=None)
    except CampaignError as exc:
        where = f"（{exc.field}）" if exc.field else ""
        click.echo(f"错误{where}：{exc.message}", err=True)
        raise SystemExit(1) from None
    click.echo(campaign.id)


@group.command("enrol")
@click.argument("campaign_ref", metavar="CAMPAIGN")
@click.option(
    "--units",
    "selection",
    default="all",
    show_default=True,
    help="all | kind:township | kind:department | codes:T01,T02",
)
def enrol(campaign_ref, selection):
    """Enrol units in a campaign (id or doc number); already enrolled units are skipped."""
    campaign = _campaign_or_exit(campaign_ref)
    added = campaigns.enrol_units(campaign.id, selection, actor_id=None)
    click.echo(f"新纳入 {added} 个单位，共 {campaigns.enrolled_count(campaign.id)} 个")


@group.command("launch")
@click.argument("campaign_ref", metavar="CAMPAIGN")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="每批启动的单位数")
def launch_command(campaign_ref, batch_size):
    """Start process instances for every enrolled unit, batch by batch, printing progress."""
    campaign = _campaign_or_exit(campaign_ref)
    if campaigns.enrolled_count(campaign.id) == 0:
        click.echo("错误：尚未纳入任何单位", err=True)
        raise SystemExit(1)
    batch_size = batch_size or current_app.config["LAUNCH_BATCH_SIZE"]
    while True:
        progress = launch.launch_next_batch(campaign.id, None, batch_size=batch_size)
        click.echo(f"已启动 {progress.done}/{progress.total}")
        if progress.finished:
            break
        if progress.started_now == 0:
            # Nothing moved and not finished: stop rather than spin.
            click.echo("错误：本批未能启动任何单位，已停止", err=True)
            raise SystemExit(1)
