from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

# The scope of everything not kept per campaign (units' names, kinds and lead departments).
ALL_CAMPAIGNS = "all"


def campaign_scope(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


class DataVersion(Base):
    """A token that changes, in the same transaction, with every change to what a scope's
    aggregates count: caches of those aggregates are keyed by it (app/services/shared/data_versions.py)."""

    __tablename__ = "data_versions"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    # A random number, not a counter: a database emptied or restored never hands out a token
    # again that a running process has cached other figures under.
    token: Mapped[int] = mapped_column(BigInteger)
