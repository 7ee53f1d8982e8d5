"""Escalations that respect state and time: a closed step is never escalated, a long-overdue step
climbs its ladder one rung at a time, a public notice waits for the letter's reply deadline, a
wrong rung can be withdrawn, and a campaign cannot be launched already overdue."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app.extensions import db
from app.models import AuditEvent, Escalation, Notification, PublicNotice, SupervisionLetter, Task, User
from app.services.campaigns import campaigns, launch
from app.services.escalation import manual_letters, withdrawal
from app.services.sweep import timers
from tests.conftest import csrf_from
from tests.integration.test_campaigns import ensure_deployed, future_notice, make_notice
from tests.support import DEPLOY, make_campaign, submit, upload

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def travel(moment):
    return time_machine.travel(moment, tick=False)


# tests.support.PHASES: the deploy step is due 2026-12-10 17:30 (Thursday).
REMINDED = at(2026, 12, 10, 17, 31)
LETTER_TIME = at(2026, 12, 15, 17, 31)  # due + 3 working days
MONTHS_LATE = at(2027, 3, 1, 10, 0)  # a Monday, months after the deadline (no holiday in March)


@pytest.fixture
def world(app, make_unit, make_user):
    unit_a = make_unit("A01", "塘渡口镇")
    unit_b = make_unit("B01", "白仓镇")
    staff_a = make_user("unit_staff", unit_a, username="staffA")
    make_user("unit_staff", unit_b, username="staffB")
    with app.app_context():
        cid = make_campaign([unit_a, unit_b])
        launch.launch_all(cid, None)
        deploy = {t.unit_id: t.id for t in db.session.query(Task).filter_by(element_id="deploy")}
    return {
        "app": app,
        "campaign": cid,
        "a": unit_a,
        "b": unit_b,
        "deploy": deploy,
        "staff_a": staff_a,
        "supervisor": make_user("supervisor", username="sup"),
    }


def rungs(unit_id, element_id="deploy") -> dict[str, Escalation]:
    """The unit's rungs on one step, by level."""
    db.session.expire_all()
    return {e.level: e for e in db.session.query(Escalation).filter_by(unit_id=unit_id, element_id=element_id)}


def tick_at(moment):
    with travel(moment):
        return timers.tick()


def complete_deploy(world, unit_key="a"):
    submit(world["app"], world["staff_a"], world["deploy"][world[unit_key]], DEPLOY, {"plan": upload()})


# -- a closed step is never escalated --------------------------------------------------------


def test_a_rung_recorded_before_its_step_closed_is_cancelled_not_carried_out(world, ctx):
    with travel(REMINDED):
        timers.advance()  # the reminders are recorded, not yet carried out
    assert {e.status for e in db.session.query(Escalation)} == {"pending"}
    with travel(at(2026, 12, 10, 17, 32)):
        complete_deploy(world)  # unit A finishes in between
    tick_at(at(2026, 12, 10, 17, 33))
    a, b = rungs(world["a"])["reminder"], rungs(world["b"])["reminder"]
    assert (a.status, a.closed_reason, a.done_at) == ("cancelled", "环节已办结，未再执行", None)
    assert b.status == "done"
    titles = {n.unit_id: n.title for n in db.session.query(Notification).filter(Notification.kind == "reminder")}
    assert world["a"] not in titles and "已逾期" in titles[world["b"]]
    event = db.session.query(AuditEvent).filter_by(action="escalation.cancel").one()
    assert event.entity_id == str(a.id) and event.after["status"] == "cancelled"


def test_a_step_completed_while_its_next_rung_waits_gets_no_letter_and_no_notice(world, ctx):
    tick_at(MONTHS_LATE)
    with travel(at(2027, 3, 2, 9, 0)):
        complete_deploy(world)
    tick_at(at(2027, 4, 30, 10, 0))  # long after every rung's time
    a = rungs(world["a"])
    assert {level: e.status for level, e in a.items()} == {
        "reminder": "done",
        "letter": "cancelled",
        "notice": "cancelled",
    }
    assert db.session.query(SupervisionLetter).filter_by(unit_id=world["a"]).count() == 0
    assert db.session.query(PublicNotice).filter_by(unit_id=world["a"]).count() == 0
    # Unit B, still open, climbs on meanwhile: its letter goes out, its notice waits its turn.
    b = rungs(world["b"])
    assert (b["letter"].status, b["notice"].status) == ("done", "pending")


