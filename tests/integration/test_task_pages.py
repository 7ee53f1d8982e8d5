"""The pages where the work is done, driven over HTTP: lists, the task page, queues, the instance page."""

import io
import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import time_machine

from app.extensions import db
from app.models import Evidence, LedgerItem, ProcessInstance, Submission, Task
from app.services.campaigns import launch
from app.services.tasks.tasks import STALE
from tests.support import DEPLOY, JPEG, ledger_rows, make_campaign, ready_tasks, submit, upload


@pytest.fixture
def world(app, make_unit, make_user, login_as):
    unit = make_unit("A01", "塘渡口镇")
    with app.app_context():
        cid = make_campaign([unit])
        launch.launch_all(cid, None)
        instance = db.session.query(ProcessInstance).filter_by(unit_id=unit).one().id
    return SimpleNamespace(app=app, unit=unit, campaign=cid, instance=instance, login_as=login_as, make_user=make_user)


def ready_ids(w, element_id=None) -> list[int]:
    with w.app.app_context():
        return [t.id for t in ready_tasks(w.instance, element_id)]


def one_ready(w, element_id) -> int:
    found = ready_ids(w, element_id)
    assert len(found) == 1, f"expected one ready {element_id}: {found}"
    return found[0]


def lock_of(w) -> int:
    with w.app.app_context():
        return db.session.get(ProcessInstance, w.instance).lock_version


def task_row(w, task_id) -> Task:
    with w.app.app_context():
        task = db.session.get(Task, task_id)
        db.session.expunge(task)
        return task


def pdf(name="方案.pdf", content=b"%PDF-1.4 unit plan"):
    return (io.BytesIO(content), name)


def post_task(actor, url, fields, action="submit", lock=None, files=None):
    data = {**fields, "action": action}
    if lock is not None:
        data["lock_version"] = str(lock)
    data.update(files or {})
    return actor.post_form(url, data, content_type="multipart/form-data")


def html(resp) -> str:
    return resp.get_data(as_text=True)


def deploy_via_page(w, staff):
    task_id = one_ready(w, "deploy")
    resp = post_task(staff, f"/my/tasks/{task_id}", DEPLOY, lock=lock_of(w), files={"plan": pdf()})
    assert resp.status_code == 302, html(resp)[:2000]
    return task_id


def through_self_check(w, staff_id, *titles, deadline="2027-03-31", deadlines=None):
    """Deploy and self-check through the services (the pages under test come after)."""
    submit(w.app, staff_id, one_ready(w, "deploy"), DEPLOY, {"plan": upload()})
    fields = {"summary": "自查完毕", **ledger_rows(*titles, deadline=deadline)}
    for i, value in enumerate(deadlines or []):
        fields[f"ledger-{i}-deadline"] = value
    submit(w.app, staff_id, one_ready(w, "self_check"), fields)


def test_staff_list_shows_lights_for_red_yellow_and_green(world):
    w = world
    colleague = w.make_user("unit_staff", w.unit, username="staffB")
    sup = w.make_user("supervisor", username="sup1")
    with w.app.app_context():
        through_self_check(
            w, colleague, "广场超标", "道路过宽", "亮化过度", deadlines=["2027-01-10", "2027-01-17", "2027-03-31"]
        )
        submit(w.app, sup, one_ready(w, "review_self_check"), {"decision": "accept"})
    # Log in after the jump: a session cookie from two months ago would have expired.
    with time_machine.travel(datetime(2027, 1, 15, 4, tzinfo=UTC), tick=False):
        staff = w.login_as("unit_staff", w.unit, username="staffA")
        page = html(staff.get("/my/tasks"))
    rows = {
        title: row
        for row in re.findall(r"<tr data-task=.*?</tr>", page, re.S)
        for title in ("广场超标", "道路过宽", "亮化过度")
        if title in row
    }
    assert "light-red" in rows["广场超标"] and "逾期" in rows["广场超标"]
    assert "light-yellow" in rows["道路过宽"] and "临期" in rows["道路过宽"]
    assert "light-green" in rows["亮化过度"]
    # The deploy and self-check the unit already did are listed as done.
    assert "最近办结" in page and "动员部署" in page.split("最近办结")[1]


