"""A unit's staff see and act on their own unit only: another unit's records answer 404, never 403 or 200."""

import io

import pytest

from app.extensions import db
from app.models import Evidence, ProcessInstance, Task
from app.services.campaigns import launch
from tests.support import DEPLOY, make_campaign, ready_tasks, submit, upload


@pytest.fixture
def two_units(app, make_unit, make_user, login_as):
    unit_a = make_unit("A01", "塘渡口镇")
    unit_b = make_unit("B01", "白仓镇")
    staff_b = make_user("unit_staff", unit_b, username="staffB")
    with app.app_context():
        cid = make_campaign([unit_a, unit_b])
        launch.launch_all(cid, None)
        instance_b = db.session.query(ProcessInstance).filter_by(unit_id=unit_b).one().id
        instance_a = db.session.query(ProcessInstance).filter_by(unit_id=unit_a).one().id
        deploy_b = ready_tasks(instance_b, "deploy")[0].id
        # B's staff upload their plan through the service, so B owns a stored file.
        submit(app, staff_b, deploy_b, DEPLOY, {"plan": upload("白仓镇方案.pdf")})
        evidence_b = db.session.query(Evidence.id).filter_by(unit_id=unit_b).scalar()
        self_check_b = ready_tasks(instance_b, "self_check")[0].id
        own_task = ready_tasks(instance_a, "deploy")[0].id
    staff_a = login_as("unit_staff", unit_a, username="staffA")
    return {
        "app": app,
        "staff_a": staff_a,
        "instance_b": instance_b,
        "instance_a": instance_a,
        "deploy_b": deploy_b,
        "self_check_b": self_check_b,
        "evidence_b": evidence_b,
        "own_task": own_task,
    }


def test_other_units_task_pages_are_404(two_units):
    staff = two_units["staff_a"]
    assert staff.get(f"/my/tasks/{two_units['own_task']}").status_code == 200  # the check is not "everything 404"
    for task_id in (two_units["deploy_b"], two_units["self_check_b"]):
        assert staff.get(f"/my/tasks/{task_id}").status_code == 404


def test_posting_another_units_task_form_is_404_and_changes_nothing(two_units):
    staff, app = two_units["staff_a"], two_units["app"]
    own_page = f"/my/tasks/{two_units['own_task']}"  # a real CSRF token, so only the unit check can refuse
    for action in ("submit", "draft"):
        resp = staff.post_form(
            f"/my/tasks/{two_units['self_check_b']}", {"summary": "越权提交", "action": action}, form_url=own_page
        )
        assert resp.status_code == 404
    with app.app_context():
        task = db.session.get(Task, two_units["self_check_b"])
        assert task.status == "ready" and task.draft is None


def test_other_units_evidence_is_404(two_units):
    staff = two_units["staff_a"]
    resp = staff.get(f"/evidence/{two_units['evidence_b']}")
    assert resp.status_code == 404 and b"%PDF" not in resp.data


def test_other_units_instance_page_is_404(two_units):
    staff = two_units["staff_a"]
    assert staff.get(f"/supervise/instances/{two_units['instance_a']}").status_code == 200
    assert staff.get(f"/supervise/instances/{two_units['instance_b']}").status_code == 404
    resp = staff.get(f"/my/instances/{two_units['instance_b']}", follow_redirects=True)
    assert resp.status_code == 404


def test_staff_cannot_use_supervisor_or_assessor_pages(two_units):
    staff = two_units["staff_a"]
    assert staff.get("/supervise/queue").status_code == 403
    assert staff.get("/assess/queue").status_code == 403
    assert staff.get(f"/supervise/tasks/{two_units['deploy_b']}").status_code == 403
    resp = staff.post_form(
        f"/supervise/instances/{two_units['instance_a']}/items",
        {
            "title": "自己给自己加事项",
            "source": "supervision",
            "measures": "x",
            "responsible_leader": "x",
            "responsible_department": "x",
            "deadline": "2027-03-15",
        },
        form_url=f"/my/tasks/{two_units['own_task']}",
    )
    assert resp.status_code == 403


def test_supervisor_may_download_any_units_evidence(two_units, login_as):
    sup = login_as("supervisor", username="sup1")
    resp = sup.get(f"/evidence/{two_units['evidence_b']}")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    resp.close()


def test_anonymous_download_goes_to_login(two_units, client):
    resp = client.get(f"/evidence/{two_units['evidence_b']}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_uploading_to_another_units_task_stores_nothing(two_units):
    """A multipart POST with a file for another unit's task is refused before any file is stored."""
    staff, app = two_units["staff_a"], two_units["app"]
    with app.app_context():
        before = db.session.query(Evidence).count()
    resp = staff.post_form(
        f"/my/tasks/{two_units['self_check_b']}",
        {"summary": "x", "action": "submit", "plan": (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")},
        form_url=f"/my/tasks/{two_units['own_task']}",
        content_type="multipart/form-data",
    )
    assert resp.status_code == 404
    with app.app_context():
        assert db.session.query(Evidence).count() == before
