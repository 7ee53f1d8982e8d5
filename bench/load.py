"""Province scale under load: 20 logged-in people at once on a campaign of 20,000 units, served by
gunicorn with the production configuration, on PostgreSQL.

    python bench/load.py --units 20000 --clients 20 --seconds 30 [--reuse]

Seeds (bulk inserts, as bench/dashboard.py does) a launched, published campaign of N units with
5N tasks (N open), 2N ledger items, the escalations its overdue steps would have reached, an audit
trail of about 8 events a unit (chained, as the application chains them) and one staff account a
unit. The units the clients work for are launched and brought to rectification with the real
engine (deploy with a file, self-check with 4 ledger items, review accepted): each staff client
has --open-per-client (32) real open steps (整改落实, a file required) to complete under load,
over the accounts of several units (4 steps a unit, the campaign's usual count).

Then starts gunicorn (gunicorn.conf.py, RECTIFY_CONFIG=config.ProductionConfig, a random
SECRET_KEY, uploads in a temporary directory) on 127.0.0.1 at a free port, waits for /readyz, and
starts one process per client. Each logs in through the login form with its CSRF token, keeps its
cookies as a browser does, and loops over its pages until --seconds (after --warmup seconds not
counted) or --requests. Unit staff: the task list, a task page, a draft save, a completion with a
file. Supervisors and the assessor: the campaign's ledger register, the dashboard, one of its
figures and two drill-downs, the audit trail, the public campaign page. Every client requests the
trivial route (/healthz, no database) once a loop: the floor the other pages are compared with.

The database (--database-url, default postgresql+psycopg://postgres@127.0.0.1:5432/bench_load)
is created if missing and emptied first; its name must contain "bench". With --reuse the seeded
database is kept as a template (<name>_seed_<units>, its comment says what was seeded) and each
later run with the same figures copies it instead of seeding again (seconds instead of minutes).

Requests carry X-Forwarded-Proto: https, X-Forwarded-For (each client its own address) and a
Referer, as they arrive from nginx in production (TRUSTED_PROXIES=1, as deploy/ sets it), so the
app runs its production settings unchanged: secure cookies, CSRF with its HTTPS referrer check,
the login throttle by client address. The client keeps those cookies although the loopback hop
is plain http, as the browser would on its TLS hop to nginx.
"""

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from datetime import date, timedelta
from pathlib import Path

from common import ROOT, emit, machine, percentile

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_load"
SEED_VERSION = 2
# Each staff client works for several real units of this many open ledger items (the campaign's
# units have 3-4 on average), moving to the next unit's account when one unit's steps are done.
ITEMS_PER_CLIENT_UNIT = 4
CHUNK = 5000
PASSWORD = "Bench-Load-2026!"
PHASE_SHARE = [
    ("deploy", 0.15),
    ("self_check", 0.20),
    ("rectification", 0.35),
    ("assessment", 0.10),
    ("follow_up", 0.05),
    ("closed", 0.10),
]
ORDER = [p for p, _ in PHASE_SHARE]
LEADS = ["县政府办", "县委办", "县发改局", "县财政局", "县住建局", "县自然资源局", "县生态环境局", "县农业农村局"]
SOURCES = ["residents", "service_users", "self_check", "supervision", "tip_off"]
# What each target is, per page kind (issue 14): every page p95 <= 100 ms and <= 6x the trivial
# route; the dashboard (and its figures and drill-downs) and the ledger register <= 200 ms; a
# completion with a file <= 250 ms.
TARGETS = {"page": 100.0, "heavy": 200.0, "completion": 250.0}
RATIO_TARGET = 6.0
# (name, kind) in the order the table prints them.
PAGES = [
    ("trivial /healthz", "trivial"),
    ("staff: task list", "page"),
    ("staff: task page", "page"),
    ("staff: draft save", "page"),
    ("staff: completion with a file", "completion"),
    ("ledger register", "heavy"),
    ("dashboard", "heavy"),
    ("dashboard figure", "heavy"),
    ("drill-down: overdue", "heavy"),
    ("drill-down: ledger items", "heavy"),
    ("audit trail", "page"),
    ("public campaign page", "page"),
]
KIND = dict(PAGES)


# --------------------------------------------------------------------------- the database


def _admin_engine(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _check_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    name = make_url(url).database or ""
    if not url.startswith("postgresql") or "bench" not in name:
        raise SystemExit(f"refusing to use {name!r}: give a PostgreSQL database whose name contains 'bench'")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"database name {name!r}: letters, digits and _ only")
    return name


