"""`flask calendar`: the working-day calendar (节假日安排) on the command line."""

from pathlib import Path

import click
from flask.cli import AppGroup

group = AppGroup("calendar", help="节假日安排 / working-day calendar: import, show, seed")

WEEKDAYS = "一二三四五六日"


def _recompute(job_id: int | None) -> None:
    """Recompute open deadlines to the end, saying how far it got after each batch."""
    from app.services import calendar

    if job_id is None:
        return

    def progress(job) -> None:
        click.echo(f"  重新计算期限：已检查 {job.done}/{job.total} 个流程实例，已调整 {job.changed} 处期限")

    job = calendar.run(job_id, progress=progress)
    if job is not None and job.failed:
        click.echo(f"  {job.failed} 个流程实例重新计算失败，详见日志", err=True)


def _saved(result) -> None:
    if not result.changed:
        click.echo(f"{result.year}年节假日安排没有变化，未保存")
        return
    click.echo(f"已保存{result.year}年节假日安排：放假{result.holidays}天，调休上班{result.workdays}天")
    if not result.changed_years:
        click.echo("工作日没有变化，已有期限不变")
        return
    if result.letters_changed:
        click.echo(f"{result.letters_changed}份督办函的办理期限已按新安排调整")
    _recompute(result.job_id)


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--year", type=click.IntRange(2000, 2100), default=None, help="文件所属年份（文件只含一年的日期时可不填）"
)
@click.option("--note", default="", help="说明，如所依据的通知文号")
def import_command(file: Path, year: int | None, note: str):
    """Import a year's arrangement: CSV (UTF-8 or GBK) or .xlsx with 日期, 类型 (放假 / 调休上班), 名称.

    The file replaces the year's arrangement; any error leaves everything as it was (exit 1)."""
    from app.services import calendar

    with file.open("rb") as handle:
        data = handle.read(calendar.MAX_BYTES + 1)
    checked = calendar.check_file(data, file.name, year)
    if not checked.ok:
        click.echo(f"未导入：发现{len(checked.errors)}处错误", err=True)
        for error in checked.errors:
            where = f"第{error.row}行" if error.row else "文件"
            column = f"【{error.column}】" if error.column else ""
            click.echo(f"  {where}{column}：{error.message}", err=True)
        raise SystemExit(1)
    assert checked.year is not None  # a file without errors names its year
    _saved(calendar.save_year(checked.year, checked.days, None, note=note, filename=file.name))


@group.command("show")
@click.argument("year", type=click.IntRange(2000, 2100))
def show_command(year: int):
    """Show a year's arrangement: where it comes from, every holiday and adjusted working day."""
    from app import clock
    from app.models.calendar import SOURCE_NAMES
    from app.services import calendar

    view = calendar.year_view(year)
    if view.source is None:
        click.echo(f"{year}年节假日安排尚未录入：期限按周末推算（未计法定节假日和调休）")
        click.echo(f"国务院公布后请录入：flask calendar import 文件 --year {year}，或在“节假日安排”页面录入")
        return
    line = f"{year}年节假日安排：{SOURCE_NAMES[view.source]}"
    if view.source == "office" and view.stored is not None:
        who = view.stored.entered_by.display_name if view.stored.entered_by else "命令行"
        line += f"（{who}，{clock.to_local(view.stored.entered_at):%Y-%m-%d %H:%M}）"
    elif view.source == "package" and view.stored is None:
        line += "（未写入数据库，直接取自内置数据；可运行 flask calendar seed）"
    click.echo(line)
    if view.stored is not None and view.stored.note and view.source == "office":
        click.echo(f"说明：{view.stored.note}")
    for title, days in (("放假", view.holidays), ("调休上班", view.adjusted_workdays)):
        click.echo(f"{title}（{len(days)}天）：")
        for day, entry in days:
            click.echo(f"  {day.isoformat()} 星期{WEEKDAYS[day.weekday()]} {entry.name}".rstrip())
    click.echo("未列出的日期：周一至周五上班，周六、周日休息")


@group.command("seed")
def seed_command():
    """Store every year the chinesecalendar package knows; never overwrites a year the office entered."""
    from app import workdays
    from app.services import calendar

    result = calendar.seed()
    years = sorted(result.inserted + result.updated)
    if years:
        click.echo(
            f"已写入内置节假日数据（chinesecalendar {workdays.PACKAGE_VERSION}）："
            f"新增{len(result.inserted)}年，更新{len(result.updated)}年（{years[0]}–{years[-1]}）"
        )
    else:
        click.echo(f"内置节假日数据（chinesecalendar {workdays.PACKAGE_VERSION}）已是最新，未作改动")
    if result.office:
        click.echo(f"办公室录入的年份保持不变：{'、'.join(map(str, result.office))}")
    if result.letters_changed:
        click.echo(f"{result.letters_changed}份督办函的办理期限已按新安排调整")
    _recompute(result.job_id)


@group.command("recompute")
def recompute_command():
    """Finish recomputing open deadlines after a calendar change (the scheduler does it too)."""
    from app.services import calendar

    job = calendar.pending_job()
    if job is None:
        click.echo("没有待重新计算的期限")
        return
    _recompute(job.id)
