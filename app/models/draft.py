from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base


class ProcessDraft(Base):
    """A diagram being edited in the designer: saved as often as wanted, deployed as a new version."""

    __tablename__ = "process_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))
    xml: Mapped[str] = mapped_column(Text)
    based_on_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definitions.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]

    based_on = relationship("ProcessDefinition")
    updated_by = relationship("User")
