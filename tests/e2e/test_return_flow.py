"""The return loop in a real browser: staff deploy and self-check, the supervisor returns it, staff resubmit."""

import re

from playwright.sync_api import expect

from app.extensions import db
from app.models import ProcessInstance, Task
from app.services.campaigns import launch
from tests.e2e.conftest import login, new_page
from tests.support import make_campaign

PLAN_PDF = {"name": "实施方案.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% e2e plan\n%%EOF\n"}


def submit_task(page):
    with page.expect_navigation():
        page.click('#task-form button[name="action"][value="submit"]')


def test_self_check_returned_and_resubmitted(page, browser, live_server, app, make_unit, make_user):
    unit = make_unit("E2E01", "塘渡口镇")
    make_user("unit_staff", unit, username="e2e_staff")
    make_user("supervisor", username="e2e_sup")
    with app.app_context():
        cid = make_campaign([unit], doc_number="浏览〔2026〕7号")
        launch.launch_all(cid, None)
        instance_id = db.session.query(ProcessInstance.id).filter_by(unit_id=unit).scalar()

    # Unit staff: the deploy task with its plan file.
    login(page, "e2e_staff")
    page.goto("/my/tasks")
    page.locator("#open-tasks").get_by_role("link", name="动员部署").click()
    expect(page.locator("h1")).to_contain_text("动员部署")
    page.fill('input[name="meeting_date"]', "2026-11-20")
    page.fill('input[name="attendance"]', "25")
    page.fill('textarea[name="attendees"]', "全体班子成员")
    page.fill('input[name="group_head"]', "张三")
    page.fill('textarea[name="group_members"]', "李四、王五")
    page.set_input_files('input[name="plan"]', files=[PLAN_PDF])
    submit_task(page)
    expect(page.locator(".flash-success")).to_contain_text("已提交")

    # The self-check, with one ledger row added in the browser.
    page.locator("#open-tasks").get_by_role("link", name="自查自纠").click()
    page.fill('textarea[name="summary"]', "共排查项目3个，发现问题1个")
    ledger = page.locator('[data-form-group="ledger"]')
    ledger.locator("[data-add-row]").click()
    row = ledger.locator("tbody[data-rows] tr").first
    row.locator('input[name$="-title"]').fill("文化广场面积超标")
    row.locator('textarea[name$="-measures"]').fill("压缩广场面积，退还耕地")
    row.locator('input[name$="-responsible_leader"]').fill("张三")
    row.locator('input[name$="-responsible_department"]').fill("党政办")
    row.locator('input[name$="-deadline"]').fill("2027-03-31")
    submit_task(page)
    expect(page.locator(".flash-success")).to_contain_text("已提交")

    # The supervisor, in another browser, returns it with a comment.
    sup = new_page(browser, live_server)
    try:
        login(sup, "e2e_sup")
        sup.goto("/supervise/queue")
        queue_row = sup.locator("#queue tr", has_text="塘渡口镇")
        expect(queue_row).to_have_count(1)
        queue_row.get_by_role("link", name="办理").click()
        expect(sup.locator("#reviewed-submission")).to_contain_text("文化广场面积超标")
        sup.select_option('select[name="decision"]', "return")
        sup.fill('textarea[name="comments"]', "请补充广场建设的投资额和群众意见")
        submit_task(sup)
        expect(sup.locator(".flash-success")).to_contain_text("已提交")
        expect(sup.locator("#queue tr", has_text="塘渡口镇")).to_have_count(0)

        # The staff member logs in again and finds it returned, with the comment and the old answers.
        staff = new_page(browser, live_server)
        try:
            login(staff, "e2e_staff")
            staff.goto("/my/tasks")
            returned = staff.locator("#open-tasks tr", has_text="自查自纠")
            expect(returned.locator(".badge-returned")).to_have_text("已退回")
            returned.get_by_role("link", name="自查自纠").click()
            expect(staff.locator("#returned-comment")).to_contain_text("请补充广场建设的投资额和群众意见")
            expect(staff.locator('textarea[name="summary"]')).to_have_value("共排查项目3个，发现问题1个")
            expect(staff.locator('input[name="ledger-0-title"]')).to_have_value("文化广场面积超标")
            staff.fill('textarea[name="summary"]', "共排查项目3个，发现问题1个；已补充投资额和群众意见")
            submit_task(staff)
            expect(staff.locator(".flash-success")).to_contain_text("已提交")
            assert staff.console_errors == []
        finally:
            staff.context.close()

        # The review is back in the supervisor's queue.
        sup.goto("/supervise/queue")
        again = sup.locator("#queue tr", has_text="塘渡口镇")
        expect(again).to_have_count(1)
        expect(again).to_contain_text("审核自查")
        href = again.get_by_role("link", name="办理").get_attribute("href")
        assert sup.console_errors == []
    finally:
        sup.context.close()

    with app.app_context():
        review_id = int(re.search(r"/tasks/(\d+)$", href).group(1))
        review = db.session.get(Task, review_id)
        assert review.element_id == "review_self_check" and review.status == "ready"
        assert review.instance_id == instance_id
    assert page.console_errors == []
