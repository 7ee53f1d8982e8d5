"""节假日安排: the working-day calendar, stored in the database and extendable by the office.

- store: the stored years, how a year is resolved (office, else package, else weekends only),
  and each process's in-memory snapshot of it (app.workdays) kept current
- entry: an arrangement from the page's rows or a CSV/XLSX file, checked row by row; saving a
  year, seeding the package's years
- recompute: open deadlines that follow a change (waiting ladder timers, ready tasks' due times,
  the process data they come from, open letters' reply deadlines), in batches
"""

from .entry import (
    MAX_BYTES,
    MAX_ROWS,
    CalendarError,
    Checked,
    RowError,
    SaveResult,
    SeedResult,
    check_file,
    check_rows,
    revert_to_package,
    save_year,
    seed,
    template_csv,
    template_xlsx,
)
from .recompute import due_changes, pending_job, resume, run
from .store import YearRow, YearView, overview, refresh, reset_for_tests, unwatched, watch, year_view

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "CalendarError",
    "Checked",
    "RowError",
    "SaveResult",
    "SeedResult",
    "YearRow",
    "YearView",
    "check_file",
    "check_rows",
    "due_changes",
    "overview",
    "pending_job",
    "refresh",
    "reset_for_tests",
    "resume",
    "revert_to_package",
    "run",
    "save_year",
    "seed",
    "template_csv",
    "template_xlsx",
    "unwatched",
    "watch",
    "year_view",
]
