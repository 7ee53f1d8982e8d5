"""The working-day calendar (节假日安排): each year's holidays and adjusted working days (调休),
seeded from the chinesecalendar package or entered by the office, and the recomputation of open
deadlines that follows a change."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import N_, Base

HOLIDAY_SOURCES = ("package", "office")
SOURCE_NAMES = {"package": N_("国务院安排（内置）"), "office": N_("办公室录入")}
DAY_KINDS = ("holiday", "workday")
KIND_NAMES = {"holiday": N_("放假"), "workday": N_("调休上班")}


class RecomputeStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    PENDING = "pending"
    DONE = "done"


RECOMPUTE_STATUSES = tuple(RecomputeStatus)


class HolidayYear(Base):
    """One year's arrangement. `revision` is unique and grows with every change of any year, so
    (count, max revision) tells every process whether its in-memory calendar is stale."""

    __tablename__ = "holiday_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    source: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(unique=True)
    # The chinesecalendar release a package year was seeded from.
    package_version: Mapped[str | None] = mapped_column(String(16))

    entered_by = relationship("User")
    days: Mapped[list["HolidayDay"]] = relationship(back_populates="holiday_year", order_by="HolidayDay.day")


class HolidayDay(Base):
    """A day that differs from the plain week: a holiday (放假, weekend days inside a holiday
    included, as the State Council lists them) or a weekend day worked in exchange (调休上班)."""

    __tablename__ = "holiday_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("holiday_years.id"), index=True)
    day: Mapped[date] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32), default="")

    holiday_year: Mapped[HolidayYear] = relationship(back_populates="days")


class HolidayRecompute(Base):
    """Open deadlines being recomputed after the calendar changed: running instances are done in
    batches (by id, after `after_instance_id`), inline while the office waits, then by the scheduler."""

    __tablename__ = "holiday_recomputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    years: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    after_instance_id: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    letters_changed: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
