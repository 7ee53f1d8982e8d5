"""A supervisor in a real browser: the campaign ledger, a filter, the Excel export, a refused
import with its per-row errors, and the unit's audit trail."""

import io

from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import login


def _bad_file(path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["整改台账"])
    sheet.append(
        [
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
    )
    sheet.append([None, "T01", "", "景观亮化超标", "居民群众", "停建", "王五", "住建局", "12月底", "正在整改"])
    book.save(path)


def test_supervisor_reads_filters_exports_and_imports_the_ledger(page, ledger_world, make_user, tmp_path):
    w = ledger_world
    make_user("supervisor", username="e2e_sup")
    login(page, "e2e_sup")
    page.get_by_role("link", name="整改台账").first.click()
    page.locator(f'#ledger-campaigns tr[data-campaign="{w["campaign"]}"]').get_by_role("link", name="查看台账").click()
    expect(page.locator("#ledger tbody tr")).to_have_count(3)

    page.locator('select[name="status"]').select_option("rectified")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#ledger tbody tr")).to_have_count(1)
    expect(page.locator("#ledger")).to_contain_text("已拆除超标灯具")

    with page.expect_download() as download_info:
        page.locator("#export-xlsx").click()
    saved = tmp_path / "export.xlsx"
    download_info.value.save_as(saved)
    rows = list(load_workbook(io.BytesIO(saved.read_bytes())).worksheets[0].iter_rows(min_row=3, values_only=True))
    assert [r[3] for r in rows] == ["路灯工程超标"]

    bad = tmp_path / "bad.xlsx"
    _bad_file(bad)
    page.locator('input[name="file"]').set_input_files(str(bad))
    page.get_by_role("button", name="导入整改事项").click()
    expect(page.locator("#import-errors")).to_contain_text("整改时限“12月底”不是有效日期")
    expect(page.locator("#import-errors")).to_contain_text("未导入任何事项")

    page.locator("#ledger").get_by_role("link", name="塘渡口镇").first.click()
    page.locator(".ledger-actions").get_by_role("link", name="审计日志").click()
    expect(page.locator("#audit-trail")).to_contain_text("新增整改事项")
    # The refused import answers 400 on purpose (the browser logs that); nothing else went wrong.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
