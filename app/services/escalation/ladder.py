"""The overdue ladder's rules of time: its rungs in order, a campaign's offsets, and when a
recorded rung may be carried out (the catch-up rule).

The diagram's timers say when a rung is *due* (the step's deadline plus the rung's offset). When
a deadline is already long past (a campaign launched late, a scheduler that was down, a deadline
recomputed into the past), every timer of a step is due at once; carried out as they fire, a unit
would be named in public in the same minute as its first reminder. So a recorded rung is carried
out only when:

- every earlier rung of its step has been carried out, and at least this rung's interval (its
  offset less the previous rung's, in the campaign's working or calendar days) has passed since
  the previous one was, or since the step's deadline was last recomputed, whichever is later;
- for a rung that names the unit in public, an earlier letter's reply deadline has passed.

On time, these coincide with the diagram's own timers; late, the ladder climbs one rung at a time.
Pure functions: the caller brings the rows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app import workdays
from app.models import Campaign
from app.models.escalation import LEVELS, PUBLIC_LEVELS

# A ladder: each level's offset, {"days": n, "unit": "working" | "calendar"}.
Ladder = dict[str, dict[str, Any]]

# Reminder on the due date, letter 3 working days after it, public notice 10 after it.
DEFAULT_LADDER = {
    "reminder": {"days": 0, "unit": "working"},
    "letter": {"days": 3, "unit": "working"},
    "notice": {"days": 10, "unit": "working"},
}
# A rung waiting on an earlier one that failed (an incident) looks again after this long.
RECHECK = timedelta(hours=1)


def merged(ladder: Ladder | None) -> Ladder:
    """A campaign's stored ladder completed with the defaults, each rung {"days": n, "unit": ...}."""
    return {**DEFAULT_LADDER, **(ladder or {})}


def ladder_of(campaign: Campaign) -> Ladder:
    """The campaign's overdue ladder, each rung {"days": n, "unit": "working" | "calendar"}."""
    return merged(campaign.ladder)


def rank(level: str) -> int:
    """A rung's place on the ladder; a level the ladder does not know comes after all of them."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


@dataclass(frozen=True)
class Rung:
    """What the rule needs of an escalation recorded for the same step."""

    level: str
    status: str
    done_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class Decision:
    fire: bool
    wait_until: datetime | None = None  # not yet: look again then
    cancel: str | None = None  # never: why


FIRE = Decision(True)


def interval(ladder: Ladder, previous: str, level: str) -> tuple[int, str]:
    """Days (and their unit) between the previous rung and this one, as the offsets set them."""
    rung = ladder.get(level) or {}
    before = ladder.get(previous) or {}
    days = int(rung.get("days", 0)) - int(before.get("days", 0))
    return max(days, 0), str(rung.get("unit", "working"))


def after_interval(anchor: datetime, days: int, unit: str) -> datetime:
    if days <= 0:
        return anchor
    return max(workdays.shift(anchor, days, unit), anchor)


def decide(
    level: str,
    earlier: list[Rung],
    ladder: Ladder,
    now: datetime,
    *,
    restarted_at: datetime | None = None,
    reply_due: datetime | None = None,
) -> Decision:
    """May the rung `level` of a step be carried out now? `earlier`: the step's rungs below it."""
    live = [r for r in earlier if rank(r.level) < rank(level) and r.status != "cancelled"]
    release = now
    if live:
        previous = max(live, key=lambda r: rank(r.level))
        if previous.status == "withdrawn":
            return Decision(False, cancel="withdrawn")
        days, unit = interval(ladder, previous.level, level)
        if previous.status != "done" or previous.done_at is None:
            # Not carried out yet (waiting its own turn, or failed): this one follows it.
            expected = (
                previous.next_attempt_at if previous.status == "pending" and previous.next_attempt_at else now + RECHECK
            )
            return Decision(False, wait_until=after_interval(max(expected, now), days, unit))
        anchor = max(previous.done_at, restarted_at) if restarted_at else previous.done_at
        release = after_interval(anchor, days, unit)
    if level in PUBLIC_LEVELS and reply_due is not None:
        release = max(release, reply_due)
    if release > now:
        return Decision(False, wait_until=release)
    return FIRE
