"""`flask demo seed`: the 54号 campaign with 33 units spread over the phases; a second run changes nothing."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func

from app.extensions import db
from app.models import Campaign, Escalation, ProcessInstance, PublicNotice, ScoreSheet, Task, User
from app.services.sweep import timers

# Just after midnight in Shanghai: the seed must not depend on the hour it runs at.
EARLY = datetime(2026, 11, 23, 0, 15, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_demo_seed_is_complete_and_idempotent(app, ctx, runner):
    with time_machine.travel(EARLY):
        _seed_twice(runner)


def test_the_demos_escalations_never_name_a_closed_step_and_climb_one_rung_at_a_time(app, ctx, runner):
    with time_machine.travel(EARLY, tick=False):
        assert runner.invoke(args=["demo", "seed"]).exit_code == 0
        timers.tick()  # the scheduler's first sweep once `make run` serves it
    done = db.session.query(Escalation).filter_by(status="done").all()
    assert done, "the demo's overdue steps are escalated"
    for escalation in done:
        task = db.session.get(Task, escalation.task_id)
        assert task.completed_at is None or task.completed_at > escalation.done_at, escalation.id
    # Overdue since weeks, yet no step has more than its first rung carried out in these sweeps.
    steps = {}
    for escalation in done:
        steps.setdefault((escalation.instance_id, escalation.spiff_task_id), []).append(escalation.level)
    assert all(len(levels) == 1 for levels in steps.values()), steps
    assert db.session.query(PublicNotice).count() == 0
    assert db.session.query(Escalation).filter_by(status="pending", level="notice").count() > 0


def _seed_twice(runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "已创建" in first.output and "admin" in first.output and "Rectify2026!" in first.output
    campaign = db.session.query(Campaign).one()
    assert campaign.doc_number == "邵政办发〔2014〕54号" and campaign.status == "launched"
    phases = dict(db.session.query(ProcessInstance.phase, func.count()).group_by(ProcessInstance.phase).all())
    assert sum(phases.values()) == 33
    assert {"deploy", "self_check", "rectification", "assessment", "follow_up", "closed"} <= set(phases)
    roles = {r for (r,) in db.session.query(User.role).distinct()}
    assert roles == {"admin", "designer", "supervisor", "assessor", "unit_staff"}
    users_before = db.session.query(User).count()
    # The appraisal: the 100-point scheme attached, ten units scored and submitted, one draft.
    sheets = dict(db.session.query(ScoreSheet.status, func.count()).group_by(ScoreSheet.status).all())
    assert sheets == {"submitted": 10, "draft": 1}

    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert "已存在" in second.output
    assert db.session.query(Campaign).count() == 1
    assert db.session.query(ProcessInstance).count() == 33
    assert db.session.query(User).count() == users_before
    assert db.session.query(ScoreSheet).count() == 11
