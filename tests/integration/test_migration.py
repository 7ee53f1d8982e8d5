"""Migrating running instances to a new version: instances standing before, at and after a
changed or removed element; data, deadlines and pending timers kept; audited."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from lxml import etree

from app.extensions import db
from app.models import AuditEvent, Escalation, ProcessDefinition, ProcessInstance
from app.services.campaigns import launch
from app.services.design import processes
from app.services.sweep import timers
from app.services.tasks import migration
from tests.support import DEPLOY, JPEG, ledger_rows, make_campaign, ready_tasks, submit, upload

XML = (Path(__file__).resolve().parents[2] / "processes" / "rectification.bpmn").read_bytes()
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
B = f"{{{NS['bpmn']}}}"
SELF_CHECK_LETTER = b"ladder_at(later(deadlines['self_check'], self_check_redo_due), ladder['letter'])"


def with_confirm_step(xml: bytes) -> bytes:
    """v2: a new unit-staff step (confirm_self_check) between self_check and its review."""
    root = etree.fromstring(xml)
    process = root.find("bpmn:process", NS)
    flow = process.find("bpmn:sequenceFlow[@id='flow_self_check_to_review_self_check']", NS)
    flow.set("targetRef", "confirm_self_check")
    task = etree.SubElement(process, B + "userTask", id="confirm_self_check", name="确认自查报告")
    ext = etree.SubElement(
        etree.SubElement(task, B + "extensionElements"), "{http://spiffworkflow.org/bpmn/schema/1.0/core}properties"
    )
    for name, value in (("form_key", "deploy"), ("phase", "self_check"), ("due", "deadlines['self_check']")):
        etree.SubElement(ext, "{http://spiffworkflow.org/bpmn/schema/1.0/core}property", name=name, value=value)
    etree.SubElement(
        process,
        B + "sequenceFlow",
        id="flow_confirm_to_review",
        sourceRef="confirm_self_check",
        targetRef="review_self_check",
    )
    lane = process.find(".//bpmn:lane[@id='process_lane_unit_staff']", NS)
    etree.SubElement(lane, B + "flowNodeRef").text = "confirm_self_check"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_changed_self_check_letter(xml: bytes) -> bytes:
    """v2: the self-check's supervision letter comes one calendar day after the due date."""
    return xml.replace(
        SELF_CHECK_LETTER,
        b"ladder_at(later(deadlines['self_check'], self_check_redo_due), {'days': 1, 'unit': 'calendar'})",
    )


def without_deploy(xml: bytes) -> bytes:
    """v3: the deploy step (and its ladder) removed; the process starts at the self-check."""
    root = etree.fromstring(xml)
    process = root.find("bpmn:process", NS)
    gone = {el.get("id") for el in process.iter() if (el.get("id") or "").startswith("deploy")}
    for el in list(process.iter()):
        if el.get("id") in gone or el.text in gone or el.get("bpmnElement") in gone or el.get("sourceRef") in gone:
            el.getparent().remove(el)
    for el in list(root.iter()):
        if el.get("bpmnElement") in gone or el.get("bpmnElement", "").startswith("flow_deploy"):
            el.getparent().remove(el)
    process.find("bpmn:sequenceFlow[@id='flow_start_to_deploy']", NS).set("targetRef", "self_check")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def world(app, ctx, make_unit, make_user):
    units = [make_unit(f"T0{i}") for i in range(1, 4)]
    cid = make_campaign(units)
    launch.launch_all(cid, None)
    by_unit = {i.unit_id: i.id for i in db.session.query(ProcessInstance)}
    w = {
        "app": app,
        "campaign": cid,
        "units": units,
        "before": by_unit[units[0]],
        "at": by_unit[units[1]],
        "after": by_unit[units[2]],
        "staff": {u: make_user("unit_staff", u) for u in units},
        "supervisor": make_user("supervisor"),
        "assessor": make_user("assessor"),
        "designer": make_user("designer"),
    }
    # "before" stays at deploy; "at" reaches the self-check; "after" is past it (in review).
    for key in ("at", "after"):
        submit(app, staff_of(w, key), one(w[key], "deploy").id, DEPLOY, {"plan": upload()})
    submit(app, staff_of(w, "after"), one(w["after"], "self_check").id, {"summary": "自查完毕", **ledger_rows("甲")})
    yield w
    db.session.rollback()


