"""A stale completion fails cleanly: one winner, a clear message for the other, nothing half-written."""

import threading

from app.extensions import db
from app.models import AuditEvent, ProcessInstance, Submission, Task
from app.services.campaigns import launch
from app.services.tasks import tasks
from tests.support import DEPLOY, ledger_rows, make_campaign, ready_tasks, submit, upload


def _to_review(app, make_unit, make_user):
    unit = make_unit("T01")
    cid = make_campaign([unit])
    launch.launch_all(cid, None)
    staff = make_user("unit_staff", unit)
    instance_id = db.session.query(ProcessInstance.id).filter_by(unit_id=unit).scalar()
    submit(app, staff, ready_tasks(instance_id, "deploy")[0].id, DEPLOY, {"plan": upload()})
    submit(app, staff, ready_tasks(instance_id, "self_check")[0].id, {"summary": "s", **ledger_rows("甲")})
    return instance_id, ready_tasks(instance_id, "review_self_check")[0]


def test_stale_lock_version_is_refused(app, ctx, make_unit, make_user):
    instance_id, review = _to_review(app, make_unit, make_user)
    sup = make_user("supervisor")
    stale = db.session.get(ProcessInstance, instance_id).lock_version - 1
    try:
        submit(app, sup, review.id, {"decision": "accept"}, lock=stale)
        raise AssertionError("stale completion was accepted")
    except tasks.Conflict as exc:
        assert "刷新" in exc.message
    db.session.expire_all()
    assert db.session.get(Task, review.id).status == "ready"
    assert db.session.query(Submission).filter_by(task_id=review.id).count() == 0


def test_two_supervisors_complete_the_same_task_at_once(app, ctx, make_unit, make_user):
    instance_id, review = _to_review(app, make_unit, make_user)
    sups = [make_user("supervisor", username=f"sup{i}") for i in range(2)]
    version = db.session.get(ProcessInstance, instance_id).lock_version
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(user_id, decision):
        with app.app_context():
            barrier.wait()
            try:
                submit(app, user_id, review.id, {"decision": decision, "comments": "并发"}, lock=version)
                outcomes.append("ok")
            except tasks.Conflict as exc:
                outcomes.append("conflict:" + exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(u, d)) for u, d in zip(sups, ["accept", "return"], strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance.lock_version == version + 1
    assert db.session.query(Submission).filter_by(task_id=review.id).count() == 1
    assert db.session.query(AuditEvent).filter_by(action="task.complete", entity_id=str(review.id)).count() == 1
    # Exactly one outcome is visible: either the rectification started or the self-check came back.
    nxt = {t.element_id for t in ready_tasks(instance_id)}
    assert nxt in ({"rectify_item"}, {"self_check"})
