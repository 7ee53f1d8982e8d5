"""Read-only diagrams in a real browser: a version diff and an instance's progress, coloured."""

from playwright.sync_api import expect

from app.services.campaigns import launch
from app.services.design import processes
from app.services.sweep import timers
from tests.e2e.conftest import login
from tests.integration.designer_support import XML
from tests.integration.test_instance_view import PHASES, travel
from tests.integration.test_migration import without_deploy
from tests.support import make_campaign


def test_diff_highlights_removed_on_the_old_and_changed_on_the_new(page, app, make_user):
    with app.app_context():
        renamed = XML.replace("审核自查报告".encode(), "审核自查报告（新版）".encode())
        processes.deploy(without_deploy(renamed), "rectification.bpmn")
    make_user("designer", username="e2e_diff_designer")
    login(page, "e2e_diff_designer")
    page.goto("/design/")
    page.get_by_role("link", name="版本对比").click()
    expect(page.locator('#old-diagram[data-ready="1"]')).to_have_count(1)
    expect(page.locator('#new-diagram[data-ready="1"]')).to_have_count(1)
    expect(page.locator('#old-diagram .djs-element.mark-removed[data-element-id="deploy"]')).to_have_count(1)
    expect(page.locator('#new-diagram .djs-element[data-element-id="deploy"]')).to_have_count(0)
    expect(page.locator('#new-diagram .djs-element.mark-changed[data-element-id="review_self_check"]')).to_have_count(1)
    page.locator('#diff-table a[data-focus="review_self_check"]').click()
    expect(page.locator('#diff-table a[data-focus="review_self_check"]')).to_have_class("focused")
    assert page.console_errors == []


def test_instance_viewer_colours_the_escalated_step(page, app, make_unit, make_user):
    unit = make_unit("T01", "塘渡口镇")
    with app.app_context():
        with travel(2026, 9, 1, 9):
            cid = make_campaign([unit], phases=PHASES)
            launch.launch_all(cid, None)
        with travel(2026, 9, 29, 17, 31):
            timers.tick()
        from app.extensions import db
        from app.models import ProcessInstance

        instance_id = db.session.query(ProcessInstance.id).scalar()
    make_user("supervisor", username="e2e_view_supervisor")
    login(page, "e2e_view_supervisor")
    page.goto(f"/supervise/instances/{instance_id}")
    page.click("#instance-diagram-link")
    expect(page.locator('#instance-diagram[data-ready="1"]')).to_have_count(1)
    expect(page.locator('.djs-element.mark-escalated[data-element-id="deploy"]')).to_have_count(1)
    expect(page.locator("#timeline")).to_contain_text("催办：动员部署")
    assert page.console_errors == []
