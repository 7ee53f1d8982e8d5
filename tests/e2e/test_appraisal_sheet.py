"""Entering a score sheet in a real browser: the running total, a refused deduction without a reason
that keeps every input, then a submission that locks the sheet and ranks the unit."""

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ScoreSheet
from app.services.appraisal import appraisal_schemes
from tests.e2e.conftest import login
from tests.integration.appraisal_support import appraised_campaign


def test_assessor_enters_a_score_sheet(page, app, make_user, make_unit):
    unit = make_unit("E01", name="浏览器镇", kind="township")
    with app.app_context():
        campaign_id = appraised_campaign([unit], doc="浏览器〔2026〕5号")
        scheme = appraisal_schemes.scheme_for(campaign_id)
        parts = [(p.id, f"{p.points.normalize():f}") for c in scheme.components for p in c.parts]
        hotline = next(c for c in scheme.components if c.key == "hotline").parts[1].id
    make_user("assessor", username="e2e_assessor")
    login(page, "e2e_assessor")
    page.goto("/assess/appraisals")
    page.click(f'a[href="/assess/appraisals/{campaign_id}"]')
    page.locator("#unscored a", has_text="评分").click()
    expect(page.locator("h1")).to_contain_text("浏览器镇")
    for part_id, points in parts:
        page.fill(f'input[name="part-{part_id}-score"]', points)
    expect(page.locator("#live-total")).to_have_text("100")
    page.fill(f'input[name="part-{hotline}-score"]', "6.5")
    expect(page.locator("#live-total")).to_have_text("98.5")
    with page.expect_navigation():
        page.click('button[value="submit"]')
    # Refused: the reason is missing; everything typed is still there.
    expect(
        page.locator(
            f'input[name="part-{hotline}-score"] + .field-error, input[name="part-{hotline}-reason"] + .field-error'
        )
    ).to_have_text("扣分须写明原因")
    expect(page.locator(f'input[name="part-{hotline}-score"]')).to_have_value("6.5")
    page.fill(f'input[name="part-{hotline}-reason"]', "12345投诉办理超期3件")
    with page.expect_navigation():
        page.click('button[value="submit"]')
    expect(page.locator(".flash-success")).to_contain_text("已提交并锁定")
    expect(page.locator("#sheet-total")).to_have_text("98.5")
    expect(page.locator('button[value="submit"]')).to_have_count(0)
    page.click("text=返回排名")
    row = page.locator('table.ranking tr[data-unit="E01"]')
    expect(row).to_contain_text("98.5")
    expect(row.locator(".mark-interview")).to_have_text("约谈")  # one unit in its category: it is the bottom
    with app.app_context():
        sheet = db.session.scalar(select(ScoreSheet))
        assert sheet.status == "submitted" and str(sheet.total) == "98.50"
    # The refused post answers 400 on purpose (the page with its messages); nothing else may fail.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
