"""Appraisal schemes (考核方案): templates loaded from schemes/*.yaml and each campaign's own copy."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

POINTS = Numeric(7, 2)


class SchemeTemplate(Base):
    """One version of a scheme file; a changed file becomes the next version, old ones stay."""

    __tablename__ = "scheme_templates"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(128))
    definition: Mapped[dict]
    content_hash: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime]


class AppraisalScheme(Base):
    """A campaign's own copy of a scheme: editing the template never changes a finished appraisal."""

    __tablename__ = "appraisal_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), unique=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("scheme_templates.id"))
    name: Mapped[str] = mapped_column(String(128))
    total: Mapped[Decimal] = mapped_column(POINTS)
    # How many of each unit category are flagged for an interview (约谈); ties at the line are all flagged.
    bottom_n: Mapped[int] = mapped_column(default=2)
    attached_at: Mapped[datetime]
    attached_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finalised_at: Mapped[datetime | None]
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    components: Mapped[list["SchemeComponent"]] = relationship(
        back_populates="scheme", order_by="SchemeComponent.position", cascade="all, delete-orphan"
    )
    template: Mapped[SchemeTemplate | None] = relationship()


class SchemeComponent(Base):
    """A component (考评项目): worth `points` of the total, scored out of `max_score` over its parts."""

    __tablename__ = "scheme_components"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("appraisal_schemes.id"), index=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    points: Mapped[Decimal] = mapped_column(POINTS)
    max_score: Mapped[Decimal] = mapped_column(POINTS)

    scheme: Mapped[AppraisalScheme] = relationship(back_populates="components")
    parts: Mapped[list["SchemePart"]] = relationship(
        back_populates="component", order_by="SchemePart.position", cascade="all, delete-orphan"
    )

    @property
    def whole(self) -> bool:
        """Scored as one figure (the scheme lists no parts; it holds a single part of its own name)."""
        return len(self.parts) == 1 and self.parts[0].name == self.name


class SchemePart(Base):
    """A part (细项) of a component with its maximum points; every score is entered against a part."""

    __tablename__ = "scheme_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("scheme_components.id"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(128))
    points: Mapped[Decimal] = mapped_column(POINTS)

    component: Mapped[SchemeComponent] = relationship(back_populates="parts")
