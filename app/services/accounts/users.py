"""Users: creation, password hashing (argon2) and login with lockout."""
from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import clock
from app.errors import DomainError, Invalid
from app.extensions import db
from app.i18n import ITEMS, N_, Joined, _l
from app.models import Unit, User
from app.models.roles import ROLES
from app.services.shared import audit

LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 8
BAD_CREDENTIALS = N_("用户名或密码错误")
LOCKED = N_("登录失败次数过多，请15分钟后再试")



@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    # Verified against when the username is unknown, so both paths cost the same time.
    return hasher, hasher.hash("rectify-dummy-password")


def _hasher() -> tuple[PasswordHasher, str]:
    """The hasher of the app's configuration (PASSWORD_HASH_*), with its dummy hash. A hash made
    with other parameters still verifies (they are read from the hash) and is redone at login."""
    cfg = current_app.config
    return _hasher_for(cfg["PASSWORD_HASH_TIME_COST"], cfg["PASSWORD_HASH_MEMORY_COST"],
                       cfg["PASSWORD_HASH_PARALLELISM"])


class UserError(Invalid):
    """A user could not be created or changed; the message is for people."""

    code = "user_invalid"


class LoginError(DomainError):
    """Login refused; the message is safe to show on the login page."""

    status = 401
    code = "login_refused"


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher()[0].verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _snapshot(user: User) -> dict[str, Any]:
    """The audited view of a user: never the password hash."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "unit_id": user.unit_id,
        "email": user.email,
        "active": user.active,
    }


def _validate(username: str, password: str, role: str, display_name: str, unit_id: int | None) -> None:
    if not username:
        raise UserError(_l("用户名不能为空"))
    if len(username) > 64 or any(ch.isspace() for ch in username):
        raise UserError(_l("用户名不能超过64个字符，且不能包含空格"))
    if not display_name:
        raise UserError(_l("显示名不能为空"))
    if len(display_name) > 64:
        raise UserError(_l("显示名不能超过64个字符"))
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(_l("密码至少需要%(n)s个字符", n=MIN_PASSWORD_LENGTH))
    if role not in ROLES:
        raise UserError(_l("角色无效：%(role)s（可选：%(roles)s）", role=role, roles=Joined(ROLES, ITEMS)))
    if role == "unit_staff" and unit_id is None:
        raise UserError(_l("单位工作人员必须指定所属单位"))
    if role != "unit_staff" and unit_id is not None:
        raise UserError(_l("只有单位工作人员可以指定所属单位"))
    if unit_id is not None and db.session.get(Unit, unit_id) is None:
        raise UserError(_l("所属单位不存在"))


def create_user(
    username: str,
    password: str,
    role: str,
    display_name: str,
    unit_id: int | None = None,
    email: str | None = None,
    actor_id: int | None = None,
) -> User:
    """Create a user with a hashed password; raises UserError with a message for people."""
    username = (username or "").strip()
    display_name = (display_name or "").strip()
    email = (email or "").strip() or None
    _validate(username, password, role, display_name, unit_id)
    if email and len(email) > 128:
        raise UserError(_l("邮箱不能超过128个字符"))
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(_l("用户名已存在：%(name)s", name=username))
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name,
        unit_id=unit_id,
        email=email,
        active=True,
        failed_logins=0,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request created the same username between our check and the insert.
        db.session.rollback()
        raise UserError(_l("用户名已存在：%(name)s", name=username)) from None
    audit.record(actor_id, "user.create", "user", user.id, after=_snapshot(user), unit_id=unit_id)
    db.session.commit()
    return user


def ensure_user(
    username: str,
    password: str,
    role: str,
    display_name: str,
    unit_id: int | None = None,
    email: str | None = None,
) -> User:
    """Create the user if missing; an existing user is returned untouched (demo seed)."""
    existing = db.session.scalar(select(User).where(User.username == username.strip()))
    if existing is not None:
        return existing
    return create_user(username, password, role, display_name, unit_id=unit_id, email=email)


def get_active(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def display_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names by id, for pages that show who did something."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).tuples().all())


def by_username(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username.strip()))


def list_users() -> list[User]:
    stmt = select(User).options(joinedload(User.unit)).order_by(User.role, User.username)
    return list(db.session.scalars(stmt))


def authenticate(username: str, password: str) -> User:
    """Check a login; lock the account for 15 minutes after too many consecutive failures."""
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    now = clock.now()
    if user is None or not user.active:
        verify_password(_hasher()[1], password or "")
        audit.record(None, "login.failure", "login", username[:64], after={"reason": "unknown_or_inactive"})
        db.session.commit()
        raise LoginError(BAD_CREDENTIALS)
    if user.locked_until is not None and user.locked_until > now:
        audit.record(user.id, "login.locked", "user", user.id, unit_id=user.unit_id)
        db.session.commit()
        raise LoginError(LOCKED)
    if user.locked_until is not None:
        # The lock has run out: the user gets a fresh set of attempts.
        user.locked_until = None
        user.failed_logins = 0
    if not verify_password(user.password_hash, password or ""):
        user.failed_logins = (user.failed_logins or 0) + 1
        locked = user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]
        if locked:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        audit.record(
            user.id, "login.failure", "user", user.id, unit_id=user.unit_id,
            after={"failed_logins": user.failed_logins, "locked_until": user.locked_until},
        )
        db.session.commit()
        raise LoginError(LOCKED if locked else BAD_CREDENTIALS)
    if _hasher()[0].check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(user.id, "login.success", "user", user.id, unit_id=user.unit_id)
    db.session.commit()
    return user


def record_logout(user_id: int) -> None:
    user = db.session.get(User, user_id)
    audit.record(user_id, "logout", "user", user_id, unit_id=user.unit_id if user else None)
    db.session.commit()
