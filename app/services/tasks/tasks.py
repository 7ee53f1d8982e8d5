"""Task lists, drafts and completion: the use cases of unit staff, supervisors and assessors."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from app import clock
from app.errors import DomainError, NotFound, Refused
from app.extensions import db
from app.forms import registry as forms
from app.forms.builder import RectifyForm
from app.i18n import N_, LazyText, _l
from app.models import Evidence, ProcessInstance, Submission, Task, TaskStatus, User
from app.models.roles import OVERSEE_ALL_UNITS
from app.services.escalation import escalations
from app.services.shared import audit, paging
from app.services.shared.paging import Page
from app.services.tasks import evidence, steps, workflow

NO_COMMENT = N_("（未填写意见）")  # stored as the returned step's comment when none was typed


class TaskNotFound(NotFound):
    """Not there, or not this user's to see: both look the same from outside."""

    code = "task_not_found"


class Conflict(Refused):
    """Someone else got there first, or the process has moved on."""

    code = "conflict"


class FormInvalid(DomainError):
    """The form has errors (shown beside its fields); the typed data was kept as a draft.
    `status` is 413 or 415 when an upload was refused as too large or of the wrong type."""

    status = 422
    code = "form_invalid"

    def __init__(self, form: RectifyForm, message: str | LazyText | None = None, status: int | None = None):
        super().__init__(
            message or _l("表单有误，请按提示修改"), details=getattr(form, "errors", None) or None, status=status
        )
        self.form = form


STALE = N_("该任务已被他人处理或流程已更新，请刷新页面后重试")


def can_see(user: User, task: Task) -> bool:
    if user.role == "unit_staff":
        return task.unit_id == user.unit_id and task.role == "unit_staff"
    return user.role in OVERSEE_ALL_UNITS


def can_complete(user: User, task: Task) -> bool:
    if task.status != "ready" or user.role != task.role:
        return False
    return user.role != "unit_staff" or task.unit_id == user.unit_id


def get_for(user: User, task_id: int) -> Task:
    # The instance comes along: every caller needs it, and one query beats two.
    task = db.session.get(Task, task_id, options=[joinedload(Task.instance)])
    if task is None or not can_see(user, task):
        raise TaskNotFound()
    return task


def open_for_unit(unit_id: int) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task)
            .options(joinedload(Task.ledger_item))
            .where(Task.unit_id == unit_id, Task.status == TaskStatus.READY, Task.role == "unit_staff")
            .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
        )
    )


def done_for_unit(unit_id: int, limit: int = 50) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task)
            .options(joinedload(Task.ledger_item))
            .where(Task.unit_id == unit_id, Task.status == TaskStatus.COMPLETED, Task.role == "unit_staff")
            .order_by(Task.completed_at.desc())
            .limit(limit)
        )
    )


def queue(
    role: str,
    *,
    campaign_id: int | None = None,
    unit_id: int | None = None,
    form_key: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Task]:
    """Ready tasks of a lane across units, most urgent first, paged (the page clamped to those there are)."""
    query = select(Task).where(Task.role == role, Task.status == TaskStatus.READY)
    if campaign_id:
        query = query.where(Task.campaign_id == campaign_id)
    if unit_id:
        query = query.where(Task.unit_id == unit_id)
    if form_key:
        query = query.where(Task.form_key == form_key)
    ordered = query.options(joinedload(Task.unit), joinedload(Task.ledger_item)).order_by(
        Task.due_at.is_(None), Task.due_at, Task.id
    )
    rows, total, page = paging.fetch(query, ordered, page, per_page)
    return Page(rows, total, page, per_page)


def dynamic_choices(task: Task) -> steps.Choices:
    return steps.dynamic_choices(task)


def previous_submission(task: Task) -> Submission | None:
    """The last submission of the same step in this instance (what a returned task starts from)."""
    query = (
        select(Submission)
        .join(Task, Submission.task_id == Task.id)
        .where(Task.instance_id == task.instance_id, Task.element_id == task.element_id, Task.id != task.id)
    )
    if task.ledger_item_id:
        query = query.where(Task.ledger_item_id == task.ledger_item_id)
    return db.session.scalars(query.order_by(Submission.id.desc()).limit(1)).first()


