"""The instance viewer: an instance's progress coloured on its diagram, and its timeline."""

import json
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import time_machine

from app.extensions import db
from app.models import ProcessInstance
from app.services.campaigns import launch
from app.services.sweep import timers
from app.services.tasks import instance_view
from tests.support import DEPLOY, asset, make_campaign, ready_tasks, submit, upload

SH = ZoneInfo("Asia/Shanghai")
PHASES = [
    ("deploy", "动员部署", date(2026, 9, 1), date(2026, 9, 29)),
    ("self_check", "自查自纠", date(2026, 9, 30), date(2026, 10, 30)),
    ("rectification", "整改落实", date(2026, 11, 1), date(2026, 12, 31)),
    ("assessment", "总结评估", date(2027, 1, 1), date(2027, 1, 31)),
]


def travel(*args):
    return time_machine.travel(datetime(*args, tzinfo=SH).astimezone(UTC), tick=False)


def _world(app, make_unit, make_user):
    done, late = make_unit("T01", "塘渡口镇"), make_unit("T02", "白仓镇")
    with app.app_context():
        with travel(2026, 9, 1, 9):
            cid = make_campaign([done, late], phases=PHASES)
            launch.launch_all(cid, None)
        inst = {u: db.session.query(ProcessInstance.id).filter_by(unit_id=u).scalar() for u in (done, late)}
        staff = make_user("unit_staff", done, username="done_staff")
        with travel(2026, 9, 20, 10):
            submit(app, staff, ready_tasks(inst[done], "deploy")[0].id, DEPLOY, {"plan": upload()})
        # The other unit misses its deadline: reminder, then a supervision letter.
        with travel(2026, 9, 29, 17, 31):
            timers.tick()
        with travel(2026, 10, 9, 17, 31):
            timers.tick()
    return inst[done], inst[late], late


def _marks(html: str) -> dict:
    return json.loads(re.search(r"data-marks='([^']*)'", html).group(1))


def test_states_come_from_tasks_and_escalations(app, ctx, make_unit, make_user):
    done, late, _ = _world(app, make_unit, make_user)
    with travel(2026, 10, 10, 9):
        assert instance_view.view(done).states == {"deploy": "completed", "self_check": "active"}
        view = instance_view.view(late)
    assert view.states == {"deploy": "escalated"}
    titles = [e.title for e in view.timeline]
    assert titles[0] == "待办：动员部署"
    assert "催办：动员部署" in titles and "督办函：动员部署" in titles
    assert any(t.startswith("发出督办函〔2026〕第") for t in titles)
    assert [e.at for e in view.timeline] == sorted(e.at for e in view.timeline)


def test_overdue_without_escalation_is_overdue():
    from app.models import Task

    now = datetime(2026, 10, 1, tzinfo=UTC)
    tasks = [
        Task(element_id="a", status="ready", due_at=datetime(2026, 9, 1, tzinfo=UTC)),
        Task(element_id="b", status="ready", due_at=None),
        Task(element_id="c", status="completed"),
        Task(element_id="c", status="ready", due_at=None),
        Task(element_id="d", status="cancelled"),
    ]
    assert instance_view.element_states(tasks, set(), now) == {"a": "overdue", "b": "active", "c": "active"}


def test_viewer_page_for_supervisors_and_designers_only(app, login_as, make_unit, make_user):
    done, late, late_unit = _world(app, make_unit, make_user)
    supervisor = login_as("supervisor")
    html = supervisor.get(f"/design/instances/{late}").get_data(as_text=True)
    assert "流程进度" in html and "白仓镇" in html and "时间线" in html and asset(app, "diagram-view.js") in html
    assert _marks(html) == {"deploy": "mark-escalated"}
    assert "督办函：动员部署" in html
    # The supervisor's instance page links here.
    assert f"/design/instances/{late}" in supervisor.get(f"/supervise/instances/{late}").get_data(as_text=True)
    assert login_as("designer").get(f"/design/instances/{done}").status_code == 200
    assert login_as("supervisor", username="sup2").get("/design/instances/999999").status_code == 404
    assert login_as("unit_staff", late_unit).get(f"/design/instances/{late}").status_code == 403
    assert login_as("assessor").get(f"/design/instances/{late}").status_code == 403
    anonymous = app.test_client().get(f"/design/instances/{late}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_designers_reach_the_viewer_from_the_progress_matrix(app, login_as, make_unit, make_user):
    _, late, _ = _world(app, make_unit, make_user)
    with app.app_context():
        campaign_id = db.session.get(ProcessInstance, late).campaign_id
    html = login_as("designer").get(f"/admin/campaigns/{campaign_id}/matrix").get_data(as_text=True)
    assert f"/design/instances/{late}" in html and f"/supervise/instances/{late}" not in html
