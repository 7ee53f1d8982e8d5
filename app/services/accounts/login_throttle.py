"""Login throttling: failed logins counted by account name and by client address, each with a delay
that grows with its failures, stored in the database so every worker shares it.

The rule, for each counter (settings in config.py):
- the first `free` failures cost nothing (account 5, address 20: an office behind one address
  shares its counter);
- from then on the next attempt is refused until the last failure plus a delay that starts at
  LOGIN_DELAY_SECONDS (30 s) and doubles with each further failure, up to a cap (an account
  5 minutes, an address 1 hour);
- an attempt refused for a running delay is not a failure: it neither counts nor extends anything,
  and once the delay has passed the right password always works;
- a successful login clears the account's counter; the address keeps its failures (logging in to
  one's own account must not buy more guesses at another), but the attempt itself adds no delay;
- a counter quiet for LOGIN_THROTTLE_FORGET_HOURS (24) is forgotten.

So someone who keeps typing wrong passwords for another's account holds it for at most the
account's current delay (5 minutes at most) per attempt they make, and their own address slows
down to one attempt an hour; the account's owner, from any other address, waits the account's
delay at most.

An attempt is claimed before the password is checked: one UPDATE counts it as a failure and sets
the next delay, only when no delay is running, so parallel requests cannot slip through together.
A correct password then gives the claim back (`succeeded`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import BindParameter, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app import clock
from app.extensions import db
from app.models import LoginThrottle, User
from app.models.base import UTCDateTime
from app.models.login_throttle import ACCOUNT, ADDRESS, RECEIPT_ADDRESS, RECEIPT_CODE
from app.services.shared import audit

__all__ = [
    "ACCOUNT",
    "ADDRESS",
    "RECEIPT_ADDRESS",
    "RECEIPT_CODE",
    "Claim",
    "Refused",
    "Rule",
    "begin",
    "current",
    "display_names",
    "lift",
    "rule",
    "succeeded",
    "wrong_guess",
]


@dataclass(frozen=True)
class Rule:
    free: int  # failures allowed before any delay
    first_delay: int  # seconds, after the `free`-th failure
    max_delay: int  # seconds

    def delay(self, failures: int) -> timedelta | None:
        """The wait after `failures` failures in a row (None: no wait)."""
        return None if failures < self.free else self.wait(failures)

    def wait(self, failures: int) -> timedelta:
        """The wait after `failures` failures, `free` or more of them."""
        doublings = min(max(failures - self.free, 0), 40)
        return timedelta(seconds=min(self.first_delay * 2**doublings, self.max_delay))

    def steps(self) -> range:
        """Failure counts whose delay is still below the cap (each needs its own CASE branch)."""
        last = self.free
        while self.first_delay * 2 ** (last - self.free) < self.max_delay and last < self.free + 40:
            last += 1
        return range(self.free, last)


# Each kind's settings in config.py: <PREFIX>_FREE_FAILURES and <PREFIX>_MAX_DELAY_SECONDS, with the
# first delay LOGIN_DELAY_SECONDS (logins) or TIP_LOOKUP_DELAY_SECONDS (receipt codes).
SETTINGS = {
    ACCOUNT: ("LOGIN_ACCOUNT", "LOGIN_DELAY_SECONDS"),
    ADDRESS: ("LOGIN_ADDRESS", "LOGIN_DELAY_SECONDS"),
    RECEIPT_ADDRESS: ("TIP_LOOKUP_ADDRESS", "TIP_LOOKUP_DELAY_SECONDS"),
    RECEIPT_CODE: ("TIP_LOOKUP_CODE", "TIP_LOOKUP_DELAY_SECONDS"),
}


def rule(kind: str) -> Rule:
    cfg = current_app.config
    prefix, first = SETTINGS[kind]
    return Rule(cfg[f"{prefix}_FREE_FAILURES"], cfg[first], cfg[f"{prefix}_MAX_DELAY_SECONDS"])


@dataclass(frozen=True)
class Claim:
    """An attempt allowed to check a password; it has already been counted as a failure."""

    account: str
    address: str
    account_failures: int
    address_failures: int
    next_allowed_at: datetime | None  # when the next attempt may come if this one fails


class Refused(Exception):
    """A delay is running: the attempt was not made."""

    def __init__(self, kind: str, until: datetime):
        super().__init__(f"{kind} throttled until {until.isoformat()}")
        self.kind = kind
        self.until = until


def _forget_quiet(now: datetime) -> None:
    cutoff = now - timedelta(hours=current_app.config["LOGIN_THROTTLE_FORGET_HOURS"])
    db.session.execute(
        delete(LoginThrottle).where(
            or_(LoginThrottle.last_failure_at < cutoff, LoginThrottle.last_failure_at.is_(None))
        )
    )


def _ensure_row(kind: str, key: str) -> None:
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(LoginThrottle)
        .values(kind=kind, key=key, failures=0)
        .on_conflict_do_nothing(index_elements=["kind", "key"])
    )


def _claim_one(kind: str, key: str, now: datetime) -> tuple[int, datetime | None]:
    """Count one attempt on (kind, key) as a failure unless a delay is running: (failures, the
    next allowed moment). Raises Refused while a delay runs."""
    r = rule(kind)

    def at(delay: timedelta) -> BindParameter[datetime]:
        return literal(now + delay, UTCDateTime())

    after = LoginThrottle.failures + 1
    next_allowed = case(
        (after < r.free, null()),
        *[(after == f, at(r.wait(f))) for f in r.steps()],
        else_=at(timedelta(seconds=r.max_delay)),
    )
    running = LoginThrottle.next_allowed_at > now
    for _ in range(3):  # a row deleted between our insert and update (forgotten by another worker) is made again
        _ensure_row(kind, key)
        stmt = (
            update(LoginThrottle)
            .where(
                LoginThrottle.kind == kind,
                LoginThrottle.key == key,
                or_(LoginThrottle.next_allowed_at.is_(None), ~running),
            )
            .values(
                failures=after,
                last_failure_at=now,
                next_allowed_at=next_allowed,
                first_failure_at=case(
                    (LoginThrottle.failures == 0, literal(now, UTCDateTime())), else_=LoginThrottle.first_failure_at
                ),
            )
            .returning(LoginThrottle.failures, LoginThrottle.next_allowed_at)
        )
        row = db.session.execute(stmt).first()
        if row is not None:
            return row.failures, row.next_allowed_at
        until = db.session.scalar(
            select(LoginThrottle.next_allowed_at).where(LoginThrottle.kind == kind, LoginThrottle.key == key)
        )
        if until is not None:
            raise Refused(kind, until)
    raise RuntimeError("login throttle row keeps vanishing")  # pragma: no cover


def begin(account: str, address: str) -> Claim:
    """Claim one login attempt for `account` (the name as typed) from `address`, or raise Refused
    (nothing counted) while either has a delay running. Commits."""
    account, address = account[:128], (address or "unknown")[:128]
    now = clock.now()
    try:
        _forget_quiet(now)
        address_failures, address_next = _claim_one(ADDRESS, address, now)
        account_failures, account_next = _claim_one(ACCOUNT, account, now)
    except Refused:
        db.session.rollback()  # neither counter moves
        raise
    db.session.commit()
    nexts = [t for t in (address_next, account_next) if t is not None]
    return Claim(account, address, account_failures, address_failures, max(nexts) if nexts else None)


def wrong_guess(counters: list[tuple[str, str]]) -> None:
    """Count one wrong guess (a receipt code that opens nothing) on each (kind, key), or raise
    Refused (nothing counted) while a delay runs on any of them. Commits. The right guess is
    never asked about here: whoever holds a correct code is never held back."""
    now = clock.now()
    try:
        _forget_quiet(now)
        for kind, key in counters:
            _claim_one(kind, key[:128], now)
    except Refused:
        db.session.rollback()
        raise
    db.session.commit()


def succeeded(claim: Claim) -> None:
    """The claimed attempt had the right password: the account starts afresh and the address gets
    its attempt back. The caller commits."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.kind == ACCOUNT, LoginThrottle.key == claim.account))
    same = (LoginThrottle.kind == ADDRESS, LoginThrottle.key == claim.address)
    # The attempt is given back whatever else happened since the claim: an office behind one
    # address logging in at nine o'clock has many claims in flight at once, and each one that
    # turns out right must not stay counted. The delay goes too if the failures left are free,
    # or if nobody else claimed since ours (ours set it); a delay set by another's failure stands.
    left = LoginThrottle.failures - 1
    db.session.execute(
        update(LoginThrottle)
        .where(*same)
        .values(
            failures=left,
            next_allowed_at=case(
                (left < rule(ADDRESS).free, null()),
                (LoginThrottle.failures == claim.address_failures, null()),
                else_=LoginThrottle.next_allowed_at,
            ),
        )
    )
    db.session.execute(delete(LoginThrottle).where(*same, LoginThrottle.failures <= 0))