def reviewed_submission(task: Task) -> Submission | None:
    """The latest unit submission a supervisor's task is about: the self-check, or the item's rectification report."""
    kind = steps.kind_of(task.form_key)
    reviewed = kind.reviews if kind else None
    if reviewed is None:
        return None
    query = (
        select(Submission)
        .join(Task, Submission.task_id == Task.id)
        .where(Task.instance_id == task.instance_id, Task.form_key == reviewed)
    )
    if task.ledger_item_id:
        query = query.where(Task.ledger_item_id == task.ledger_item_id)
    return db.session.scalars(query.order_by(Submission.id.desc()).limit(1)).first()


def submission_of(task: Task) -> Submission | None:
    return db.session.scalars(select(Submission).filter_by(task_id=task.id).limit(1)).first()


def initial_data(task: Task) -> dict[str, Any] | None:
    """Pre-fill: the saved draft, else the previous submission of a returned step."""
    if task.draft:
        return task.draft
    previous = previous_submission(task)
    return previous.data if previous else None


def existing_files(task: Task) -> dict[str, list[Evidence]]:
    grouped: dict[str, list[Evidence]] = {}
    for row in evidence.for_task(task.id):
        grouped.setdefault(row.field, []).append(row)
    return grouped


def _store_files(user: User, task: Task, checked: list[evidence.CheckedUpload]) -> None:
    for item in checked:
        evidence.store(item, unit_id=task.unit_id, instance_id=task.instance_id, task_id=task.id, user_id=user.id)


def _check_uploads(form: RectifyForm, task: Task) -> list[evidence.CheckedUpload]:
    """Every upload against its field's accepted types (by content), the size of a file and the task's
    caps, before anything is stored; refusals go beside their fields and raise FormInvalid."""
    checked: list[evidence.CheckedUpload] = []
    statuses: set[int] = set()
    for field, files in forms.files_of(form).items():
        fdef = form.definition.field(field)
        for upload in files:
            try:
                checked.append(evidence.check_upload(upload, field, fdef.accept if fdef else None))
            except evidence.EvidenceError as exc:
                form[field].errors = list(form[field].errors) + [exc.message]
                statuses.add(exc.status)
    if not statuses:
        try:
            evidence.check_task_caps(task.id, checked)
        except evidence.EvidenceError as exc:
            form[exc.field].errors = list(form[exc.field].errors) + [exc.message]
            statuses.add(exc.status)
    if statuses:
        # Too large wins: that page states the limits.
        raise FormInvalid(form, status=max(statuses))
    return checked


def save_draft(user: User, task_id: int, form: RectifyForm) -> Task:
    """Keep what was typed and uploaded so far; no validation beyond file types."""
    task = get_for(user, task_id)
    if not can_complete(user, task):
        raise Conflict(STALE)
    checked = _check_uploads(form, task)
    _store_files(user, task, checked)
    task.draft = forms.to_data(form)
    task.draft_saved_at = clock.now()
    audit.record(user.id, "task.draft", "task", task.id, after={"draft_saved": True}, unit_id=task.unit_id)
    db.session.commit()
    return task


