from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class TaskStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    READY = "ready"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


TASK_STATUSES = tuple(TaskStatus)


class Task(Base):
    """A ready user task projected out of a workflow so pages are plain SQL."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_unit_status", "unit_id", "status"),
        Index("ix_tasks_role_status", "role", "status"),
        Index("ix_tasks_instance_status", "instance_id", "status"),
        # The dashboard and progress matrix: each unit's open tasks and earliest due time, index-only.
        Index("ix_tasks_campaign_status", "campaign_id", "status", "unit_id", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    form_key: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="ready")
    due_at: Mapped[datetime | None]
    # When due_at was last recomputed (a holiday arrangement entered or changed): the overdue
    # ladder's next rung counts its interval from here, so a deadline moved into the past does
    # not fire a letter or a notice at once.
    due_changed_at: Mapped[datetime | None]
    ledger_item_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_items.id"), index=True)
    # The comments of the review that sent this task back, shown on the task page.
    returned_comment: Mapped[str | None] = mapped_column(Text)
    draft: Mapped[dict | None]
    draft_saved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    instance = relationship("ProcessInstance")
    unit = relationship("Unit")
    ledger_item = relationship("LedgerItem")


class Submission(Base):
    """The data a user submitted to complete a task; the evidence of each step."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    form_key: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict]
    created_at: Mapped[datetime]

    task: Mapped[Task] = relationship()
    user = relationship("User")


class Evidence(Base):
    """An uploaded file, stored outside the static folder under its SHA-256."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int]
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    field: Mapped[str] = mapped_column(String(64), default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    # A supervisor may publish a file on the disclosure site; it is then served under public_token.
    is_public: Mapped[bool] = mapped_column(default=False)
    public_token: Mapped[str | None] = mapped_column(String(32), unique=True)
