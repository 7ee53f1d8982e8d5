"""The progress matrix: enrolled units x phases, from a few GROUP BY queries.

Nothing here loads a workflow; every figure comes from the projected tables,
so a province-wide campaign (20,000 units) costs four indexed queries. The
dashboard narrows it by unit kind and lead department, and its figures drill
down to the matrix filtered by phase and light.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Case, Subquery, and_, case, func, literal, select

from app import clock
from app.extensions import db
from app.models import CampaignUnit, LedgerItem, LedgerStatus, ProcessInstance, Task, TaskStatus, Unit
from app.models.campaign import PHASES
from app.services.accounts.unit_filter import UnitFilter
from app.services.oversight.lights import GREEN, RED, YELLOW, light, light_sql, soon_limit

# Columns of the matrix: the five phases, then finished instances.
MATRIX_PHASES = (*PHASES, "closed")
NOT_STARTED = "not_started"
# A unit with no open task has no light.
NO_LIGHT = "none"
LIGHTS = (RED, YELLOW, GREEN)


@dataclass
class MatrixRow:
    unit_id: int
    unit_code: str
    unit_name: str
    unit_kind: str
    instance_id: int | None = None
    phase: str | None = None  # None: not started yet
    status: str | None = None
    open_tasks: int = 0
    ledger_open: int = 0
    ledger_closed: int = 0
    light: str | None = None  # worst light of the open tasks; None when none are open


@dataclass
class Matrix:
    campaign_id: int
    total: int  # enrolled units (matching the unit filter)
    phase_counts: dict[str, int]
    light_counts: dict[str, int]
    rows: list[MatrixRow] = field(default_factory=list)
    page: int = 1
    per_page: int | None = None
    matched: int | None = None  # rows matching the phase / light drill-down, when one is given

    @property
    def not_started(self) -> int:
        return max(self.total - sum(self.phase_counts.values()), 0)

    @property
    def pages(self) -> int:
        if not self.per_page:
            return 1
        shown = self.total if self.matched is None else self.matched
        return max(1, -(-shown // self.per_page))


def _worst_due(campaign_id: int) -> Subquery:
    """Per unit: open tasks and the earliest due time among them (the worst light)."""
    return (
        select(Task.unit_id.label("unit_id"), func.count().label("n"), func.min(Task.due_at).label("due"))
        .where(Task.campaign_id == campaign_id, Task.status == TaskStatus.READY)
        .group_by(Task.unit_id)
        .subquery()
    )


def _light_of(worst: Subquery, now: datetime, due_soon_days: int) -> Case[str]:
    return case((worst.c.n.is_(None), NO_LIGHT), else_=light_sql(worst.c.due, now, soon_limit(now, due_soon_days)))


def phase_lights(
    campaign_id: int, units: UnitFilter | None = None, due_soon_days: int = 3, now: datetime | None = None
) -> dict[tuple[str, str], int]:
    """Enrolled units counted by (phase or not_started, worst light or none), in one GROUP BY."""
    now = now or clock.now()
    worst = _worst_due(campaign_id)
    phase = func.coalesce(ProcessInstance.phase, literal(NOT_STARTED))
    shade = _light_of(worst, now, due_soon_days)
    stmt = (
        select(phase, shade, func.count())
        .select_from(CampaignUnit)
        .outerjoin(
            ProcessInstance,
            and_(
                ProcessInstance.campaign_id == CampaignUnit.campaign_id, ProcessInstance.unit_id == CampaignUnit.unit_id
            ),
        )
        .outerjoin(worst, worst.c.unit_id == CampaignUnit.unit_id)
        .where(CampaignUnit.campaign_id == campaign_id, *(units or UnitFilter()).where(CampaignUnit.unit_id))
        .group_by(phase, shade)
    )
    return {(p, s): n for p, s, n in db.session.execute(stmt)}


def progress_matrix(
    campaign_id: int,
    page: int = 1,
    per_page: int | None = None,
    due_soon_days: int = 3,
    now: datetime | None = None,
    units: UnitFilter | None = None,
    phase: str | None = None,
    light_name: str | None = None,
) -> Matrix:
    """Units (by code) x phases with open tasks, ledger counts and the worst light; paged if per_page.

    `units` narrows everything; `phase` (or not_started) and `light_name` (or none) narrow only the rows."""
    now = now or clock.now()
    units = units or UnitFilter()
    phase = phase if phase in (*MATRIX_PHASES, NOT_STARTED) else None
    light_name = light_name if light_name in (*LIGHTS, NO_LIGHT) else None
    rows_stmt = (
        select(
            Unit.id, Unit.code, Unit.name, Unit.kind, ProcessInstance.id, ProcessInstance.phase, ProcessInstance.status
        )
        .select_from(CampaignUnit)
        .join(Unit, Unit.id == CampaignUnit.unit_id)
        .outerjoin(
            ProcessInstance,
            and_(
                ProcessInstance.campaign_id == CampaignUnit.campaign_id, ProcessInstance.unit_id == CampaignUnit.unit_id
            ),
        )
        .where(CampaignUnit.campaign_id == campaign_id, *units.where(CampaignUnit.unit_id))
        .order_by(Unit.code)
    )
    drilled = bool(phase or light_name)
    if phase == NOT_STARTED:
        rows_stmt = rows_stmt.where(ProcessInstance.id.is_(None))
    elif phase:
        rows_stmt = rows_stmt.where(ProcessInstance.phase == phase)
    if light_name:
        worst = _worst_due(campaign_id)
        rows_stmt = rows_stmt.outerjoin(worst, worst.c.unit_id == CampaignUnit.unit_id).where(
            _light_of(worst, now, due_soon_days) == light_name
        )
    cells = phase_lights(campaign_id, units, due_soon_days, now)
    matched = None
    if drilled:  # the cells the drill-down picks, counted already
        matched = sum(n for (ph, shade), n in cells.items() if phase in (None, ph) and light_name in (None, shade))
    if per_page:
        page = max(1, page)
        rows_stmt = rows_stmt.offset((page - 1) * per_page).limit(per_page)
    rows = [
        MatrixRow(uid, code, name, kind, iid, ph, status)
        for uid, code, name, kind, iid, ph, status in db.session.execute(rows_stmt)
    ]
    unit_ids = [r.unit_id for r in rows]

    # Open tasks: the earliest due time is the worst light of the unit.
    task_stmt = (
        select(Task.unit_id, func.count(), func.min(Task.due_at))
        .where(Task.campaign_id == campaign_id, Task.status == TaskStatus.READY)
        .group_by(Task.unit_id)
    )
    ledger_stmt = (
        select(
            LedgerItem.unit_id,
            func.sum(case((LedgerItem.status == LedgerStatus.CLOSED, 0), else_=1)),
            func.sum(case((LedgerItem.status == LedgerStatus.CLOSED, 1), else_=0)),
        )
        .where(LedgerItem.campaign_id == campaign_id, LedgerItem.status != LedgerStatus.PROPOSED)
        .group_by(LedgerItem.unit_id)
    )
    if per_page or drilled or units:
        task_stmt = task_stmt.where(Task.unit_id.in_(unit_ids))
        ledger_stmt = ledger_stmt.where(LedgerItem.unit_id.in_(unit_ids))
    tasks = {uid: (n, due) for uid, n, due in db.session.execute(task_stmt)}
    ledger = {uid: (int(o or 0), int(c or 0)) for uid, o, c in db.session.execute(ledger_stmt)}

    for row in rows:
        if row.unit_id in tasks:
            row.open_tasks, due = tasks[row.unit_id]
            row.light = light(due, due_soon_days, now=now)
        row.ledger_open, row.ledger_closed = ledger.get(row.unit_id, (0, 0))

    phase_counts = dict.fromkeys(MATRIX_PHASES, 0)
    light_counts = dict.fromkeys(LIGHTS, 0)
    for (ph, shade), n in cells.items():
        if ph != NOT_STARTED:
            phase_counts[ph] = phase_counts.get(ph, 0) + n
        if shade in light_counts:
            light_counts[shade] += n
    return Matrix(
        campaign_id=campaign_id,
        total=sum(cells.values()),
        phase_counts=phase_counts,
        light_counts=light_counts,
        rows=rows,
        page=page,
        per_page=per_page,
        matched=matched,
    )