def test_deploy_submitted_through_page_completes_and_self_check_appears(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    task_id = one_ready(w, "deploy")
    page = html(staff.get(f"/my/tasks/{task_id}"))
    assert "动员部署" in page and "塘渡口镇" in page and 'name="lock_version"' in page
    assert 'enctype="multipart/form-data"' in page and "保存草稿" in page and "提交" in page
    resp = post_task(staff, f"/my/tasks/{task_id}", DEPLOY, lock=lock_of(w), files={"plan": pdf()})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/my/tasks")
    assert "已提交" in html(staff.get("/my/tasks"))
    assert task_row(w, task_id).status == "completed"
    self_check = one_ready(w, "self_check")
    listing = html(staff.get("/my/tasks"))
    assert f'href="/my/tasks/{self_check}"' in listing
    with w.app.app_context():
        stored = db.session.query(Evidence).filter_by(task_id=task_id).one()
        assert stored.filename == "方案.pdf" and stored.field == "plan"
    # The completed task is now read-only: its answers and its file.
    done = html(staff.get(f"/my/tasks/{task_id}"))
    assert "张三" in done and f"/evidence/{stored.id}" in done and 'id="task-form"' not in done


def test_missing_required_field_keeps_typed_values_and_completes_nothing(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    task_id = one_ready(w, "deploy")
    fields = {**DEPLOY, "group_head": "", "attendees": "王局长、李主任"}
    resp = post_task(staff, f"/my/tasks/{task_id}", fields, lock=lock_of(w), files={"plan": pdf()})
    page = html(resp)
    assert resp.status_code == 200
    assert "表单有误，请按提示修改" in page
    head_block = page.split('for="group_head"')[1].split("</div>")[0]
    assert "此项为必填项" in head_block
    assert 'value="2026-11-20"' in page and "王局长、李主任" in page and 'value="25"' in page
    assert task_row(w, task_id).status == "ready"
    with w.app.app_context():
        assert db.session.query(Submission).count() == 0
    # The uploaded plan is kept: resubmitting without choosing it again completes the task.
    resp = post_task(staff, f"/my/tasks/{task_id}", DEPLOY, lock=lock_of(w))
    assert resp.status_code == 302, html(resp)[:2000]
    assert task_row(w, task_id).status == "completed"


def test_draft_keeps_values_on_reload(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    task_id = one_ready(w, "deploy")
    resp = post_task(staff, f"/my/tasks/{task_id}", {"group_head": "赵书记", "attendance": "12"}, action="draft")
    assert resp.status_code == 302
    page = html(staff.get(f"/my/tasks/{task_id}"))
    assert "草稿已保存" in page and 'value="赵书记"' in page and 'value="12"' in page
    assert task_row(w, task_id).status == "ready"
    assert "有草稿" in html(staff.get("/my/tasks"))


def test_disallowed_file_type_is_refused_in_chinese(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    task_id = one_ready(w, "deploy")
    resp = post_task(
        staff, f"/my/tasks/{task_id}", DEPLOY, lock=lock_of(w), files={"plan": (io.BytesIO(b"MZ\x90\x00"), "setup.exe")}
    )
    page = html(resp)
    assert resp.status_code == 415
    plan_block = page.split('for="plan"')[1].split("</div>")[0]
    assert "setup.exe" in plan_block and "不允许上传" in plan_block
    assert task_row(w, task_id).status == "ready"
    with w.app.app_context():
        assert db.session.query(Evidence).count() == 0


def test_stale_lock_version_is_a_conflict_and_changes_nothing(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    task_id = one_ready(w, "deploy")
    resp = post_task(staff, f"/my/tasks/{task_id}", DEPLOY, lock=lock_of(w) - 1, files={"plan": pdf()})
    page = html(resp)
    assert resp.status_code == 409
    assert STALE in page and 'value="张三"' in page  # the message, and nothing typed lost
    assert task_row(w, task_id).status == "ready"
    with w.app.app_context():
        assert db.session.query(Submission).count() == 0 and db.session.query(Evidence).count() == 0


def test_supervisor_returns_self_check_and_staff_sees_comment_and_previous_answers(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    deploy_via_page(w, staff)
    self_check = one_ready(w, "self_check")
    resp = post_task(
        staff, f"/my/tasks/{self_check}", {"summary": "共排查项目3个", **ledger_rows("广场超标")}, lock=lock_of(w)
    )
    assert resp.status_code == 302, html(resp)[:2000]

    sup = w.login_as("supervisor", username="sup1")
    queue = html(sup.get("/supervise/queue"))
    review = one_ready(w, "review_self_check")
    assert f'href="/supervise/tasks/{review}"' in queue and "塘渡口镇" in queue
    filtered = html(sup.get("/supervise/queue?kind=verify_item"))
    assert f'/supervise/tasks/{review}"' not in filtered
    review_page = html(sup.get(f"/supervise/tasks/{review}"))
    assert "共排查项目3个" in review_page and "广场超标" in review_page  # what is being reviewed
    resp = post_task(
        sup, f"/supervise/tasks/{review}", {"decision": "return", "comments": "台账缺少责任部门说明"}, lock=lock_of(w)
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/supervise/queue")

    again = one_ready(w, "self_check")
    listing = html(staff.get("/my/tasks"))
    row = re.search(rf'<tr data-task="{again}".*?</tr>', listing, re.S).group(0)
    assert "已退回" in row
    page = html(staff.get(f"/my/tasks/{again}"))
    assert "退回意见" in page and "台账缺少责任部门说明" in page
    assert "共排查项目3个" in page and 'value="广场超标"' in page  # pre-filled from the last submission


def test_instance_page_shows_submissions_and_evidence_links(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    deploy_task = deploy_via_page(w, staff)
    with w.app.app_context():
        evidence_id = db.session.query(Evidence.id).filter_by(task_id=deploy_task).scalar()
    sup = w.login_as("supervisor", username="sup1")
    page = html(sup.get(f"/supervise/instances/{w.instance}"))
    assert "塘渡口镇" in page and "自查自纠" in page  # unit and phase
    assert "领导小组组长" in page and "张三" in page and "会议日期" in page
    assert f'href="/evidence/{evidence_id}"' in page and "方案.pdf" in page
    download = sup.get(f"/evidence/{evidence_id}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 unit plan"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "application/pdf"
    download.close()  # the streamed file stays open until the response is closed
    # The unit's own staff see their instance too.
    assert staff.get(f"/supervise/instances/{w.instance}").status_code == 200
    assert staff.get(f"/my/instances/{w.instance}").status_code == 302


def test_missing_evidence_file_is_a_404_with_a_message(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    deploy_task = deploy_via_page(w, staff)
    with w.app.app_context():
        from app.services.tasks import evidence

        row = db.session.query(Evidence).filter_by(task_id=deploy_task).one()
        evidence.path_of(row).unlink()
    resp = staff.get(f"/evidence/{row.id}")
    assert resp.status_code == 404 and "找不到" in html(resp)


def test_verify_page_shows_the_rectification_report_and_its_evidence(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    sup = w.login_as("supervisor", username="sup1")
    with w.app.app_context():
        through_self_check(w, staff.user, "广场超标")
        submit(w.app, sup.user, one_ready(w, "review_self_check"), {"decision": "accept"})
    rectify = one_ready(w, "rectify_item")
    page = html(staff.get(f"/my/tasks/{rectify}"))
    assert "广场超标" in page and "制定整改方案并落实" in page and "2027-03-31" in page  # the item it concerns
    resp = post_task(
        staff,
        f"/my/tasks/{rectify}",
        {"measures_taken": "已拆除超标部分", "completed_on": "2027-02-01"},
        lock=lock_of(w),
        files={"evidence": [pdf("验收.pdf"), (io.BytesIO(JPEG), "照片.jpg")]},
    )
    assert resp.status_code == 302, html(resp)[:2000]
    verify = one_ready(w, "verify_item")
    page = html(sup.get(f"/supervise/tasks/{verify}"))
    assert "已拆除超标部分" in page and "验收.pdf" in page and "照片.jpg" in page
    resp = post_task(
        sup, f"/supervise/tasks/{verify}", {"decision": "close", "check_type": "spot_check"}, lock=lock_of(w)
    )
    assert resp.status_code == 302
    with w.app.app_context():
        assert db.session.query(LedgerItem).one().status == "closed"


def test_assessor_queue_disables_assessment_while_items_are_open(world):
    w = world
    staff = w.make_user("unit_staff", w.unit, username="staffA")
    sup = w.login_as("supervisor", username="sup1")
    with w.app.app_context():
        through_self_check(w, staff)  # an empty ledger goes straight to assessment
        submit(w.app, sup.user, one_ready(w, "review_self_check"), {"decision": "accept"})
    assessment = one_ready(w, "assessment")
    assessor = w.login_as("assessor", username="ass1")
    page = html(assessor.get("/assess/queue"))
    assert f'href="/assess/tasks/{assessment}"' in page and "disabled" not in page

    resp = sup.post_form(
        f"/supervise/instances/{w.instance}/items",
        {
            "title": "督导发现：台账不实",
            "source": "supervision",
            "measures": "重新核实",
            "responsible_leader": "李四",
            "responsible_department": "党政办",
            "deadline": "2027-03-15",
        },
        form_url=f"/supervise/instances/{w.instance}",
    )
    assert resp.status_code == 302
    page = html(assessor.get("/assess/queue"))
    row = re.search(rf'<tr data-task="{assessment}".*?</tr>', page, re.S).group(0)
    assert "disabled" in row and "尚有1项未销号" in row and f'href="/assess/tasks/{assessment}"' not in row


def test_add_item_form_creates_a_rectify_task_for_the_unit(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    sup = w.login_as("supervisor", username="sup1")
    with w.app.app_context():
        through_self_check(w, staff.user, "广场超标")
        submit(w.app, sup.user, one_ready(w, "review_self_check"), {"decision": "accept"})
    url = f"/supervise/instances/{w.instance}"
    page = html(sup.get(url))
    assert "新增整改事项（督导发现）" in page
    assert "新增整改事项" not in html(staff.get(url))  # only supervisors add findings

    bad = sup.post_form(
        f"{url}/items",
        {
            "title": "",
            "source": "supervision",
            "measures": "重新核实",
            "responsible_leader": "李四",
            "responsible_department": "党政办",
            "deadline": "2027-03-15",
        },
        form_url=url,
    )
    assert bad.status_code == 200 and "此项为必填项" in html(bad) and "重新核实" in html(bad)
    assert ready_ids(w, "rectify_added_item") == []

    resp = sup.post_form(
        f"{url}/items",
        {
            "title": "督导发现：公示不到位",
            "source": "supervision",
            "measures": "补充公示",
            "responsible_leader": "李四",
            "responsible_department": "党政办",
            "deadline": "2027-03-15",
        },
        form_url=url,
    )
    assert resp.status_code == 302
    added = one_ready(w, "rectify_added_item")
    assert "已新增整改事项" in html(sup.get(url))
    assert f'href="/my/tasks/{added}"' in html(staff.get("/my/tasks"))
    assert "督导发现：公示不到位" in html(staff.get(f"/my/tasks/{added}"))
    assert "督导发现：公示不到位" in html(staff.get("/my/ledger"))


def test_staff_ledger_lists_items_with_status_names(world):
    w = world
    staff = w.login_as("unit_staff", w.unit, username="staffA")
    with w.app.app_context():
        through_self_check(w, staff.user, "广场超标")
    page = html(staff.get("/my/ledger"))
    assert "广场超标" in page and "待审核" in page and "测政发〔2026〕1号" in page
