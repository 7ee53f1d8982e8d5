"""What follows a low ranking: the interview (约谈) and the written self-examination (书面检查)."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .unit import Unit


class FollowUpStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"


FOLLOW_UP_STATUSES = tuple(FollowUpStatus)


class SelfExaminationStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    REQUIRED = "required"
    RECEIVED = "received"


SELF_EXAMINATION_STATUSES = tuple(SelfExaminationStatus)


class Interview(Base):
    """The record of an interview with a flagged unit's leader, entered by the campaign office."""

    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    held_on: Mapped[date]
    leader_interviewed: Mapped[str] = mapped_column(String(128))
    interviewer: Mapped[str] = mapped_column(String(128))
    minutes: Mapped[str] = mapped_column(Text)
    follow_up_actions: Mapped[str] = mapped_column(Text, default="")
    follow_up_status: Mapped[str] = mapped_column(String(16), default="pending")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    unit: Mapped[Unit] = relationship()


class SelfExamination(Base):
    """A unit flagged in two consecutive campaigns of one kind owes a written self-examination."""

    __tablename__ = "self_examinations"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    previous_campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    status: Mapped[str] = mapped_column(String(16), default="required")
    received_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    unit: Mapped[Unit] = relationship()
