"""The ledger pages per campaign and per unit, their filters and paging, the exports, and who may see what."""

import csv
import io
from datetime import date, datetime

from openpyxl import load_workbook

from tests.integration.ledger_world import add_finding, sheet_rows
from tests.support import JPEG


def _urls(w):
    c, u = w["campaign"], w["unit"]
    return {
        "campaign": f"/ledger/campaigns/{c}",
        "campaign_xlsx": f"/ledger/campaigns/{c}/export.xlsx",
        "campaign_csv": f"/ledger/campaigns/{c}/export.csv",
        "unit": f"/ledger/campaigns/{c}/units/{u}",
        "unit_xlsx": f"/ledger/campaigns/{c}/units/{u}/export.xlsx",
        "unit_csv": f"/ledger/campaigns/{c}/units/{u}/export.csv",
    }


def test_campaign_ledger_shows_every_column_with_result_evidence_and_links(ledger_world, login_as):
    w = ledger_world
    sup = login_as("supervisor", username="sup2")
    html = sup.get(_urls(w)["campaign"]).get_data(as_text=True)
    for text in (
        "路灯工程超标",
        "广场绿化浪费",
        "督导发现：台账不实",
        "塘渡口镇",
        "居民群众",
        "督导发现",
        "张三",
        "办公室",
        "李四",
        "党政办",
        "2027-03-15",
        "已整改待核查",
        "已拆除超标灯具",
        "2027-02-01",
        "整改照片.jpg",
    ):
        assert text in html, text
    # The evidence link goes through the authorised route and serves the file.
    href = html.split('href="/evidence/')[1].split('"')[0]
    download = sup.get(f"/evidence/{href}")
    assert download.status_code == 200 and download.data == JPEG
    download.close()


def test_filters_by_status_source_and_unit(ledger_world, login_as):
    w = ledger_world
    sup = login_as("supervisor", username="sup2")
    url = _urls(w)["campaign"]
    html = sup.get(f"{url}?status=rectified").get_data(as_text=True)
    assert "路灯工程超标" in html and "广场绿化浪费" not in html and "台账不实" not in html
    html = sup.get(f"{url}?source=supervision").get_data(as_text=True)
    assert "台账不实" in html and "路灯工程超标" not in html
    html = sup.get(f"{url}?unit={w['other']}").get_data(as_text=True)
    assert "没有符合条件的整改事项" in html
    # Nonsense filters are ignored rather than failing.
    assert sup.get(f"{url}?status=bogus&source=x&unit=abc&page=zz").status_code == 200


def test_pages_of_fifty(ledger_world, login_as):
    w = ledger_world
    for n in range(50):
        add_finding(
            w["app"],
            w["supervisor"],
            w["instance"],
            {
                "title": f"批量问题{n:02d}",
                "source": "residents",
                "measures": "整改",
                "responsible_leader": "王五",
                "responsible_department": "办公室",
                "deadline": "2027-03-31",
            },
        )
    sup = login_as("supervisor", username="sup2")
    first = sup.get(_urls(w)["campaign"]).get_data(as_text=True)
    assert "第 1 / 2 页，共 53 条" in first and "page=2" in first
    second = sup.get(_urls(w)["campaign"] + "?page=2").get_data(as_text=True)
    assert second.count("data-item=") == 3


