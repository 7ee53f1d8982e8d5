"""The office's 节假日安排 pages: years with source and coverage, a year's days, entering a year on
the page, importing CSV (UTF-8, GBK) and .xlsx files with errors by row and column, templates."""

import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from app import workdays
from app.extensions import db
from app.models import AuditEvent, HolidayDay, HolidayYear
from tests.conftest import csrf_from
from tests.integration.calendar_support import HOLIDAYS_2027

BAD_CSV = """日期,类型,名称
2027-01-01,放假,元旦
2027-02-30,放假,春节
2027-02-05,加班,春节
2027-02-22,调休上班,春节调休
2027-01-01,放假,元旦
2028-01-01,放假,元旦
,放假,
"""


def _upload(actor, data: bytes, filename: str, year: str = ""):
    token = csrf_from(actor.get("/admin/calendar/import").get_data(as_text=True))
    return actor.client.post(
        "/admin/calendar/import",
        data={
            "file": (io.BytesIO(data), filename),
            "year": year,
            "note": "",
            "csrf_token": token,
        },
        content_type="multipart/form-data",
    )


def _stored_years(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(HolidayYear.year).order_by(HolidayYear.year)))


def test_only_the_office_reaches_the_pages_and_the_menu_has_them(app, login_as):
    admin = login_as("admin")
    home = admin.get("/admin/calendar").get_data(as_text=True)
    assert 'href="/admin/calendar"' in home and "节假日安排" in home
    for role in ("supervisor", "assessor", "designer"):
        other = login_as(role, username=f"x_{role}")
        assert other.get("/admin/calendar").status_code == 403
        assert other.get("/admin/calendar/2027").status_code == 403
        assert 'href="/admin/calendar"' not in other.get("/admin/campaigns").get_data(as_text=True)
    assert app.test_client().get("/admin/calendar").status_code == 302  # to the login page


def test_years_list_sources_and_coverage(app, login_as):
    admin = login_as("admin")
    page = admin.get("/admin/calendar").get_data(as_text=True)
    # Frozen at BASE (November 2026): 2026 is the package's, 2027 and 2028 nobody's yet.
    assert 'data-year="2026" data-source="package"' in page and "国务院安排（内置）" in page
    assert 'data-year="2027" data-source="none"' in page and "尚未录入：期限按周末推算" in page
    assert 'href="/admin/calendar/2027/edit"' in page
    assert 'data-year="2004"' not in page
    assert 'data-year="2004" data-source="package"' in admin.get("/admin/calendar?all=1").get_data(as_text=True)
    year = admin.get("/admin/calendar/2026").get_data(as_text=True)
    assert 'data-date="2026-02-17"' in year and "春节" in year and 'data-date="2026-10-10"' in year
    assert "国务院安排（内置）" in year and "恢复为内置数据" not in year
    missing = admin.get("/admin/calendar/2027").get_data(as_text=True)
    assert "2027年节假日安排尚未录入，期限按周末推算" in missing


def test_import_a_year_then_see_it_with_its_history(app, login_as):
    admin = login_as("admin")
    resp = _upload(admin, HOLIDAYS_2027.read_bytes(), "holidays-2027-test.csv")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/calendar/2027")
    page = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已保存2027年节假日安排：放假29天，调休上班6天" in page
    assert "办公室录入" in page and 'data-date="2027-02-05"' in page and 'data-date="2027-01-31"' in page
    assert "修改记录" in page and "holidays-2027-test.csv" in page
    assert 'data-year="2027" data-source="office"' in admin.get("/admin/calendar").get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "calendar.save"))
        assert event.actor_id == admin.user and event.entity_id == "2027"
        assert event.before["source"] is None and "2027-02-05 放假 春节" in event.after["days"]
        assert workdays.source(2027) == "office"


