"""The English UI shows service and engine messages in English: what is left in Chinese is data
(names of units and steps people or diagrams gave, document numbers), never the platform's words."""

import html as markup
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app.engine import lint
from app.extensions import db
from app.models import ProcessInstance, Task, Unit, User
from app.services.campaigns import launch
from app.services.sweep import timers
from tests.support import make_campaign, ready_tasks

SH = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# The language switch names each language in its own words.
SWITCH = ("中文",)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return markup.unescape(re.sub(r"<[^>]+>", " ", html))


def platform_words(text: str, data) -> list[str]:
    """The CJK runs left once the data is taken out: the platform's own untranslated words."""
    for value in sorted((d for d in data if d), key=len, reverse=True):
        text = text.replace(value, " ")
    return re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", text)


def section(html: str, selector: str) -> str:
    match = re.search(rf"<(\w+)[^>]*{selector}.*?</\1>", html, re.S)
    assert match, selector
    return match.group(0)


@pytest.fixture
def world(app, make_unit, make_user):
    """Two towns in one campaign; deploy is due Thursday 10 December 2026, 17:30."""
    with app.app_context():
        late, prompt = make_unit("T01", "塘渡口镇"), make_unit("T02", "白仓镇")
        with time_machine.travel(at(2026, 11, 1, 9), tick=False):
            cid = make_campaign([late, prompt])
            launch.launch_all(cid, None)
        inst = {u: db.session.query(ProcessInstance.id).filter_by(unit_id=u).scalar() for u in (late, prompt)}
        deploy = {u: ready_tasks(inst[u], "deploy")[0].id for u in (late, prompt)}
    return {
        "app": app,
        "campaign": cid,
        "late": late,
        "prompt": prompt,
        "deploy": deploy,
        "staff": make_user("unit_staff", late, username="late_staff"),
    }


def data_of(app) -> set[str]:
    """Names people and diagrams gave: units, steps, users."""
    with app.app_context():
        return (
            {name for (name,) in db.session.query(Unit.name)}
            | {name for (name,) in db.session.query(Task.name)}
            | {name for (name,) in db.session.query(User.display_name)}
            | set(SWITCH)
        )


def test_a_refused_action_says_why_in_english(world, login_as):
    supervisor = login_as("supervisor")
    task_id = world["deploy"][world["late"]]
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):  # before the deadline: nothing to remind of
        supervisor.get("/supervise/escalations?lang=en")
        resp = supervisor.post_form(
            "/supervise/escalations/bulk",
            {"action": "remind", "task_id": str(task_id)},
            form_url="/supervise/escalations",
            follow_redirects=True,
        )
    flash = section(resp.get_data(as_text=True), 'class="flash')
    assert f"#{task_id}: The task is not overdue" in flash
    assert not CJK.search(visible_text(flash))


def test_an_error_page_in_english(world, login_as):
    supervisor = login_as("supervisor")
    resp = supervisor.get("/letters/999999?lang=en")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "No such supervision letter" in page
    assert platform_words(visible_text(page), data_of(world["app"])) == []


def test_the_notification_list_in_english(world, login_as):
    app = world["app"]
    supervisor = login_as("supervisor")
    staff = login_as("unit_staff", world["late"], username="reader")
    with time_machine.travel(at(2026, 12, 11, 9), tick=False):
        with app.app_context():
            timers.tick()  # the automatic reminders
        supervisor.post_form(
            "/supervise/escalations/bulk",
            {  # a reminder by hand, and a letter
                "action": "remind",
                "task_id": str(world["deploy"][world["late"]]),
            },
            form_url="/supervise/escalations",
        )
        supervisor.post_form(
            "/supervise/escalations/bulk",
            {"action": "letter", "task_id": str(world["deploy"][world["late"]]), "new_due": "2026-12-18"},
            form_url="/supervise/escalations",
        )
    page = staff.get("/notifications?lang=en").get_data(as_text=True)
    table = visible_text(section(page, 'id="notifications"'))
    assert 'Reminder: "' in table and "is overdue" in table and "Received " in table
    doc_numbers = set(re.findall(r"督办函〔\d+〕第\d+号", table))
    assert doc_numbers  # the letter's number is the document's own (data)
    assert platform_words(table, data_of(app) | doc_numbers) == []
    # The same notifications read in Chinese as they were stored.
    chinese = staff.get("/notifications?lang=zh_CN").get_data(as_text=True)
    assert "催办：「动员部署」已逾期" in chinese


def test_lint_problems_in_english(app):
    xml = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="t" name="T"/>
  </bpmn:process>
</bpmn:definitions>"""
    with app.test_request_context("/?lang=en"):
        problems = lint.lint(xml, "x.bpmn", set()).problems
        words = [str(p) for p in problems]
    assert words and all(not CJK.search(w) for w in words), words
    assert 'x.bpmn: "T" is a user task but has no form (form_key property)' in words
