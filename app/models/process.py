from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class ProcessDefinition(Base):
    """One immutable deployed version of a diagram, keyed by its content hash."""

    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("process_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(128))
    bpmn_xml: Mapped[str] = mapped_column(Text)
    # The serialised spec, stored once here and supplied when an instance loads.
    spec_json: Mapped[str] = mapped_column(Text)
    form_keys: Mapped[list] = mapped_column(default=list)
    deployed_at: Mapped[datetime]
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class InstanceStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"


INSTANCE_STATUSES = tuple(InstanceStatus)


class ProcessInstance(Base):
    """One unit's run of the process in one campaign."""

    __tablename__ = "process_instances"
    __table_args__ = (
        UniqueConstraint("campaign_id", "unit_id"),
        Index("ix_process_instances_next_timer_at", "next_timer_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"))
    status: Mapped[str] = mapped_column(String(16), default="running")
    phase: Mapped[str] = mapped_column(String(32), default="deploy")
    round: Mapped[int] = mapped_column(default=1)
    # zlib-compressed workflow state without the spec (see app/engine/serialization.py).
    state: Mapped[bytes] = mapped_column(LargeBinary)
    lock_version: Mapped[int] = mapped_column(default=1)
    next_timer_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    error: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"version_id_col": lock_version}

    definition: Mapped[ProcessDefinition] = relationship()
    unit = relationship("Unit")
    campaign = relationship("Campaign")
