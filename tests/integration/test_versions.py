"""Deployed versions are immutable; running instances keep the version they started on."""

from pathlib import Path

import pytest

from app.engine.errors import DiagramError
from app.extensions import db
from app.models import AuditEvent, ProcessDefinition, ProcessInstance
from app.services.campaigns import launch
from app.services.design import processes
from tests.support import DEPLOY, make_campaign, ready_tasks, submit, upload

XML = (Path(__file__).resolve().parents[2] / "processes" / "rectification.bpmn").read_bytes()


def test_deploy_cli_is_idempotent(runner, ctx):
    result = runner.invoke(args=["processes", "deploy"])
    assert result.exit_code == 0, result.output
    assert "rectification v1" in result.output and "未变化" in result.output
    assert db.session.query(ProcessDefinition).count() == 1


def test_changed_diagram_is_a_new_version_and_old_instances_stay(app, ctx, make_unit, make_user):
    unit = make_unit("T01")
    cid = make_campaign([unit])
    launch.launch_all(cid, None)
    old = db.session.query(ProcessInstance).one()
    v1 = old.definition_id
    changed = XML.replace("审核自查报告".encode(), "审核自查报告（新版）".encode())
    try:
        definition, created = processes.deploy(changed, "rectification.bpmn")
        assert created and definition.version == 2 and definition.id != v1
        assert processes.deploy(changed, "rectification.bpmn") == (definition, False)
        assert db.session.query(AuditEvent).filter_by(action="process.deploy").count() >= 1
        # The running instance keeps v1 and still runs on it.
        staff = make_user("unit_staff", unit)
        submit(app, staff, ready_tasks(old.id, "deploy")[0].id, DEPLOY, {"plan": upload()})
        submit(app, staff, ready_tasks(old.id, "self_check")[0].id, {"summary": "s"})
        review = ready_tasks(old.id, "review_self_check")[0]
        assert review.name == "审核自查报告"
        db.session.refresh(old)
        assert old.definition_id == v1
        # A unit launched now starts on v2.
        other = make_unit("T02")
        cid2 = make_campaign([other], doc_number="测政发〔2026〕2号")
        launch.launch_all(cid2, None)
        assert db.session.query(ProcessInstance).filter_by(unit_id=other).one().definition_id == definition.id
    finally:
        db.session.rollback()  # conftest then drops the version deployed here


def test_invalid_diagram_is_refused_and_nothing_is_stored(ctx):
    bad = XML.replace(b'form_key" value="assessment"', b'form_key" value="no_such_form"')
    with pytest.raises(DiagramError, match="no_such_form"):
        processes.deploy(bad, "rectification.bpmn")
    assert db.session.query(ProcessDefinition).count() == 1


def test_scheduler_tick_cli_advances_due_instances(app, ctx, runner, make_unit):
    result = runner.invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0 and "已推进 0 个实例" in result.output
