"""Every path of processes/rectification.bpmn, driven through the service layer on a real database."""

from datetime import UTC, datetime

import pytest
import time_machine

from app.extensions import db
from app.models import AuditEvent, LedgerItem, ProcessInstance, Submission, Task
from app.services.campaigns import launch
from app.services.sweep import timers
from app.services.tasks import tasks
from tests.support import DEPLOY, JPEG, ledger_rows, make_campaign, ready_tasks, rows, submit, upload


@pytest.fixture
def world(app, ctx, make_unit, make_user):
    unit = make_unit("T01", "塘渡口镇")
    other = make_unit("T02", "白仓镇")
    cid = make_campaign([unit, other])
    launch.launch_all(cid, None)
    instance = db.session.query(ProcessInstance).filter_by(unit_id=unit).one()
    return {
        "app": app,
        "instance": instance.id,
        "campaign": cid,
        "unit": unit,
        "staff": make_user("unit_staff", unit, username="staff1"),
        "supervisor": make_user("supervisor", username="sup1"),
        "assessor": make_user("assessor", username="ass1"),
    }


def one(world, element_id):
    found = ready_tasks(world["instance"], element_id)
    assert len(found) == 1, (
        f"expected one ready {element_id}, got {[t.element_id for t in ready_tasks(world['instance'])]}"
    )
    return found[0]


def deploy_and_self_check(world, *titles):
    app = world["app"]
    submit(app, world["staff"], one(world, "deploy").id, DEPLOY, {"plan": upload()})
    submit(app, world["staff"], one(world, "self_check").id, {"summary": "自查完毕", **ledger_rows(*titles)})


def accept(world):
    submit(world["app"], world["supervisor"], one(world, "review_self_check").id, {"decision": "accept"})


def rectify_and_close(world, task):
    app = world["app"]
    submit(
        app,
        world["staff"],
        task.id,
        {"measures_taken": "已整改", "completed_on": "2027-02-01"},
        {"evidence": [upload("照片.jpg", JPEG)]},
    )
    verify = [
        t
        for t in ready_tasks(world["instance"])
        if t.ledger_item_id == task.ledger_item_id and t.form_key == "verify_item"
    ]
    assert len(verify) == 1
    assert verify[0].due_at is not None and verify[0].due_at > task.due_at  # a week after the item's deadline
    submit(app, world["supervisor"], verify[0].id, {"decision": "close", "check_type": "spot_check"})


def instance(world) -> ProcessInstance:
    db.session.expire_all()
    return db.session.get(ProcessInstance, world["instance"])


def test_launch_starts_one_instance_per_unit_at_deploy(world):
    assert db.session.query(ProcessInstance).count() == 2
    task = one(world, "deploy")
    assert task.role == "unit_staff" and task.form_key == "deploy" and task.phase == "deploy"
    assert task.due_at.astimezone().date().isoformat() in ("2026-12-10", "2026-12-11")
    # Launching again never starts a second instance.
    again = launch.launch_next_batch(world["campaign"], None)
    assert again.started_now == 0 and again.finished
    assert db.session.query(ProcessInstance).count() == 2


def test_accept_path_to_rectification_with_items_and_evidence(world):
    deploy_and_self_check(world, "广场超标", "道路绿化带过宽")
    assert instance(world).phase == "self_check"
    items = db.session.query(LedgerItem).filter_by(instance_id=world["instance"]).all()
    assert {i.status for i in items} == {"proposed"}
    accept(world)
    rectify = ready_tasks(world["instance"], "rectify_item")
    assert len(rectify) == 2
    assert {t.ledger_item_id for t in rectify} == {i.id for i in items}
    assert all(t.due_at is not None for t in rectify)
    assert instance(world).phase == "rectification"
    deploy_submission = db.session.query(Submission).filter_by(form_key="deploy").one()
    assert deploy_submission.data["group_head"] == "张三"


