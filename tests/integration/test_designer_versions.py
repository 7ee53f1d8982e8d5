"""Deployed versions with who deployed them and how many instances run on each; the diff of two."""

import re
from pathlib import Path

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import ProcessInstance
from app.services.campaigns import launch
from app.services.design import designer, processes
from tests.support import make_campaign

XML = (Path(__file__).resolve().parents[2] / "processes" / "rectification.bpmn").read_bytes()


def _count_queries():
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    return statements, lambda: event.remove(db.engine, "before_cursor_execute", before)


def test_versions_list_hash_deployer_and_running_instances_in_one_query(ctx, make_unit, make_user):
    units = [make_unit(f"T0{i}") for i in range(1, 4)]
    launch.launch_all(make_campaign(units[:2]), None)
    designer_id = make_user("designer")
    v2, created = processes.deploy(
        XML.replace("动员部署".encode(), "动员部署（新）".encode()), "rectification.bpmn", designer_id
    )
    assert created
    launch.launch_all(make_campaign(units[2:], doc_number="测政发〔2026〕9号"), None)
    db.session.query(ProcessInstance).filter_by(unit_id=units[0]).update({"status": "completed"})
    db.session.commit()
    statements, stop = _count_queries()
    try:
        listed = designer.versions("rectification")
    finally:
        stop()
    assert len(statements) == 1
    assert [(v.version, v.running_instances, v.deployed_by) for v in listed] == [(2, 1, "测试designer"), (1, 1, None)]
    assert listed[0].id == v2.id and listed[0].content_hash == v2.content_hash and listed[0].deployed_at
    assert [v.version for v in designer.versions()] == [2, 1]
    assert designer.versions("nope") == []


def test_diff_names_added_removed_and_changed_elements(ctx):
    v1 = processes.latest()
    changed = (
        XML.replace("审核自查报告".encode(), "审核自查报告（新版）".encode())
        .replace(
            b"ladder_at(deadlines['deploy'], ladder['letter'])",
            b"ladder_at(deadlines['deploy'], {'days': 5, 'unit': 'calendar'})",
        )
        .replace(b"verdict == 'fail'", b"verdict != 'pass'")
        # The follow-up review's form moves to another form key.
        .replace(b'form_key" value="follow_up_review"', b'form_key" value="assessment"')
        # The reminder on the deploy step goes (with its flows and end).
        .replace(b'"deploy_reminder_timer"', b'"deploy_nudge_timer"')
        .replace(b">deploy_reminder_timer<", b">deploy_nudge_timer<")
    )
    v2, _ = processes.deploy(changed, "rectification.bpmn")
    result = designer.diff(v1.id, v2.id)
    changes = {c.element_id: c for c in result.changed}
    assert changes["review_self_check"].details == ["名称：「审核自查报告」 → 「审核自查报告（新版）」"]
    assert changes["review_self_check"].element_type == "userTask"
    assert changes["deploy_letter_timer"].details == [
        "定时日期：「ladder_at(deadlines['deploy'], ladder['letter'])」 → "
        "「ladder_at(deadlines['deploy'], {'days': 5, 'unit': 'calendar'})」"
    ]
    assert changes["flow_gw_assessment_to_rectify_ledger"].details == [
        "条件：「verdict == 'fail'」 → 「verdict != 'pass'」"
    ]
    assert changes["follow_up_review"].details == ["表单：「follow_up_review」 → 「assessment」"]
    assert [c.element_id for c in result.removed] == ["deploy_reminder_timer"]
    assert [c.element_id for c in result.added] == ["deploy_nudge_timer"]
    # The flow out of the renamed timer now starts elsewhere.
    assert changes["flow_deploy_reminder_timer_to_deploy_send_reminder"].details == [
        "来源：「deploy_reminder_timer」 → 「deploy_nudge_timer」"
    ]
    assert set(changes) == {
        "review_self_check",
        "deploy_letter_timer",
        "flow_gw_assessment_to_rectify_ledger",
        "follow_up_review",
        "flow_deploy_reminder_timer_to_deploy_send_reminder",
    }
    assert designer.diff(v1.id, v1.id).empty


def test_diff_ignores_layout_and_order(ctx):
    v1 = processes.latest()
    moved = re.sub(rb'<dc:Bounds x="(\d)', rb'<dc:Bounds x="9\1', XML, count=3)
    v2, created = processes.deploy(moved, "rectification.bpmn")
    assert created
    assert designer.diff(v1.id, v2.id).empty


def test_diff_of_unknown_version_is_a_clear_error(ctx):
    with pytest.raises(designer.DiffError, match="流程版本不存在"):
        designer.diff(processes.latest().id, 999999)
