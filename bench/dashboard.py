"""The campaign dashboard on PostgreSQL with N units: server time of the page, its JSON figures and the
lists they drill down to.

    python bench/dashboard.py --units 20000

The database (default $DATABASE_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashboard)
is emptied first; its name must contain "bench". Units, one launched campaign, its instances spread
over every phase, their task history (steps done on time and late, open steps due from three weeks
ago to three weeks ahead), ledger items and escalations are bulk-inserted with plain SQL: the
dashboard only reads these projected rows and never a workflow, so no workflow state is stored.
Measured: each URL requested --repeat times through the app (routing, login check, the aggregate
queries, JSON or the template), p50 and p95 of the time the server spends on it.

    python bench/dashboard.py --units 20000 --reuse --clients 20 --seconds 60

--clients N: the dashboard page under load instead: gunicorn (4 sync workers, as in production
without threads) serves the app on a loopback port and N logged-in clients (threads, each its own
session) request the page back to back for --seconds; p50 / p95 of the time each client waits and
the pages served per second. --changes R gives the campaign a new data version R times a second
meanwhile (as R writes a second to it would). --reuse keeps a database already seeded with --units
(no reset).
"""

import argparse
import http.cookiejar
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path

from common import ROOT, emit, machine, make_app, percentile
from sweep import reset

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashboard"
CHUNK = 5000
PASSWORD = "Bench-2026!"
# Share of units per phase (the rest, 5 %, not started yet).
PHASE_SHARE = [
    ("deploy", 0.15),
    ("self_check", 0.20),
    ("rectification", 0.35),
    ("assessment", 0.10),
    ("follow_up", 0.05),
    ("closed", 0.10),
]
LEADS = ["县政府办", "县委办", "县发改局", "县财政局", "县住建局", "县自然资源局", "县生态环境局", "县农业农村局"]
SOURCES = ["residents", "service_users", "self_check", "supervision", "tip_off"]


def _chunks(rows: list[dict]):
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def _insert(model, rows: list[dict]) -> None:
    from sqlalchemy import insert

    from app.extensions import db

    for chunk in _chunks(rows):
        db.session.execute(insert(model), chunk)
    db.session.commit()


