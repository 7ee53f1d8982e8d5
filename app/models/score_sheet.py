"""Score sheets (评分表): one per unit per appraised campaign, a score and reason per part."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .unit import Unit


class SheetStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    DRAFT = "draft"
    SUBMITTED = "submitted"


SHEET_STATUSES = tuple(SheetStatus)


class ScoreSheet(Base):
    __tablename__ = "score_sheets"
    __table_args__ = (UniqueConstraint("scheme_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("appraisal_schemes.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Negative incidents or major mistakes (负面事件、重大失误) are deducted from the total.
    penalty: Mapped[Decimal] = mapped_column(Numeric(7, 2), default=Decimal("0"))
    penalty_reason: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    scored_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scored_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    # Written when the office confirms the ranking; the next campaign of the kind reads `flagged`.
    rank: Mapped[int | None]
    flagged: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    unit: Mapped[Unit] = relationship()
    scores: Mapped[list["PartScore"]] = relationship(back_populates="sheet", cascade="all, delete-orphan")
    scored_by = relationship("User", foreign_keys=[scored_by_id])
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])


class PartScore(Base):
    __tablename__ = "part_scores"
    __table_args__ = (UniqueConstraint("sheet_id", "part_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("score_sheets.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("scheme_parts.id"))
    score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    # Required whenever the score is below the part's maximum (扣分须写明原因).
    reason: Mapped[str] = mapped_column(Text, default="")

    sheet: Mapped[ScoreSheet] = relationship(back_populates="scores")