def staff_of(w, key):
    instance = db.session.get(ProcessInstance, w[key])
    return w["staff"][instance.unit_id]


def one(instance_id, element_id):
    found = ready_tasks(instance_id, element_id)
    assert len(found) == 1, [t.element_id for t in ready_tasks(instance_id)]
    return found[0]


def snapshot(instance_id):
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance_id)
    rows = {(t.id, t.element_id, t.due_at) for t in ready_tasks(instance_id)}
    return instance.definition_id, instance.next_timer_at, rows


def finish(w, key):
    """Drive an instance to its end: whatever it is at, through review, one item, assessment, follow-up."""
    app, iid, staff = w["app"], w[key], staff_of(w, key)
    steps = {
        "deploy": (staff, lambda: (DEPLOY, {"plan": upload()})),
        "self_check": (staff, lambda: ({"summary": "自查完毕", **ledger_rows("甲")}, None)),
        "confirm_self_check": (staff, lambda: (DEPLOY, {"plan": upload()})),
        "review_self_check": (w["supervisor"], lambda: ({"decision": "accept"}, None)),
        "rectify_item": (
            staff,
            lambda: (
                {"measures_taken": "已整改", "completed_on": "2027-02-01"},
                {"evidence": [upload("照片.jpg", JPEG)]},
            ),
        ),
        "verify_item": (w["supervisor"], lambda: ({"decision": "close", "check_type": "spot_check"}, None)),
        "assessment": (
            w["assessor"],
            lambda: (
                {
                    "scores-0-component": "整改成效",
                    "scores-0-points": "90",
                    "scores-0-max_points": "100",
                    "verdict": "pass",
                },
                None,
            ),
        ),
        "follow_up_review": (w["supervisor"], lambda: ({"rebound": "no", "findings": "无反弹"}, None)),
    }
    steps["rectify_added_item"], steps["verify_added_item"] = steps["rectify_item"], steps["verify_item"]
    seen = []
    for _ in range(20):
        db.session.expire_all()
        if db.session.get(ProcessInstance, iid).status == "completed":
            return seen
        ready = ready_tasks(iid)
        if not ready:
            with time_machine.travel(datetime(2027, 7, 1, tzinfo=UTC), tick=False):
                timers.tick()
            continue
        task = ready[0]
        user, data = steps[task.element_id]
        fields, files = data()
        submit(app, user, task.id, fields, files)
        seen.append(task.element_id)
    raise AssertionError(f"did not finish: {seen}")


def test_dry_run_says_who_can_move_and_why_not(world):
    v1 = processes.latest().id
    v2, _ = processes.deploy(
        with_changed_self_check_letter(with_confirm_step(XML)), "rectification.bpmn", world["designer"]
    )
    found = {c.instance_id: c for c in migration.dry_run(world["campaign"], v2.id)}
    assert found[world["before"]].can_migrate and found[world["before"]].reasons == []
    assert found[world["after"]].can_migrate
    at = found[world["at"]]
    assert not at.can_migrate
    assert at.reasons == ["「逾期督办函」（self_check_letter_timer）正在等待定时，但新版本修改了它的定时或事件定义"]
    assert at.from_version == 1 and at.unit_name == "测试单位T02"
    # The dry run changes nothing.
    assert {i.definition_id for i in db.session.query(ProcessInstance)} == {v1}


def test_migrate_moves_the_safe_ones_keeps_timers_and_rows_and_audits(world):
    before = {key: snapshot(world[key]) for key in ("before", "at", "after")}
    v2, _ = processes.deploy(
        with_changed_self_check_letter(with_confirm_step(XML)), "rectification.bpmn", world["designer"]
    )
    result = migration.migrate(world["campaign"], v2.id, None, world["designer"])
    assert sorted(result.moved) == sorted([world["before"], world["after"]])
    assert list(result.skipped) == [world["at"]] and "self_check_letter_timer" in result.skipped[world["at"]][0]
    for key in ("before", "after"):
        definition_id, next_timer_at, rows = snapshot(world[key])
        assert definition_id == v2.id
        # Same pending timers, same task rows (ids and deadlines): escalations stay attached.
        assert (next_timer_at, rows) == before[key][1:]
    assert snapshot(world["at"]) == before["at"]
    events = db.session.query(AuditEvent).filter_by(action="instance.migrate").all()
    assert sorted(int(e.entity_id) for e in events) == sorted(result.moved)
    assert all(e.before["version"] == 1 and e.after["version"] == 2 and e.actor_id == world["designer"] for e in events)


