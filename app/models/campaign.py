from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import N_, Base, new_public_slug
from .unit import Unit


class CampaignStatus(StrEnum):
    """Stored as the plain string; compares equal to it."""

    DRAFT = "draft"
    LAUNCHING = "launching"
    LAUNCHED = "launched"
    CLOSED = "closed"


CAMPAIGN_STATUSES = tuple(CampaignStatus)

# Phase keys shared by notices, instances and the progress matrix, in order.
PHASES = ("deploy", "self_check", "rectification", "assessment", "follow_up")
PHASE_NAMES = {
    "deploy": N_("动员部署"),
    "self_check": N_("自查自纠"),
    "rectification": N_("整改落实"),
    "assessment": N_("总结评估"),
    "follow_up": N_("回头看"),
    "closed": N_("已办结"),
}


class Campaign(Base):
    """A special rectification campaign started by a notice (通知)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_number: Mapped[str] = mapped_column(String(64), unique=True)
    issuer: Mapped[str] = mapped_column(String(128))
    issued_on: Mapped[date]
    title: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    follow_up_on: Mapped[date | None]
    created_at: Mapped[datetime]
    launched_at: Mapped[datetime | None]
    # Launch progress, written batch by batch so the page can show it.
    launch_total: Mapped[int] = mapped_column(default=0)
    launch_done: Mapped[int] = mapped_column(default=0)
    # The overdue ladder (催办 → 督办函 → 通报): offsets after a task's due time, chosen per campaign.
    ladder: Mapped[dict] = mapped_column(default=dict)
    # 整治类别 (e.g. 形象工程整治): appraisal results compare a campaign with the previous one of its kind.
    kind: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # 开门整治: only published campaigns appear on the public site, under their slug.
    public_slug: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_slug)
    published: Mapped[bool] = mapped_column(default=False)

    phases: Mapped[list["CampaignPhase"]] = relationship(
        back_populates="campaign", order_by="CampaignPhase.position", cascade="all, delete-orphan"
    )
    tasks: Mapped[list["CampaignTask"]] = relationship(
        back_populates="campaign", order_by="CampaignTask.no", cascade="all, delete-orphan"
    )


class CampaignPhase(Base):
    __tablename__ = "campaign_phases"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    starts: Mapped[date]
    ends: Mapped[date]

    campaign: Mapped[Campaign] = relationship(back_populates="phases")


class CampaignTask(Base):
    """A task of the notice (整治任务) with its lead and responsible units."""

    __tablename__ = "campaign_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    no: Mapped[int]
    title: Mapped[str] = mapped_column(String(256))
    lead_unit: Mapped[str] = mapped_column(String(128))
    responsible_units: Mapped[list] = mapped_column(default=list)
    starts: Mapped[date | None]
    ends: Mapped[date | None]

    campaign: Mapped[Campaign] = relationship(back_populates="tasks")


class CampaignUnit(Base):
    """A unit enrolled in a campaign."""

    __tablename__ = "campaign_units"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    # The unit's page on the public site (enrolment by INSERT ... SELECT fills it right after).
    public_slug: Mapped[str | None] = mapped_column(String(32), unique=True, default=new_public_slug)

    unit: Mapped[Unit] = relationship()
