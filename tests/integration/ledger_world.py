"""A launched campaign whose first unit has an accepted ledger, one item rectified with evidence,
and a supervisor's finding; a second unit still at deploy; a third unit outside the campaign."""

import io

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import ProcessInstance, User
from app.services.campaigns import launch
from app.services.findings import findings
from tests.support import DEPLOY, JPEG, form_for, ledger_rows, make_campaign, ready_tasks, submit, upload

FINDING = {
    "title": "督导发现：台账不实",
    "source": "supervision",
    "measures": "重新核实\n逐项补录",
    "responsible_leader": "李四",
    "responsible_department": "党政办",
    "deadline": "2027-03-15",
}


def instance_of(unit_id: int) -> ProcessInstance:
    return db.session.query(ProcessInstance).filter_by(unit_id=unit_id).one()


def add_finding(app, supervisor_id: int, instance_id: int, fields: dict | None = None) -> int:
    with app.test_request_context("/", method="POST"):
        form = form_for(app, "add_ledger_item", fields or FINDING)
        return findings.add_item(db.session.get(User, supervisor_id), instance_id, form).id


@pytest.fixture
def ledger_world(app, make_unit, make_user):
    """Built in its own app context: the tests log in through clients, which need their own."""
    unit = make_unit("T01", "塘渡口镇")
    other = make_unit("T02", "白仓镇")
    outsider = make_unit("T09", "外县镇")
    staff = make_user("unit_staff", unit, username="staff1")
    supervisor = make_user("supervisor", username="sup1")
    with app.app_context():
        cid = make_campaign([unit, other])
        launch.launch_all(cid, None)
        inst = instance_of(unit)
        submit(app, staff, ready_tasks(inst.id, "deploy")[0].id, DEPLOY, {"plan": upload()})
        submit(
            app,
            staff,
            ready_tasks(inst.id, "self_check")[0].id,
            {"summary": "自查完毕", **ledger_rows("路灯工程超标", "广场绿化浪费")},
        )
        submit(app, supervisor, ready_tasks(inst.id, "review_self_check")[0].id, {"decision": "accept"})
        first = ready_tasks(inst.id, "rectify_item")[0]
        submit(
            app,
            staff,
            first.id,
            {"measures_taken": "已拆除超标灯具", "completed_on": "2027-02-01"},
            {"evidence": [upload("整改照片.jpg", JPEG)]},
        )
        finding = add_finding(app, supervisor, inst.id)
        world = {
            "app": app,
            "campaign": cid,
            "unit": unit,
            "other": other,
            "outsider": outsider,
            "instance": inst.id,
            "other_instance": instance_of(other).id,
            "staff": staff,
            "supervisor": supervisor,
            "finding": finding,
            "rectified_item": first.ledger_item_id,
        }
        db.session.remove()
    return world


def sheet_rows(data: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]