def complete(user: User, task_id: int, form: RectifyForm, expected_lock_version: int | None = None) -> Task:
    """Validate, store evidence, run the step and the engine, save and project: one transaction."""
    task = get_for(user, task_id)
    if not can_complete(user, task):
        raise Conflict(STALE)
    # Files are checked (read, sniffed, images decoded) before the lock is taken.
    checked = _check_uploads(form, task)
    # The instance's row lock, held to the commit (on SQLite, the write lock): the sweep carrying
    # out a rung of this step takes it too, so it fires before this completion or sees it and
    # stands down (escalations.gate). The instance and task are read afresh under it.
    escalations.lock_instances([task.instance_id], wait=True)
    instance = db.session.get_one(ProcessInstance, task.instance_id, populate_existing=True)
    db.session.refresh(task)
    if not can_complete(user, task):
        raise Conflict(STALE)
    if expected_lock_version is not None and expected_lock_version != instance.lock_version:
        raise Conflict(STALE)
    counts = {}
    if form.definition.file_fields:  # most review forms carry no files: skip the evidence queries
        _store_files(user, task, checked)
        db.session.flush()
        counts = {field: len(rows) for field, rows in existing_files(task).items()}
    if not forms.validate(form, counts):
        # Nothing typed is lost: the answers become the draft, the files are already kept.
        task.draft = forms.to_data(form)
        task.draft_saved_at = clock.now()
        db.session.commit()
        raise FormInvalid(form)
    data = forms.to_data(form)
    try:
        process_data = steps.apply(steps.Step(instance, task, user.id, data))
        run = workflow.load(instance)
        run.complete(task.spiff_task_id, process_data)
        db.session.add(
            Submission(
                task_id=task.id,
                instance_id=instance.id,
                unit_id=task.unit_id,
                user_id=user.id,
                form_key=task.form_key,
                data=data,
                created_at=clock.now(),
            )
        )
        created = workflow.save(instance, run, user.id, completed_task=task)
        _carry_comments(process_data, data, created)
        task.draft = None
        audit.record(
            user.id,
            "task.complete",
            "task",
            task.id,
            before={"status": "ready"},
            after={"status": "completed", "element": task.element_id, "process_data": process_data},
            unit_id=task.unit_id,
        )
        db.session.commit()
    except steps.StepRefused as exc:
        _roll_back()
        raise Conflict(exc.text) from None
    except (StaleDataError, workflow.TaskNotReady):
        _roll_back()
        raise Conflict(STALE) from None
    except OperationalError as exc:
        # SQLite refuses a write whose snapshot another writer made stale: the same conflict.
        _roll_back()
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        raise Conflict(STALE) from None
    except workflow.EngineError as exc:
        _roll_back()
        raise Conflict(_l("流程无法推进：%(error)s", error=exc.text)) from None
    evidence.forget_new_blobs()
    return task


def _roll_back() -> None:
    """Undo the completion, files written for it included (a lost race leaves nothing on disk)."""
    db.session.rollback()
    evidence.discard_new_blobs()


def _carry_comments(process_data: dict[str, Any], data: dict[str, Any], created: list[Task]) -> None:
    """A returned step shows the reviewer's comments on the task it reopens, and keeps the
    evidence already submitted there, so nothing has to be uploaded again."""
    if "return" not in (process_data.get("decision"), process_data.get("verification")):
        return
    for row in created:
        if row.role != "unit_staff":
            continue
        row.returned_comment = data.get("comments") or NO_COMMENT
        db.session.flush()  # the new row needs its id to carry the evidence over
        previous = previous_submission(row)
        if previous is not None:
            evidence.copy_to_task(previous.task_id, row)


def instance_for(user: User, instance_id: int) -> ProcessInstance:
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None or (user.role == "unit_staff" and instance.unit_id != user.unit_id):
        raise TaskNotFound()
    return instance


def instance_history(instance_id: int) -> list[tuple[Task, Submission | None]]:
    rows = db.session.execute(
        select(Task, Submission)
        .outerjoin(Submission, Submission.task_id == Task.id)
        .options(joinedload(Submission.user))  # who submitted each step, shown beside it
        .where(Task.instance_id == instance_id)
        .order_by(Task.id)
    ).all()
    return [(t, s) for t, s in rows]


def instances_of_unit(unit_id: int) -> list[ProcessInstance]:
    return list(
        db.session.scalars(
            select(ProcessInstance)
            .options(joinedload(ProcessInstance.campaign))
            .filter_by(unit_id=unit_id)
            .order_by(ProcessInstance.id)
        )
    )
