"""The scheduler's sweep on PostgreSQL: N open instances of which M are due.

    python bench/sweep.py --instances 100000 --due 1000

The database (default $DATABASE_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/bench_sweep)
is emptied first; its name must contain "bench". N - M instances belong to a campaign whose
deadlines are weeks ahead; M to one whose deploy step became overdue a few days ago, so their
reminder timer is due now (the letter and notice rungs are a month away). Both templates are
started once with the real engine and copied to every row, as a launch does.
Measured: the idle sweep (a sweep at a moment before any timer is due: the same query over the
same table, finding nothing), then one real sweep that advances the M due instances and carries
out their reminders.
"""

import argparse
import multiprocessing
import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from common import emit, machine, make_app

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_sweep"
CHUNK = 5000


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database or ""
    if not url.startswith("postgresql") or "bench" not in name:
        raise SystemExit(f"refusing to empty {name!r}: use a PostgreSQL database whose name contains 'bench'")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def make_campaign(title: str, deploy_ends: date, ladder: dict | None = None) -> int:
    from app import clock
    from app.extensions import db
    from app.models import Campaign, CampaignPhase

    campaign = Campaign(
        doc_number=f"基准〔2026〕{title}号",
        issuer="基准测试县人民政府办公室",
        issued_on=date(2026, 1, 1),
        title=f"基准测试{title}",
        body="",
        created_at=clock.now(),
        ladder=ladder or {},
    )
    phases = [
        ("deploy", deploy_ends),
        ("self_check", deploy_ends + timedelta(days=60)),
        ("rectification", deploy_ends + timedelta(days=150)),
        ("assessment", deploy_ends + timedelta(days=180)),
    ]
    for pos, (key, ends) in enumerate(phases):
        campaign.phases.append(
            CampaignPhase(key=key, name=key, position=pos, starts=ends - timedelta(days=30), ends=ends)
        )
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


def template(campaign_id: int, at: datetime):
    """Start the process once for the campaign with the clock at `at` (nothing fires at the start)."""
    import time_machine

    from app.engine import runtime
    from app.extensions import db
    from app.models import Campaign
    from app.services.campaigns import launch
    from app.services.design import processes
    from app.services.tasks import workflow

    with time_machine.travel(at, tick=False):
        campaign = db.session.get(Campaign, campaign_id)
        run = runtime.start(processes.bundle_of(processes.latest("rectification")), launch.process_data(campaign))
        ready = run.ready_tasks()
        return run.dump(), ready, workflow.phase_of(run, ready, "deploy"), run.next_timer_at()


def insert_instances(campaign_id: int, unit_ids: list[int], tpl) -> None:
    from sqlalchemy import insert

    from app import clock
    from app.extensions import db
    from app.models import CampaignUnit, ProcessInstance, Task
    from app.services.design import processes

    state, ready, phase, next_timer = tpl
    definition_id = processes.latest("rectification").id
    now = clock.now()
    for i in range(0, len(unit_ids), CHUNK):
        chunk = unit_ids[i : i + CHUNK]
        db.session.execute(insert(CampaignUnit), [dict(campaign_id=campaign_id, unit_id=u) for u in chunk])
        ids = db.session.scalars(
            insert(ProcessInstance).returning(ProcessInstance.id, sort_by_parameter_order=True),
            [
                dict(
                    campaign_id=campaign_id,
                    unit_id=u,
                    definition_id=definition_id,
                    status="running",
                    phase=phase,
                    round=1,
                    state=state,
                    lock_version=1,
                    next_timer_at=next_timer,
                    created_at=now,
                    updated_at=now,
                )
                for u in chunk
            ],
        ).all()
        db.session.execute(
            insert(Task),
            [
                dict(
                    instance_id=i_id,
                    campaign_id=campaign_id,
                    unit_id=u,
                    spiff_task_id=r.spiff_id,
                    element_id=r.element_id,
                    name=r.name,
                    role=r.lane or "",
                    form_key=r.form_key or "",
                    phase=r.phase or phase,
                    status="ready",
                    due_at=r.due_at,
                    created_at=now,
                )
                for i_id, u in zip(ids, chunk, strict=True)
                for r in ready
            ],
        )
        db.session.commit()


def seed(n_open: int, n_due: int) -> datetime:
    """Units, the two campaigns and their instances; returns the earliest due timer."""
    from sqlalchemy import func, insert, select, text

    from app import clock
    from app.extensions import db
    from app.models import ProcessInstance, Unit, User

    today = clock.today()
    db.session.execute(
        insert(Unit), [dict(code=f"U{i:06d}", name=f"单位{i}", kind="township") for i in range(n_open + n_due)]
    )
    unit_ids = list(db.session.scalars(select(Unit.id).order_by(Unit.id)))
    open_units, due_units = unit_ids[:n_open], unit_ids[n_open:]
    # Staff for the due units, so each reminder notifies someone.
    if due_units:
        db.session.execute(
            insert(User),
            [
                dict(
                    username=f"s{u}",
                    display_name=f"联络员{u}",
                    password_hash="-",
                    role="unit_staff",
                    unit_id=u,
                    active=True,
                )
                for u in due_units
            ],
        )
    db.session.commit()

    open_campaign = make_campaign("1", today + timedelta(days=45))
    insert_instances(open_campaign, open_units, template(open_campaign, clock.now()))
    if due_units:
        # Overdue by a few days: the reminder is due; the letter and notice rungs are a month off.
        ladder = {"letter": {"days": 30, "unit": "calendar"}, "notice": {"days": 60, "unit": "calendar"}}
        ends = today - timedelta(days=5)
        while True:
            due_campaign = make_campaign(f"2-{ends}", ends, ladder)
            tpl = template(due_campaign, datetime.combine(ends - timedelta(days=20), datetime.min.time(), UTC))
            if tpl[3] is not None and tpl[3] <= clock.now():
                break
            ends -= timedelta(days=1)  # a holiday pushed the reminder past today
        insert_instances(due_campaign, due_units, tpl)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    now = clock.now()
    due = db.session.scalar(
        select(func.count()).select_from(ProcessInstance).where(ProcessInstance.next_timer_at <= now)
    )
    assert due == n_due, (due, n_due)
    first = db.session.scalar(select(func.min(ProcessInstance.next_timer_at)))
    db.session.rollback()
    return first


