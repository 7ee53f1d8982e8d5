"""Campaign pages in a real browser: repeating rows on the notice form, the launch progress bar."""

from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Campaign, ProcessInstance
from tests.e2e.conftest import login
from tests.integration.test_campaigns import ensure_deployed, future_notice


def test_notice_form_adds_and_removes_rows(page, app, make_user):
    make_user("admin", username="e2e_campaign_admin")
    login(page, "e2e_campaign_admin")
    page.goto("/admin/campaigns/new")
    page.fill('input[name="doc_number"]', "浏览器〔2026〕1号")
    page.fill('input[name="issuer"]', "测试县人民政府办公室")
    page.fill('input[name="issued_on"]', "2026-03-01")
    page.fill('input[name="title"]', "浏览器录入的方案")
    for i, (starts, ends) in enumerate(
        [
            ("2026-03-01", "2026-03-31"),
            ("2026-04-01", "2026-04-30"),
            ("2026-05-01", "2026-08-31"),
            ("2026-09-01", "2026-09-30"),
        ]
    ):
        page.fill(f'input[name="phases-{i}-starts"]', starts)
        page.fill(f'input[name="phases-{i}-ends"]', ends)
    # A fifth phase row, added then removed again.
    page.click('[data-add-row="phases"]')
    expect(page.locator('select[name="phases-4-key"]')).to_be_visible()
    page.locator('[data-rows="phases"] tbody tr').last.locator("[data-remove-row]").click()
    expect(page.locator('select[name="phases-4-key"]')).to_have_count(0)
    page.click('[data-add-row="tasks"]')
    page.fill('input[name="tasks-0-no"]', "1")
    page.fill('input[name="tasks-0-title"]', "督查项目")
    page.fill('input[name="tasks-0-lead_unit"]', "县政府办")
    page.fill('input[name="tasks-0-responsible_units"]', "县纪委、县发改局")
    with page.expect_navigation():
        page.click('button[type="submit"].btn-primary')
    expect(page.locator("h1")).to_contain_text("浏览器录入的方案")
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.doc_number == "浏览器〔2026〕1号"))
        assert [p.key for p in campaign.phases] == ["deploy", "self_check", "rectification", "assessment"]
        assert campaign.tasks[0].responsible_units == ["县纪委", "县发改局"]
    assert page.console_errors == []


def test_launch_page_fills_the_bar_batch_by_batch(page, app, make_user, make_unit):
    for i in range(5):
        make_unit(f"E{i:02d}", kind="township")
    with app.app_context():
        ensure_deployed()
        from app.services.campaigns import campaigns

        # Deadlines still ahead: a campaign already past one is not launched.
        cid = campaigns.create_campaign(future_notice(), actor_id=None).id
        campaigns.enrol_units(cid, "all", actor_id=None)
    make_user("admin", username="e2e_launch_admin")
    login(page, "e2e_launch_admin")
    app.config["LAUNCH_BATCH_SIZE"] = 2
    try:
        page.goto(f"/admin/campaigns/{cid}")
        page.click(f'a[href*="/admin/campaigns/{cid}/launch"]')
        expect(page.locator("#launch-text")).to_have_text("已启动 5 / 5 个单位")
        expect(page.locator("#launch-bar")).to_have_attribute("style", "width: 100%;")
        expect(page.locator("#launch-matrix")).to_be_visible()
    finally:
        app.config["LAUNCH_BATCH_SIZE"] = 500
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 5
    assert page.console_errors == []