def seed(n_units: int, rng: random.Random) -> int:
    """Units, a launched campaign and its projected rows; returns the campaign id."""
    from sqlalchemy import insert, select, text

    from app import clock
    from app.extensions import db
    from app.models import Campaign, CampaignPhase, CampaignUnit, Escalation, LedgerItem, ProcessInstance, Task, Unit
    from app.services.design import processes

    now = clock.now()
    start = now - timedelta(days=60)
    _insert(
        Unit,
        [
            dict(
                code=f"U{i:06d}",
                name=f"单位{i}",
                kind="township" if i % 10 < 7 else "department",
                lead_department=LEADS[i % len(LEADS)],
            )
            for i in range(n_units)
        ],
    )
    campaign = Campaign(
        doc_number="基准〔2026〕看板",
        issuer="基准测试",
        issued_on=start.date(),
        title="看板基准",
        body="",
        status="launched",
        created_at=start,
        launched_at=start,
    )
    for pos, (key, _share) in enumerate(PHASE_SHARE[:5]):
        campaign.phases.append(
            CampaignPhase(
                key=key, name=key, position=pos, starts=start.date(), ends=start.date() + timedelta(days=30 * (pos + 1))
            )
        )
    db.session.add(campaign)
    db.session.commit()
    unit_ids = list(db.session.scalars(select(Unit.id).order_by(Unit.id)))
    _insert(CampaignUnit, [dict(campaign_id=campaign.id, unit_id=u) for u in unit_ids])

    definition_id = processes.latest("rectification").id
    phases = [
        rng.choices([p for p, _ in PHASE_SHARE] + [None], [s for _, s in PHASE_SHARE] + [0.05])[0] for _ in unit_ids
    ]
    started = [(u, p) for u, p in zip(unit_ids, phases, strict=True) if p]
    instance_ids = []
    for chunk in _chunks(
        [
            dict(
                campaign_id=campaign.id,
                unit_id=u,
                definition_id=definition_id,
                status="completed" if p == "closed" else "running",
                phase=p,
                round=1,
                state=b"-",
                lock_version=1,
                created_at=start,
                updated_at=now,
            )
            for u, p in started
        ]
    ):
        instance_ids += db.session.scalars(
            insert(ProcessInstance).returning(ProcessInstance.id, sort_by_parameter_order=True), chunk
        ).all()
    db.session.commit()

    order = [p for p, _ in PHASE_SHARE]
    tasks, items, escalations = [], [], []
    for (unit_id, phase), instance_id in zip(started, instance_ids, strict=True):
        base = dict(
            instance_id=instance_id,
            campaign_id=campaign.id,
            unit_id=unit_id,
            role="unit_staff",
            form_key="deploy",
            created_at=start,
        )

        def task(status, due, done=None, phase_key=phase, base=base):
            spiff = str(uuid.UUID(int=rng.getrandbits(128)))
            tasks.append(
                dict(
                    base,
                    spiff_task_id=spiff,
                    element_id="step",
                    name="步骤",
                    phase=phase_key,
                    status=status,
                    due_at=due,
                    completed_at=done,
                )
            )
            return spiff

        # Two finished steps per phase passed; about a third were done late.
        for k in range(2 * order.index(phase)):
            due = start + timedelta(days=5 + 5 * k, hours=9)
            late = rng.random() < 0.33
            task("completed", due, due + timedelta(days=rng.uniform(1, 10) if late else -rng.uniform(0.5, 4)))
        if phase != "closed":
            for _ in range(3 if phase == "rectification" else 1):
                due = now + timedelta(days=rng.uniform(-20, 20))
                spiff = task("ready", due)
                overdue_days = (now - due).days
                for level, after in (("reminder", 0), ("letter", 3), ("notice", 10)):
                    if due < now and overdue_days >= after:
                        escalations.append(
                            dict(
                                instance_id=instance_id,
                                campaign_id=campaign.id,
                                unit_id=unit_id,
                                spiff_task_id=spiff,
                                element_id="step",
                                level=level,
                                due_at=due,
                                fired_at=due + timedelta(days=after),
                                manual=False,
                                status="incident" if rng.random() < 0.01 else "done",
                                attempts=1,
                            )
                        )
        if order.index(phase) >= order.index("rectification"):
            for seq in range(1, 5):
                status = rng.choice(["rectifying", "rectified", "closed"]) if phase == "rectification" else "closed"
                items.append(
                    dict(
                        instance_id=instance_id,
                        campaign_id=campaign.id,
                        unit_id=unit_id,
                        seq=seq,
                        title=f"问题{seq}",
                        source=rng.choice(SOURCES),
                        measures="整改",
                        responsible_leader="张三",
                        responsible_department="办公室",
                        deadline=date.today() + timedelta(days=30),
                        status=status,
                        origin="self_check",
                        round=1,
                        reopen_count=0,
                        created_at=start,
                        closed_at=now if status == "closed" else None,
                    )
                )
    _insert(Task, tasks)
    _insert(LedgerItem, items)
    _insert(Escalation, escalations)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    print(
        f"seeded {n_units} units, {len(instance_ids)} instances, {len(tasks)} tasks, {len(items)} ledger items, "
        f"{len(escalations)} escalations"
    )
    return campaign.id