def _worker_sweep(app, batch_size: int, start_at: float, out) -> None:
    """One more scheduler process (forked): its own connections, the same sweep."""
    from app.extensions import db
    from app.services.sweep import timers

    with app.app_context():
        db.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
        time.sleep(max(0.0, start_at - time.time()))
        result = timers.tick(batch_size=batch_size)
        out.put((result.advanced, len(result.failed), result.escalations_done))


def parallel_sweep(app, workers: int, batch_size: int) -> tuple[float, list]:
    """`workers` scheduler processes sweep at once; wall time from the common start."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 1.0
    procs = [ctx.Process(target=_worker_sweep, args=(app, batch_size, start_at, out)) for _ in range(workers)]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    elapsed = time.time() - start_at
    for p in procs:
        p.join()
    return elapsed, results


class StatementCounter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, *args):
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=100000, help="open (running) instances in all")
    parser.add_argument("--due", type=int, default=1000, help="of which due now")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--idle-runs", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=1, help="scheduler processes sweeping at once (SKIP LOCKED shares the work)"
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    args = parser.parse_args()
    assert 0 <= args.due <= args.instances
    reset(args.database_url)
    app, url = make_app(args.database_url)
    with app.app_context():
        from app.extensions import db
        from app.models import Escalation, ProcessInstance
        from app.services.escalation import escalations
        from app.services.sweep import timers

        started = time.perf_counter()
        first_due = seed(args.instances - args.due, args.due)
        seeded = time.perf_counter() - started
        counter = StatementCounter(db.engine)

        # Idle: the same sweep a moment before the first timer is due finds nothing.
        before = first_due - timedelta(seconds=1)
        timers.tick(now=before)  # warm the connection and the plan
        idle = []
        counter.count = 0
        for _ in range(args.idle_runs):
            t0 = time.perf_counter()
            result = timers.tick(now=before, batch_size=args.batch_size)
            idle.append((time.perf_counter() - t0) * 1000)
            assert result.advanced == 0
        idle_statements = counter.count / args.idle_runs

        # The real sweep; delivery of the escalations timed apart from advancing.
        delivering = []
        real_deliver = escalations.deliver_pending

        def timed_deliver(*a, **kw):
            t0 = time.perf_counter()
            try:
                return real_deliver(*a, **kw)
            finally:
                delivering.append(time.perf_counter() - t0)

        escalations.deliver_pending = timed_deliver
        counter.count = 0
        if args.workers > 1:
            db.session.remove()
            sweep, per_worker = parallel_sweep(app, args.workers, args.batch_size)
            result = timers.TickResult(
                advanced=sum(r[0] for r in per_worker), escalations_done=sum(r[2] for r in per_worker)
            )
            result.failed = [None] * sum(r[1] for r in per_worker)
            print(f"workers (advanced, failed, escalations): {per_worker}")
        else:
            t0 = time.perf_counter()
            result = timers.tick(batch_size=args.batch_size)
            sweep = time.perf_counter() - t0
        escalations.deliver_pending = real_deliver
        statements = counter.count
        assert result.advanced == args.due and not result.failed, result
        # (With several workers a row another one held counts as done for both: the table decides.)
        assert args.workers > 1 or result.escalations_done == args.due, result
        db.session.rollback()
        assert db.session.query(Escalation).filter_by(status="done").count() == args.due
        assert db.session.query(ProcessInstance).filter(ProcessInstance.next_timer_at <= before).count() == 0
        delivered = sum(delivering)

    print(f"machine: {machine()}")
    print(
        f"database: {url.split('@')[-1]}; {args.instances} open instances, {args.due} due; "
        f"set-up {seeded:.1f} s; batch {args.batch_size}"
    )
    print(f"idle sweep: p50 {statistics.median(idle):.2f} ms, max {max(idle):.2f} ms, {idle_statements:.0f} statements")
    if args.workers > 1:
        print(f"sweep by {args.workers} processes at once: {sweep:.2f} s")
    else:
        print(
            f"sweep: {sweep:.2f} s ({result.batches} batches, {statements} statements): advancing "
            f"{sweep - delivered:.2f} s, carrying out {result.escalations_done} reminders {delivered:.2f} s"
        )
    tag = f"{args.instances}_open_{args.due}_due" + (f"_{args.workers}_workers" if args.workers > 1 else "")
    emit("sweep", f"idle_ms_p50@{tag}", round(statistics.median(idle), 2), "ms")
    emit("sweep", f"idle_ms_max@{tag}", round(max(idle), 2), "ms")
    emit("sweep", f"sweep_s@{tag}", round(sweep, 3), "s")
    if args.due and args.workers == 1:
        emit("sweep", f"advance_ms_per_instance@{tag}", round((sweep - delivered) * 1000 / args.due, 2), "ms")
        emit("sweep", f"deliver_ms_per_escalation@{tag}", round(delivered * 1000 / args.due, 2), "ms")


if __name__ == "__main__":
    main()
