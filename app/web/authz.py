"""Authorisation helpers shared by every blueprint: role checks and unit scoping."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

# Roles that oversee every unit; unit_staff see their own unit only.
ALL_UNITS_ROLES = ("admin", "supervisor", "assessor")


def role_required(*roles: str):
    """Require a logged-in user with one of `roles` (anonymous -> login page, wrong role -> 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_unit_id() -> int | None:
    """The unit the current user is bound to (unit_staff), else None."""
    if not current_user.is_authenticated:
        return None
    return current_user.unit_id if current_user.role == "unit_staff" else None


def can_see_unit(unit_id: int | None) -> bool:
    if not current_user.is_authenticated:
        return False
    if current_user.role in ALL_UNITS_ROLES:
        return True
    return current_user.role == "unit_staff" and unit_id is not None and current_user.unit_id == unit_id


def unit_scope_or_404(unit_id: int | None) -> None:
    """Abort 404 (not 403: do not reveal that the unit's record exists) unless the user may see this unit."""
    if not can_see_unit(unit_id):
        abort(404)