def test_review_return_loop_carries_comments_and_prefill(world):
    deploy_and_self_check(world, "问题一")
    submit(
        world["app"],
        world["supervisor"],
        one(world, "review_self_check").id,
        {"decision": "return", "comments": "台账缺少整改时限说明"},
    )
    again = one(world, "self_check")
    assert again.returned_comment == "台账缺少整改时限说明"
    assert tasks.initial_data(again)["summary"] == "自查完毕"
    # Resubmitting replaces the proposed items instead of adding to them.
    submit(world["app"], world["staff"], again.id, {"summary": "补充后", **ledger_rows("问题一（修订）", "问题二")})
    titles = sorted(i.title for i in db.session.query(LedgerItem).filter_by(instance_id=world["instance"]))
    assert titles == ["问题一（修订）", "问题二"]


def test_items_close_in_any_order_and_gate_opens_assessment(world):
    deploy_and_self_check(world, "甲", "乙", "丙")
    accept(world)
    rectify = ready_tasks(world["instance"], "rectify_item")
    for task in reversed(rectify):
        assert not ready_tasks(world["instance"], "assessment")
        rectify_and_close(world, task)
    assert one(world, "assessment").role == "assessor"
    assert instance(world).phase == "assessment"
    assert {i.status for i in db.session.query(LedgerItem)} == {"closed"}


def test_verify_return_loop(world):
    deploy_and_self_check(world, "甲")
    accept(world)
    task = one(world, "rectify_item")
    submit(
        world["app"],
        world["staff"],
        task.id,
        {"measures_taken": "初步整改", "completed_on": "2027-02-01"},
        {"evidence": [upload()]},
    )
    submit(
        world["app"],
        world["supervisor"],
        one(world, "verify_item").id,
        {"decision": "return", "check_type": "unannounced_visit", "comments": "明察暗访发现仍未整改"},
    )
    again = one(world, "rectify_item")
    assert again.returned_comment == "明察暗访发现仍未整改"
    # The evidence already submitted stays with the returned item: no need to upload it again.
    assert [e.filename for e in tasks.existing_files(again)["evidence"]] == ["方案.pdf"]
    assert db.session.get(LedgerItem, again.ledger_item_id).status == "rectifying"
    rectify_and_close(world, again)
    assert one(world, "assessment")


def test_item_added_midway_blocks_assessment_until_closed(world, login_as):
    from app.services.findings import findings
    from tests.support import form_for

    deploy_and_self_check(world, "甲")
    accept(world)
    app = world["app"]
    with app.test_request_context("/", method="POST"):
        from app.models import User

        sup = db.session.get(User, world["supervisor"])
        form = form_for(
            app,
            "add_ledger_item",
            rows("x", "督导发现：台账不实")
            and {
                "title": "督导发现：台账不实",
                "source": "supervision",
                "measures": "重新核实",
                "responsible_leader": "李四",
                "responsible_department": "党政办",
                "deadline": "2027-03-15",
            },
        )
        item = findings.add_item(sup, world["instance"], form)
    added = one(world, "rectify_added_item")
    assert added.ledger_item_id == item.id
    rectify_and_close(world, one(world, "rectify_item"))
    # The original item is closed but the added one is open: no assessment yet.
    assert not ready_tasks(world["instance"], "assessment")
    assert instance(world).phase == "rectification"
    rectify_and_close(world, added)
    assert one(world, "assessment")


def test_assessment_refused_while_an_item_is_open(world):
    from app.services.findings import findings
    from tests.support import form_for

    deploy_and_self_check(world)
    accept(world)
    assessment = one(world, "assessment")  # empty ledger: straight to assessment
    app = world["app"]
    with app.test_request_context("/", method="POST"):
        from app.models import User

        form = form_for(
            app,
            "add_ledger_item",
            {
                "title": "新发现",
                "source": "supervision",
                "measures": "整改",
                "responsible_leader": "李四",
                "responsible_department": "办公室",
                "deadline": "2027-03-15",
            },
        )
        findings.add_item(db.session.get(User, world["supervisor"]), world["instance"], form)
    with pytest.raises(tasks.Conflict, match="未销号"):
        submit(
            app,
            world["assessor"],
            assessment.id,
            {
                "scores-0-component": "整改成效",
                "scores-0-points": "80",
                "scores-0-max_points": "100",
                "verdict": "pass",
            },
        )
    assert db.session.get(Task, assessment.id).status == "ready"


