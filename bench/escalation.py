"""Escalation throughput on PostgreSQL: S steps overdue with all three rungs due (3·S escalations),
carried out by W scheduler processes sweeping together.

    python bench/escalation.py --steps 3000 --workers 2

The database (default $DATABASE_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/bench_escalation)
is emptied first; its name must contain "bench". S units, one staff user each, and a campaign whose
deploy deadline passed 30 days ago (the default ladder: reminder at once, letter 3 working days
after, notice 10 working days after), so every rung's timer is due now. The catch-up rule carries
out one rung a step per sweep and waits each rung's interval after the previous one, so the ladder
is climbed in three rounds, as the scheduler would over the following days: now (advancing the S
instances, recording all 3·S rungs, carrying out the reminders), 8 days later (the letters) and 25
days later (the public notices). In each round W forked processes run the scheduler's own sweep
(timers.tick) at the same moment, on a clock moved to that day. Printed: each round's wall time
and the total, then the exactly-once checks: one escalation per step and level, all done, one
notification per staff member and rung, letters numbered 1..S without a gap, one notice per step.
"""

import argparse
import cProfile
import multiprocessing
import os
import pstats
import time
from datetime import UTC, datetime, timedelta

from common import emit, machine, make_app
from sweep import insert_instances, make_campaign, reset, template

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_escalation"
# (what, days after the start, advance only): advancing first, so that the three rounds that
# follow time only the carrying out.
ROUNDS = (("advancing", 0, True), ("reminders", 0, False), ("letters", 8, False), ("notices", 25, False))


def seed(n_steps: int) -> list[int]:
    """S units with a staff user each, and their instances 30 days overdue; returns the unit ids."""
    from sqlalchemy import func, insert, select, text

    from app import clock
    from app.extensions import db
    from app.models import ProcessInstance, Unit, User

    db.session.execute(insert(Unit), [dict(code=f"E{i:06d}", name=f"单位{i}", kind="township") for i in range(n_steps)])
    unit_ids = list(db.session.scalars(select(Unit.id).order_by(Unit.id)))
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
            for u in unit_ids
        ],
    )
    db.session.commit()
    ends = clock.today() - timedelta(days=30)
    campaign_id = make_campaign("escalation", ends)
    tpl = template(campaign_id, datetime.combine(ends - timedelta(days=20), datetime.min.time(), UTC))
    insert_instances(campaign_id, unit_ids, tpl)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    due = db.session.scalar(
        select(func.count()).select_from(ProcessInstance).where(ProcessInstance.next_timer_at <= clock.now())
    )
    assert due == n_steps, (due, n_steps)
    db.session.rollback()
    return unit_ids


def _worker(app, at: datetime, advance_only: bool, batch_size: int, start_at: float, out, profile: str | None) -> None:
    """One scheduler process (forked): its own connections, the sweep (or its advancing half)
    on the round's clock."""
    import time_machine

    from app.extensions import db
    from app.services.sweep import timers

    with app.app_context():
        db.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
        time.sleep(max(0.0, start_at - time.time()))
        profiler = cProfile.Profile() if profile else None
        with time_machine.travel(at, tick=True):
            if profiler:
                profiler.enable()
            t0 = time.perf_counter()
            result = timers.advance(batch_size=batch_size) if advance_only else timers.tick(batch_size=batch_size)
            elapsed = time.perf_counter() - t0
            if profiler:
                profiler.disable()
                profiler.dump_stats(f"{profile}.{os.getpid()}")
        out.put((result.advanced, len(result.failed), result.escalations_done, result.escalations_failed, elapsed))


def sweep_round(
    app, at: datetime, advance_only: bool, workers: int, batch_size: int, profile: str | None
) -> tuple[float, list]:
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 1.0
    procs = [
        ctx.Process(target=_worker, args=(app, at, advance_only, batch_size, start_at, out, profile))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=900) for _ in procs]
    elapsed = time.time() - start_at
    for p in procs:
        p.join()
    return elapsed, results