# -- the catch-up rule ------------------------------------------------------------------------


def test_months_past_the_deadline_the_ladder_climbs_one_rung_at_a_time(world, ctx):
    tick_at(MONTHS_LATE)
    for unit in ("a", "b"):
        r = rungs(world[unit])
        assert r["reminder"].status == "done" and r["reminder"].done_at == MONTHS_LATE
        # Recorded (the diagram's timers all fired) but held back by the catch-up rule.
        assert r["letter"].status == "pending" and r["letter"].next_attempt_at > MONTHS_LATE
        assert r["notice"].status == "pending"
    assert db.session.query(SupervisionLetter).count() == 0 and db.session.query(PublicNotice).count() == 0

    # The letter waits its own interval (3 working days) from the reminder: Thursday 17:30.
    letter_at = at(2027, 3, 4, 17, 30)
    assert rungs(world["a"])["letter"].next_attempt_at == letter_at
    tick_at(at(2027, 3, 4, 17, 29))
    assert db.session.query(SupervisionLetter).count() == 0
    tick_at(at(2027, 3, 4, 17, 31))
    assert db.session.query(SupervisionLetter).count() == 2
    assert db.session.query(PublicNotice).count() == 0
    letter = db.session.query(SupervisionLetter).filter_by(unit_id=world["a"]).one()
    assert letter.new_due == date(2027, 3, 11)  # the letter's own reply deadline: 5 working days

    # The notice: 7 working days after the letter (10 - 3), and after the reply deadline.
    notice_at = at(2027, 3, 15, 17, 30)
    assert rungs(world["a"])["notice"].next_attempt_at == notice_at
    tick_at(at(2027, 3, 15, 17, 0))
    assert db.session.query(PublicNotice).count() == 0
    tick_at(at(2027, 3, 15, 17, 31))
    assert db.session.query(PublicNotice).count() == 2


def test_one_sweep_fires_at_most_one_rung_per_step_even_with_no_interval(app, make_unit, make_user, ctx):
    unit = make_unit("Z01", "零间隔镇")
    make_user("unit_staff", unit, username="staffZ")
    flat = {level: {"days": 0, "unit": "calendar"} for level in ("reminder", "letter", "notice")}
    cid = make_campaign([unit], ladder=flat)
    launch.launch_all(cid, None)
    levels_done = []
    for minute in range(3):
        tick_at(at(2026, 12, 10, 17, 31 + minute * 2))
        levels_done.append(sorted(level for level, e in rungs(unit).items() if e.status == "done"))
    assert levels_done == [["reminder"], ["letter", "reminder"], ["letter", "reminder"]]
    # The notice names the unit in public: not before the letter's reply deadline (5 working days).
    assert rungs(unit)["notice"].next_attempt_at == at(2026, 12, 17, 17, 30)
    tick_at(at(2026, 12, 17, 17, 31))
    assert rungs(unit)["notice"].status == "done"


def test_a_public_notice_waits_for_the_letters_reply_deadline(world, ctx):
    tick_at(REMINDED)
    supervisor = db.session.get(User, world["supervisor"])
    with travel(at(2026, 12, 11, 10, 0)):
        manual_letters.issue_manual(supervisor, world["deploy"][world["a"]], date(2026, 12, 31))
    tick_at(at(2026, 12, 28, 10, 0))  # past the diagram's notice time (12-24 17:30)
    a = rungs(world["a"])
    assert a["notice"].status == "pending" and a["notice"].next_attempt_at == at(2026, 12, 31, 17, 30)
    assert db.session.query(PublicNotice).filter_by(unit_id=world["a"]).count() == 0
    tick_at(at(2027, 1, 4, 10, 0))
    assert db.session.query(PublicNotice).filter_by(unit_id=world["a"]).count() == 1


