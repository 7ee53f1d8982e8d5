"""The overdue ladder, moving the clock through it: reminder on the due date, letter 3 working
days later, public notice 10 working days later, counted over the 2026 National Day holiday."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app.extensions import db
from app.models import Escalation, Notification, ProcessInstance, PublicNotice, SupervisionLetter, Task
from app.services.campaigns import launch
from app.services.oversight import lights
from app.services.sweep import timers
from tests.support import DEPLOY, ledger_rows, make_campaign, ready_tasks, submit, upload

SH = ZoneInfo("Asia/Shanghai")
# Deploy is due on Tuesday 29 September 2026, 17:30, the last working day before National Day
# (1–7 October off; 10 October, a Saturday, is an adjusted working day).
PHASES = [
    ("deploy", "动员部署", date(2026, 9, 1), date(2026, 9, 29)),
    ("self_check", "自查自纠", date(2026, 9, 30), date(2026, 10, 30)),
    ("rectification", "整改落实", date(2026, 11, 1), date(2026, 12, 31)),
    ("assessment", "总结评估", date(2027, 1, 1), date(2027, 1, 31)),
]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def travel(moment):
    return time_machine.travel(moment.astimezone(UTC), tick=False)


@pytest.fixture
def ladder_world(app, ctx, make_unit, make_user):
    late, prompt = make_unit("T01", "塘渡口镇"), make_unit("T02", "白仓镇")
    with travel(at(2026, 9, 1, 9)):
        cid = make_campaign([late, prompt], phases=PHASES)
        launch.launch_all(cid, None)
    staff = make_user("unit_staff", late, username="late_staff")
    prompt_staff = make_user("unit_staff", prompt, username="prompt_staff")
    inst = {u: db.session.query(ProcessInstance.id).filter_by(unit_id=u).scalar() for u in (late, prompt)}
    return {
        "app": app,
        "late": late,
        "prompt": prompt,
        "staff": staff,
        "prompt_staff": prompt_staff,
        "inst": inst,
        "supervisor": make_user("supervisor", username="sup"),
    }


def levels(unit_id):
    return sorted(e.level for e in db.session.query(Escalation).filter_by(unit_id=unit_id))


def test_phase_task_climbs_the_ladder_over_national_day(ladder_world):
    w = ladder_world
    deploy = ready_tasks(w["inst"][w["late"]], "deploy")[0]
    assert deploy.due_at == at(2026, 9, 29, 17, 30)
    # The prompt unit finishes on time: completing cancels its pending ladder.
    with travel(at(2026, 9, 28, 10)):
        submit(
            w["app"], w["prompt_staff"], ready_tasks(w["inst"][w["prompt"]], "deploy")[0].id, DEPLOY, {"plan": upload()}
        )
        assert lights.light(deploy.due_at) == lights.YELLOW
        timers.tick()
    assert levels(w["late"]) == []

    with travel(at(2026, 9, 29, 17, 31)):
        timers.tick()
        assert lights.light(deploy.due_at) == lights.RED
    assert levels(w["late"]) == ["reminder"]
    reminder = db.session.query(Notification).filter_by(user_id=w["staff"], kind="reminder").one()
    assert "动员部署" in reminder.title and reminder.read_at is None

    # 3 working days after 29 September: 30 September, 8 and 9 October (1–7 October are holidays).
    with travel(at(2026, 10, 9, 17, 0)):
        timers.tick()
    assert levels(w["late"]) == ["reminder"]
    with travel(at(2026, 10, 9, 17, 31)):
        timers.tick()
    assert levels(w["late"]) == ["letter", "reminder"]
    letter = db.session.query(SupervisionLetter).one()
    assert (letter.year, letter.number, letter.unit_id) == (2026, 1, w["late"])
    assert letter.doc_number == "督办函〔2026〕第1号"
    assert letter.new_due > date(2026, 10, 9) and "动员部署" in letter.subject

    # 10 working days: ... 10 October (adjusted working Saturday) ... 19 October.
    with travel(at(2026, 10, 19, 17, 0)):
        timers.tick()
    assert db.session.query(PublicNotice).count() == 0
    with travel(at(2026, 10, 19, 17, 31)):
        timers.tick()
        timers.tick()  # a second sweep changes nothing: exactly once
    assert levels(w["late"]) == ["letter", "notice", "reminder"]
    notice = db.session.query(PublicNotice).one()
    assert notice.unit_id == w["late"] and "塘渡口镇" in notice.summary
    assert levels(w["prompt"]) == []
    assert db.session.query(SupervisionLetter).count() == 1
    assert {e.status for e in db.session.query(Escalation)} == {"done"}


def test_ledger_item_ladder_and_a_returned_item_gets_a_new_deadline(ladder_world):
    w = ladder_world
    inst, app = w["inst"][w["late"]], w["app"]
    with travel(at(2026, 9, 28, 10)):
        submit(app, w["staff"], ready_tasks(inst, "deploy")[0].id, DEPLOY, {"plan": upload()})
        submit(
            app,
            w["staff"],
            ready_tasks(inst, "self_check")[0].id,
            {"summary": "s", **ledger_rows("广场超标", deadline="2026-11-16")},
        )
        submit(app, w["supervisor"], ready_tasks(inst, "review_self_check")[0].id, {"decision": "accept"})
    rectify = ready_tasks(inst, "rectify_item")[0]
    assert rectify.due_at == at(2026, 11, 16, 17, 30)
    with travel(at(2026, 11, 16, 18)):
        timers.tick()
    escalation = db.session.query(Escalation).filter_by(unit_id=w["late"]).one()
    assert (escalation.level, escalation.ledger_item_id) == ("reminder", rectify.ledger_item_id)
    with travel(at(2026, 11, 19, 18)):  # Mon 16 + 3 working days = Thu 19
        timers.tick()
    letter = db.session.query(SupervisionLetter).filter_by(unit_id=w["late"]).one()
    assert letter.items and letter.items[0]["title"] == "广场超标"

    # Rectified and returned: the new task has a new deadline, so it does not escalate at once.
    with travel(at(2026, 11, 20, 10)):
        submit(
            app,
            w["staff"],
            rectify.id,
            {"measures_taken": "已整改", "completed_on": "2026-11-20"},
            {"evidence": [upload()]},
        )
        verify = ready_tasks(inst, "verify_item")[0]
        submit(
            app,
            w["supervisor"],
            verify.id,
            {"decision": "return", "check_type": "spot_check", "comments": "整改不到位"},
        )
        again = ready_tasks(inst, "rectify_item")[0]
        assert again.due_at == at(2026, 11, 27, 17, 30)  # 5 working days after the return
        timers.tick()
    assert db.session.query(Escalation).filter_by(task_id=again.id).count() == 0
    with travel(at(2026, 11, 27, 18)):
        timers.tick()
    assert [e.level for e in db.session.query(Escalation).filter_by(task_id=again.id)] == ["reminder"]
    assert db.session.get(Task, again.id).status == "ready"
