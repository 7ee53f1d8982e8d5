"""Moving a campaign's running instances to another deployed version of their process.

`dry_run` lists every running instance with whether it can move and, if not, why (in the
words of app/engine/migration.py). `migrate` moves the selected instances (or every one that
can), each under its own savepoint with its row locked (FOR UPDATE on PostgreSQL, and the
optimistic lock_version everywhere), re-checking safety inside the transaction: data,
deadlines and pending timers are kept, the task rows re-projected (rows of tasks still ready
keep their id, so escalations stay attached), and each move is audited.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app.engine import migration as engine_migration
from app.engine import runtime
from app.engine.errors import EngineError
from app.errors import DomainError
from app.extensions import db
from app.i18n import LazyText, _l
from app.models import Campaign, InstanceStatus, ProcessDefinition, ProcessInstance, Task
from app.services.design import processes
from app.services.shared import audit
from app.services.tasks import workflow


class MigrationError(DomainError):
    """A migration that cannot even be tried (no such campaign or version)."""

    code = "migration_refused"


@dataclass
class MigrationCandidate:
    instance_id: int
    unit_id: int
    unit_name: str
    from_version: int
    can_migrate: bool
    reasons: list[LazyText] = field(default_factory=list)  # shown in the reader's language
    from_definition_id: int | None = None


@dataclass
class MigrationResult:
    moved: list[int] = field(default_factory=list)
    skipped: dict[int, list[LazyText]] = field(default_factory=dict)


def _target(campaign_id: int, target_definition_id: int) -> ProcessDefinition:
    if db.session.get(Campaign, campaign_id) is None:
        raise MigrationError(_l("专项整治不存在"), status=404)
    target = db.session.get(ProcessDefinition, target_definition_id)
    if target is None:
        raise MigrationError(_l("目标流程版本不存在"), status=404)
    return target


def _obstacles(instance: ProcessInstance, target: ProcessDefinition) -> list[LazyText]:
    """Why this instance cannot move to the target (empty: it can)."""
    if instance.status != "running":
        return [_l("实例已办结或出错，不能迁移")]
    if instance.definition_id == target.id:
        return [_l("已在第 %(version)s 版上运行", version=target.version)]
    if instance.definition.process_key != target.process_key:
        return [_l("目标版本属于另一个流程（%(key)s）", key=target.process_key)]
    try:
        return engine_migration.blockers(workflow.load(instance), processes.bundle_for(target.id))
    except EngineError as exc:
        return [_l("无法读取实例状态：%(error)s", error=exc.text)]


def dry_run(campaign_id: int, target_definition_id: int) -> list[MigrationCandidate]:
    """Every running instance of the campaign, with whether it can move to the target and why not."""
    target = _target(campaign_id, target_definition_id)
    instances = db.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.campaign_id == campaign_id, ProcessInstance.status == InstanceStatus.RUNNING)
        .options(joinedload(ProcessInstance.unit), joinedload(ProcessInstance.definition))
        .order_by(ProcessInstance.unit_id)
    ).all()
    result = []
    for instance in instances:
        reasons = _obstacles(instance, target)
        result.append(
            MigrationCandidate(
                instance_id=instance.id,
                unit_id=instance.unit_id,
                unit_name=instance.unit.name,
                from_version=instance.definition.version,
                can_migrate=not reasons,
                reasons=reasons,
                from_definition_id=instance.definition_id,
            )
        )
    return result


def migrate(
    campaign_id: int, target_definition_id: int, instance_ids: list[int] | None, actor_id: int | None
) -> MigrationResult:
    """Move the selected instances (None: every running one that can) to the target version."""
    target = _target(campaign_id, target_definition_id)
    if instance_ids is None:
        instance_ids = list(
            db.session.scalars(
                select(ProcessInstance.id)
                .where(
                    ProcessInstance.campaign_id == campaign_id,
                    ProcessInstance.status == InstanceStatus.RUNNING,
                    ProcessInstance.definition_id != target.id,
                )
                .order_by(ProcessInstance.id)
            )
        )
    result = MigrationResult()
    for instance_id in dict.fromkeys(instance_ids):
        try:
            with db.session.begin_nested():
                reasons = _move(campaign_id, instance_id, target, actor_id)
        except StaleDataError:
            reasons = [_l("实例刚被其他操作修改，请重新试运行后再迁移")]
        except EngineError as exc:
            reasons = [_l("迁移失败：%(error)s", error=exc.text)]
        if reasons:
            result.skipped[instance_id] = reasons
        else:
            result.moved.append(instance_id)
    if result.moved:
        audit.record(
            actor_id,
            "campaign.migrate",
            "campaign",
            campaign_id,
            after={
                "target_definition_id": target.id,
                "target_version": target.version,
                "moved": result.moved,
                "skipped": sorted(result.skipped),
            },
        )
    db.session.commit()
    return result


def _move(campaign_id: int, instance_id: int, target: ProcessDefinition, actor_id: int | None) -> list[LazyText]:
    # populate_existing: the row as locked, not as this session last saw it.
    instance = db.session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if instance is None or instance.campaign_id != campaign_id:
        return [_l("实例不属于该专项整治")]
    reasons = _obstacles(instance, target)
    if reasons:
        return reasons
    before = {
        "definition_id": instance.definition_id,
        "version": instance.definition.version,
        "next_timer_at": instance.next_timer_at,
    }
    bundle = processes.bundle_for(target.id)
    state = engine_migration.migrate(workflow.load(instance), bundle)
    instance.definition_id = target.id
    run = runtime.load(bundle, state)
    run.advance()
    workflow.save(instance, run, actor_id)
    _refresh_rows(instance, run)
    audit.record(
        actor_id,
        "instance.migrate",
        "process_instance",
        instance.id,
        before=before,
        after={
            "definition_id": target.id,
            "version": target.version,
            "next_timer_at": instance.next_timer_at,
        },
        unit_id=instance.unit_id,
    )
    return []


def _refresh_rows(instance: ProcessInstance, run: runtime.Run) -> None:
    """Rows of tasks still ready take the new version's name and lane (a rename or a lane move)."""
    ready = {r.spiff_id: r for r in run.ready_tasks()}
    for row in db.session.scalars(select(Task).filter_by(instance_id=instance.id, status="ready")):
        r = ready.get(row.spiff_task_id)
        if r is not None:
            row.name, row.role = r.name, r.lane or row.role
