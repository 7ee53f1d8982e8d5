"""The escalation board: escalations by level, unit and age; bulk remind and bulk letter on overdue
tasks; incidents shown with their error and retried by hand."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app.extensions import db
from app.models import AuditEvent, Escalation, LetterCounter, Notification, ProcessInstance, SupervisionLetter
from app.services.campaigns import launch
from app.services.sweep import timers
from tests.support import DEPLOY, make_campaign, ready_tasks, submit, upload

SH = ZoneInfo("Asia/Shanghai")
ISSUER = "测试县人民政府办公室"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def travel(moment):
    return time_machine.travel(moment.astimezone(UTC), tick=False)


@pytest.fixture
def world(app, make_unit, make_user):
    """Two towns in one campaign; deploy is due Thursday 10 December 2026, 17:30."""
    with app.app_context():
        late, prompt = make_unit("T01", "塘渡口镇"), make_unit("T02", "白仓镇")
        with travel(at(2026, 11, 1, 9)):
            cid = make_campaign([late, prompt])
            launch.launch_all(cid, None)
        inst = {u: db.session.query(ProcessInstance.id).filter_by(unit_id=u).scalar() for u in (late, prompt)}
        deploy = {u: ready_tasks(inst[u], "deploy")[0].id for u in (late, prompt)}
    return {
        "app": app,
        "campaign": cid,
        "late": late,
        "prompt": prompt,
        "inst": inst,
        "deploy": deploy,
        "staff": make_user("unit_staff", late, username="late_staff"),
        "prompt_staff": make_user("unit_staff", prompt, username="prompt_staff"),
    }


def _tick(app, moment):
    with app.app_context(), travel(moment):
        return timers.tick()


def _ids(html: str, attr: str) -> list[int]:
    return [int(v) for v in re.findall(rf'data-{attr}="(\d+)"', html)]


def _section(html: str, section: str) -> str:
    match = re.search(rf'<section[^>]*id="{section}".*?</section>', html, re.S)
    return match.group(0) if match else ""


def _counts(html: str) -> dict[str, int]:
    return {
        level: int(n)
        for level, n in re.findall(
            r'class="level-count[^"]*" data-level="(\w+)"[^>]*>\s*<strong[^>]*>(\d+)</strong>', html
        )
    }


def test_board_lists_escalations_by_level_unit_status_and_age(world, login_as):
    app = world["app"]
    _tick(app, at(2026, 12, 10, 17, 31))  # reminders for both towns
    with app.app_context(), travel(at(2026, 12, 11, 10)):
        submit(app, world["prompt_staff"], world["deploy"][world["prompt"]], DEPLOY, {"plan": upload()})
    _tick(app, at(2026, 12, 15, 17, 31))  # 3 working days later: a letter for the late town only
    with app.app_context():
        rows = {(e.unit_id, e.level): e.id for e in db.session.query(Escalation)}
    assert set(rows) == {(world["late"], "reminder"), (world["prompt"], "reminder"), (world["late"], "letter")}

    supervisor = login_as("supervisor")
    with travel(at(2026, 12, 16, 10)):
        page = supervisor.get("/supervise/escalations").get_data(as_text=True)
        assert _counts(page) == {"reminder": 2, "letter": 1, "notice": 0, "incident": 0}
        board = _section(page, "escalations")
        # Newest first: the letter, then the two reminders fired together.
        shown_ids = _ids(board, "escalation")
        assert shown_ids[0] == rows[(world["late"], "letter")]
        assert set(shown_ids) == set(rows.values()) and len(shown_ids) == 3
        assert "塘渡口镇" in board and "动员部署" in board and "自动" in board
        assert _section(page, "incidents") == ""

        def shown(**query) -> set[int]:
            html = supervisor.get("/supervise/escalations", query_string=query).get_data(as_text=True)
            return set(_ids(_section(html, "escalations"), "escalation"))

        assert shown(unit="T02") == {rows[(world["prompt"], "reminder")]}
        assert shown(unit="塘渡") == {rows[(world["late"], "reminder")], rows[(world["late"], "letter")]}
        assert shown(level="letter") == {rows[(world["late"], "letter")]}
        assert shown(status="done") == set(rows.values())
        assert shown(status="incident") == set()
        # Age since fired: the reminders fired 5 days ago, the letter today.
        assert shown(min_age="3") == {rows[(world["late"], "reminder")], rows[(world["prompt"], "reminder")]}
        assert shown(campaign=str(world["campaign"]), level="reminder", unit="白仓") == {
            rows[(world["prompt"], "reminder")]
        }
        assert shown(campaign="999999") == set()
        # Nonsense filters are ignored, never a 500.
        assert supervisor.get("/supervise/escalations?level=x&status=y&min_age=-3&page=abc").status_code == 200

        # Counts follow the other filters.
        html = supervisor.get("/supervise/escalations?unit=T02").get_data(as_text=True)
        assert _counts(html) == {"reminder": 1, "letter": 0, "notice": 0, "incident": 0}

        # The overdue section: only the late town's deploy is still open and overdue, with its rungs.
        overdue = _section(page, "overdue")
        assert _ids(overdue, "task") == [world["deploy"][world["late"]]]
        assert "催办" in overdue and "督办函" in overdue
        assert (
            _ids(_section(supervisor.get("/supervise/escalations?min_age=6").get_data(as_text=True), "overdue"), "task")
            == []
        )


def test_board_is_for_supervisors_and_admins(world, login_as):
    assert login_as("unit_staff", world["late"], username="staff2").get("/supervise/escalations").status_code == 403
    assert login_as("assessor").get("/supervise/escalations").status_code == 403
    assert login_as("admin").get("/supervise/escalations").status_code == 200


def test_bulk_remind_notifies_each_unit_and_audits_each_task(world, login_as):
    app = world["app"]
    supervisor = login_as("supervisor")
    with travel(at(2026, 12, 11, 9)):
        _tick(app, at(2026, 12, 11, 9))
        with app.app_context():
            automatic = db.session.query(Notification).filter_by(kind="reminder").count()
        assert automatic == 2
        resp = supervisor.post_form(
            "/supervise/escalations/bulk",
            {
                "action": "remind",
                "task_id": [str(world["deploy"][world["late"]]), str(world["deploy"][world["prompt"]])],
                "unit": "镇",
            },
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
    page = resp.get_data(as_text=True)
    assert "已催办 2 项，已通知相关单位" in page
    assert resp.request.args.get("unit") == "镇"  # back to the same filtered board
    with app.app_context():
        titles = [n.title for n in db.session.query(Notification).filter_by(user_id=world["staff"], kind="reminder")]
        assert titles == ["催办：「动员部署」已逾期"] * 2
        events = db.session.query(AuditEvent).filter_by(action="task.remind").all()
        assert sorted(int(e.entity_id) for e in events) == sorted(world["deploy"].values())
        assert {e.actor_id for e in events} == {supervisor.user}


def test_bulk_remind_skips_tasks_not_overdue(world, login_as):
    app = world["app"]
    supervisor = login_as("supervisor")
    with travel(at(2026, 12, 1, 9)):  # before the deadline
        resp = supervisor.post_form(
            "/supervise/escalations/bulk",
            {"action": "remind", "task_id": str(world["deploy"][world["late"]])},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
        assert "事项未逾期" in resp.get_data(as_text=True)
        resp = supervisor.post_form(
            "/supervise/escalations/bulk",
            {"action": "remind"},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
        assert "请至少勾选一项逾期事项" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Notification).count() == 0
        assert db.session.query(AuditEvent).filter_by(action="task.remind").count() == 0


def test_bulk_letter_issues_per_task_and_reports_skips(world, login_as):
    app = world["app"]
    supervisor = login_as("supervisor")
    late_task, prompt_task = world["deploy"][world["late"]], world["deploy"][world["prompt"]]
    with travel(at(2026, 12, 11, 9)):
        resp = supervisor.post_form(
            "/supervise/escalations/bulk",
            {"action": "letter", "task_id": [str(late_task), str(prompt_task)], "new_due": "2026-12-18"},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
        assert "已发出督办函 2 份" in resp.get_data(as_text=True)
        # A second letter on the same task is refused, with the reason.
        resp = supervisor.post_form(
            "/supervise/escalations/bulk",
            {"action": "letter", "task_id": str(late_task)},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
        page = resp.get_data(as_text=True)
        assert "跳过 1 项" in page and "该事项已发出督办函" in page
        resp = supervisor.post_form(
            "/supervise/escalations/bulk",
            {"action": "letter", "task_id": str(late_task), "new_due": "18/12/2026"},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
        assert "新的办理期限格式有误" in resp.get_data(as_text=True)
        board = _section(supervisor.get("/supervise/escalations?level=letter").get_data(as_text=True), "escalations")
        assert board.count("人工") == 2
    with app.app_context():
        letters = db.session.query(SupervisionLetter).order_by(SupervisionLetter.number).all()
        assert [(x.number, x.new_due, x.issued_by_id) for x in letters] == [
            (1, date(2026, 12, 18), supervisor.user),
            (2, date(2026, 12, 18), supervisor.user),
        ]
        assert {x.task_id for x in letters} == {late_task, prompt_task}


def test_failed_letter_is_an_incident_until_retried_after_the_cause_is_fixed(world, login_as, monkeypatch):
    app = world["app"]
    monkeypatch.setitem(app.config, "ESCALATION_MAX_ATTEMPTS", 1)
    _tick(app, at(2026, 12, 10, 17, 31))  # reminders
    with app.app_context(), travel(at(2026, 12, 11, 10)):
        submit(app, world["prompt_staff"], world["deploy"][world["prompt"]], DEPLOY, {"plan": upload()})
        # A letter numbered by hand before the counter existed already holds 督办函〔2026〕第1号,
        # so the timer's letter (number 1 again) breaks the unique number.
        db.session.add(
            SupervisionLetter(
                issuer=ISSUER,
                year=2026,
                number=1,
                campaign_id=world["campaign"],
                unit_id=world["prompt"],
                instance_id=world["inst"][world["prompt"]],
                subject="手工督办函",
                items=[],
                new_due=date(2026, 12, 20),
                body="",
                issued_at=at(2026, 12, 11, 10),
            )
        )
        db.session.commit()
    result = _tick(app, at(2026, 12, 15, 17, 31))
    assert result.escalations_failed == 1
    with app.app_context():
        incident = db.session.query(Escalation).filter_by(level="letter").one()
        assert (incident.status, incident.attempts) == ("incident", 1)
        assert "IntegrityError" in incident.last_error

    supervisor = login_as("supervisor")
    with travel(at(2026, 12, 16, 9)):
        page = supervisor.get("/supervise/escalations").get_data(as_text=True)
        section = _section(page, "incidents")
        assert _ids(section, "incident") == [incident.id]
        assert "IntegrityError" in section and "塘渡口镇" in section and "重试" in section
        assert _counts(page)["incident"] == 1

        # Retrying while the cause is still there fails again and stays an incident.
        resp = supervisor.post_form(
            f"/supervise/escalations/{incident.id}/retry", {}, form_url="/supervise/escalations", follow_redirects=True
        )
        assert "重新执行仍然失败" in resp.get_data(as_text=True)
        assert _ids(_section(resp.get_data(as_text=True), "incidents"), "incident") == [incident.id]

        # The office sets the counter past the hand-numbered letter; the retry now issues number 2.
        with app.app_context():
            db.session.add(LetterCounter(issuer=ISSUER, year=2026, last_number=1))
            db.session.commit()
        resp = supervisor.post_form(
            f"/supervise/escalations/{incident.id}/retry", {}, form_url="/supervise/escalations", follow_redirects=True
        )
        page = resp.get_data(as_text=True)
        assert "已重新执行，执行成功" in page
        assert _section(page, "incidents") == ""
    with app.app_context():
        done = db.session.get(Escalation, incident.id)
        assert done.status == "done"
        letter = db.session.query(SupervisionLetter).filter_by(escalation_id=incident.id).one()
        assert (letter.number, letter.unit_id) == (2, world["late"])
        actions = [
            e.action
            for e in db.session.query(AuditEvent).filter_by(entity_type="escalation", entity_id=str(incident.id))
        ]
        assert "escalation.incident" in actions and actions.count("escalation.retry") == 2


def test_pages_and_no_query_per_row(world, login_as):
    from sqlalchemy import event

    from app.services.escalation import board

    app = world["app"]
    _tick(app, at(2026, 12, 15, 17, 31))  # reminder and letter for both towns: 4 escalations
    with app.app_context(), travel(at(2026, 12, 16, 9)):
        first = board.escalations(board.BoardFilter(), page=1, per_page=3)
        second = board.escalations(board.BoardFilter(), page=2, per_page=3)
        assert (first.total, first.pages, len(first.rows), len(second.rows)) == (4, 2, 3, 1)
        assert not {e.id for e in first.rows} & {e.id for e in second.rows}
        overdue = board.overdue_tasks(board.BoardFilter(), page=2, per_page=1)
        assert (overdue.total, len(overdue.rows)) == (2, 1)

    supervisor = login_as("supervisor")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        with travel(at(2026, 12, 16, 9)):
            page = supervisor.get("/supervise/escalations?lang=en").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(_ids(_section(page, "escalations"), "escalation")) == 4
    assert "Overdue tasks" in page and "Remind selected" in page
    # user, unread count, escalations (count + page), level counts, incidents, overdue (count + page),
    # rungs reached, campaigns: a fixed number, whatever the number of rows.
    assert len(statements) <= 12, statements
