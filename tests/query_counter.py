"""Counting the SQL statements a block of code sends to the app's database, to pin the statement
count of a hot page so that a query per row (an N+1) fails the build.

    with count_statements(app) as log:
        client.get("/my/tasks")
    log.assert_at_most(9)          # prints every statement when it fails

Statements are counted on the app's engine (`before_cursor_execute`), so everything a request
sends is counted: loading the user, the header's unread count, the page's queries, an
executemany once; BEGIN and COMMIT, which the drivers send by themselves, are not.
"""

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from app.extensions import db

_SPACE = re.compile(r"\s+")


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """Every statement, numbered and shortened, then the ones sent more than once (the N+1 suspects)."""
        lines = [f"{len(self.statements)} statements:"]
        short = [_short(s) for s in self.statements]
        lines += [f"{n:3d}. {s}" for n, s in enumerate(short, 1)]
        repeated = [(s, n) for s, n in Counter(short).items() if n > 1]
        if repeated:
            lines.append("sent more than once:")
            lines += [f"  x{n} {s}" for s, n in repeated]
        return "\n".join(lines)

    def assert_at_most(self, limit: int) -> None:
        assert self.count <= limit, f"expected at most {limit} statements\n{self.report()}"


def _short(statement: str, width: int = 220) -> str:
    flat = _SPACE.sub(" ", statement).strip()
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@contextmanager
def count_statements(app) -> Iterator[StatementLog]:
    """Every statement sent on `app`'s engine inside the block, from this thread or any other."""
    with app.app_context():
        engine = db.engine
    log = StatementLog()

    def before(conn, cursor, statement, *args):
        log.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)


def assert_same_count(small: StatementLog, large: StatementLog, what: str) -> None:
    """The statement count must not grow with the campaign: on failure both logs are shown."""
    assert small.count == large.count, (
        f"{what}: {small.count} statements for the small campaign, {large.count} for the large one "
        f"(a query per row?)\n--- small\n{small.report()}\n--- large\n{large.report()}"
    )