def current(kind: str | None = None) -> list[LoginThrottle]:
    """The counters with failures, most recent first (at most 500)."""
    cutoff = clock.now() - timedelta(hours=current_app.config["LOGIN_THROTTLE_FORGET_HOURS"])
    stmt = select(LoginThrottle).where(LoginThrottle.failures > 0, LoginThrottle.last_failure_at >= cutoff)
    if kind in SETTINGS:
        stmt = stmt.where(LoginThrottle.kind == kind)
    stmt = stmt.order_by(LoginThrottle.last_failure_at.desc(), LoginThrottle.id.desc()).limit(500)
    return list(db.session.scalars(stmt))


def lift(throttle_id: int, actor_id: int) -> LoginThrottle | None:
    """Forget one counter (the office lifts a throttle); audited. None when it is already gone."""
    row = db.session.get(LoginThrottle, throttle_id)
    if row is None:
        return None
    before = {"kind": row.kind, "key": row.key, "failures": row.failures, "next_allowed_at": row.next_allowed_at}
    db.session.delete(row)
    audit.record(actor_id, "login.throttle_lift", "login_throttle", row.id, before=before)
    db.session.commit()
    return row


def display_names(rows: list[LoginThrottle]) -> dict[str, str]:
    """Display names of the account rows whose name is a user's (the others were typed by someone)."""
    names = {row.key for row in rows if row.kind == ACCOUNT}
    if not names:
        return {}
    stmt = select(User.username, User.display_name).where(User.username.in_(names))
    return dict(db.session.execute(stmt).tuples().all())
