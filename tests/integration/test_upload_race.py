"""Two people completing the same task at the same instant, with files: one wins, the other is
told clearly, and the loser's upload leaves nothing on disk. `flask files check` finds files no
record names and records whose file is missing. Real threads, on SQLite and PostgreSQL alike."""

import io
import os
import threading
import time

import pytest
from werkzeug.datastructures import FileStorage

from app import clock
from app.extensions import db
from app.models import Evidence, ProcessInstance, Task
from app.services.campaigns import launch
from app.services.tasks import evidence, file_check, tasks
from tests.support import DEPLOY, make_campaign, ready_tasks, submit, upload


@pytest.fixture(autouse=True)
def own_upload_dir(app, tmp_path, monkeypatch):
    """An upload folder of this test's own: the check compares it with this test's records only."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))


def _deploy_task(make_unit, make_user):
    unit = make_unit("R01", "并发镇")
    cid = make_campaign([unit])
    launch.launch_all(cid, None)
    instance_id = db.session.query(ProcessInstance.id).filter_by(unit_id=unit).scalar()
    staff = [make_user("unit_staff", unit, username=f"staff_race{i}") for i in range(2)]
    return ready_tasks(instance_id, "deploy")[0].id, staff


def test_two_people_complete_one_task_at_once_and_the_losers_file_is_not_kept(app, ctx, make_unit, make_user):
    task_id, staff = _deploy_task(make_unit, make_user)
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def worker(n: int, user_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                content = f"%PDF-1.4 方案 {n}".encode()
                submit(app, user_id, task_id, DEPLOY, {"plan": upload(f"方案{n}.pdf", content)})
                outcomes[n] = "ok"
            except tasks.Conflict as exc:
                outcomes[n] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n, u)) for n, u in enumerate(staff)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert list(outcomes.values()).count("ok") == 1 and len(outcomes) == 2, outcomes
    loser = next(m for m in outcomes.values() if m != "ok")
    assert "已被他人处理" in loser and "刷新" in loser
    rows = db.session.query(Evidence).filter_by(task_id=task_id).all()
    assert len(rows) == 1 and db.session.get(Task, task_id).status == "completed"
    report = file_check.check()
    assert report.orphans == [] and report.missing == []


def test_files_written_by_a_transaction_that_rolls_back_are_removed(app, ctx, make_unit, make_user):
    unit = make_unit("R02")
    user = make_user("unit_staff", unit)
    kept = evidence.write_blob(FileStorage(io.BytesIO(b"%PDF-1.4 kept"), "a.pdf"))
    db.session.add(
        Evidence(
            sha256=kept.sha256,
            filename="a.pdf",
            content_type="application/pdf",
            size=kept.size,
            field="plan",
            uploaded_by_id=user,
            uploaded_at=clock.now(),
            unit_id=unit,
        )
    )
    db.session.commit()
    evidence.forget_new_blobs()
    lost = evidence.write_blob(FileStorage(io.BytesIO(b"%PDF-1.4 lost"), "b.pdf"))
    again = evidence.write_blob(FileStorage(io.BytesIO(b"%PDF-1.4 kept"), "a.pdf"))  # same content as a record's
    db.session.rollback()
    assert evidence.discard_new_blobs() == 1
    assert not evidence.blob_path(lost.sha256).exists()
    assert evidence.blob_path(again.sha256).exists()  # named by the committed record: kept


def test_files_check_lists_orphans_and_missing_files_and_fix_removes_old_orphans(app, ctx, make_unit, make_user):
    task_id, staff = _deploy_task(make_unit, make_user)
    submit(app, staff[0], task_id, DEPLOY, {"plan": upload()})
    row = db.session.query(Evidence).filter_by(task_id=task_id).one()
    evidence.blob_path(row.sha256).unlink()  # a record whose file is gone
    old = evidence.write_blob(FileStorage(io.BytesIO(b"no record names me"), "x.pdf"))
    fresh = evidence.write_blob(FileStorage(io.BytesIO(b"nor me, but I am new"), "y.pdf"))
    evidence.forget_new_blobs()
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(evidence.blob_path(old.sha256), (day_ago, day_ago))

    report = file_check.check()
    assert {p.name for p in report.orphans} == {old.sha256, fresh.sha256}
    assert report.missing == [("evidence", row.id, row.sha256)] and not report.clean

    runner = app.test_cli_runner()
    result = runner.invoke(args=["files", "check", "--fix"])
    assert result.exit_code == 1  # the missing file remains for a person to look into
    assert "文件缺失：evidence" in result.output and "孤立2个（删除1个）" in result.output
    assert not evidence.blob_path(old.sha256).exists() and evidence.blob_path(fresh.sha256).exists()
