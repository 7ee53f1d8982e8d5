"""Shared set-up for the benchmarks: a fresh database, the deployed process, units, a campaign."""

import json
import os
import platform
import sqlite3
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def make_app(database_url: str | None = None):
    from flask_migrate import upgrade

    from app import create_app
    from config import Config

    workdir = tempfile.mkdtemp(prefix="rectify-bench-")
    url = database_url or f"sqlite:///{workdir}/bench.db"
    cfg = type(
        "BenchConfig",
        (Config,),
        {"SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": f"{workdir}/uploads", "SESSION_COOKIE_SECURE": False},
    )
    app = create_app(cfg)
    with app.app_context():
        upgrade()
        from app.services.design import processes

        processes.deploy_all()
    return app, url


def seed_campaign(n_units: int) -> int:
    """Insert n units and a campaign enrolling them all (bulk inserts: set-up is not measured)."""
    from sqlalchemy import insert

    from app import clock
    from app.extensions import db
    from app.models import Campaign, CampaignPhase, CampaignUnit, Unit

    db.session.execute(insert(Unit), [dict(code=f"U{i:06d}", name=f"单位{i}", kind="township") for i in range(n_units)])
    campaign = Campaign(
        doc_number="基准〔2026〕1号",
        issuer="基准测试",
        issued_on=date(2026, 11, 1),
        title="基准测试",
        body="",
        created_at=clock.now(),
    )
    for pos, (key, ends) in enumerate(
        [
            ("deploy", date(2027, 1, 10)),
            ("self_check", date(2027, 2, 10)),
            ("rectification", date(2027, 5, 31)),
            ("assessment", date(2027, 6, 30)),
        ]
    ):
        campaign.phases.append(CampaignPhase(key=key, name=key, position=pos, starts=date(2026, 11, 1), ends=ends))
    db.session.add(campaign)
    db.session.flush()
    unit_ids = [u for (u,) in db.session.query(Unit.id).all()]
    db.session.execute(insert(CampaignUnit), [dict(campaign_id=campaign.id, unit_id=u) for u in unit_ids])
    db.session.commit()
    return campaign.id


def emit(bench: str, metric: str, value, unit: str) -> None:
    print(json.dumps({"bench": bench, "metric": metric, "value": value, "unit": unit}, ensure_ascii=False))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
