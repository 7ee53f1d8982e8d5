"""Importing the unit roster from CSV (UTF-8 / GBK) and XLSX: all or nothing, per-row errors."""

import io

import openpyxl
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Unit
from app.services.accounts import units

HEADER_ZH = "单位代码,单位名称,单位类型,上级代码\n"


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Unit))


def _units(app) -> dict[str, tuple]:
    with app.app_context():
        return {u.code: (u.name, u.kind, u.parent_code) for u in db.session.scalars(select(Unit))}


def _import(app, data: bytes, filename: str, actor_id=None):
    with app.app_context():
        return units.import_units(data, filename, actor_id)


def _xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_csv_utf8_sig_with_chinese_headers_and_kinds(app):
    data = (
        HEADER_ZH + "4305,邵阳市,区,\n430521,邵东县,区,4305\n430521001,城关镇,乡镇,430521\n"
        "430521101,县财政局,县直单位,430521\n"
    ).encode("utf-8-sig")
    result = _import(app, data, "单位.csv")
    assert result.errors == []
    assert (result.created, result.updated) == (4, 0)
    assert _units(app) == {
        "4305": ("邵阳市", "district", None),
        "430521": ("邵东县", "district", "4305"),
        "430521001": ("城关镇", "township", "430521"),
        "430521101": ("县财政局", "department", "430521"),
    }


def test_csv_gbk_as_saved_by_chinese_excel(app):
    data = ("代码,名称,类型,上级代码\r\nA1,廉桥镇,乡镇,\r\nA2,教育局,县直单位,\r\n").encode("gbk")
    result = _import(app, data, "units.CSV")
    assert result.errors == []
    assert result.created == 2
    assert _units(app)["A1"] == ("廉桥镇", "township", None)


def test_csv_english_headers_and_plain_utf8(app):
    data = b"code,name,kind,parent_code\nB1,Bureau,department,\nB2,Town,township,B1\n"
    assert _import(app, data, "u.csv").created == 2


def test_xlsx_with_numeric_codes(app):
    data = _xlsx(
        [
            ["单位代码", "单位名称", "单位类型", "上级代码"],
            [430521, "邵东县", "district", None],
            [430521002, "两市镇", "乡镇", 430521],
            [None, None, None, None],
            ["430521102", "县卫健局", "县直单位", "430521"],
        ]
    )
    result = _import(app, data, "roster.xlsx")
    assert result.errors == []
    assert result.created == 3
    assert _units(app)["430521002"] == ("两市镇", "township", "430521")


def test_row_errors_are_reported_and_nothing_is_written(app, make_unit):
    make_unit("EXIST", name="原名称", kind="township")
    before = _count(app)
    data = (
        HEADER_ZH
        + "C1,好单位,乡镇,\n"  # row 2: fine
        + ",无代码,乡镇,\n"  # row 3
        + "C3,,乡镇,\n"  # row 4
        + "C4,类型错,村,\n"  # row 5
        + "C1,重复,乡镇,\n"  # row 6
        + "C6,孤儿,乡镇,NOPE\n"  # row 7
        + "C7,"
        + "长" * 129
        + ",乡镇,\n"  # row 8
        + "C8,挂到已有单位,乡镇,EXIST\n"  # row 9: fine, parent in DB
        + "EXIST,改名,乡镇,\n"  # row 10: fine, but must not be applied
    ).encode("utf-8")
    result = _import(app, data, "bad.csv")
    by_row = {e.row: e.message for e in result.errors}
    assert set(by_row) == {3, 4, 5, 6, 7, 8}
    assert "单位代码不能为空" in by_row[3]
    assert "单位名称不能为空" in by_row[4]
    assert "村" in by_row[5] and "无效" in by_row[5]
    assert "第2行重复" in by_row[6]
    assert "NOPE" in by_row[7] and "不存在" in by_row[7]
    assert "过长" in by_row[8]
    assert (result.created, result.updated) == (0, 0)
    assert _count(app) == before
    assert _units(app)["EXIST"][0] == "原名称"
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "unit.import"))
            == 0
        )


def test_existing_codes_are_updated_with_audit(app, make_unit, make_user):
    make_unit("D1", name="旧名称", kind="township")
    make_unit("D2", name="不变", kind="department")
    admin_id = make_user("admin")
    data = (HEADER_ZH + "D1,新名称,区,\nD2,不变,县直单位,\nD3,新单位,其他,D1\n").encode("utf-8")
    result = _import(app, data, "update.csv", actor_id=admin_id)
    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert _units(app)["D1"] == ("新名称", "district", None)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.import"))
        assert event.actor_id == admin_id
        assert event.after["created"] == 1 and event.after["updated"] == 1
        assert event.before["units"]["D1"]["name"] == "旧名称"
        assert event.after["units"]["D1"]["name"] == "新名称"
        assert "D2" not in event.after["units"]


