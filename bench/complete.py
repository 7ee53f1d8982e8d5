"""Complete N tasks through the service layer; compare with the raw SpiffWorkflow step.

Per completion the service loads the instance, checks the user, validates the form, stores
evidence, runs the step and the engine, saves, projects tasks and writes audit events in one
transaction. The raw step is SpiffWorkflow alone on the same workflow state: deserialise its
own JSON (spec embedded, as Spiff stores it), complete the task, run the engine, serialise.

    python bench/complete.py --tasks 2000
"""

import argparse
import io
import time

from common import emit, machine, make_app, percentile, seed_campaign

STEPS = ["deploy", "self_check", "review_self_check", "rectify_item"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    units = max(1, args.tasks // len(STEPS))
    app, url = make_app(args.database_url)
    with app.app_context():
        from SpiffWorkflow.util.task import TaskState
        from sqlalchemy import func
        from werkzeug.datastructures import FileStorage

        from app.engine.script_engine import SCRIPT_ENGINE
        from app.engine.serialization import SERIALIZER
        from app.extensions import db
        from app.forms import registry as forms
        from app.models import ProcessInstance, Task, User
        from app.services.accounts import users
        from app.services.campaigns import launch
        from app.services.tasks import tasks, workflow

        campaign_id = seed_campaign(units)
        launch.launch_all(campaign_id, None)
        staff = {}
        for (unit_id,) in db.session.query(ProcessInstance.unit_id).all():
            staff[unit_id] = users.create_user(f"s{unit_id}", "benchmark-pass", "unit_staff", "s", unit_id).id
        sup = users.create_user("sup", "benchmark-pass", "supervisor", "督导").id

        def fields_for(step: str) -> tuple[dict, dict, dict]:
            if step == "deploy":
                return (
                    {"meeting_date": "2026-11-20", "attendance": "20", "group_head": "张三", "group_members": "李四"},
                    {"plan": FileStorage(io.BytesIO(b"%PDF-1.4 plan"), "plan.pdf")},
                    {},
                )
            if step == "self_check":
                f = {"summary": "s"}
                for i in range(3):
                    f.update(
                        {
                            f"ledger-{i}-title": f"问题{i}",
                            f"ledger-{i}-source": "residents",
                            f"ledger-{i}-measures": "整改",
                            f"ledger-{i}-responsible_leader": "张三",
                            f"ledger-{i}-responsible_department": "办公室",
                            f"ledger-{i}-deadline": "2027-03-31",
                        }
                    )
                return f, {}, {}
            if step == "review_self_check":
                items = [{"id": i, "seq": i, "due": "2027-03-31T23:59:59+08:00"} for i in range(3)]
                return {"decision": "accept"}, {}, {"decision": "accept", "ledger": items}
            return (
                {"measures_taken": "已整改", "completed_on": "2027-01-05"},
                {"evidence": FileStorage(io.BytesIO(b"%PDF-1.4 proof"), "proof.pdf")},
                {},
            )

        service_ms, raw_ms = [], []
        for step in STEPS:
            task_ids = [
                i for (i,) in db.session.query(Task.id).filter_by(element_id=step, status="ready").order_by(Task.id)
            ]
            for task_id in task_ids:
                if len(service_ms) >= args.tasks:
                    break
                # A fresh session per completion, as each web request gets one.
                db.session.remove()
                task = db.session.get(Task, task_id)
                fields, files, process_data = fields_for(step)
                # Raw SpiffWorkflow on the same state (prepared outside the timing).
                instance = db.session.get(ProcessInstance, task.instance_id)
                full_json = SERIALIZER.serialize_json(workflow.load(instance).workflow)
                t0 = time.perf_counter()
                wf = SERIALIZER.deserialize_json(full_json)
                wf.script_engine = SCRIPT_ENGINE  # the diagram's expressions need our functions
                spiff_task = next(
                    t for t in wf.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == task.spiff_task_id
                )
                spiff_task.data.update(process_data)
                spiff_task.run()
                wf.refresh_timers()
                wf.do_engine_steps()
                SERIALIZER.serialize_json(wf)
                raw_ms.append((time.perf_counter() - t0) * 1000)

                user_id = sup if task.role == "supervisor" else staff[task.unit_id]
                db.session.remove()
                with app.test_request_context("/", method="POST"):
                    t0 = time.perf_counter()
                    user = db.session.get(User, user_id)
                    form = forms.form_from_values(step, fields, files)
                    tasks.complete(user, task_id, form)
                    service_ms.append((time.perf_counter() - t0) * 1000)
        state_bytes = db.session.scalar(func.avg(func.length(ProcessInstance.state)))
    p50, p95, raw50 = percentile(service_ms, 50), percentile(service_ms, 95), percentile(raw_ms, 50)
    print(f"machine: {machine()}")
    print(f"database: {url.split('://')[0]}; {len(service_ms)} completions over {units} units")
    emit("complete", "service_p50", round(p50, 2), "ms")
    emit("complete", "service_p95", round(p95, 2), "ms")
    emit("complete", "raw_spiff_p50", round(raw50, 2), "ms")
    emit("complete", "raw_spiff_p95", round(percentile(raw_ms, 95), 2), "ms")
    emit("complete", "ratio_p50", round(p50 / raw50, 2), "x")
    emit("complete", "state_bytes_per_instance_after", round(float(state_bytes), 1), "bytes")


if __name__ == "__main__":
    main()