def _seed_marker(args) -> str:
    return json.dumps(
        {
            "bench": "load",
            "version": SEED_VERSION,
            "units": args.units,
            "tasks": args.tasks,
            "items": args.items,
            "staff_clients": args.staff_clients,
            "overseers": args.clients - args.staff_clients,
            "open_per_client": args.open_per_client,
        },
        sort_keys=True,
    )


def prepare_database(args) -> bool:
    """Create (or re-create) the database; True if it was copied from a matching seeded template."""
    from sqlalchemy import text

    name = _check_name(args.database_url)
    template = f"{name}_seed_{args.units}"
    engine = _admin_engine(args.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if args.reuse:
                comment = conn.execute(
                    text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n").bindparams(
                        n=template
                    )
                ).scalar()
                if comment == _seed_marker(args):
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                    return True
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return False


def keep_as_template(args) -> None:
    from sqlalchemy import text

    name = _check_name(args.database_url)
    template = f"{name}_seed_{args.units}"
    engine = _admin_engine(args.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{template}" TEMPLATE "{name}"'))
            marker = _seed_marker(args).replace("'", "''")
            conn.execute(text(f"COMMENT ON DATABASE \"{template}\" IS '{marker}'"))
    finally:
        engine.dispose()


def make_app(url: str, upload_dir: str):
    from flask_migrate import upgrade

    from app import create_app
    from config import Config

    cfg = type(
        "BenchConfig",
        (Config,),
        {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": upload_dir, "SESSION_COOKIE_SECURE": False},
    )
    app = create_app(cfg)
    with app.app_context():
        upgrade()
        from app.services.design import processes

        processes.deploy_all()
    return app


# --------------------------------------------------------------------------- seeding


def _chunks(rows: list, size: int = CHUNK):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _insert(model, rows: list[dict], returning=False) -> list[int]:
    """Bulk insert; with `returning`, the rows get ids given here (after the table's largest, the
    sequence moved past them), which is several times faster than INSERT ... RETURNING."""
    from sqlalchemy import func, insert, select, text

    from app.extensions import db

    ids: list[int] = []
    if returning:
        first = (db.session.scalar(select(func.max(model.id))) or 0) + 1
        ids = list(range(first, first + len(rows)))
        rows = [dict(row, id=i) for row, i in zip(rows, ids, strict=True)]
    for chunk in _chunks(rows):
        db.session.execute(insert(model), chunk)
    if returning and ids:
        table = model.__tablename__
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ids[-1]})"))
    db.session.commit()
    return ids


