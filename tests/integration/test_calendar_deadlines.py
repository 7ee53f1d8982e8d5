"""Deadlines follow the holiday arrangement the office imports: a ladder over 春节 and across the new
year, open deadlines recomputed (audited, shown on the task, due_changed_at set), letters' reply
deadlines, an office year over the package's, and a year nobody covers said aloud."""

import os
import subprocess
import sys
import threading
from datetime import date, timedelta

from sqlalchemy import select

from app import clock, workdays
from app.extensions import db
from app.jobs import scheduler
from app.models import Escalation, HolidayRecompute, SupervisionLetter, Task, User
from app.services import calendar
from app.services.calendar import store
from app.services.escalation import manual_letters
from app.services.sweep import timers
from tests.integration.calendar_support import (
    HOLIDAYS_2026,
    HOLIDAYS_2027,
    at,
    events,
    import_file,
    instance_of,
    ladder,
    launch_campaign,
    travel,
)
from tests.support import DEPLOY, ledger_rows, ready_tasks, submit, upload

LETTER, NOTICE, REMINDER = "逾期督办函", "逾期通报", "逾期催办"


def test_ladder_over_spring_festival_follows_the_imported_year(app, ctx, make_unit, make_user):
    unit = make_unit("T01", "塘渡口镇")
    launch_campaign([unit], deploy_ends=date(2027, 2, 4))  # Thursday before 春节
    before = ladder(instance_of(unit))
    # 2027 is not covered yet: weekends only, 3 and 10 working days after Thursday 4 February.
    assert not workdays.covered(2027)
    assert before == {REMINDER: at(2027, 2, 4, 17, 30), LETTER: at(2027, 2, 9, 17, 30), NOTICE: at(2027, 2, 18, 17, 30)}
    office = make_user("admin", username="office")

    result = import_file(HOLIDAYS_2027, office)

    assert result.changed_years == [2027] and workdays.source(2027) == "office"
    after = ladder(instance_of(unit))
    # 5–13 February are holidays and Saturday 20 February is worked: 15, 16, 17 / ... 20 (Sat), 22–25.
    assert after == {REMINDER: at(2027, 2, 4, 17, 30), LETTER: at(2027, 2, 17, 17, 30), NOTICE: at(2027, 2, 25, 17, 30)}
    task = ready_tasks(instance_of(unit).id, "deploy")[0]
    assert clock.to_local(task.due_at) == at(2027, 2, 4, 17, 30)  # the deadline itself is a date, not a count
    assert task.due_changed_at is not None and abs(task.due_changed_at - clock.now()) < timedelta(minutes=1)
    assert instance_of(unit).next_timer_at == at(2027, 2, 4, 17, 30)
    [event] = events("task.due_recompute")
    assert event.entity_id == str(task.id) and event.actor_id == office
    assert event.before[LETTER].startswith("2027-02-09T17:30") and event.after[LETTER].startswith("2027-02-17T17:30")
    assert event.after["calendar_years"] == [2027]
    job = db.session.scalar(select(HolidayRecompute))
    assert (job.status, job.done, job.total, job.changed, job.failed) == ("done", 1, 1, 1, 0)


def test_ladder_across_the_year_boundary_and_the_timer_fires_on_the_new_day(app, ctx, make_unit):
    unit = make_unit("T01")
    launch_campaign([unit], deploy_ends=date(2026, 12, 30))  # a Wednesday
    # Weekends only in 2027: 31 December, 1 January (a Friday) and Monday 4 January.
    assert ladder(instance_of(unit))[LETTER] == at(2027, 1, 4, 17, 30)
    assert ladder(instance_of(unit))[NOTICE] == at(2027, 1, 13, 17, 30)

    import_file(HOLIDAYS_2027)

    # 1–3 January are holidays: 31 December, 4 and 5 January.
    assert ladder(instance_of(unit))[LETTER] == at(2027, 1, 5, 17, 30)
    assert ladder(instance_of(unit))[NOTICE] == at(2027, 1, 14, 17, 30)
    with travel(at(2027, 1, 4, 18)):
        timers.tick()
    letters = select(Escalation).where(Escalation.level == "letter")
    assert db.session.scalars(letters).all() == []  # the old day passes quietly
    with travel(at(2027, 1, 5, 18)):
        timers.tick()
    assert len(db.session.scalars(letters).all()) == 1


def _to_review(app, unit: int, staff: int) -> Task:
    inst = instance_of(unit).id
    submit(app, staff, ready_tasks(inst, "deploy")[0].id, DEPLOY, {"plan": upload()})
    submit(app, staff, ready_tasks(inst, "self_check")[0].id, {"summary": "自查完毕", **ledger_rows("问题一")})
    return ready_tasks(inst, "review_self_check")[0]


