from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import N_, Base

LEVELS = ("reminder", "letter", "notice")
LEVEL_NAMES = {"reminder": N_("催办"), "letter": N_("督办函"), "notice": N_("通报")}


# pending: to be carried out (next_attempt_at says when: now, or later while an earlier rung's
# interval runs); done; incident: failed too often, waits for a person; cancelled: its step was
# closed before it was carried out, so it never was; withdrawn: carried out wrongly, withdrawn by
# the office with a reason (kept, never deleted).
class EscalationStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    PENDING = "pending"
    DONE = "done"
    INCIDENT = "incident"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"


ESCALATION_STATUSES = tuple(EscalationStatus)
STATUS_NAMES = {
    "pending": N_("待执行"),
    "done": N_("已执行"),
    "incident": N_("执行失败"),
    "cancelled": N_("已取消（环节已办结）"),
    "withdrawn": N_("已撤回"),
}
# Rungs that name the unit in public: never before an earlier letter's reply deadline.
PUBLIC_LEVELS = frozenset({"notice"})


class Escalation(Base):
    """One rung of the overdue ladder for one task: unique per (instance, task, level)."""

    __tablename__ = "escalations"
    __table_args__ = (
        # One rung a step and level, except that a withdrawn one (issued wrongly) makes room for
        # the office to issue it again: the key is unique among the rungs not withdrawn.
        Index(
            "uq_escalations_key",
            "instance_id",
            "spiff_task_id",
            "level",
            unique=True,
            sqlite_where=text("status != 'withdrawn'"),
            postgresql_where=text("status != 'withdrawn'"),
        ),
        Index("ix_escalations_status_next", "status", "next_attempt_at"),
        Index("ix_escalations_unit_level", "unit_id", "level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    spiff_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(64))
    ledger_item_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_items.id"))
    level: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    fired_at: Mapped[datetime]
    manual: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    # Why it was cancelled (its step closed first) or withdrawn (the office's reason).
    closed_reason: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit = relationship("Unit")
    task = relationship("Task")
    ledger_item = relationship("LedgerItem")


class LetterCounter(Base):
    """The last letter number per issuer and year; its row is locked while a number is taken."""

    __tablename__ = "letter_counters"
    __table_args__ = (UniqueConstraint("issuer", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(128))
    year: Mapped[int]
    last_number: Mapped[int] = mapped_column(default=0)


class SupervisionLetter(Base):
    """督办函: numbered per issuer and year with no gap and no duplicate."""

    __tablename__ = "supervision_letters"
    __table_args__ = (UniqueConstraint("issuer", "year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), unique=True)
    issuer: Mapped[str] = mapped_column(String(128))
    year: Mapped[int]
    number: Mapped[int]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    subject: Mapped[str] = mapped_column(String(256))
    items: Mapped[list] = mapped_column(default=list)
    original_due: Mapped[datetime | None]
    new_due: Mapped[date]
    body: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    # The reply deadline was chosen by a person (not LETTER_GRACE_DAYS working days): a new
    # holiday arrangement leaves it alone.
    due_by_hand: Mapped[bool] = mapped_column(default=False)

    unit = relationship("Unit")
    campaign = relationship("Campaign")

    @property
    def doc_number(self) -> str:
        return self.number_of(self.year, self.number)

    @staticmethod
    def number_of(year: int, number: int) -> str:
        """The document number a letter of this year and number carries."""
        return f"督办函〔{year}〕第{number}号"


class PublicNotice(Base):
    """通报: published to the public page; withdrawn with a reason, never deleted."""

    __tablename__ = "public_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    summary: Mapped[str] = mapped_column(Text)
    overdue_since: Mapped[datetime | None]
    published_at: Mapped[datetime] = mapped_column(index=True)
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)

    unit = relationship("Unit")
    campaign = relationship("Campaign")


class Notification(Base):
    """An in-app message to one user, also sent by email when SMTP is configured."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    # none (no address or no SMTP), pending, sent, failed
    email_status: Mapped[str] = mapped_column(String(16), default="none")
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_next_attempt_at: Mapped[datetime | None]
    email_error: Mapped[str | None] = mapped_column(Text)
