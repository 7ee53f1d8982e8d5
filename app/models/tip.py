from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


# received: waits for the campaign office; accepted: became a ledger item; declined: with a reason.
class TipStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    DECLINED = "declined"


TIP_STATUSES = tuple(TipStatus)


class Tip(Base):
    """A resident's report to the tip box (监督工作箱) about a unit or one of its projects."""

    __tablename__ = "tips"
    __table_args__ = (Index("ix_tips_campaign_status", "campaign_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    project: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(100))
    # Only the SHA-256 of the receipt code is kept: the code itself is shown to the reporter once.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="received")
    # The office's answer shown on the public status page (the reason when declined).
    reply: Mapped[str | None] = mapped_column(Text)
    ledger_item_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_items.id"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    triaged_at: Mapped[datetime | None]
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    campaign = relationship("Campaign")
    unit = relationship("Unit")
    ledger_item = relationship("LedgerItem")
    photos: Mapped[list["TipPhoto"]] = relationship(order_by="TipPhoto.position", cascade="all, delete-orphan")


class TipPhoto(Base):
    """A photo attached to a tip, stored like evidence under its SHA-256 outside the static folder."""

    __tablename__ = "tip_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
