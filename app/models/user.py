from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .unit import Unit


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)  # a roles.Role value
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the session's user id (get_id): raising it ends every session of the user (logout,
    # password change), so a copied session cookie stops working.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Set for an account the office created with a first password: nothing but changing it after login.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="0")
    email: Mapped[str | None] = mapped_column(String(128))

    unit: Mapped[Unit | None] = relationship()

    # Flask-Login's protocol, kept here so models need no Flask import.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # Flask-Login's "alternative id": the user loader refuses a session of an older version.
        return f"{self.id}:{self.session_version}"
