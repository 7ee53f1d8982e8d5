from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import N_, Base

ACCOUNT = "account"  # key: the user name as typed at login (known or not)
ADDRESS = "address"  # key: the client's address
# Wrong receipt codes on the public tip box (a correct code is never held back):
RECEIPT_ADDRESS = "receipt_address"  # key: the client's address
RECEIPT_CODE = "receipt_code"  # key: a salted hash of the code tried (never the code itself)
KIND_NAMES = {
    ACCOUNT: N_("账号"),
    ADDRESS: N_("地址"),
    RECEIPT_ADDRESS: N_("回执码查询地址"),
    RECEIPT_CODE: N_("回执码"),
}


class LoginThrottle(Base):
    """Recent failed logins of one account name or one client address, and the moment the next
    attempt is allowed (none before it: the delay grows with the failures). Shared by every worker."""

    __tablename__ = "login_throttles"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # ACCOUNT or ADDRESS
    key: Mapped[str] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime | None]
    # Rows quiet for LOGIN_THROTTLE_FORGET_HOURS are deleted (indexed for that sweep).
    last_failure_at: Mapped[datetime | None] = mapped_column(index=True)
    next_allowed_at: Mapped[datetime | None]
