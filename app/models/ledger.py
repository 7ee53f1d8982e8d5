from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


# proposed: listed in a self-check not yet accepted; rectifying: 正在整改;
# rectified: 已整改, awaiting verification; closed: 销号.
class LedgerStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    PROPOSED = "proposed"
    RECTIFYING = "rectifying"
    RECTIFIED = "rectified"
    CLOSED = "closed"


LEDGER_STATUSES = tuple(LedgerStatus)
LEDGER_ORIGINS = ("self_check", "supervision", "remedial", "follow_up", "tip", "import")
LEDGER_SOURCES = ("residents", "service_users", "self_check", "supervision", "tip_off")


class LedgerItem(Base):
    """A problem in a unit's rectification ledger (整改台账), with its five fixes."""

    __tablename__ = "ledger_items"
    __table_args__ = (
        UniqueConstraint("instance_id", "seq"),
        Index("ix_ledger_items_instance_status", "instance_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    seq: Mapped[int]
    title: Mapped[str] = mapped_column(String(256))
    source: Mapped[str] = mapped_column(String(32))
    measures: Mapped[str] = mapped_column(Text)
    responsible_leader: Mapped[str] = mapped_column(String(128))
    responsible_department: Mapped[str] = mapped_column(String(128))
    deadline: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    origin: Mapped[str] = mapped_column(String(16), default="self_check")
    round: Mapped[int] = mapped_column(default=1)
    reopen_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit = relationship("Unit")
