"""Fixed-window rate limits counted in the database, so every web worker shares them."""

import hashlib
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from app import clock
from app.extensions import db
from app.models import RateCounter


def client_key(action: str, address: str | None) -> str:
    """The counter key of one client: the address is hashed with the secret key, never stored."""
    salted = f"{current_app.config['SECRET_KEY']}|{address or 'unknown'}".encode()
    return f"{action}:{hashlib.sha256(salted).hexdigest()[:40]}"


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=clock.UTC)


def used(key: str, window_seconds: int) -> int:
    """How many hits `key` has in the current window (nothing is counted)."""
    start = _window_start(clock.now(), window_seconds)
    return (
        db.session.scalar(select(RateCounter.hits).where(RateCounter.key == key, RateCounter.window_start == start))
        or 0
    )


def hit(key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit of `key`; False once the window already holds `limit` hits. Commits at once,
    so a hit counts even when the request fails later."""
    start = _window_start(clock.now(), window_seconds)
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    # One atomic upsert: two workers counting the same key at once both see their own hit.
    stmt = (
        dialect.insert(RateCounter)
        .values(key=key, window_start=start, hits=1)
        .on_conflict_do_update(index_elements=["key", "window_start"], set_={"hits": RateCounter.hits + 1})
        .returning(RateCounter.hits)
    )
    hits: int = db.session.scalar(stmt)
    db.session.execute(delete(RateCounter).where(RateCounter.window_start < start - timedelta(days=1)))
    db.session.commit()
    return hits <= limit