def test_migrated_instance_fires_its_pending_timer_at_the_original_time_and_runs_to_the_end(world):
    deploy_row = one(world["before"], "deploy")
    fire_at = snapshot(world["before"])[1]
    v2, _ = processes.deploy(with_changed_self_check_letter(with_confirm_step(XML)), "rectification.bpmn")
    assert migration.migrate(world["campaign"], v2.id, [world["before"]], None).moved == [world["before"]]
    with time_machine.travel(fire_at.replace(tzinfo=UTC).timestamp() - 60, tick=False):
        timers.tick()
    assert db.session.query(Escalation).count() == 0
    with time_machine.travel(fire_at.replace(tzinfo=UTC).timestamp() + 60, tick=False):
        timers.tick()
    reminder = db.session.query(Escalation).one()
    assert (reminder.task_id, reminder.level) == (deploy_row.id, "reminder")
    # On v2 the new confirmation step follows the self-check, and the instance ends.
    assert finish(world, "before")[:4] == ["deploy", "self_check", "confirm_self_check", "review_self_check"]
    assert db.session.get(ProcessInstance, world["before"]).definition_id == v2.id


def test_an_instance_past_the_change_continues_on_the_new_version(world):
    v2, _ = processes.deploy(with_changed_self_check_letter(with_confirm_step(XML)), "rectification.bpmn")
    migration.migrate(world["campaign"], v2.id, [world["after"]], None)
    assert finish(world, "after")[0] == "review_self_check"


def test_removed_step_refuses_the_instance_at_it_and_moves_the_one_past_it(world):
    v3, _ = processes.deploy(without_deploy(XML), "rectification.bpmn")
    found = {c.instance_id: c for c in migration.dry_run(world["campaign"], v3.id)}
    refused = [
        "「动员部署」（deploy）正在办理，但在新版本中已删除",
        "「逾期催办」（deploy_reminder_timer）正在等待定时，但在新版本中已删除",
        "「逾期督办函」（deploy_letter_timer）正在等待定时，但在新版本中已删除",
        "「逾期通报」（deploy_notice_timer）正在等待定时，但在新版本中已删除",
    ]
    assert found[world["before"]].reasons == refused
    assert found[world["at"]].can_migrate and found[world["after"]].can_migrate
    at_before = snapshot(world["at"])
    result = migration.migrate(world["campaign"], v3.id, [world["before"], world["at"]], None)
    assert result.moved == [world["at"]]
    assert result.skipped == {world["before"]: refused}
    assert snapshot(world["at"])[1:] == at_before[1:]
    assert finish(world, "at")[:2] == ["self_check", "review_self_check"]


def test_unknown_target_or_campaign_is_a_clear_error(world):
    with pytest.raises(migration.MigrationError, match="目标流程版本不存在"):
        migration.dry_run(world["campaign"], 999999)
    with pytest.raises(migration.MigrationError, match="专项整治不存在"):
        migration.migrate(999999, processes.latest().id, None, None)


def test_instance_already_on_the_target_is_skipped(world):
    current = processes.latest()
    result = migration.migrate(world["campaign"], current.id, [world["before"]], None)
    assert result.moved == [] and result.skipped == {world["before"]: ["已在第 1 版上运行"]}
    assert db.session.query(ProcessDefinition).count() == 1