def test_a_bad_file_is_refused_whole_with_errors_by_row_and_column(app, login_as):
    admin = login_as("admin")
    resp = _upload(admin, BAD_CSV.encode("utf-8"), "2027.csv", year="2027")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert "未保存：发现6处错误" in html
    for row, column, message in [
        (3, "日期", "日期“2027-02-30”无效（应如 2027-02-05）"),
        (4, "类型", "未知的类型“加班”（可填：放假、调休上班）"),
        (5, "类型", "2027-02-22是星期一，调休上班日应为周六或周日"),
        (6, "日期", "日期2027-01-01与第2行重复"),
        (7, "日期", "日期2028-01-01不在2027年内"),
        (8, "日期", "日期不能为空"),
    ]:
        assert f'<tr data-row="{row}"><td>{row}</td><td>{column}</td><td>{message}</td></tr>' in html, message
    assert _stored_years(app) == []
    # Without a year, a file holding two years is refused as a whole.
    two = "日期,类型,名称\n2027-01-01,放假,元旦\n2028-01-01,放假,元旦\n"
    html = _upload(admin, two.encode(), "two.csv").get_data(as_text=True)
    assert "文件中有2027、2028年的日期：一次只能录入一年" in html
    for name, data, message in [
        ("x.txt", b"a", "只能上传CSV或XLSX文件"),
        ("x.xlsx", b"not a zip", "文件不是Excel（.xlsx）格式"),
        ("x.csv", "名称,备注\n元旦,\n".encode(), "找不到表头"),
        ("x.csv", b"\xff\xfe\x00\x00" * 10, "无法识别文件编码"),
        ("x.csv", b"x" * (256 * 1024 + 1), "文件过大"),
    ]:
        assert message in _upload(admin, data, name).get_data(as_text=True), name
    assert _stored_years(app) == []


def test_gbk_csv_and_the_xlsx_template_round_trip(app, login_as):
    admin = login_as("admin")
    gbk = HOLIDAYS_2027.read_text(encoding="utf-8").encode("gbk")
    assert _upload(admin, gbk, "2027-gbk.csv").status_code == 302
    assert workdays.source(2027) == "office"
    # The template of a year carries its days: downloaded, imported unchanged, nothing changes.
    xlsx = admin.get("/admin/calendar/template.xlsx?year=2026")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    rows = [r for r in sheet.iter_rows(values_only=True) if any(r)]
    assert rows[1] == ("日期", "类型", "名称") and len(rows) == 2 + 39
    resp = _upload(admin, xlsx.data, "节假日安排-2026.xlsx")
    assert resp.status_code == 302
    shown = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "工作日没有变化，已有期限不变" in shown and workdays.source(2026) == "office"
    blank = admin.get("/admin/calendar/template.csv")
    assert blank.data.decode("utf-8-sig").strip() == "日期,类型,名称"
    assert admin.get("/admin/calendar/template.pdf").status_code == 404


def test_enter_a_year_on_the_page_with_errors_by_row_then_revert_to_the_package(app, login_as):
    admin = login_as("admin")
    form = admin.get("/admin/calendar/2026/edit").get_data(as_text=True)
    # The package's 39 days, then 10 blank rows.
    assert 'value="2026-02-15"' in form and 'name="days-48-day"' in form and 'name="days-49-day"' not in form
    token = csrf_from(form)
    rows = {
        "days-0-day": "2026-10-01",
        "days-0-kind": "holiday",
        "days-0-name": "国庆节",
        "days-1-day": "2026-10-12",
        "days-1-kind": "workday",
        "days-1-name": "调休",
        "days-2-day": "",
        "days-2-kind": "",
        "days-2-name": "",
    }
    resp = admin.client.post(
        "/admin/calendar/2026/edit", data={"csrf_token": token, "note": "", "action": "save", **rows}
    )
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert '<tr data-row="2"><td>2</td><td>类型</td><td>2026-10-12是星期一，调休上班日应为周六或周日</td></tr>' in html
    more = admin.client.post("/admin/calendar/2026/edit", data={"csrf_token": token, "action": "more", **rows})
    assert 'name="days-12-day"' in more.get_data(as_text=True) and 'value="2026-10-12"' in more.get_data(as_text=True)
    rows["days-1-day"] = "2026-10-10"
    resp = admin.client.post(
        "/admin/calendar/2026/edit", data={"csrf_token": token, "note": "只剩国庆（测试）", "action": "save", **rows}
    )
    assert resp.status_code == 302
    assert workdays.source(2026) == "office" and workdays.is_workday(date(2026, 2, 16))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HolidayDay)) == 2
    year = admin.get("/admin/calendar/2026").get_data(as_text=True)
    assert "只剩国庆（测试）" in year and "恢复为内置数据" in year
    resp = admin.client.post("/admin/calendar/2026/revert", data={"csrf_token": csrf_from(year)})
    assert resp.status_code == 302
    assert workdays.source(2026) == "package" and not workdays.is_workday(date(2026, 2, 16))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(HolidayDay)) == 39
        actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "holiday_year")))
        assert actions == ["calendar.save", "calendar.save"]
    assert admin.get("/admin/calendar/1999").status_code == 404


def test_pages_in_english(app, login_as):
    admin = login_as("admin")
    page = admin.get("/admin/calendar?lang=en").get_data(as_text=True)
    assert "Holiday arrangements" in page and "State Council (built in)" in page