def by_level_and_status() -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Escalation

    db.session.rollback()
    rows = db.session.execute(
        select(Escalation.level, Escalation.status, func.count()).group_by(Escalation.level, Escalation.status)
    )
    return {(level, status): n for level, status, n in rows}


def check_exactly_once(unit_ids: list[int]) -> None:
    """One escalation per step and level, all done; letters 1..S with no gap; one notice and one
    notification per staff member and rung."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Escalation, Notification, PublicNotice, SupervisionLetter

    db.session.rollback()
    n = len(unit_ids)
    rows = db.session.execute(
        select(Escalation.instance_id, Escalation.unit_id, Escalation.level, Escalation.status)
    ).all()
    assert len(rows) == 3 * n, len(rows)
    assert len({(i, lvl) for i, _, lvl, _ in rows}) == 3 * n, "two escalations of one step and level"
    assert sorted((u, lvl) for _, u, lvl, _ in rows) == sorted(
        (u, lvl) for u in unit_ids for lvl in ("letter", "notice", "reminder")
    )
    assert {s for *_, s in rows} == {"done"}, by_level_and_status()
    numbers = sorted(db.session.scalars(select(SupervisionLetter.number)))
    assert numbers == list(range(1, n + 1)), "letter numbers with a gap or a duplicate"
    assert sorted(db.session.scalars(select(SupervisionLetter.unit_id))) == sorted(unit_ids)
    assert sorted(db.session.scalars(select(PublicNotice.unit_id))) == sorted(unit_ids)
    per_user = db.session.execute(
        select(Notification.user_id, Notification.kind, func.count()).group_by(Notification.user_id, Notification.kind)
    ).all()
    assert len(per_user) == 3 * n and {c for _, _, c in per_user} == {1}
    db.session.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000, help="overdue steps (one instance each)")
    parser.add_argument("--workers", type=int, default=2, help="scheduler processes sweeping at once")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--profile", help="write each worker's cProfile stats to PREFIX.<pid> and print the top")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    args = parser.parse_args()
    reset(args.database_url)
    app, url = make_app(args.database_url)
    with app.app_context():
        from app.extensions import db

        t0 = time.perf_counter()
        unit_ids = seed(args.steps)
        seeded = time.perf_counter() - t0
        db.session.remove()
        db.engine.dispose()
        start = datetime.now(UTC)
        rounds = []
        for name, days, advance_only in ROUNDS:
            at = start + timedelta(days=days)
            elapsed, results = sweep_round(app, at, advance_only, args.workers, args.batch_size, args.profile)
            assert all(r[1] == 0 and r[3] == 0 for r in results), results
            rounds.append((name, elapsed))
            print(f"{name} (day +{days}): {elapsed:.2f} s; per process (advanced, failed, done, failed, s): {results}")
            print(f"  escalations by level and status: {by_level_and_status()}")
        check_exactly_once(unit_ids)
        db.session.remove()

    advancing = rounds[0][1]
    carrying = sum(elapsed for _, elapsed in rounds[1:])
    print(f"machine: {machine()}")
    print(f"database: {url.split('@')[-1]}; {args.steps} overdue steps; set-up {seeded:.1f} s; batch {args.batch_size}")
    print(
        f"{args.workers} processes: advancing {args.steps} instances (recording {3 * args.steps} rungs) "
        f"{advancing:.2f} s; carrying out {3 * args.steps} escalations {carrying:.2f} s "
        f"({', '.join(f'{name} {elapsed:.2f} s' for name, elapsed in rounds[1:])}); exactly once: ok"
    )
    if args.profile:
        folder, prefix = os.path.split(args.profile)
        for path in sorted(p for p in os.listdir(folder or ".") if p.startswith(prefix + ".")):
            print(f"--- {path}")
            pstats.Stats(os.path.join(folder or ".", path)).sort_stats("cumulative").print_stats(25)
    tag = f"{args.steps}_steps_{args.workers}_workers"
    emit("escalation", f"carry_out_s@{tag}", round(carrying, 3), "s")
    for name, elapsed in rounds:
        emit("escalation", f"{name}_s@{tag}", round(elapsed, 3), "s")


if __name__ == "__main__":
    main()
