"""All models, importable from one place (Alembic autogenerate needs them loaded)."""

from .appraisal import AppraisalScheme, SchemeComponent, SchemePart, SchemeTemplate
from .audit import AuditChainHead, AuditEvent
from .base import Base
from .calendar import HolidayDay, HolidayRecompute, HolidayYear, RecomputeStatus
from .campaign import Campaign, CampaignPhase, CampaignStatus, CampaignTask, CampaignUnit
from .data_version import DataVersion
from .draft import ProcessDraft
from .escalation import Escalation, EscalationStatus, LetterCounter, Notification, PublicNotice, SupervisionLetter
from .interview import FollowUpStatus, Interview, SelfExamination, SelfExaminationStatus
from .ledger import LedgerItem, LedgerStatus
from .login_throttle import LoginThrottle
from .process import InstanceStatus, ProcessDefinition, ProcessInstance
from .rate_limit import RateCounter
from .score_sheet import PartScore, ScoreSheet, SheetStatus
from .task import Evidence, Submission, Task, TaskStatus
from .tip import Tip, TipPhoto, TipStatus
from .unit import Unit
from .user import User

__all__ = [
    "AppraisalScheme",
    "Interview",
    "PartScore",
    "SchemeComponent",
    "SchemePart",
    "SchemeTemplate",
    "ScoreSheet",
    "SelfExamination",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "Campaign",
    "CampaignPhase",
    "CampaignTask",
    "CampaignUnit",
    "DataVersion",
    "Escalation",
    "Evidence",
    "HolidayDay",
    "HolidayRecompute",
    "HolidayYear",
    "LetterCounter",
    "LedgerItem",
    "LoginThrottle",
    "Notification",
    "PublicNotice",
    "SupervisionLetter",
    "ProcessDefinition",
    "ProcessDraft",
    "ProcessInstance",
    "RateCounter",
    "Submission",
    "Task",
    "Tip",
    "TipPhoto",
    "Unit",
    "User",
    # Status vocabularies (StrEnum: stored as the plain string)
    "CampaignStatus",
    "EscalationStatus",
    "FollowUpStatus",
    "InstanceStatus",
    "LedgerStatus",
    "RecomputeStatus",
    "SelfExaminationStatus",
    "SheetStatus",
    "TaskStatus",
    "TipStatus",
]
