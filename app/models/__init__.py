"""All models, importable from one place (Alembic autogenerate needs them loaded)."""
from .audit import AuditEvent
from .base import Base
from .campaign import Campaign, CampaignPhase, CampaignTask, CampaignUnit
from .escalation import Escalation, LetterCounter, Notification, PublicNotice, SupervisionLetter
from .ledger import LedgerItem
from .process import ProcessDefinition, ProcessInstance
from .task import Evidence, Submission, Task
from .unit import Unit
from .user import User

__all__ = [
    "AuditEvent", "Base", "Campaign", "CampaignPhase", "CampaignTask", "CampaignUnit",
    "Escalation", "Evidence", "LetterCounter", "LedgerItem", "Notification", "PublicNotice", "SupervisionLetter", "ProcessDefinition", "ProcessInstance", "Submission", "Task",
    "Unit", "User",
]
