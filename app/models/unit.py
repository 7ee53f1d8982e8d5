from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

UNIT_KINDS = ("department", "township", "district", "other")


class Unit(Base):
    """A participating body: a township, a county department, a district."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(32))
    # 牵头部门: the department that leads this unit's rectification (a name, as a notice's tasks
    # name their lead unit); the dashboard filters by it.
    lead_department: Mapped[str | None] = mapped_column(String(128), index=True)