def test_safety_is_checked_again_when_migrating(world):
    """The dry run said yes, then the instance moved on to the changed element: it stays."""
    v2, _ = processes.deploy(with_changed_self_check_letter(XML), "rectification.bpmn")
    assert {c.instance_id: c.can_migrate for c in migration.dry_run(world["campaign"], v2.id)}[world["before"]]
    submit(world["app"], staff_of(world, "before"), one(world["before"], "deploy").id, DEPLOY, {"plan": upload()})
    result = migration.migrate(world["campaign"], v2.id, [world["before"]], None)
    assert result.moved == [] and "self_check_letter_timer" in result.skipped[world["before"]][0]
    assert db.session.get(ProcessInstance, world["before"]).definition_id != v2.id


def with_changed_item_reminder(xml: bytes) -> bytes:
    return xml.replace(
        b"ladder_at(later(item['due'], item_redo_due), ladder['reminder'])",
        b"ladder_at(later(item['due'], item_redo_due), {'days': 2, 'unit': 'working'})",
    )


def test_instances_inside_the_ledger_subprocess(world, make_user):
    """Items being rectified live in subprocess workflows: they move when their elements are unchanged,
    and are refused, naming the element, when their pending timer changed."""
    from app.services.findings import findings
    from tests.support import form_for

    app = world["app"]
    submit(app, world["supervisor"], one(world["after"], "review_self_check").id, {"decision": "accept"})
    with app.test_request_context("/", method="POST"):
        from app.models import User

        form = form_for(
            app,
            "add_ledger_item",
            {
                "title": "督导发现",
                "source": "supervision",
                "measures": "整改",
                "responsible_leader": "李四",
                "responsible_department": "办公室",
                "deadline": "2027-03-15",
            },
        )
        findings.add_item(db.session.get(User, world["supervisor"]), world["after"], form)
    assert {t.element_id for t in ready_tasks(world["after"])} == {"rectify_item", "rectify_added_item"}
    v3, _ = processes.deploy(with_changed_item_reminder(XML), "rectification.bpmn")
    reasons = {c.instance_id: c.reasons for c in migration.dry_run(world["campaign"], v3.id)}[world["after"]]
    assert reasons == [
        "「逾期催办」（rectify_item_reminder_timer）正在等待定时，但新版本修改了它的定时或事件定义",
        "「逾期催办」（rectify_added_item_reminder_timer）正在等待定时，但新版本修改了它的定时或事件定义",
    ]
    before = snapshot(world["after"])
    v2, _ = processes.deploy(with_confirm_step(XML), "rectification.bpmn")
    assert migration.migrate(world["campaign"], v2.id, None, None).moved == [
        world["before"],
        world["at"],
        world["after"],
    ]
    assert snapshot(world["after"])[1:] == before[1:]
    assert {"rectify_item", "rectify_added_item", "verify_added_item", "assessment"} <= set(finish(world, "after"))


def test_migrate_command_dry_run_then_migrate(world, runner):
    v2, _ = processes.deploy(with_changed_self_check_letter(XML), "rectification.bpmn")
    result = runner.invoke(args=["processes", "migrate", str(world["campaign"]), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        f"实例 {world['at']} 测试单位T02 v1 → v2：不能迁移：「逾期督办函」（self_check_letter_timer）" in result.output
    )
    assert f"实例 {world['before']} 测试单位T01 v1 → v2：可迁移" in result.output
    result = runner.invoke(
        args=["processes", "migrate", str(world["campaign"]), "--version", "2", "--instance", str(world["after"])]
    )
    assert result.exit_code == 0 and "已迁移 1 个实例到 v2" in result.output
    listing = runner.invoke(args=["processes", "list"]).output
    assert "rectification v1" in listing and "运行中 2" in listing and "rectification v2" in listing


def test_renamed_ready_task_keeps_its_row_under_the_new_name(world):
    row = one(world["after"], "review_self_check")
    v2, _ = processes.deploy(
        XML.replace("审核自查报告".encode(), "审核自查报告（复核）".encode()), "rectification.bpmn"
    )
    assert migration.migrate(world["campaign"], v2.id, [world["after"]], world["designer"]).moved == [world["after"]]
    db.session.expire_all()
    moved = one(world["after"], "review_self_check")
    assert (moved.id, moved.name, moved.role, moved.due_at) == (
        row.id,
        "审核自查报告（复核）",
        "supervisor",
        row.due_at,
    )