def test_import_moves_an_open_due_time_audits_it_and_the_task_page_shows_it(app, make_unit, make_user, login_as):
    with app.app_context():
        unit = make_unit("T01", "塘渡口镇")
        staff = make_user("unit_staff", unit, username="staff1")
        launch_campaign([unit], deploy_ends=date(2026, 12, 10), self_check_ends=date(2027, 2, 4))
        review = _to_review(app, unit, staff)
        # The review is due 5 working days after the self-check: weekends only, Thursday 11 February.
        assert clock.to_local(review.due_at) == at(2027, 2, 11, 17, 30) and review.due_changed_at is None
        review_id = review.id
    admin = login_as("admin")
    assert 'id="due-changes"' not in admin.get(f"/supervise/tasks/{review_id}").get_data(as_text=True)

    resp = admin.client.post(
        "/admin/calendar/import",
        data={
            "file": (HOLIDAYS_2027.open("rb"), "holidays-2027-test.csv"),
            "year": "",
            "note": "测试数据",
            "csrf_token": _token(admin, "/admin/calendar/import"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    shown = admin.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已保存2027年节假日安排：放假29天，调休上班6天" in shown
    assert "已按新安排重新计算期限：检查了1个流程实例，调整了2处期限" in shown  # the task, and the process data

    with app.app_context():
        review = db.session.get(Task, review_id)
        # 5–13 February are holidays: 15 to 19 February.
        assert clock.to_local(review.due_at) == at(2027, 2, 19, 17, 30)
        assert review.due_changed_at is not None
        [task_event] = events("task.due_recompute")
        assert task_event.before["due_at"].startswith("2027-02-11T17:30")
        assert task_event.after["due_at"].startswith("2027-02-19T17:30")
        [data_event] = events("instance.deadlines_recompute")
        assert data_event.after["审核自查报告期限"].startswith("2027-02-19T17:30")
    html = login_as("supervisor", username="sup").get(f"/supervise/tasks/{review_id}").get_data(as_text=True)
    assert 'id="due-changes"' in html
    assert "期限已按2027年节假日安排调整：原 2027-02-11 17:30 → 现 2027-02-19 17:30" in html


def test_a_returned_items_redo_due_and_verify_due_follow(app, ctx, make_unit, make_user):
    unit = make_unit("T01")
    staff, supervisor = make_user("unit_staff", unit, username="staff1"), make_user("supervisor", username="sup")
    launch_campaign([unit], deploy_ends=date(2026, 12, 10), self_check_ends=date(2026, 12, 20))
    inst = instance_of(unit).id
    submit(app, staff, ready_tasks(inst, "deploy")[0].id, DEPLOY, {"plan": upload()})
    submit(
        app,
        staff,
        ready_tasks(inst, "self_check")[0].id,
        {"summary": "自查完毕", **ledger_rows("广场超标", deadline="2026-12-31")},
    )
    submit(app, supervisor, ready_tasks(inst, "review_self_check")[0].id, {"decision": "accept"})
    submit(
        app,
        staff,
        ready_tasks(inst, "rectify_item")[0].id,
        {"measures_taken": "已整改", "completed_on": "2026-12-20"},
        {"evidence": [upload()]},
    )
    with travel(at(2026, 12, 29, 10)):  # returned on a Tuesday: five working days to redo it
        submit(
            app,
            supervisor,
            ready_tasks(inst, "verify_item")[0].id,
            {"decision": "return", "check_type": "spot_check", "comments": "仍未整改到位"},
        )
    redo = ready_tasks(inst, "rectify_item")[0]
    # Weekends only: 30, 31 December, 1, 4, 5 January.
    assert clock.to_local(redo.due_at) == at(2027, 1, 5, 17, 30)
    assert ladder(instance_of(unit))[LETTER] == at(2027, 1, 8, 17, 30)

    with travel(at(2026, 12, 29, 11)):
        import_file(HOLIDAYS_2027)

    redo = db.session.get(Task, redo.id)
    assert clock.to_local(redo.due_at) == at(2027, 1, 6, 17, 30) and redo.due_changed_at is not None
    assert ladder(instance_of(unit))[LETTER] == at(2027, 1, 11, 17, 30)
    [data_event] = events("instance.deadlines_recompute")
    assert data_event.after["整改事项#1退回后整改期限"].startswith("2027-01-06T17:30")
    # The item's own verification deadline (its deadline + 5 working days) moved too: 4–8 January.
    assert data_event.after["整改事项#1核查销号期限"].startswith("2027-01-08T17:30")


def test_a_redo_due_is_named_after_the_item_being_redone(ctx, monkeypatch):
    """The audit key of a moved redo due names the item being redone, not the ledger's last item."""
    from types import SimpleNamespace

    from app.services.calendar import recompute

    class Returned:  # the item was returned on 29 December (what _Returns reads from the tasks)
        def __init__(self, instance_id: int) -> None:
            pass

        def get(self, form_key: str, ledger_item_id: int | None = None) -> date | None:
            return date(2026, 12, 29) if form_key == "verify_item" else None

    monkeypatch.setattr(recompute, "_Returns", Returned)
    data = {
        "item": {"id": 7, "seq": 1},
        "item_redo_due": "2026-01-01T17:30:00+08:00",
        "ledger": [{"id": 7, "seq": 1}, {"id": 9, "seq": 2}],
    }
    changes = recompute.recompute_data(1, SimpleNamespace(open_data=lambda: [data]))
    assert list(changes) == ["整改事项#1退回后整改期限"]


def _token(actor, url: str) -> str:
    from tests.conftest import csrf_from

    return csrf_from(actor.get(url).get_data(as_text=True))


def test_open_letters_reply_deadlines_follow_unless_chosen_by_hand(app, ctx, make_unit, make_user):
    units = [make_unit(f"T0{i}") for i in range(1, 5)]
    launch_campaign(units, deploy_ends=date(2026, 12, 10))
    supervisor = db.session.get(User, make_user("supervisor", username="sup"))
    deploy = {u: ready_tasks(instance_of(u).id, "deploy")[0].id for u in units}
    with travel(at(2026, 12, 29, 10)):  # a Tuesday; every deploy step is overdue
        derived = manual_letters.issue_manual(supervisor, deploy[units[0]])
        chosen = manual_letters.issue_manual(supervisor, deploy[units[1]], date(2027, 1, 8))
        withdrawn = manual_letters.issue_manual(supervisor, deploy[units[2]])
        # Chosen by hand, though it is the very day the grace period gives: still a person's choice.
        same_day = manual_letters.issue_manual(supervisor, deploy[units[3]], date(2027, 1, 5))
    ids = derived.id, chosen.id, withdrawn.id
    # Five working days, weekends only: 30, 31 December, 1, 4, 5 January.
    assert derived.new_due == withdrawn.new_due == date(2027, 1, 5) and chosen.new_due == date(2027, 1, 8)
    assert "请于2027年01月05日 17:30前办结" in derived.body
    db.session.get(SupervisionLetter, ids[2]).withdrawn_at = clock.now()
    db.session.commit()

    with travel(at(2026, 12, 29, 11)):
        result = import_file(HOLIDAYS_2027)

    assert result.letters_changed == 1
    derived, chosen, withdrawn = (db.session.get(SupervisionLetter, i) for i in ids)
    assert derived.new_due == date(2027, 1, 6)  # 1 January is a holiday
    assert "请于2027年01月06日 17:30前办结" in derived.body and "2027年01月05日" not in derived.body
    assert chosen.new_due == date(2027, 1, 8) and withdrawn.new_due == date(2027, 1, 5)
    assert db.session.get(SupervisionLetter, same_day.id).new_due == date(2027, 1, 5)
    [event] = events("letter.due_recompute")
    assert event.entity_id == str(ids[0]) and event.before == {"new_due": "2027-01-05"}


def test_the_real_2026_arrangement_changes_nothing_and_an_office_year_beats_the_package(app, ctx, make_unit):
    unit = make_unit("T01")
    launch_campaign([unit], deploy_ends=date(2026, 12, 29))  # a Tuesday
    assert ladder(instance_of(unit))[LETTER] == at(2027, 1, 1, 17, 30)  # 30, 31 December and Friday 1 January

    same = import_file(HOLIDAYS_2026)
    assert workdays.source(2026) == "office" and same.changed_years == [] and same.job_id is None
    assert db.session.scalar(select(HolidayRecompute)) is None and events("task.due_recompute") == []

    # The office declares 31 December 2026 a holiday (made-up): its year wins over the package's.
    days = [(d, v.kind, v.name) for d, v in workdays.current().years[2026].days.items()]
    result = calendar.save_year(2026, days + [(date(2026, 12, 31), "holiday", "测试假日")], None)
    calendar.run(result.job_id)
    assert result.changed_years == [2026]
    assert not workdays.is_workday(date(2026, 12, 31))
    assert ladder(instance_of(unit))[LETTER] == at(2027, 1, 4, 17, 30)
    seeded = calendar.seed()
    assert seeded.office == [2026] and 2026 not in seeded.inserted + seeded.updated
    assert not workdays.is_workday(date(2026, 12, 31)) and workdays.source(2026) == "office"
    assert workdays.source(2025) == "package"


def test_a_year_nobody_covers_counts_weekends_and_says_so(app, make_unit, make_user, login_as):
    with app.app_context():
        unit = make_unit("T01", "塘渡口镇")
        import_file(HOLIDAYS_2027)
        cid = launch_campaign(
            [unit], deploy_ends=date(2028, 2, 1), self_check_ends=date(2028, 3, 1), doc_number="测政发〔2027〕9号"
        )
        # 2028 is nobody's yet: weekends only (Friday 4 February 2028 + 1 = Monday 7 February).
        assert not workdays.covered(2028) and workdays.add_working_days(date(2028, 2, 4), 1) == date(2028, 2, 7)
        task_id = ready_tasks(instance_of(unit).id, "deploy")[0].id
    admin = login_as("admin")
    detail = admin.get(f"/admin/campaigns/{cid}").get_data(as_text=True)
    assert "2028年节假日安排尚未录入，期限按周末推算" in detail
    assert 'href="/admin/calendar/2028/edit"' in detail
    staff = login_as("unit_staff", unit, username="staff2")
    listing = staff.get("/my/tasks").get_data(as_text=True)
    assert 'data-uncovered-year="2028"' in listing and "2028年节假日安排尚未录入，期限按周末推算" in listing
    assert "/admin/calendar/2028/edit" not in listing  # staff cannot enter it
    page = staff.get(f"/my/tasks/{task_id}").get_data(as_text=True)
    assert "2028年节假日安排尚未录入，期限按周末推算" in page
    years = admin.get("/admin/calendar").get_data(as_text=True)
    assert 'data-year="2028" data-source="none"' in years and "测政发〔2027〕9号" in years


def test_recompute_runs_in_batches_and_the_scheduler_finishes_it(app, ctx, make_unit, monkeypatch):
    units = [make_unit(f"T0{i}") for i in range(1, 4)]
    launch_campaign(units, deploy_ends=date(2027, 2, 4))
    monkeypatch.setitem(app.config, "CALENDAR_RECOMPUTE_BATCH", 1)
    checked = calendar.check_file(HOLIDAYS_2027.read_bytes(), "2027.csv")
    result = calendar.save_year(2027, checked.days, None)
    job = calendar.run(result.job_id, budget=0)  # one batch, then the office's page returns
    assert (job.status, job.done, job.total) == ("pending", 1, 3)
    assert [ladder(instance_of(u))[LETTER].date() for u in units] == [
        date(2027, 2, 17),
        date(2027, 2, 9),
        date(2027, 2, 9),
    ]

    scheduler.sweep(app, 100, threading.Event())

    job = db.session.get(HolidayRecompute, job.id)
    db.session.refresh(job)
    assert (job.status, job.done, job.changed) == ("done", 3, 3)
    assert [ladder(instance_of(u))[LETTER].date() for u in units] == [date(2027, 2, 17)] * 3


def test_every_process_picks_up_a_change(app, ctx, make_unit, monkeypatch):
    """Another process (a web worker, the scheduler) still holds the old calendar: it follows
    at its next look, at the start of a sweep, and when it reads the database for the first time."""
    stale = store.installed_token()
    import_file(HOLIDAYS_2027)
    assert workdays.covered(2027)  # at once in the process that made the change

    def another_process():
        workdays.reset()
        monkeypatch.setattr(store, "_token", stale)

    another_process()
    assert not workdays.covered(2027)
    monkeypatch.setitem(app.config, "CALENDAR_CHECK_SECONDS", 0)
    with app.app_context():  # a web request, a command: every app context looks, at most that often
        assert workdays.covered(2027)
    another_process()
    monkeypatch.setitem(app.config, "CALENDAR_CHECK_SECONDS", 3600)
    with app.app_context():
        assert not workdays.covered(2027)  # looked a moment ago
    scheduler.sweep(app, 100, threading.Event())
    assert workdays.covered(2027)  # every sweep looks first

    env = dict(
        os.environ,
        FLASK_APP="wsgi.py",
        RECTIFY_CONFIG="config.TestConfig",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        UPLOAD_DIR=app.config["UPLOAD_DIR"],
    )
    shown = subprocess.run(
        [sys.executable, "-m", "flask", "calendar", "show", "2027"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=app.root_path + "/..",
    )
    assert shown.returncode == 0, shown.stderr
    assert "2027年节假日安排：办公室录入" in shown.stdout and "2027-02-05 星期五 春节" in shown.stdout
