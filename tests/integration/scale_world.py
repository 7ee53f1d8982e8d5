"""A launched campaign of any size, driven through the services as people would drive it, for
tests that compare a page at two sizes (tests/integration/test_statement_counts.py).

Units take turns at three stages, so every hot page has rows that grow with the campaign:
  - unit 0, 3, 6, ...: ledger of `items` items, each rectified and closed: waiting for the
    assessor (unit 0's items each rectified by another of its staff);
  - unit 1, 4, 7, ...: ledger of `items` items, half of them rectified (waiting for the
    supervisor), the rest open on the unit's to-do list;
  - unit 2, 5, 8, ...: still at deploy: past the deadline the sweep reminds them, issues a
    supervision letter (every other one acknowledged) and then a public notice (`escalate`).
The evidence of closed items is published on the campaign's public pages.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from app.extensions import db
from app.models import CampaignUnit, Evidence, ProcessInstance, SupervisionLetter, User
from app.services.accounts import units, users
from app.services.campaigns import launch
from app.services.disclosure import disclosure
from app.services.escalation import letters
from app.services.sweep import timers
from tests.support import DEPLOY, JPEG, ledger_rows, make_campaign, ready_tasks, submit, upload

# The deploy phase ends 2026-12-10 at 17:30 Beijing time: a minute later the sweep reminds, 3
# working days later it issues the letters, 10 the public notices (tests/integration/test_public_notices.py).
# The rectifying units' items are due 2026-12-18: reminded on the 21st, and by the 28th lettered.
REMINDED = datetime(2026, 12, 10, 9, 31, tzinfo=UTC)
LETTERED = datetime(2026, 12, 15, 9, 31, tzinfo=UTC)
ITEMS_DUE = "2026-12-18"
ITEMS_REMINDED = datetime(2026, 12, 21, 2, 0, tzinfo=UTC)
NOTICED = datetime(2026, 12, 28, 2, 0, tzinfo=UTC)
# When letters are acknowledged, and then when the pages are requested.
ACKNOWLEDGED = datetime(2026, 12, 28, 2, 30, tzinfo=UTC)
AFTERWARDS = datetime(2026, 12, 28, 3, 0, tzinfo=UTC)

RECTIFY = {"measures_taken": "已拆除超标灯具", "completed_on": "2026-11-16"}
CLOSE = {"decision": "close", "check_type": "spot_check"}
PASSWORD = "Passw0rd!"


@dataclass
class Scene:
    """One campaign: the ids its pages are requested with, and the user names to log in as."""

    campaign: int
    slug: str  # the campaign's public slug
    units: list[int]
    supervisor: str
    assessor: str
    staff: str  # the rectifying unit's staff (unit 1)
    unit: int  # the rectifying unit
    instance: int  # its instance
    assessed_instance: int  # unit 0's instance: every item closed, by several of its staff
    rectify_tasks: list[int]  # its open rectify steps (at least two: one to show, one to complete)
    verify_task: int  # its rectified item, waiting for the supervisor
    assessment_task: int  # unit 0's assessment, waiting for the assessor
    unit_slug: str  # unit 0's public slug (its closed items and published evidence)


def _user(role: str, name: str, unit_id: int | None = None) -> int:
    return users.create_user(
        username=name, password=PASSWORD, role=role, display_name=f"测试{name}", unit_id=unit_id
    ).id


def _through_ledger(app, staff: int, supervisor: int, instance: int, tag: str, items: int, deadline: str) -> None:
    submit(app, staff, ready_tasks(instance, "deploy")[0].id, DEPLOY, {"plan": upload()})
    titles = [f"{tag}问题{n}" for n in range(1, items + 1)]
    fields = {"summary": "自查完毕", **ledger_rows(*titles, deadline=deadline)}
    submit(app, staff, ready_tasks(instance, "self_check")[0].id, fields)
    submit(app, supervisor, ready_tasks(instance, "review_self_check")[0].id, {"decision": "accept"})


def _rectify(app, staff: int, task_id: int) -> None:
    submit(app, staff, task_id, RECTIFY, {"evidence": [upload("整改照片.jpg", JPEG)]})


def build(app, prefix: str, size: int, items: int, also_in: int = 0) -> Scene:
    """A published campaign of `size` units (codes prefix000, ...; at least 3) with `items` ledger
    items (at least 3) per unit that got that far, the rectifying unit (unit 1) taking part in
    `also_in` other campaigns too (launched, at deploy); call inside an app context, at BASE."""
    unit_ids = [
        units.ensure_unit(code=f"{prefix}{n:03d}", name=f"{prefix}测试镇{n}", kind="township").id for n in range(size)
    ]
    supervisor = _user("supervisor", f"{prefix}-sup")
    _user("assessor", f"{prefix}-assessor")
    staff = {unit: _user("unit_staff", f"{prefix}-staff{n}", unit) for n, unit in enumerate(unit_ids)}
    campaign = make_campaign(unit_ids, doc_number=f"测政发〔2026〕{prefix}号")
    launch.launch_all(campaign, None)
    instances = dict(
        db.session.query(ProcessInstance.unit_id, ProcessInstance.id).filter(ProcessInstance.campaign_id == campaign)
    )
    for n, unit in enumerate(unit_ids):
        stage = n % 3
        if stage == 2:
            continue  # late at deploy
        instance = instances[unit]
        deadline = ITEMS_DUE if stage == 1 else "2027-03-31"
        _through_ledger(app, staff[unit], supervisor, instance, f"{prefix}{n}", items, deadline)
        rectify = [t.id for t in ready_tasks(instance, "rectify_item")]
        for i, task_id in enumerate(rectify if stage == 0 else rectify[: items // 2]):
            by = _user("unit_staff", f"{prefix}-staff0-{i}", unit) if n == 0 else staff[unit]
            _rectify(app, by, task_id)
        if stage == 0:
            for task in ready_tasks(instance, "verify_item"):
                submit(app, supervisor, task.id, CLOSE)
            for row in db.session.scalars(
                select(Evidence.id).where(Evidence.instance_id == instance, Evidence.field == "evidence")
            ):
                disclosure.set_file_public(row, True, supervisor)
    published = disclosure.set_published(campaign, True, supervisor)
    assessed, rectifying = unit_ids[0], unit_ids[1]
    for n in range(also_in):
        elsewhere = make_campaign([rectifying], doc_number=f"测政发〔2026〕{prefix}{n}号")
        launch.launch_all(elsewhere, None)
    scene = Scene(
        campaign=campaign,
        slug=published.public_slug,
        units=unit_ids,
        supervisor=f"{prefix}-sup",
        assessor=f"{prefix}-assessor",
        staff=f"{prefix}-staff1",
        unit=rectifying,
        instance=instances[rectifying],
        assessed_instance=instances[assessed],
        rectify_tasks=[t.id for t in ready_tasks(instances[rectifying], "rectify_item")],
        verify_task=ready_tasks(instances[rectifying], "verify_item")[0].id,
        assessment_task=ready_tasks(instances[assessed], "assessment")[0].id,
        unit_slug=db.session.scalars(
            select(CampaignUnit.public_slug).filter_by(campaign_id=campaign, unit_id=assessed)
        ).one(),
    )
    db.session.remove()
    return scene


def escalate() -> None:
    """The sweep past the deadlines: a reminder, a letter and a public notice for every unit still
    at deploy, a reminder and a letter for each overdue item; every other letter is acknowledged."""
    for moment in (REMINDED, LETTERED, ITEMS_REMINDED, NOTICED):
        with time_machine.travel(moment, tick=False):
            timers.tick()
    with time_machine.travel(ACKNOWLEDGED, tick=False):
        issued = db.session.scalars(select(SupervisionLetter).order_by(SupervisionLetter.id)).all()
        for letter in issued[::2]:
            staff = db.session.scalars(select(User).filter_by(unit_id=letter.unit_id, role="unit_staff")).first()
            letters.acknowledge(letter.id, staff)
    db.session.remove()