ASSESS = {"scores-0-component": "整改成效", "scores-0-points": "55", "scores-0-max_points": "100"}


def test_assessment_fail_starts_remedial_round(world):
    deploy_and_self_check(world, "甲")
    accept(world)
    rectify_and_close(world, one(world, "rectify_item"))
    submit(
        world["app"],
        world["assessor"],
        one(world, "assessment").id,
        {**ASSESS, "verdict": "fail", "remarks": "走过场", **rows("remedial_items", "补课：重新公示")},
    )
    remedial = one(world, "rectify_item")
    item = db.session.get(LedgerItem, remedial.ledger_item_id)
    assert item.origin == "remedial" and item.round == 2 and item.title == "补课：重新公示"
    assert instance(world).round == 2 and instance(world).phase == "rectification"
    rectify_and_close(world, remedial)
    assert one(world, "assessment")


def pass_assessment(world):
    submit(world["app"], world["assessor"], one(world, "assessment").id, {**ASSESS, "verdict": "pass"})


def test_follow_up_waits_for_its_date_then_rebound_reopens(world):
    deploy_and_self_check(world, "甲", "乙")
    accept(world)
    for task in ready_tasks(world["instance"], "rectify_item"):
        rectify_and_close(world, task)
    pass_assessment(world)
    inst = instance(world)
    assert inst.phase == "follow_up" and inst.next_timer_at is not None
    fire_at = inst.next_timer_at
    assert not ready_tasks(world["instance"], "follow_up_review")
    assert timers.tick().advanced == 0  # not due yet
    with time_machine.travel(inst.next_timer_at.replace(tzinfo=UTC).timestamp() + 60, tick=False):
        assert timers.tick().advanced >= 1
    review = one(world, "follow_up_review")
    assert review.due_at is not None and review.due_at > fire_at
    first = db.session.query(LedgerItem).filter_by(instance_id=world["instance"], title="甲").one()
    submit(
        world["app"],
        world["supervisor"],
        review.id,
        {"rebound": "yes", "findings": "广场又增设景观灯", "reopen_items": [str(first.id)]},
    )
    reopened = one(world, "rectify_item")
    assert reopened.ledger_item_id == first.id
    db.session.refresh(first)
    assert first.status == "rectifying" and first.reopen_count == 1
    rectify_and_close(world, reopened)
    pass_assessment(world)
    # The follow-up date has passed: the timer fires on the next tick.
    with time_machine.travel(datetime(2027, 7, 1, tzinfo=UTC), tick=False):
        timers.tick()
    submit(
        world["app"], world["supervisor"], one(world, "follow_up_review").id, {"rebound": "no", "findings": "无反弹"}
    )
    assert instance(world).status == "completed" and instance(world).phase == "closed"


def test_clean_closure_and_audit_trail(world):
    deploy_and_self_check(world, "甲")
    accept(world)
    rectify_and_close(world, one(world, "rectify_item"))
    pass_assessment(world)
    with time_machine.travel(datetime(2027, 7, 1, tzinfo=UTC), tick=False):
        timers.tick()
    submit(
        world["app"], world["supervisor"], one(world, "follow_up_review").id, {"rebound": "no", "findings": "无反弹"}
    )
    inst = instance(world)
    assert inst.status == "completed" and inst.next_timer_at is None
    assert not ready_tasks(world["instance"])
    actions = {a for (a,) in db.session.query(AuditEvent.action)}
    assert {"instance.start", "task.complete", "ledger.close", "instance.advance"} <= actions
    complete_events = db.session.query(AuditEvent).filter_by(action="task.complete").all()
    assert all(e.actor_id and e.before == {"status": "ready"} for e in complete_events)
