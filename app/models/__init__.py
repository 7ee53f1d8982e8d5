"""All models, importable from one place (Alembic autogenerate needs them loaded)."""
from .audit import AuditEvent
from .base import Base
from .campaign import Campaign, CampaignPhase, CampaignTask, CampaignUnit
from .ledger import LedgerItem
from .process import ProcessDefinition, ProcessInstance
from .task import Evidence, Submission, Task
from .unit import Unit
from .user import User

__all__ = [
    "AuditEvent", "Base", "Campaign", "CampaignPhase", "CampaignTask", "CampaignUnit",
    "Evidence", "LedgerItem", "ProcessDefinition", "ProcessInstance", "Submission", "Task",
    "Unit", "User",
]
