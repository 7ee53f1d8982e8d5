"""Users: creation, password hashing (argon2), login (throttled: login_throttle), sessions that end on
the server (session_version) and password changes under the policy (password_policy)."""

import math
from collections.abc import Iterable
from datetime import datetime
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
from app.i18n import CLAUSES, ITEMS, N_, Joined, LazyText, _l
from app.models import Unit, User
from app.models.roles import ROLES
from app.services.shared import audit

from . import login_throttle, password_policy

BAD_CREDENTIALS = N_("用户名或密码错误")
# The same for every user name, known or not, so a refusal says nothing about who exists.
THROTTLED_SECONDS = N_("登录尝试过于频繁，请%(n)d秒后再试")
THROTTLED_MINUTES = N_("登录尝试过于频繁，请%(n)d分钟后再试")
WRONG_CURRENT_PASSWORD = N_("当前密码不正确")
SAME_PASSWORD = N_("新密码不能与当前密码相同")


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    # Verified against when the username is unknown, so both paths cost the same time.
    return hasher, hasher.hash("rectify-dummy-password")


def _hasher() -> tuple[PasswordHasher, str]:
    """The hasher of the app's configuration (PASSWORD_HASH_*), with its dummy hash. A hash made
    with other parameters still verifies (they are read from the hash) and is redone at login."""
    cfg = current_app.config
    return _hasher_for(
        cfg["PASSWORD_HASH_TIME_COST"], cfg["PASSWORD_HASH_MEMORY_COST"], cfg["PASSWORD_HASH_PARALLELISM"]
    )


class UserError(Invalid):
    """A user could not be created or changed; the message is for people."""

    code = "user_invalid"


class LoginError(DomainError):
    """Login refused; the message is safe to show on the login page."""

    status = 401
    code = "login_refused"


class PasswordError(UserError):
    """A new password was refused: every rule of the policy it breaks, as translatable texts."""

    code = "password_policy"

    def __init__(self, problems: list[LazyText]):
        super().__init__(Joined(problems, CLAUSES))
        self.problems = problems


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
        "must_change_password": user.must_change_password,
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
    if role not in ROLES:
        raise UserError(_l("角色无效：%(role)s（可选：%(roles)s）", role=role, roles=Joined(ROLES, ITEMS)))
    if role == "unit_staff" and unit_id is None:
        raise UserError(_l("单位工作人员必须指定所属单位"))
    if role != "unit_staff" and unit_id is not None:
        raise UserError(_l("只有单位工作人员可以指定所属单位"))
    if unit_id is not None and db.session.get(Unit, unit_id) is None:
        raise UserError(_l("所属单位不存在"))
    check_password(password, username)


def check_password(password: str, username: str) -> None:
    """Raise PasswordError when the password breaks the policy (config.py PASSWORD_*)."""
    problems = password_policy.problems(password, username)
    if problems:
        raise PasswordError(problems)