def seeded_campaign(n_units: int) -> int | None:
    """The campaign of an earlier run with as many units, if this database holds one."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Campaign, CampaignUnit

    cid = db.session.scalar(select(Campaign.id).where(Campaign.doc_number == "基准〔2026〕看板"))
    if cid is None:
        return None
    enrolled = db.session.scalar(select(func.count()).select_from(CampaignUnit).where(CampaignUnit.campaign_id == cid))
    return cid if enrolled == n_units else None


def login(app):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import User
    from app.services.accounts import users

    with app.app_context():
        if db.session.scalar(select(User.id).where(User.username == "bench_supervisor")) is None:
            users.create_user("bench_supervisor", PASSWORD, "supervisor", "基准督导")
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    resp = client.post("/login", data={"username": "bench_supervisor", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code
    return client


def urls(cid: int) -> list[tuple[str, str]]:
    figures = ["units_by_phase", "overdue_series", "ledger_by_source", "escalations_by_level", "progress_ranking"]
    filtered = "kind=township&lead=县住建局"
    out = [("page", f"/supervise/dashboard?campaign={cid}")]
    out += [(name, f"/supervise/dashboard/{cid}/figures/{name}.json") for name in figures]
    out += [("page filtered", f"/supervise/dashboard?campaign={cid}&{filtered}")]
    out += [(f"{name} filtered", f"/supervise/dashboard/{cid}/figures/{name}.json?{filtered}") for name in figures]
    out += [
        ("list: matrix red in rectification", f"/admin/campaigns/{cid}/matrix?phase=rectification&light=red"),
        ("list: ledger items closed", f"/supervise/dashboard/{cid}/items?status=closed&source=residents"),
        ("list: overdue a week ago", f"/supervise/dashboard/{cid}/overdue?day={date.today() - timedelta(days=7)}"),
        ("list: escalations", f"/supervise/dashboard/{cid}/escalations?level=letter"),
    ]
    return out


def new_version(app, cid: int) -> None:
    """Give the campaign a new data version (what every write it counts does), outside the timing."""
    from app.extensions import db
    from app.models.data_version import campaign_scope
    from app.services.shared import data_versions

    with app.app_context():
        data_versions.bump(db.session.connection(), [campaign_scope(cid)])
        db.session.commit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_login(base: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"username": "bench_supervisor", "password": PASSWORD, "csrf_token": token}
    resp = opener.open(f"{base}/login", urllib.parse.urlencode(form).encode())
    assert "/login" not in resp.geturl(), "login failed"
    return opener


def under_load(
    database_url: str, path: str, clients: int, seconds: float, workers: int, change=None, changes_per_second: float = 0
) -> dict:
    """`clients` logged-in clients request `path` back to back from gunicorn for `seconds`; meanwhile
    `change()` is called `changes_per_second` times a second (a write somewhere in the campaign)."""
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        RECTIFY_CONFIG="config.Config",
        SESSION_COOKIE_SECURE="0",
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_WORKERS=str(workers),
        WEB_THREADS="1",
        WEB_MAX_REQUESTS="0",
        WEB_LOG_LEVEL="warning",
        LOG_LEVEL="WARNING",
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        openers = [_http_login(base) for _ in range(clients)]
        for opener in openers:  # every worker warm
            opener.open(base + path).read()
        times: list[float] = []
        errors = []
        stop = time.monotonic() + seconds

        def run(opener):
            while time.monotonic() < stop:
                began = time.perf_counter()
                try:
                    opener.open(base + path, timeout=30).read()
                except OSError as exc:
                    errors.append(exc)
                    continue
                times.append((time.perf_counter() - began) * 1000)

        def write():
            while time.monotonic() < stop:
                change()
                time.sleep(1 / changes_per_second)

        threads = [threading.Thread(target=run, args=(o,)) for o in openers]
        if changes_per_second:
            threads.append(threading.Thread(target=write))
        began = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - began
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not errors, errors[:3]
    return {
        "p50": statistics.median(times),
        "p95": percentile(times, 95),
        "rate": len(times) / elapsed,
        "requests": len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded with as many units")
    parser.add_argument("--clients", type=int, default=0, help="the page under load from N clients (gunicorn)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--changes", type=float, default=0, help="with --clients: campaign changes per second")
    args = parser.parse_args()
    cid = None
    if args.reuse:
        app, url = make_app(args.database_url)
        with app.app_context():
            cid = seeded_campaign(args.units)
    if cid is None:
        reset(args.database_url)
        app, url = make_app(args.database_url)
        with app.app_context():
            cid = seed(args.units, random.Random(2026))
    client = login(app)
    print(
        f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} (other work on this machine slows every figure)"
    )
    if args.clients:
        path = f"/supervise/dashboard?campaign={cid}"
        got = under_load(
            args.database_url,
            path,
            args.clients,
            args.seconds,
            args.workers,
            change=lambda: new_version(app, cid),
            changes_per_second=args.changes,
        )
        print(
            f"dashboard page, {args.clients} clients, {args.workers} gunicorn workers, {args.seconds:.0f} s, "
            f"{args.changes:g} changes/s: "
            f"p50 {got['p50']:.1f} ms   p95 {got['p95']:.1f} ms   {got['rate']:.1f} req/s ({got['requests']} requests)"
        )
        tag = f"page_{args.clients}_clients" + (f"_{args.changes:g}_changes_per_s" if args.changes else "")
        emit("dashboard", f"{tag}_ms_p50@{args.units}", round(got["p50"], 1), "ms")
        emit("dashboard", f"{tag}_ms_p95@{args.units}", round(got["p95"], 1), "ms")
        emit("dashboard", f"{tag}_rate@{args.units}", round(got["rate"], 1), "req/s")
        return
    print(f"database: {url.split('@')[-1]}; {args.units} units, {args.repeat} requests per URL")
    results = {}
    changed = [("page, data changed before each", f"/supervise/dashboard?campaign={cid}")]
    for name, path in [*urls(cid), *changed]:
        assert client.get(path).status_code == 200, path  # warm the caches and check it works
        times = []
        for _ in range(args.repeat):
            if (name, path) in changed:
                new_version(app, cid)  # as a write to the campaign would: the next request computes
            began = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - began) * 1000)
            assert resp.status_code == 200, path
        results[name] = (statistics.median(times), percentile(times, 95))
        print(f"{name:40s} p50 {results[name][0]:7.1f} ms   p95 {results[name][1]:7.1f} ms")
    for name, (p50, p95) in results.items():
        tag = name.replace(" ", "_").replace(":", "")
        emit("dashboard", f"{tag}_ms_p50@{args.units}", round(p50, 1), "ms")
        emit("dashboard", f"{tag}_ms_p95@{args.units}", round(p95, 1), "ms")


if __name__ == "__main__":
    main()
