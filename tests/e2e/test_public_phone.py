"""开门整治 on a phone (390×844): a resident reads a unit's commitments, reports a problem through the
tip box with a photo, and follows it with the receipt code; no page is wider than the screen."""

from playwright.sync_api import expect

from app.extensions import db
from app.models import ProcessInstance
from app.services.campaigns import launch
from tests.public_support import JPEG, publish
from tests.support import DEPLOY, ledger_rows, make_campaign, ready_tasks, submit, upload

PHONE = {"width": 390, "height": 844}


def assert_fits(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px screen"


def test_phone_reads_commitments_and_files_a_tip(page, app, make_unit, make_user):
    unit = make_unit("E2E21", "邓家铺镇")
    staff = make_user("unit_staff", unit, username="e2e_public_staff")
    sup = make_user("supervisor", username="e2e_public_sup")
    with app.app_context():
        cid = make_campaign([unit], doc_number="公示〔2026〕21号")
        launch.launch_all(cid, None)
        instance = db.session.query(ProcessInstance.id).filter_by(unit_id=unit).scalar()
        submit(app, staff, ready_tasks(instance, "deploy")[0].id, DEPLOY, {"plan": upload()})
        submit(
            app,
            staff,
            ready_tasks(instance, "self_check")[0].id,
            {"summary": "自查完毕", **ledger_rows("镇区广场超规模建设，长期闲置")},
        )
        submit(app, sup, ready_tasks(instance, "review_self_check")[0].id, {"decision": "accept"})
        publish(cid)
    page.set_viewport_size(PHONE)

    page.goto("/public/")
    assert_fits(page)
    page.get_by_role("link", name="测试专项整治").click()
    expect(page.locator("#campaign-notice")).to_contain_text("公示〔2026〕21号")
    expect(page.locator("#progress")).to_contain_text("参加单位")
    assert_fits(page)
    page.locator("#unit-cards").get_by_role("link", name="邓家铺镇").click()
    card = page.locator("#commitments li", has_text="镇区广场超规模建设，长期闲置")
    expect(card).to_contain_text("制定整改方案并落实")
    expect(card).to_contain_text("2027-03-31")
    expect(card).to_contain_text("正在整改")
    assert_fits(page)

    page.get_by_role("link", name="反映该单位的问题").click()
    expect(page.locator("select[name=unit] option:checked")).to_have_text("邓家铺镇")
    page.locator("textarea[name=description]").fill("广场旁新建的景观长廊占用了村民菜地。")
    page.locator("input[name=place]").fill("邓家铺镇广场东侧")
    page.locator("input[name=photos]").set_input_files([{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    assert_fits(page)
    with page.expect_navigation():
        page.get_by_role("button", name="提交").click()
    code = page.locator("#receipt-code").inner_text()
    assert len(code.replace("-", "")) == 16
    expect(page.locator("#receipt")).to_contain_text("邓家铺镇")
    assert_fits(page)

    page.get_by_role("link", name="查询办理情况").click()
    page.locator("input[name=code]").fill(code.lower())
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    expect(page.locator("#tip-status")).to_contain_text("待处理")
    expect(page.locator("#tip-status")).to_contain_text("邓家铺镇")
    assert_fits(page)
    assert page.console_errors == []
