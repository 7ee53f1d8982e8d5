"""All models, importable from one place (Alembic autogenerate needs them loaded)."""
from .appraisal import AppraisalScheme, SchemeComponent, SchemePart, SchemeTemplate
from .audit import AuditEvent
from .base import Base
from .calendar import HolidayDay, HolidayRecompute, HolidayYear
from .campaign import Campaign, CampaignPhase, CampaignTask, CampaignUnit
from .draft import ProcessDraft
from .escalation import Escalation, LetterCounter, Notification, PublicNotice, SupervisionLetter
from .interview import Interview, SelfExamination
from .ledger import LedgerItem
from .process import ProcessDefinition, ProcessInstance
from .rate_limit import RateCounter
from .score_sheet import PartScore, ScoreSheet
from .task import Evidence, Submission, Task
from .tip import Tip, TipPhoto
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
    "AuditEvent",
    "Base",
    "Campaign",
    "CampaignPhase",
    "CampaignTask",
    "CampaignUnit",
    "Escalation",
    "Evidence",
    "HolidayDay",
    "HolidayRecompute",
    "HolidayYear",
    "LetterCounter",
    "LedgerItem",
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
]
