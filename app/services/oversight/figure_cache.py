"""The dashboard's figures, computed once per campaign data version in each process.

A figure is kept under (figure, campaign, the campaign's data version and the one of all
campaigns, its arguments); a request whose campaign has not changed since costs one indexed read
of the two versions. Every write the dashboard counts gives the campaign a new version in its own
transaction (app/services/shared/data_versions.py), so once a change has committed, the next
request anywhere computes afresh: nobody sees figures from before their own action.

Figures that depend on the time as well are exact, not roughly fresh: the lights and the overdue
trend change only when a due time passes, the local day turns or the working-day calendar changes.
The day and the due-soon limit (which the calendar gives) are part of the key, and a figure
computed at t is kept only until the first open step falls due after t: at that moment a light
turns red and the overdue count grows, and the next request computes again.
"""

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import func, select

from app.extensions import db
from app.models import Task, TaskStatus
from app.services.shared import data_versions

T = TypeVar("T")

# Entries per process: 5 figures x a few filters x a few campaigns, each a few kilobytes.
SIZE = 512


@dataclass(frozen=True)
class _Entry:
    value: Any
    computed_at: datetime | None  # None: the figure does not depend on the time
    until: datetime | None  # kept while now < until (None: until the data changes)

    def fresh(self, now: datetime | None) -> bool:
        if self.computed_at is None or now is None:
            return True
        # A clock moved back (tests, a corrected server clock) computes again.
        return self.computed_at <= now and (self.until is None or now < self.until)


class FigureCache:
    """A bounded, thread-safe LRU of computed figures (a gthread worker serves several requests at once)."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, now: datetime | None) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not entry.fresh(now):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get_or_compute(self, key: Hashable, now: datetime | None, compute: Callable[[], _Entry]) -> _Entry:
        """The fresh entry under `key`, computed by one thread at a time: the others asking for it
        meanwhile wait and take what that one computed."""
        entry = self.get(key, now)
        if entry is not None:
            return entry
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        try:
            with gate:
                entry = self.get(key, now)
                if entry is None:
                    entry = compute()
                    self.put(key, entry)
        finally:
            with self._lock:
                if self._computing.get(key) is gate:
                    del self._computing[key]
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


cache = FigureCache()


def next_due(campaign_id: int, now: datetime) -> datetime | None:
    """The first due time at or after `now` among the campaign's open steps: until then no light
    turns red and no step becomes overdue (a step done or cancelled never becomes overdue later)."""
    return db.session.scalar(
        select(func.min(Task.due_at)).where(
            Task.campaign_id == campaign_id, Task.status == TaskStatus.READY, Task.due_at >= now
        )
    )


Versions = tuple[int, int]
# A campaign without a data version yet: nothing of it is kept.
UNCACHED: Versions = (0, 0)


def read_versions(campaign_id: int) -> Versions:
    """The campaign's data version and the one of all campaigns. Read before computing: a change
    committed in between then leaves the figure under the old version, where no one asks again."""
    return data_versions.tokens(campaign_id) or UNCACHED


def cached(
    name: str,
    campaign_id: int,
    args: tuple[Hashable, ...],
    compute: Callable[[], T],
    now: datetime | None = None,
    versions: Versions | None = None,
) -> T:
    """The figure `name` for the campaign and `args`, from the cache if the campaign's data have not
    changed (and, when `now` is given, no open step has fallen due) since it was computed.

    `args` must hold whatever else the figure depends on (filters, the day, the due-soon limit).
    `versions`: what read_versions() gave in this request, if it has read them already. The
    caller gets its own copy, free to change."""
    versions = versions or read_versions(campaign_id)
    if versions is UNCACHED:
        return compute()

    def computed() -> _Entry:
        value = compute()
        return _Entry(value, now, next_due(campaign_id, now) if now is not None else None)

    entry = cache.get_or_compute((name, campaign_id, versions, args), now, computed)
    return cast(T, copy.deepcopy(entry.value))