def _spread(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """`total` split over the weights, each share rounded up or down at random (sums to about total)."""
    scale = total / (sum(weights) or 1)
    return [int(w * scale) + (1 if rng.random() < (w * scale) % 1 else 0) for w in weights]


def _real_units(app, campaign_id: int, units: list[int], staff: dict[int, int], supervisor_id: int, k: int) -> None:
    """Launch these units for real and bring each to rectification with k open 整改落实 steps."""
    import io

    from werkzeug.datastructures import FileStorage

    from app import clock
    from app.extensions import db
    from app.forms import registry as forms
    from app.models import Task, User
    from app.services.campaigns import launch
    from app.services.tasks import tasks

    launch.launch_all(campaign_id, None)
    deadline = (clock.today() + timedelta(days=60)).isoformat()

    def complete(element: str, user_id: int, fields: dict, files: dict | None = None) -> None:
        ids = db.session.scalars(
            db.select(Task.id).where(Task.unit_id.in_(units), Task.element_id == element, Task.status == "ready")
        ).all()
        assert len(ids) == len(units), (element, len(ids))
        for task_id in ids:
            db.session.remove()
            task = db.session.get(Task, task_id)
            uid = staff[task.unit_id] if user_id == 0 else user_id
            fresh = {name: FileStorage(io.BytesIO(data), filename) for name, (filename, data) in (files or {}).items()}
            with app.test_request_context("/", method="POST"):
                tasks.complete(db.session.get(User, uid), task_id, forms.form_from_values(element, fields, fresh))

    complete(
        "deploy",
        0,
        {"meeting_date": clock.today().isoformat(), "attendance": "20", "group_head": "张三", "group_members": "李四"},
        {"plan": ("plan.pdf", b"%PDF-1.4 plan")},
    )
    ledger = {"summary": "自查完成"}
    for i in range(k):
        ledger.update(
            {
                f"ledger-{i}-title": f"问题{i + 1}",
                f"ledger-{i}-source": SOURCES[i % len(SOURCES)],
                f"ledger-{i}-measures": "限期整改",
                f"ledger-{i}-responsible_leader": "张三",
                f"ledger-{i}-responsible_department": "办公室",
                f"ledger-{i}-deadline": deadline,
            }
        )
    complete("self_check", 0, ledger)
    complete("review_self_check", supervisor_id, {"decision": "accept"})


def seed(app, args, rng: random.Random) -> None:
    from sqlalchemy import func, insert, select, text, update

    from app import clock
    from app.extensions import db
    from app.models import (
        AuditChainHead,
        AuditEvent,
        Campaign,
        CampaignPhase,
        CampaignUnit,
        Escalation,
        LedgerItem,
        ProcessInstance,
        Task,
        Unit,
        User,
    )
    from app.models.audit import GENESIS
    from app.services.accounts import users
    from app.services.design import processes
    from app.services.shared import audit_chain

    n = args.units
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
            for i in range(n)
        ],
    )
    unit_ids = list(db.session.scalars(select(Unit.id).order_by(Unit.id)))
    # The clients' units, spread over the roster: each staff client has several.
    per_client = units_per_client(args)
    step = max(1, n // max(1, args.staff_clients * per_client))
    client_units = [unit_ids[i * step] for i in range(args.staff_clients * per_client)]
    others = sorted(set(unit_ids) - set(client_units))

    # A liaison account for every unit (not able to log in: the clients have their own).
    _insert(
        User,
        [
            dict(
                username=f"staff{u}",
                display_name=f"联络员{u}",
                password_hash="-",
                role="unit_staff",
                unit_id=u,
                active=True,
            )
            for u in others
        ],
    )
    # The clients' accounts share one password hash (production cost, computed once).
    password_hash = users.hash_password(PASSWORD)
    _insert(
        User,
        [
            dict(
                username=f"load_staff{k // per_client}_{k % per_client}",
                display_name=f"基准联络员{k}",
                password_hash=password_hash,
                role="unit_staff",
                unit_id=u,
                active=True,
            )
            for k, u in enumerate(client_units)
        ],
    )
    staff = dict(
        db.session.execute(select(User.unit_id, User.id).where(User.username.like("load_staff%"))).tuples().all()
    )
    overseers = args.clients - args.staff_clients
    for i in range(overseers):
        role = "assessor" if i == overseers - 1 and overseers > 1 else "supervisor"
        users.create_user(f"load_{role}{i}", PASSWORD, role, f"基准{role}{i}")
    supervisor_id = users.create_user("load_reviewer", PASSWORD, "supervisor", "基准审核").id
    db.session.commit()

    campaign = Campaign(
        doc_number="基准〔2026〕负载",
        issuer="基准测试",
        issued_on=start.date(),
        title="负载基准",
        body="全省专项整治（负载基准）",
        status="draft",
        created_at=start,
        published=True,
    )
    for pos, (key, _share) in enumerate(PHASE_SHARE[:5]):
        campaign.phases.append(
            CampaignPhase(
                key=key,
                name=key,
                position=pos,
                starts=start.date(),
                ends=now.date() + timedelta(days=20 + 30 * pos),
            )
        )
    db.session.add(campaign)
    db.session.commit()
    cid = campaign.id
    _insert(CampaignUnit, [dict(campaign_id=cid, unit_id=u) for u in client_units])
    began = time.perf_counter()
    _real_units(app, cid, client_units, staff, supervisor_id, ITEMS_PER_CLIENT_UNIT)
    print(
        f"  {len(client_units)} client units through deploy, self-check and review: {time.perf_counter() - began:.1f} s"
    )

    # Everyone else: projected rows only (no page the clients visit loads their workflow).
    _insert(CampaignUnit, [dict(campaign_id=cid, unit_id=u) for u in others])
    definition_id = processes.latest("rectification").id
    phases = [rng.choices(ORDER + [None], [s for _, s in PHASE_SHARE] + [0.05])[0] for _ in others]
    started = [(u, p) for u, p in zip(others, phases, strict=True) if p]
    instance_ids = _insert(
        ProcessInstance,
        [
            dict(
                campaign_id=cid,
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
        ],
        returning=True,
    )
    running = [i for i, (_u, p) in enumerate(started) if p != "closed"]
    rect = [i for i in running if started[i][1] == "rectification"]
    open_count = dict.fromkeys(running, 1)
    for j in range(max(0, args.open_tasks - len(running))):
        if rect:
            open_count[rect[j % len(rect)]] += 1
    done_counts = _spread(
        max(0, args.tasks - sum(open_count.values())),
        [2 * ORDER.index(p) + 1 for _u, p in started],
        rng,
    )
    eligible = [i for i, (_u, p) in enumerate(started) if ORDER.index(p) >= ORDER.index("rectification")]
    item_counts = dict(zip(eligible, _spread(args.items, [1.0] * len(eligible), rng), strict=True))

    tasks, escalations, items = [], [], []
    for i, ((unit_id, phase), instance_id) in enumerate(zip(started, instance_ids, strict=True)):
        base = dict(instance_id=instance_id, campaign_id=cid, unit_id=unit_id, role="unit_staff", created_at=start)
        idx = ORDER.index(phase)
        done = done_counts[i]
        for k in range(done):
            due = start + timedelta(days=2 + 55 * k / max(1, done), hours=9)
            late = rng.random() < 0.33
            tasks.append(
                dict(
                    base,
                    spiff_task_id=str(uuid.UUID(int=rng.getrandbits(128))),
                    element_id="step",
                    name="步骤",
                    form_key="deploy",
                    phase=ORDER[min(idx, k * (idx + 1) // done)],
                    status="completed",
                    due_at=due,
                    completed_at=due + timedelta(days=rng.uniform(1, 10) if late else -rng.uniform(0.5, 4)),
                )
            )
        for _ in range(open_count.get(i, 0)):
            due = now + timedelta(days=rng.uniform(-20, 20))
            spiff = str(uuid.UUID(int=rng.getrandbits(128)))
            tasks.append(
                dict(
                    base,
                    spiff_task_id=spiff,
                    element_id="step",
                    name="步骤",
                    form_key="deploy",
                    phase=phase,
                    status="ready",
                    due_at=due,
                    completed_at=None,
                )
            )
            for level, after in (("reminder", 0), ("letter", 3), ("notice", 10)):
                if due < now and (now - due).days >= after:
                    escalations.append(
                        dict(
                            instance_id=instance_id,
                            campaign_id=cid,
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
        for seq in range(1, item_counts.get(i, 0) + 1):
            status = rng.choice(["rectifying", "rectified", "closed"]) if phase == "rectification" else "closed"
            items.append(
                dict(
                    instance_id=instance_id,
                    campaign_id=cid,
                    unit_id=unit_id,
                    seq=seq,
                    title=f"问题{seq}",
                    source=rng.choice(SOURCES),
                    measures="整改",
                    responsible_leader="张三",
                    responsible_department="办公室",
                    deadline=now.date() + timedelta(days=30),
                    status=status,
                    origin="self_check",
                    round=1,
                    reopen_count=0,
                    created_at=start,
                    closed_at=now if status == "closed" else None,
                )
            )
    print(f"  projected rows built: {time.perf_counter() - began:.1f} s")
    task_ids = _insert(Task, tasks, returning=True)
    item_ids = _insert(LedgerItem, items, returning=True)
    escalation_ids = _insert(Escalation, escalations, returning=True)
    print(f"  tasks, ledger items, escalations inserted: {time.perf_counter() - began:.1f} s")

    # The audit trail of what the projected rows record, chained after the events already there.
    events = []
    for instance_id, (unit_id, phase) in zip(instance_ids, started, strict=True):
        events.append(
            ("instance.start", "process_instance", instance_id, unit_id, start, {"campaign_id": cid, "phase": phase})
        )
    for task_id, row in zip(task_ids, tasks, strict=True):
        if row["status"] == "completed":
            events.append(
                ("task.complete", "task", task_id, row["unit_id"], row["completed_at"], {"status": "completed"})
            )
    for item_id, row in zip(item_ids, items, strict=True):
        events.append(("ledger.create", "ledger_item", item_id, row["unit_id"], row["created_at"], {"seq": row["seq"]}))
    for esc_id, row in zip(escalation_ids, escalations, strict=True):
        events.append(
            (
                f"escalation.{row['level']}",
                "escalation",
                esc_id,
                row["unit_id"],
                row["fired_at"],
                {"level": row["level"]},
            )
        )
    events.sort(key=lambda e: e[4])
    head = db.session.get(AuditChainHead, audit_chain.HEAD_ID)
    last_seq, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS)
    next_id = (db.session.scalar(select(func.max(AuditEvent.id))) or 0) + 1
    rows = [
        dict(
            id=next_id + j,
            at=at,
            actor_id=None,
            action=action,
            entity_type=etype,
            entity_id=str(eid),
            unit_id=unit_id,
            before=None,
            after=after,
        )
        for j, (action, etype, eid, unit_id, at, after) in enumerate(events)
    ]
    last_seq, last_hash = audit_chain.chain(last_seq, last_hash, rows)
    _insert(AuditEvent, rows)
    print(f"  {len(rows)} audit events chained and inserted: {time.perf_counter() - began:.1f} s")
    if head:
        db.session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == audit_chain.HEAD_ID)
            .values(last_seq=last_seq, last_hash=last_hash)
        )
    else:
        db.session.execute(
            insert(AuditChainHead).values(
                id=audit_chain.HEAD_ID, last_seq=last_seq, last_hash=last_hash, base_seq=0, base_hash=GENESIS
            )
        )
    db.session.execute(
        text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), (SELECT max(id) FROM audit_events))")
    )
    total = db.session.scalar(select(func.count()).select_from(CampaignUnit).filter_by(campaign_id=cid))
    db.session.execute(
        update(Campaign).where(Campaign.id == cid).values(status="launched", launch_total=total, launch_done=total)
    )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def counts() -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AuditEvent, Escalation, LedgerItem, ProcessInstance, Task, Unit

    def n(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    return {
        "units": n(Unit),
        "instances": n(ProcessInstance),
        "tasks": n(Task),
        "open tasks": n(Task, Task.status == "ready"),
        "ledger items": n(LedgerItem),
        "escalations": n(Escalation),
        "audit events": n(AuditEvent),
    }


def units_per_client(args) -> int:
    return max(1, -(-args.open_per_client // ITEMS_PER_CLIENT_UNIT))


def plan(args) -> dict:
    """What the clients need from the database: the campaign, its public slug, each account."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Campaign, Task, User

    campaign = db.session.scalars(select(Campaign).where(Campaign.doc_number == "基准〔2026〕负载")).one()
    accounts = []
    for i in range(args.staff_clients):
        sessions = []
        for j in range(units_per_client(args)):
            user = db.session.scalars(select(User).where(User.username == f"load_staff{i}_{j}")).one()
            open_ids = db.session.scalars(
                select(Task.id)
                .where(Task.unit_id == user.unit_id, Task.element_id == "rectify_item", Task.status == "ready")
                .order_by(Task.id)
            ).all()
            sessions.append({"username": user.username, "tasks": list(open_ids)})
        accounts.append({"kind": "staff", "sessions": sessions})
    overseers = args.clients - args.staff_clients
    for i in range(overseers):
        role = "assessor" if i == overseers - 1 and overseers > 1 else "supervisor"
        accounts.append({"kind": "overseer", "sessions": [{"username": f"load_{role}{i}", "tasks": []}]})
    return {"campaign": campaign.id, "slug": campaign.public_slug, "accounts": accounts}


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args, workdir: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        {
            "RECTIFY_CONFIG": "config.ProductionConfig",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": args.database_url,
            "UPLOAD_DIR": str(workdir / "uploads"),
            "AUDIT_ANCHOR_DIR": str(workdir / "anchors"),
            "WEB_BIND": f"127.0.0.1:{port}",
            # As behind nginx (deploy/rectify.env.example): one hop of X-Forwarded-For is believed,
            # so each client has its own address (the login throttle counts by address).
            "TRUSTED_PROXIES": "1",
            "FLASK_DEBUG": "0",
        }
    )
    env.pop("SESSION_COOKIE_SECURE", None)
    if args.workers:
        env["WEB_WORKERS"] = str(args.workers)
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    log = open(workdir / "gunicorn.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(server: subprocess.Popen, port: int, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn not ready after {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=35)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# --------------------------------------------------------------------------- the clients


class Browser:
    """One person's browser behind nginx: keep-alive, cookies (Secure ones too: the browser's hop
    is TLS), X-Forwarded-Proto: https and a same-origin Referer, as nginx passes them on."""

    def __init__(self, port: int, address: str):
        self.port = port
        self.address = address
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        referer: str | None = None,
        anonymous: bool = False,
    ) -> tuple[int, bytes, float]:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "User-Agent": "rectify-bench-load",
            "Accept": "text/html,application/json",
            "Accept-Language": "zh-CN",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.address,
        }
        if referer:
            headers["Referer"] = self.origin + referer
        if content_type:
            headers["Content-Type"] = content_type
        if self.cookies and not anonymous:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            began = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (
                http.client.RemoteDisconnected,
                ConnectionError,
                http.client.CannotSendRequest,
                http.client.BadStatusLine,
            ):
                # The server closed a kept-alive connection (keepalive timeout, worker recycled).
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
                continue
            elapsed = (time.perf_counter() - began) * 1000
            if not anonymous:
                for header in resp.headers.get_all("Set-Cookie") or []:
                    name, _, rest = header.partition("=")
                    value = rest.split(";", 1)[0]
                    if value and "max-age=0" not in header.lower():
                        self.cookies[name.strip()] = value
                    else:
                        self.cookies.pop(name.strip(), None)
            if resp.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            return resp.status, data, elapsed
        raise AssertionError("unreachable")


CSRF_RE = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"')
LOCK_RE = re.compile(rb'name="lock_version"[^>]*value="(\d+)"')


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = "----rectifybench" + secrets.token_hex(12)
    out = []
    for name, value in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        kind = "application/pdf" if filename else "application/octet-stream"
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {kind}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def evidence_pdf(size: int) -> bytes:
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
    filler = b"% rectify load benchmark evidence\n" * (size // 34 + 1)
    return (head + filler)[: size - 6] + b"%%EOF\n"


def login(browser: Browser, username: str) -> None:
    status, body, _ = browser.request("GET", "/login")
    token = CSRF_RE.search(body)
    assert status == 200 and token, (status, body[:300])
    form = urllib.parse.urlencode({"csrf_token": token.group(1).decode(), "username": username, "password": PASSWORD})
    status, body, _ = browser.request(
        "POST", "/login", form.encode(), "application/x-www-form-urlencoded", referer="/login"
    )
    if status != 302:
        raise SystemExit(f"login of {username} answered {status}: {body[:500]!r}")


class _Done(Exception):
    """The client's time or request count is up."""


def client(index: int, account: dict, setup: dict, ready, go, t0, out) -> None:
    """One logged-in person: log in, wait for the start, loop over the pages, report."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which ends us
    rng = random.Random(index)
    port, cid, slug = setup["port"], setup["campaign"], setup["slug"]
    pdf = evidence_pdf(setup["evidence_bytes"])
    browser = Browser(port, f"10.0.{index // 250}.{index % 250 + 1}")
    records: list[tuple[str, float, float, int]] = []
    exhausted = 0
    # One cookie jar per account, each logged in before the clock starts.
    sessions = account["sessions"]
    jars: list[dict[str, str]] = []
    try:
        for session in sessions:
            browser.cookies = {}
            login(browser, session["username"])
            jars.append(browser.cookies)
    except BaseException as exc:  # noqa: BLE001 (reported to the parent)
        ready.put((index, repr(exc)))
        return
    browser.cookies = jars[0]
    current = 0
    ready.put((index, None))
    go.wait()
    start = t0.value
    warm_until, stop_at = start + setup["warmup"], start + setup["warmup"] + setup["seconds"]
    limit = setup["requests"]  # measured requests (after the warm-up)
    tasks = list(sessions[0]["tasks"])
    today = date.today().isoformat()

    def hit(page: str, method: str, path: str, **kw) -> tuple[int, bytes]:
        at = time.time()
        if at >= stop_at or (limit and len(records) >= limit):
            raise _Done
        status, body, ms = browser.request(method, path, **kw)
        if at >= warm_until:
            records.append((page, at, ms, status))
        return status, body

    def staff_loop() -> None:
        nonlocal exhausted, current, tasks
        if not tasks and current + 1 < len(sessions):
            # This unit's steps are done: on to the next unit's liaison (already logged in).
            current += 1
            browser.cookies = jars[current]
            tasks = list(sessions[current]["tasks"])
        hit("staff: task list", "GET", "/my/tasks")
        if not tasks:
            exhausted += 1
            return
        task_path = f"/my/tasks/{tasks[0]}"
        status, body = hit("staff: task page", "GET", task_path, referer="/my/tasks")
        token, lock = CSRF_RE.search(body), LOCK_RE.search(body)
        if status != 200 or not token:
            tasks.pop(0)
            return
        fields = [("csrf_token", token.group(1).decode()), ("lock_version", lock.group(1).decode() if lock else "")]
        text = [("measures_taken", f"已按要求整改（{index}-{len(records)}）"), ("completed_on", today)]
        body, ctype = multipart(fields + text + [("action", "draft")], [("evidence", "", b"")])
        hit("staff: draft save", "POST", task_path, body=body, content_type=ctype, referer=task_path)
        body, ctype = multipart(fields + text + [("action", "submit")], [("evidence", "整改照片.pdf", pdf)])
        tasks.pop(0)  # submitted (or refused): never tried twice
        hit("staff: completion with a file", "POST", task_path, body=body, content_type=ctype, referer=task_path)

    dash = f"/supervise/dashboard?campaign={cid}"
    overseer_pages = [
        lambda: hit("ledger register", "GET", f"/ledger/campaigns/{cid}?page={rng.randint(1, 50)}"),
        lambda: hit("dashboard", "GET", dash),
        lambda: hit("dashboard figure", "GET", f"/supervise/dashboard/{cid}/figures/units_by_phase.json", referer=dash),
        lambda: hit(
            "drill-down: overdue",
            "GET",
            f"/supervise/dashboard/{cid}/overdue?day={date.today() - timedelta(days=rng.randint(0, 14))}",
            referer=dash,
        ),
        lambda: hit(
            "drill-down: ledger items",
            "GET",
            f"/supervise/dashboard/{cid}/items?status={rng.choice(['rectifying', 'rectified', 'closed'])}",
            referer=dash,
        ),
        lambda: hit("audit trail", "GET", f"/audit/campaigns/{cid}?page={rng.randint(1, 20)}"),
        lambda: hit("public campaign page", "GET", f"/public/c/{slug}?page={rng.randint(1, 20)}", anonymous=True),
    ]
    # Each overseer starts the round at another page, so a cut at the deadline favours none.
    turn = index % len(overseer_pages)
    try:
        while True:
            hit("trivial /healthz", "GET", "/healthz")
            if account["kind"] == "staff":
                staff_loop()
            else:
                for k in range(len(overseer_pages)):
                    overseer_pages[(turn + k) % len(overseer_pages)]()
    except _Done:
        pass
    out.put((index, records, exhausted))


OK_STATUS = {
    "staff: draft save": {302, 303},
    "staff: completion with a file": {302, 303},
}


def run_clients(args, setup: dict, accounts: list[dict]) -> tuple[list, int, float]:
    ctx = multiprocessing.get_context("fork")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    t0 = ctx.Value("d", 0.0)
    procs = [
        ctx.Process(target=client, args=(i, account, setup, ready, go, t0, out), daemon=True)
        for i, account in enumerate(accounts)
    ]
    try:
        for p in procs:
            p.start()
        for _ in procs:
            index, error = ready.get(timeout=300)
            if error:
                raise SystemExit(f"client {index} could not log in: {error}")
        t0.value = time.time() + 0.5
        go.set()
        records, exhausted = [], 0
        wait = args.warmup + args.seconds + 120
        for _ in procs:
            _index, recs, ex = out.get(timeout=wait)
            records += recs
            exhausted += ex
        for p in procs:
            p.join(timeout=10)
        span_start = t0.value + args.warmup
        # From the end of the warm-up to the last answer (no request starts after the deadline).
        span = max(r[1] + r[2] / 1000 for r in records) - span_start if records else 0.0
        return records, exhausted, max(span, 1e-3)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()


# --------------------------------------------------------------------------- the report


def machine_line(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar()
    engine.dispose()
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    m = machine()
    return f"{m['cpu']}, {m['cores']} cores, {mem}, {m['platform']}, Python {m['python']}, PostgreSQL {pg}"


def report(args, records: list, exhausted: int, span: float) -> bool:
    by_page: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for page, _at, ms, status in records:
        by_page.setdefault(page, []).append(ms)
        if status not in OK_STATUS.get(page, {200}):
            errors[page] = errors.get(page, 0) + 1
    trivial = by_page.get("trivial /healthz") or [float("nan")]
    trivial_p95 = percentile(trivial, 95)
    total = sum(len(v) for v in by_page.values())
    print()
    print(
        f"{total} requests in {span:.1f} s measured ({total / span:.1f} req/s), "
        f"{args.clients} clients, {args.units} units"
    )
    header = (
        f"{'page':32s} {'n':>6s} {'req/s':>7s} {'p50':>7s} {'p95':>7s} {'p99':>7s} {'×triv':>6s} "
        f"{'target':>14s}  met  err"
    )
    print(header)
    print("-" * len(header))
    all_met = True
    for page, kind in PAGES:
        times = by_page.get(page)
        if not times:
            print(f"{page:32s} {'-':>6s}")
            continue
        p50, p95, p99 = statistics.median(times), percentile(times, 95), percentile(times, 99)
        ratio = p95 / trivial_p95 if trivial_p95 else float("nan")
        if kind == "trivial":
            target, met = "", ""
        else:
            limit = TARGETS[kind]
            ok = p95 <= limit and (kind != "page" or ratio <= RATIO_TARGET)
            target = f"≤{limit:.0f} ms" + (f", ≤{RATIO_TARGET:.0f}×" if kind == "page" else "")
            met = "yes" if ok else "NO"
            all_met &= ok and not errors.get(page)
        print(
            f"{page:32s} {len(times):6d} {len(times) / span:7.1f} {p50:7.1f} {p95:7.1f} {p99:7.1f} {ratio:6.1f} "
            f"{target:>14s}  {met:3s}  {errors.get(page, 0) or ''}"
        )
    print("(times in ms, measured at the client: loopback, keep-alive; ×triv: p95 over the trivial route's p95)")
    if exhausted:
        print(f"note: {exhausted} staff loops found no open step left to complete (raise --open-per-client)")
    for page, times in by_page.items():
        tag = re.sub(r"[^a-z0-9]+", "_", page.lower()).strip("_")
        emit("load", f"{tag}_rps@{args.units}", round(len(times) / span, 2), "req/s")
        for p in (50, 95, 99):
            value = statistics.median(times) if p == 50 else percentile(times, p)
            emit("load", f"{tag}_ms_p{p}@{args.units}", round(value, 1), "ms")
    emit("load", f"total_rps@{args.units}", round(total / span, 1), "req/s")
    emit("load", f"errors@{args.units}", sum(errors.values()), "requests")
    return all_met


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=20000)
    parser.add_argument("--tasks", type=int, help="tasks in all (default 5 a unit)")
    parser.add_argument("--open-tasks", type=int, help="of which open (default 1 a unit)")
    parser.add_argument("--items", type=int, help="ledger items (default 2 a unit)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--staff-clients", type=int, help="of which unit staff (default 70%%; the rest oversee)")
    parser.add_argument(
        "--open-per-client",
        type=int,
        default=32,
        help=f"open 整改落实 steps each staff client can complete ({ITEMS_PER_CLIENT_UNIT} a unit, one account a unit)",
    )
    parser.add_argument("--seconds", type=float, default=30, help="measured time")
    parser.add_argument("--warmup", type=float, default=5, help="seconds run first and not counted")
    parser.add_argument("--requests", type=int, default=0, help="stop each client after this many measured requests")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=0, help="threads a worker (default: gunicorn.conf.py's)")
    parser.add_argument("--evidence-bytes", type=int, default=200_000, help="size of the PDF each completion uploads")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database as a template and reuse it")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_LOAD_URL") or DEFAULT_URL)
    args = parser.parse_args()
    args.tasks = args.tasks or 5 * args.units
    args.open_tasks = args.open_tasks or args.units
    args.items = args.items or 2 * args.units
    if args.staff_clients is None:
        args.staff_clients = round(args.clients * 0.7)
    args.staff_clients = max(0, min(args.clients, args.staff_clients))
    if args.clients - args.staff_clients < 1:
        raise SystemExit("at least one client must be an overseer (supervisor or assessor)")

    workdir = Path(tempfile.mkdtemp(prefix="rectify-load-"))
    server = None
    interrupted = False

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        began = time.perf_counter()
        copied = prepare_database(args)
        app = make_app(args.database_url, str(workdir / "seed-uploads"))
        with app.app_context():
            from app.extensions import db

            if copied:
                print(f"database copied from its seeded template in {time.perf_counter() - began:.1f} s")
            else:
                print(f"seeding {args.units} units ...")
                seed(app, args, random.Random(2026))
                print(f"seeded in {time.perf_counter() - began:.1f} s")
            print("database: " + ", ".join(f"{k} {v:,}" for k, v in counts().items()))
            setup = plan(args)
            db.session.remove()
            db.engine.dispose()
        if args.reuse and not copied:
            keep_as_template(args)
        print(f"machine: {machine_line(args.database_url)}; load average {os.getloadavg()[0]:.1f}")
        port = free_port()
        server = start_server(args, workdir, port)
        wait_ready(server, port, workdir / "gunicorn.log")
        workers = args.workers or "gunicorn.conf.py's"
        print(
            f"gunicorn on 127.0.0.1:{port} (production config, workers: {workers}, threads: "
            f"{args.threads or 'default'}); {args.clients} clients ({args.staff_clients} unit staff), "
            f"{args.warmup:.0f} s warm-up, {args.seconds:.0f} s measured"
        )
        setup.update(
            port=port,
            warmup=args.warmup,
            seconds=args.seconds,
            requests=args.requests,
            evidence_bytes=args.evidence_bytes,
        )
        load_before = os.getloadavg()[0]
        records, exhausted, span = run_clients(args, setup, setup["accounts"])
        print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
        all_met = report(args, records, exhausted, span)
        print("every target met" if all_met else "some targets missed (bench/README.md says why)")
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: stopping the server", file=sys.stderr)
    finally:
        if server is not None:
            stop_server(server)
            log = workdir / "gunicorn.log"
            errors = [
                line
                for line in log.read_text(errors="replace").splitlines()
                if "levelname=ERROR" in line or "Traceback" in line or "level=ERROR" in line
            ]
            if errors:
                kept = Path(tempfile.gettempdir()) / "rectify-load-gunicorn.log"
                shutil.copy(log, kept)
                print(
                    f"server log: {len(errors)} error lines (kept in {kept}), the first: {errors[0][:300]}",
                    file=sys.stderr,
                )
        shutil.rmtree(workdir, ignore_errors=True)
    if interrupted:
        raise SystemExit(130)


if __name__ == "__main__":
    main()