def create_user(
    username: str,
    password: str,
    role: str,
    display_name: str,
    unit_id: int | None = None,
    email: str | None = None,
    actor_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    """Create a user with a hashed password; raises UserError with a message for people. An account
    the office hands to someone with a first password is made with must_change_password: after
    logging in, its user can do nothing but choose their own."""
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
        must_change_password=must_change_password,
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
    """Create the user if missing; an existing user is returned untouched (demo seed: its users
    keep the published demo password, without a change at first login)."""
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


def _throttled(until: datetime) -> LoginError:
    seconds = max(math.ceil((until - clock.now()).total_seconds()), 1)
    if seconds <= 120:
        return LoginError(THROTTLED_SECONDS, n=seconds)
    return LoginError(THROTTLED_MINUTES, n=(seconds + 59) // 60)


def _audit_subject(user: User | None, username: str) -> tuple[int | None, str, int | str, int | None]:
    """(actor, entity type, entity id, unit) of a login event: the user when known and active,
    else the name as typed."""
    if user is not None and user.active:
        return user.id, "user", user.id, user.unit_id
    return None, "login", username[:64], None


def authenticate(username: str, password: str, address: str | None = None) -> User:
    """Check a login from a client address. Raises LoginError with the same message and about the
    same cost whether or not the user exists: a wrong password (or unknown name) is one message,
    a running delay (login_throttle) another. Every failure and refusal is audited."""
    username = (username or "").strip()
    address = address or "unknown"
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    actor, entity_type, entity_id, unit_id = _audit_subject(user, username)
    try:
        claim = login_throttle.begin(username, address)
    except login_throttle.Refused as refused:
        audit.record(
            actor,
            "login.throttled",
            entity_type,
            entity_id,
            unit_id=unit_id,
            after={"address": address, "by": refused.kind, "until": refused.until},
        )
        db.session.commit()
        raise _throttled(refused.until) from None
    ok = False
    if user is None or not user.active:
        verify_password(_hasher()[1], password or "")  # the same work as for a real user
    else:
        ok = verify_password(user.password_hash, password or "")
    if user is None or not ok:
        audit.record(
            actor,
            "login.failure",
            entity_type,
            entity_id,
            unit_id=unit_id,
            after={
                "reason": "bad_password" if actor else "unknown_or_inactive",
                "address": address,
                "account_failures": claim.account_failures,
                "address_failures": claim.address_failures,
                "next_allowed_at": claim.next_allowed_at,
            },
        )
        db.session.commit()
        raise LoginError(BAD_CREDENTIALS)
    login_throttle.succeeded(claim)
    if _hasher()[0].check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record(user.id, "login.success", "user", user.id, unit_id=user.unit_id, after={"address": address})
    db.session.commit()
    return user


def session_user(session_id: str) -> User | None:
    """The user of a session's id ("<user id>:<session version>", User.get_id), or None when the
    user is gone or inactive, or the session was ended (logout, password change) since."""
    user_part, _, version = (session_id or "").partition(":")
    if not user_part.isdigit() or not version.isdigit():
        return None  # a cookie from before session versions, or forged
    user = db.session.get(User, int(user_part))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def record_logout(user_id: int) -> None:
    """Log out: every session of the user ends, here and in any other browser (a copied cookie too)."""
    user = db.session.get(User, user_id)
    if user is not None:
        user.session_version += 1
    audit.record(user_id, "logout", "user", user_id, unit_id=user.unit_id if user else None)
    db.session.commit()


def record_idle_timeout(user_id: int) -> None:
    """The session was left idle too long and has ended (only this browser's: its cookie is dead)."""
    user = db.session.get(User, user_id)
    audit.record(user_id, "logout.idle", "user", user_id, unit_id=user.unit_id if user else None)
    db.session.commit()


def change_password(user_id: int, current: str, new: str, address: str | None = None) -> User:
    """The user changes their own password: the current one is checked (throttled and audited like a
    login), the new one must meet the policy and differ. Every other session of the user ends; the
    caller logs the current one in again (the user's new get_id)."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise UserError(_l("用户不存在或已停用"))
    address = address or "unknown"
    try:
        claim = login_throttle.begin(user.username, address)
    except login_throttle.Refused as refused:
        audit.record(
            user.id,
            "password.throttled",
            "user",
            user.id,
            unit_id=user.unit_id,
            after={"address": address, "by": refused.kind, "until": refused.until},
        )
        db.session.commit()
        raise _throttled(refused.until) from None
    if not verify_password(user.password_hash, current or ""):
        audit.record(
            user.id,
            "password.change_failure",
            "user",
            user.id,
            unit_id=user.unit_id,
            after={
                "reason": "bad_password",
                "address": address,
                "account_failures": claim.account_failures,
                "address_failures": claim.address_failures,
                "next_allowed_at": claim.next_allowed_at,
            },
        )
        db.session.commit()
        raise LoginError(WRONG_CURRENT_PASSWORD)
    login_throttle.succeeded(claim)
    problems = password_policy.problems(new, user.username)
    if not problems and new == current:
        problems = [_l(SAME_PASSWORD)]
    if problems:
        db.session.commit()  # the right current password gave its attempt back
        raise PasswordError(problems)
    forced = user.must_change_password
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    audit.record(
        user.id,
        "password.change",
        "user",
        user.id,
        unit_id=user.unit_id,
        after={"address": address, "first_login": forced},
    )
    db.session.commit()
    return user
