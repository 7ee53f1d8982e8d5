"""The migration page: dry run per campaign, migrate the chosen or all safe instances."""

from app.extensions import db
from app.models import AuditEvent, ProcessInstance
from app.services.campaigns import launch
from app.services.design import processes
from tests.integration.designer_support import XML
from tests.integration.test_migration import without_deploy
from tests.support import DEPLOY, ledger_rows, make_campaign, ready_tasks, submit, upload


def _world(app, make_unit, make_user):
    """Two units: one still at deploy, one past it; v2 drops the deploy step."""
    stuck, ahead = make_unit("T01", "塘渡口镇"), make_unit("T02", "白仓镇")
    with app.app_context():
        cid = make_campaign([stuck, ahead])
        launch.launch_all(cid, None)
        inst = {u: db.session.query(ProcessInstance.id).filter_by(unit_id=u).scalar() for u in (stuck, ahead)}
        staff = make_user("unit_staff", ahead, username="ahead_staff")
        submit(app, staff, ready_tasks(inst[ahead], "deploy")[0].id, DEPLOY, {"plan": upload()})
        submit(app, staff, ready_tasks(inst[ahead], "self_check")[0].id, {"summary": "自查完毕", **ledger_rows("甲")})
        v2, created = processes.deploy(without_deploy(XML), "rectification.bpmn")
        assert created
        return cid, v2.id, inst[stuck], inst[ahead], stuck


def test_dry_run_then_migrate_all_safe(app, login_as, make_unit, make_user):
    cid, v2, stuck, ahead, _ = _world(app, make_unit, make_user)
    designer = login_as("designer")
    page = designer.get(f"/design/campaigns/{cid}/migrate?target={v2}").get_data(as_text=True)
    assert "试运行结果" in page and "共 2 个运行中的实例，其中 1 个可以迁移" in page
    assert f'data-instance="{ahead}" class="can-migrate"' in page
    assert f'data-instance="{stuck}" class="cannot-migrate"' in page
    resp = designer.post_form(
        f"/design/campaigns/{cid}/migrate",
        {"target": str(v2), "scope": "all_safe"},
        form_url=f"/design/campaigns/{cid}/migrate?target={v2}",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已迁移 1 个实例，未迁移 1 个" in html and "迁移结果" in html
    with app.app_context():
        assert db.session.get(ProcessInstance, ahead).definition_id == v2
        assert db.session.get(ProcessInstance, stuck).definition_id != v2
        assert db.session.query(AuditEvent).filter(AuditEvent.action.like("%migrat%")).count() >= 1


def test_migrate_selected_reports_the_ones_that_cannot_move(app, login_as, make_unit, make_user):
    cid, v2, stuck, ahead, _ = _world(app, make_unit, make_user)
    designer = login_as("designer")
    form_url = f"/design/campaigns/{cid}/migrate?target={v2}"
    nothing = designer.post_form(
        f"/design/campaigns/{cid}/migrate", {"target": str(v2), "scope": "selected"}, form_url=form_url
    )
    assert nothing.status_code == 400 and "请勾选要迁移的实例" in nothing.get_data(as_text=True)
    resp = designer.post_form(
        f"/design/campaigns/{cid}/migrate",
        {"target": str(v2), "scope": "selected", "instance": str(stuck)},
        form_url=form_url,
    )
    html = resp.get_data(as_text=True)
    assert "已迁移 0 个实例，未迁移 1 个" in html and f'<li data-instance="{stuck}">' in html
    with app.app_context():
        assert db.session.get(ProcessInstance, stuck).definition_id != v2


def test_migration_page_errors_and_roles(app, login_as, make_unit, make_user):
    unit = make_unit("T01")
    with app.app_context():
        cid = make_campaign([unit])
        launch.launch_all(cid, None)
    designer = login_as("designer")
    assert "试运行" in designer.get(f"/design/campaigns/{cid}/migrate").get_data(as_text=True)
    assert designer.get("/design/campaigns/999999/migrate").status_code == 404
    bad = designer.get(f"/design/campaigns/{cid}/migrate?target=999999")
    assert bad.status_code == 400 and "目标流程版本不存在" in bad.get_data(as_text=True)
    missing = designer.post_form(
        f"/design/campaigns/{cid}/migrate", {"scope": "all_safe"}, form_url=f"/design/campaigns/{cid}/migrate"
    )
    assert missing.status_code == 400 and "请选择目标版本" in missing.get_data(as_text=True)
    for actor in (login_as("unit_staff", unit), login_as("supervisor"), login_as("assessor")):
        assert actor.get(f"/design/campaigns/{cid}/migrate").status_code == 403
        assert actor.client.post(f"/design/campaigns/{cid}/migrate", data={}).status_code in (400, 403)
    anonymous = app.test_client().get(f"/design/campaigns/{cid}/migrate")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