def test_unreadable_files_give_one_clear_error(app):
    for data, name, words in [
        (b"whatever", "units.pdf", "不支持的文件类型"),
        (b"\xd0\xcf\x11\xe0", "old.xls", ".xls"),
        (b"not a zip", "broken.xlsx", "无法读取Excel"),
        (b"", "empty.csv", "文件为空"),
        ("名字,别的\n甲,乙\n".encode(), "nohead.csv", "表头缺少列"),
        (HEADER_ZH.encode(), "header-only.csv", "没有数据行"),
    ]:
        result = _import(app, data, name)
        assert len(result.errors) == 1, name
        assert result.errors[0].row == 1
        assert words in result.errors[0].message, (name, result.errors[0].message)
    assert _count(app) == 0


def test_admin_page_imports_and_flashes(app, login_as):
    actor = login_as("admin")
    data = (HEADER_ZH + "W1,网页导入镇,乡镇,\n").encode("utf-8-sig")
    resp = actor.post_form(
        "/admin/units/import", {"file": (io.BytesIO(data), "units.csv")}, content_type="multipart/form-data"
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/units"
    html = actor.get("/admin/units").get_data(as_text=True)
    assert "导入成功：新增1个，更新0个" in html
    assert "网页导入镇" in html
    township = actor.get("/admin/units?kind=township").get_data(as_text=True)
    assert "网页导入镇" in township
    assert "网页导入镇" not in actor.get("/admin/units?kind=department").get_data(as_text=True)


def test_admin_page_shows_row_errors_and_keeps_nothing(app, login_as):
    actor = login_as("admin")
    data = (HEADER_ZH + "W1,好的,乡镇,\nW2,坏的,村,\n").encode("utf-8")
    resp = actor.post_form(
        "/admin/units/import", {"file": (io.BytesIO(data), "units.csv")}, content_type="multipart/form-data"
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "未导入任何数据" in html
    assert "<td>3</td>" in html and "单位类型“村”无效" in html
    assert _count(app) == 0


def test_admin_page_requires_a_file(login_as):
    actor = login_as("admin")
    resp = actor.post_form("/admin/units/import", {}, content_type="multipart/form-data")
    assert "请选择要导入的文件" in resp.get_data(as_text=True)


def test_units_pages_are_admin_only(make_unit, login_as):
    for role in ("supervisor", "designer"):
        actor = login_as(role)
        assert actor.get("/admin/units").status_code == 403
        assert actor.get("/admin/units/import").status_code == 403


def test_cli_import(app, runner, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes((HEADER_ZH + "K1,命令行镇,乡镇,\n").encode("gbk"))
    result = runner.invoke(args=["units", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "新增1个" in result.output

    bad = tmp_path / "bad.csv"
    bad.write_bytes((HEADER_ZH + "K2,,乡镇,\n").encode("utf-8"))
    result = runner.invoke(args=["units", "import", str(bad)])
    assert result.exit_code == 1
    assert "第2行：单位名称不能为空" in result.output
    assert _count(app) == 1


def test_lead_department_column_is_optional_and_kept_when_absent(app):
    data = (HEADER_ZH.rstrip("\n") + ",牵头部门\nL1,城关镇,乡镇,,县政府办\nL2,教育局,县直单位,,\n").encode()
    assert _import(app, data, "u.csv").created == 2

    def leads():
        with app.app_context():
            return {u.code: u.lead_department for u in db.session.scalars(select(Unit))}

    assert leads() == {"L1": "县政府办", "L2": None}
    # A roster without the column changes names but leaves the lead departments alone.
    result = _import(app, (HEADER_ZH + "L1,城关镇人民政府,乡镇,\nL2,教育局,县直单位,\n").encode(), "u.csv")
    assert (result.updated, result.unchanged) == (1, 1)
    assert leads() == {"L1": "县政府办", "L2": None}
    result = _import(app, (HEADER_ZH.rstrip("\n") + ",lead_department\nL2,教育局,县直单位,,县委办\n").encode(), "u.csv")
    assert result.updated == 1 and leads()["L2"] == "县委办"
    too_long = (HEADER_ZH.rstrip("\n") + ",牵头部门\nL3,镇,乡镇,," + "长" * 129 + "\n").encode()
    assert [e.row for e in _import(app, too_long, "u.csv").errors] == [2]