def test_a_deadline_recomputed_into_the_past_restarts_the_ladders_interval(world, ctx):
    tick_at(REMINDED)
    # The office's new holiday arrangement moved the step's deadline: the recomputation marks it.
    task = db.session.get(Task, world["deploy"][world["a"]])
    task.due_changed_at = at(2026, 12, 15, 9, 0)
    db.session.commit()
    tick_at(LETTER_TIME)
    assert rungs(world["a"])["letter"].status == "pending"  # 3 working days from 12-15, not from 12-10
    assert rungs(world["a"])["letter"].next_attempt_at == at(2026, 12, 18, 17, 30)
    assert rungs(world["b"])["letter"].status == "done"


# -- withdrawal --------------------------------------------------------------------------------


def _escalate_to_letters(world):
    """Months late: the reminders, then the letters; the notices recorded and waiting their turn."""
    tick_at(MONTHS_LATE)
    tick_at(at(2027, 3, 4, 17, 31))


def test_withdrawing_a_letter_keeps_it_marked_and_cancels_the_notice_waiting_after_it(world, login_as):
    with world["app"].app_context():
        _escalate_to_letters(world)
        letter_rung = rungs(world["a"])["letter"]
        letter_id = db.session.query(SupervisionLetter.id).filter_by(unit_id=world["a"]).scalar()
    with travel(at(2027, 3, 5, 9, 0)):
        supervisor = login_as("supervisor", username="sup2")
        board = supervisor.get("/supervise/escalations").get_data(as_text=True)
        assert f"/supervise/escalations/{letter_rung.id}/withdraw" in board
        empty = supervisor.post_form(
            f"/supervise/escalations/{letter_rung.id}/withdraw",
            {"reason": " "},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
        assert "撤回须填写理由" in empty.get_data(as_text=True)
        resp = supervisor.post_form(
            f"/supervise/escalations/{letter_rung.id}/withdraw",
            {"reason": "该单位已按期报送，系统未及时登记"},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
        assert "已撤回督办函" in resp.get_data(as_text=True)
        again = supervisor.post_form(
            f"/supervise/escalations/{letter_rung.id}/withdraw",
            {"reason": "再撤"},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
        assert "该督办已撤回" in again.get_data(as_text=True)
    with world["app"].app_context():
        a = rungs(world["a"])
        assert a["letter"].status == "withdrawn" and a["letter"].withdrawn_by_id == supervisor.user
        assert a["letter"].closed_reason == "该单位已按期报送，系统未及时登记"
        # The notice waiting after it will never go out; B's ladder is untouched.
        assert a["notice"].status == "cancelled" and rungs(world["b"])["notice"].status == "pending"
        letter = db.session.get(SupervisionLetter, letter_id)
        assert letter.withdrawn_at is not None and letter.withdraw_reason.startswith("该单位已按期报送")
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
        assert {"escalation.withdraw", "letter.withdraw", "escalation.cancel"} <= set(actions)
        told = db.session.query(Notification).filter_by(unit_id=world["a"], kind="letter").all()
        assert any("已撤回" in n.title and "系统未及时登记" in n.body for n in told)
    # The unit sees the letter marked withdrawn and has nothing to acknowledge.
    with travel(at(2027, 3, 5, 10, 0)):
        staff = login_as("unit_staff", world["a"], username="staffA2")
        page = staff.get(f"/letters/{letter_id}").get_data(as_text=True)
        assert 'id="withdrawn"' in page and 'id="acknowledge"' not in page
        listing = staff.get("/letters").get_data(as_text=True)
        assert "已撤回" in listing
        resp = staff.post_form(f"/letters/{letter_id}/acknowledge", {}, form_url="/letters", follow_redirects=True)
        assert "已撤回，无需签收" in resp.get_data(as_text=True)
    with world["app"].app_context():
        assert db.session.get(SupervisionLetter, letter_id).acknowledged_at is None
        tick_at(at(2027, 4, 30, 10, 0))
        assert db.session.query(PublicNotice).filter_by(unit_id=world["a"]).count() == 0
        assert db.session.query(PublicNotice).filter_by(unit_id=world["b"]).count() == 1


def test_withdrawing_a_public_notice_takes_it_down_and_marks_its_rung(world, client, ctx):
    for moment in (REMINDED, LETTER_TIME, at(2026, 12, 28, 10, 0)):
        tick_at(moment)
    notice = db.session.query(PublicNotice).filter_by(unit_id=world["a"]).one()
    assert "塘渡口镇" in client.get("/public/notices").get_data(as_text=True)
    with travel(at(2026, 12, 28, 11, 0)):
        withdrawal.withdraw_notice(notice.id, world["supervisor"], "误报：该单位已于12月9日办结")
    db.session.expire_all()
    assert rungs(world["a"])["notice"].status == "withdrawn"
    assert db.session.get(PublicNotice, notice.id).withdrawn_at == at(2026, 12, 28, 11, 0)
    public = client.get("/public/notices").get_data(as_text=True)
    assert "塘渡口镇" not in public and "白仓镇" in public
    with pytest.raises(withdrawal.WithdrawRefused, match="该通报已撤回"):
        withdrawal.withdraw_notice(notice.id, world["supervisor"], "再撤")


def test_a_cancelled_rung_cannot_be_withdrawn(world, ctx):
    with travel(REMINDED):
        timers.advance()
    complete_deploy(world)
    tick_at(at(2026, 12, 10, 17, 40))
    cancelled = rungs(world["a"])["reminder"]
    with pytest.raises(withdrawal.WithdrawRefused, match="无需撤回"):
        withdrawal.withdraw(cancelled.id, world["supervisor"], "理由")


# -- launching -----------------------------------------------------------------------------------


def _past_campaign(app):
    with app.app_context():
        ensure_deployed()
        cid = campaigns.create_campaign(make_notice(), actor_id=None).id  # deadlines from 2026-03-31
        campaigns.enrol_units(cid, "all", actor_id=None)
    return cid


def test_a_campaign_whose_deadlines_have_passed_is_not_launched(app, make_unit, login_as, runner):
    make_unit("T01", kind="township")
    cid = _past_campaign(app)
    with app.app_context(), pytest.raises(launch.LaunchError) as refused:
        launch.launch_next_batch(cid, None)
    assert [name for name, _ in refused.value.past] == ["动员部署", "自查自纠", "整改落实", "总结评估"]
    assert "动员部署（2026-03-31）" in str(refused.value)
    admin = login_as("admin")
    detail = admin.get(f"/admin/campaigns/{cid}").get_data(as_text=True)
    assert 'id="past-deadlines"' in detail and f"/admin/campaigns/{cid}/edit" in detail
    assert 'id="past-deadlines-top"' in detail and detail.count("data-past") == 4
    assert f"/admin/campaigns/{cid}/launch" not in detail
    page = admin.get(f"/admin/campaigns/{cid}/launch").get_data(as_text=True)
    assert 'id="past-deadlines"' in page
    resp = admin.client.post(
        f"/admin/campaigns/{cid}/launch/batch", headers={"X-CSRFToken": csrf_from(page), "Accept": "application/json"}
    )
    assert resp.status_code == 400 and "截止日期已过" in resp.get_json()["error"]
    cli = runner.invoke(args=["campaign", "launch", str(cid)])
    assert cli.exit_code == 1 and "截止日期已过" in cli.output
    with app.app_context():
        assert campaigns.started_count(cid) == 0
        # The office sets new deadlines; then the campaign launches.
        campaigns.update_campaign(cid, future_notice(), actor_id=None)
        assert launch.launch_all(cid, None).finished
        assert campaigns.started_count(cid) == 1


def test_pages_show_cancelled_and_withdrawn_rungs(world, login_as):
    with world["app"].app_context():
        with travel(REMINDED):
            timers.advance()
        complete_deploy(world)
        tick_at(at(2026, 12, 10, 17, 40))  # A's reminder cancelled, B's carried out
        withdrawal.withdraw(rungs(world["b"])["reminder"].id, world["supervisor"], "催办对象有误")
        instance_a = db.session.get(Task, world["deploy"][world["a"]]).instance_id
        instance_b = db.session.get(Task, world["deploy"][world["b"]]).instance_id
    supervisor = login_as("supervisor", username="sup2")
    cid = world["campaign"]
    for url, expected in (
        ("/supervise/escalations?status=cancelled", "环节已办结，未再执行"),
        ("/supervise/escalations?status=withdrawn", "催办对象有误"),
        (f"/supervise/dashboard?campaign={cid}", "督办升级"),
        (f"/supervise/dashboard/{cid}/figures/escalations_by_level.json", "已撤回"),
        (f"/supervise/dashboard/{cid}/escalations?status=cancelled", "已取消"),
        (f"/audit/campaigns/{cid}", "撤回督办"),
        (f"/design/instances/{instance_a}", "未执行：环节已办结"),
        (f"/design/instances/{instance_b}", "撤回催办"),
    ):
        resp = supervisor.get(url)
        assert resp.status_code == 200, url
        body = resp.get_data(as_text=True)
        assert expected in (str(resp.get_json()) if url.endswith(".json") else body), url


def test_a_letter_by_hand_takes_over_the_ladders_letter_waiting_its_turn(world, ctx):
    tick_at(MONTHS_LATE)
    waiting = rungs(world["a"])["letter"]
    assert waiting.status == "pending" and not waiting.manual
    supervisor = db.session.get(User, world["supervisor"])
    with travel(at(2027, 3, 1, 11, 0)):
        letter = manual_letters.issue_manual(supervisor, world["deploy"][world["a"]], date(2027, 3, 12))
    a = rungs(world["a"])["letter"]
    assert a.id == waiting.id and a.status == "done" and a.manual and a.created_by_id == world["supervisor"]
    assert letter.escalation_id == a.id and letter.new_due == date(2027, 3, 12)
    assert db.session.query(SupervisionLetter).filter_by(unit_id=world["a"]).count() == 1
    with travel(at(2027, 3, 1, 11, 5)), pytest.raises(manual_letters.LetterRefused, match="已发出督办函"):
        manual_letters.issue_manual(supervisor, world["deploy"][world["a"]], None)


def test_after_a_withdrawal_the_office_can_issue_the_letter_again(world, ctx):
    tick_at(MONTHS_LATE)
    tick_at(at(2027, 3, 4, 17, 31))  # letters out
    supervisor = db.session.get(User, world["supervisor"])
    first = rungs(world["a"])["letter"]
    with travel(at(2027, 3, 5, 9, 0)):
        withdrawal.withdraw(first.id, world["supervisor"], "文号填错，撤回后重发")
        again = manual_letters.issue_manual(supervisor, world["deploy"][world["a"]], date(2027, 3, 19))
    letters = db.session.query(SupervisionLetter).filter_by(unit_id=world["a"]).order_by(SupervisionLetter.id).all()
    assert [lt.withdrawn_at is not None for lt in letters] == [True, False] and letters[1].id == again.id
    rows = db.session.query(Escalation).filter_by(unit_id=world["a"], element_id="deploy", level="letter").all()
    assert sorted(r.status for r in rows) == ["done", "withdrawn"]
    # Withdrawing the reminder cancels the waiting letter; a letter by hand then takes that row over.
    with travel(at(2027, 3, 1, 11, 0)):
        withdrawal.withdraw(rungs(world["b"])["reminder"].id, world["supervisor"], "催办对象有误")
    assert rungs(world["b"])["letter"].status == "done"  # already out by then: left as it is
    told = (
        db.session.query(Notification)
        .filter_by(unit_id=world["b"], kind="reminder")
        .order_by(Notification.id.desc())
        .first()
    )
    assert told.title == "「动员部署」催办已撤回" and told.link == f"/my/tasks/{world['deploy'][world['b']]}"


def test_a_letter_by_hand_takes_over_a_letter_cancelled_with_a_withdrawn_reminder(world, ctx):
    tick_at(MONTHS_LATE)
    with travel(at(2027, 3, 1, 11, 0)):
        withdrawal.withdraw(rungs(world["a"])["reminder"].id, world["supervisor"], "催办对象有误")
    assert rungs(world["a"])["letter"].status == "cancelled"
    supervisor = db.session.get(User, world["supervisor"])
    with travel(at(2027, 3, 2, 9, 0)):
        letter = manual_letters.issue_manual(supervisor, world["deploy"][world["a"]], None)
    a = rungs(world["a"])["letter"]
    assert a.status == "done" and a.manual and letter.escalation_id == a.id
