"""`flask calendar import | show | seed | recompute`."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app import workdays
from app.extensions import db
from app.models import AuditEvent, HolidayDay, HolidayYear
from tests.integration.calendar_support import HOLIDAYS_2026, HOLIDAYS_2027, at, instance_of, ladder, launch_campaign


def test_import_then_show(app, runner, make_unit):
    unit = make_unit("T01")
    with app.app_context():
        launch_campaign([unit], deploy_ends=date(2027, 2, 4))
    result = runner.invoke(args=["calendar", "import", str(HOLIDAYS_2027), "--note", "测试数据"])
    assert result.exit_code == 0, result.output
    assert "已保存2027年节假日安排：放假29天，调休上班6天" in result.output
    assert "重新计算期限：已检查 1/1 个流程实例，已调整 1 处期限" in result.output
    with app.app_context():
        assert ladder(instance_of(unit))["逾期督办函"] == at(2027, 2, 17, 17, 30)
    shown = runner.invoke(args=["calendar", "show", "2027"])
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert lines[0].startswith("2027年节假日安排：办公室录入（命令行，")
    assert "说明：测试数据" in lines and "放假（29天）：" in lines and "调休上班（6天）：" in lines
    assert "  2027-02-05 星期五 春节" in lines and "  2027-01-31 星期日 春节调休" in lines
    package = runner.invoke(args=["calendar", "show", "2026"]).output
    assert (
        package.startswith("2026年节假日安排：国务院安排（内置）（未写入数据库")
        and "  2026-10-10 星期六 国庆节调休" in package
    )
    missing = runner.invoke(args=["calendar", "show", "2028"])
    assert missing.exit_code == 0 and "2028年节假日安排尚未录入：期限按周末推算" in missing.output


def test_a_bad_file_exits_1_with_errors_by_row_and_stores_nothing(app, runner, tmp_path):
    bad = tmp_path / "2027.csv"
    bad.write_text(
        "日期,类型,名称\n2027-02-30,放假,春节\n2027-02-22,调休上班,春节调休\n2026-12-31,放假,元旦\n", encoding="gbk"
    )
    result = runner.invoke(args=["calendar", "import", str(bad), "--year", "2027"])
    assert result.exit_code == 1
    assert "未导入：发现3处错误" in result.output
    assert "  第2行【日期】：日期“2027-02-30”无效（应如 2027-02-05）" in result.output
    assert "  第3行【类型】：2027-02-22是星期一，调休上班日应为周六或周日" in result.output
    assert "  第4行【日期】：日期2026-12-31不在2027年内" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HolidayYear)) == 0
    assert runner.invoke(args=["calendar", "import", str(tmp_path / "none.csv")]).exit_code == 2


def test_seed_is_idempotent_and_never_overwrites_an_office_year(app, runner):
    first = runner.invoke(args=["calendar", "seed"])
    assert first.exit_code == 0, first.output
    assert "新增23年，更新0年（2004–2026）" in first.output
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count()).select_from(HolidayYear)),
            db.session.scalar(select(func.count()).select_from(HolidayDay)),
            db.session.scalar(select(func.max(HolidayYear.revision))),
        )
        assert counts[0] == 23 and workdays.source(2026) == "package"
    again = runner.invoke(args=["calendar", "seed"])
    assert again.exit_code == 0 and "已是最新，未作改动" in again.output
    with app.app_context():
        assert counts == (
            db.session.scalar(select(func.count()).select_from(HolidayYear)),
            db.session.scalar(select(func.count()).select_from(HolidayDay)),
            db.session.scalar(select(func.max(HolidayYear.revision))),
        )
        assert (
            db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "calendar.seed"))
            == 1
        )
    # The office's 2026 (here the same days, imported): seeding leaves it the office's.
    assert runner.invoke(args=["calendar", "import", str(HOLIDAYS_2026)]).exit_code == 0
    third = runner.invoke(args=["calendar", "seed"])
    assert "办公室录入的年份保持不变：2026" in third.output
    assert "2026年节假日安排：办公室录入" in runner.invoke(args=["calendar", "show", "2026"]).output


def test_recompute_finishes_a_pending_job(app, runner, make_unit, monkeypatch):
    from app.services import calendar

    units = [make_unit(f"T0{i}") for i in (1, 2)]
    with app.app_context():
        launch_campaign(units, deploy_ends=date(2027, 2, 4))
        monkeypatch.setitem(app.config, "CALENDAR_RECOMPUTE_BATCH", 1)
        checked = calendar.check_file(HOLIDAYS_2027.read_bytes(), HOLIDAYS_2027.name)
        job = calendar.run(calendar.save_year(2027, checked.days, None).job_id, budget=0)
        assert (job.status, job.done) == ("pending", 1)
    result = runner.invoke(args=["calendar", "recompute"])
    assert result.exit_code == 0 and "已检查 2/2 个流程实例" in result.output
    assert "没有待重新计算的期限" in runner.invoke(args=["calendar", "recompute"]).output


def test_a_change_racing_another_fails_cleanly(app, ctx, monkeypatch):
    from app.services import calendar
    from app.services.calendar import entry

    checked = calendar.check_file(HOLIDAYS_2027.read_bytes(), HOLIDAYS_2027.name)
    calendar.save_year(2027, checked.days, None)
    # Another process stored a change a moment ago with the revision this one is about to take.
    monkeypatch.setattr(entry, "_next_revision", lambda: db.session.scalar(select(func.max(HolidayYear.revision))))
    days = [(date(2028, 1, 3), "holiday", "元旦")]
    with pytest.raises(calendar.CalendarError, match="其他人同时修改了节假日安排，未保存，请重试"):
        calendar.save_year(2028, days, None)
    assert db.session.scalar(select(func.count()).select_from(HolidayYear)) == 1
    assert not workdays.covered(2028) and workdays.covered(2027)
