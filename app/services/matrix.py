"""The progress matrix: enrolled units x phases, from a few GROUP BY queries.

Nothing here loads a workflow; every figure comes from the projected tables,
so a province-wide campaign (20,000 units) costs four indexed queries.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, select

from app import clock
from app.extensions import db
from app.models import CampaignUnit, LedgerItem, ProcessInstance, Task, Unit
from app.models.campaign import PHASES
from app.services.lights import light, soon_limit

# Columns of the matrix: the five phases, then finished instances.
MATRIX_PHASES = (*PHASES, "closed")


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
    total: int  # enrolled units
    phase_counts: dict[str, int]
    light_counts: dict[str, int]
    rows: list[MatrixRow] = field(default_factory=list)
    page: int = 1
    per_page: int | None = None

    @property
    def not_started(self) -> int:
        return max(self.total - sum(self.phase_counts.values()), 0)

    @property
    def pages(self) -> int:
        if not self.per_page:
            return 1
        return max(1, -(-self.total // self.per_page))


def progress_matrix(campaign_id: int, page: int = 1, per_page: int | None = None,
                    due_soon_days: int = 3, now: datetime | None = None) -> Matrix:
    """Units (by code) x phases with open tasks, ledger counts and the worst light; paged if per_page."""
    now = now or clock.now()
    rows_stmt = (
        select(Unit.id, Unit.code, Unit.name, Unit.kind,
               ProcessInstance.id, ProcessInstance.phase, ProcessInstance.status)
        .select_from(CampaignUnit)
        .join(Unit, Unit.id == CampaignUnit.unit_id)
        .outerjoin(ProcessInstance, and_(ProcessInstance.campaign_id == CampaignUnit.campaign_id,
                                         ProcessInstance.unit_id == CampaignUnit.unit_id))
        .where(CampaignUnit.campaign_id == campaign_id)
        .order_by(Unit.code)
    )
    if per_page:
        page = max(1, page)
        rows_stmt = rows_stmt.offset((page - 1) * per_page).limit(per_page)
    rows = [MatrixRow(uid, code, name, kind, iid, phase, status)
            for uid, code, name, kind, iid, phase, status in db.session.execute(rows_stmt)]
    unit_ids = [r.unit_id for r in rows]

    # Open tasks: the earliest due time is the worst light of the unit.
    task_stmt = (
        select(Task.unit_id, func.count(), func.min(Task.due_at))
        .where(Task.campaign_id == campaign_id, Task.status == "ready")
        .group_by(Task.unit_id)
    )
    ledger_stmt = (
        select(LedgerItem.unit_id,
               func.sum(case((LedgerItem.status == "closed", 0), else_=1)),
               func.sum(case((LedgerItem.status == "closed", 1), else_=0)))
        .where(LedgerItem.campaign_id == campaign_id, LedgerItem.status != "proposed")
        .group_by(LedgerItem.unit_id)
    )
    if per_page:
        task_stmt = task_stmt.where(Task.unit_id.in_(unit_ids))
        ledger_stmt = ledger_stmt.where(LedgerItem.unit_id.in_(unit_ids))
    tasks = {uid: (n, due) for uid, n, due in db.session.execute(task_stmt)}
    ledger = {uid: (int(o or 0), int(c or 0)) for uid, o, c in db.session.execute(ledger_stmt)}

    for row in rows:
        if row.unit_id in tasks:
            row.open_tasks, due = tasks[row.unit_id]
            row.light = light(due, due_soon_days, now=now)
        row.ledger_open, row.ledger_closed = ledger.get(row.unit_id, (0, 0))

    return Matrix(
        campaign_id=campaign_id,
        total=_enrolled(campaign_id),
        phase_counts=_phase_counts(campaign_id),
        light_counts=_light_counts(campaign_id, due_soon_days, now),
        rows=rows,
        page=page,
        per_page=per_page,
    )


def _enrolled(campaign_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CampaignUnit).where(CampaignUnit.campaign_id == campaign_id)
    ) or 0


def _phase_counts(campaign_id: int) -> dict[str, int]:
    """Instances per phase, counting only enrolled units."""
    counts = dict.fromkeys(MATRIX_PHASES, 0)
    stmt = (
        select(ProcessInstance.phase, func.count())
        .join(CampaignUnit, and_(CampaignUnit.campaign_id == ProcessInstance.campaign_id,
                                 CampaignUnit.unit_id == ProcessInstance.unit_id))
        .where(ProcessInstance.campaign_id == campaign_id)
        .group_by(ProcessInstance.phase)
    )
    for phase, n in db.session.execute(stmt):
        counts[phase] = counts.get(phase, 0) + n
    return counts


def _light_counts(campaign_id: int, due_soon_days: int, now: datetime) -> dict[str, int]:
    """Units per worst light (earliest due time of their open tasks), counted in SQL: a unit
    stays red while any of its tasks is overdue."""
    due = (
        select(func.min(Task.due_at).label("due"))
        .where(Task.campaign_id == campaign_id, Task.status == "ready")
        .group_by(Task.unit_id)
        .subquery()
    ).c.due
    soon = soon_limit(now, due_soon_days)
    red, yellow, total = db.session.execute(
        select(func.sum(case((due < now, 1), else_=0)),
               func.sum(case((and_(due >= now, due <= soon), 1), else_=0)),
               func.count())
    ).one()
    red, yellow = int(red or 0), int(yellow or 0)
    return {"green": total - red - yellow, "yellow": yellow, "red": red}