def test_xlsx_export_layout(ledger_world, login_as):
    w = ledger_world
    resp = login_as("assessor", username="ass1").get(_urls(w)["campaign_xlsx"])
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert (
        "attachment" in resp.headers["Content-Disposition"]
        and "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    )
    book = load_workbook(io.BytesIO(resp.data))
    sheet = book.worksheets[0]
    assert "A1:M1" in {str(r) for r in sheet.merged_cells.ranges}
    title = sheet["A1"].value
    assert "测政发〔2026〕1号" in title and "测试专项整治" in title and "导出日期" in title
    assert sheet["A1"].font.bold
    headers = [c.value for c in sheet[2]]
    assert headers[:10] == [
        "序号",
        "单位代码",
        "单位名称",
        "问题描述",
        "问题来源",
        "整改措施",
        "责任领导",
        "责任部门",
        "整改时限",
        "整改状态",
    ]
    assert headers[10:] == ["完成情况", "佐证材料", "督办情况"]
    assert all(c.font.bold for c in sheet[2])
    assert sheet.freeze_panes == "A3"
    assert sheet.column_dimensions["F"].width == 40
    rows = sheet_rows(resp.data)[2:]
    assert len(rows) == 3
    first = rows[0]
    assert first[:5] == [1, "T01", "塘渡口镇", "路灯工程超标", "居民群众"]
    assert isinstance(first[8], datetime) and first[8].date() == date(2027, 3, 31)
    assert sheet.cell(row=3, column=9).number_format == "yyyy-mm-dd"
    assert sheet.cell(row=3, column=6).alignment.wrap_text
    assert first[9] == "已整改待核查" and "已拆除超标灯具" in first[10] and first[11] == "整改照片.jpg"


def test_csv_export_has_bom_and_same_columns(ledger_world, login_as):
    w = ledger_world
    resp = login_as("supervisor", username="sup2").get(_urls(w)["campaign_csv"] + "?source=supervision")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.data.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert header[:6] == ["序号", "单位代码", "单位名称", "问题描述", "问题来源", "整改措施"]
    # The filter applies to the export: only the supervisor's finding.
    assert rows == [
        [
            "3",
            "T01",
            "塘渡口镇",
            "督导发现：台账不实",
            "督导发现",
            "重新核实\n逐项补录",
            "李四",
            "党政办",
            "2027-03-15",
            "正在整改",
            "",
            "",
            "",
        ]
    ]


def test_unit_staff_see_their_own_unit_ledger_only(ledger_world, login_as):
    w = ledger_world
    staff = login_as("unit_staff", w["unit"], username="staff2")
    urls = _urls(w)
    assert staff.get(urls["unit"]).status_code == 200
    assert "路灯工程超标" in staff.get(urls["unit"]).get_data(as_text=True)
    assert staff.get(urls["unit_xlsx"]).status_code == 200
    assert staff.get(urls["unit_csv"]).status_code == 200
    other = f"/ledger/campaigns/{w['campaign']}/units/{w['other']}"
    for url in (other, other + "/export.xlsx", other + "/export.csv"):
        assert staff.get(url).status_code == 404
    for url in (urls["campaign"], urls["campaign_xlsx"], urls["campaign_csv"], "/ledger/template.xlsx"):
        assert staff.get(url).status_code == 403
    assert staff.client.post(urls["unit"] + "/import").status_code in (400, 403)
    index = staff.get("/ledger/").get_data(as_text=True)
    assert urls["unit"] in index


def test_unit_export_is_the_units_items_only(ledger_world, login_as):
    w = ledger_world
    add_finding(
        w["app"],
        w["supervisor"],
        w["other_instance"],
        {
            "title": "白仓镇问题",
            "source": "residents",
            "measures": "整改",
            "responsible_leader": "赵六",
            "responsible_department": "办公室",
            "deadline": "2027-03-31",
        },
    )
    sup = login_as("supervisor", username="sup2")
    rows = sheet_rows(sup.get(_urls(w)["unit_xlsx"]).data)
    assert "塘渡口镇" in rows[0][0]
    assert {r[2] for r in rows[2:]} == {"塘渡口镇"}
    html = sup.get(f"/ledger/campaigns/{w['campaign']}/units/{w['other']}").get_data(as_text=True)
    assert "白仓镇问题" in html and "路灯工程超标" not in html


def test_roles_and_missing_things(ledger_world, login_as):
    w = ledger_world
    urls = _urls(w)
    designer = login_as("designer", username="des1")
    for url in urls.values():
        assert designer.get(url).status_code == 403
    sup = login_as("supervisor", username="sup2")
    assert sup.get("/ledger/campaigns/9999").status_code == 404
    assert sup.get(f"/ledger/campaigns/{w['campaign']}/units/{w['outsider']}").status_code == 404
    assert sup.get(f"/ledger/campaigns/{w['campaign']}/export.pdf").status_code == 404
    assert sup.get("/ledger/template.xlsx").status_code == 200
    assert login_as("assessor", username="ass1").get("/ledger/template.xlsx").status_code == 403
    anonymous = w["app"].test_client()
    assert anonymous.get(urls["campaign"]).status_code == 302
    index = sup.get("/ledger/").get_data(as_text=True)
    assert urls["campaign"] in index


def test_navigation_and_pages_link_to_the_ledger_and_trail(ledger_world, login_as):
    w = ledger_world
    sup = login_as("supervisor", username="sup2")
    home = sup.get("/supervise/queue").get_data(as_text=True)
    assert 'href="/ledger/"' in home and 'href="/audit/"' in home
    detail = sup.get(f"/admin/campaigns/{w['campaign']}").get_data(as_text=True)
    assert _urls(w)["campaign"] in detail and f"/audit/campaigns/{w['campaign']}" in detail
    instance = sup.get(f"/supervise/instances/{w['instance']}").get_data(as_text=True)
    assert _urls(w)["unit"] in instance and f"/audit/instances/{w['instance']}" in instance
    staff = login_as("unit_staff", w["unit"], username="staff2")
    mine = staff.get("/my/ledger").get_data(as_text=True)
    assert _urls(w)["unit"] in mine and f"/audit/instances/{w['instance']}" in mine
