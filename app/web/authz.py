"""Authorisation helpers shared by every blueprint: permission checks and unit scoping.

The roles and permissions themselves are defined once, in app.models.roles."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.models.roles import OVERSEE_ALL_UNITS, PERMISSIONS, Permission, Role


def allowed_roles(*allowed: str | frozenset) -> frozenset:
    """The roles named by `allowed`: permissions (sets of roles) and single roles, joined."""
    roles: set[Role] = set()
    for entry in allowed:
        roles.update((Role(entry),) if isinstance(entry, str) else (Role(r) for r in entry))
    return frozenset(roles)


def role_required(*allowed: str | frozenset):
    """Require a logged-in user whose role is in one of `allowed` (permissions such as
    roles.SUPERVISE, or single roles): anonymous -> login page, any other role -> 403."""
    roles = allowed_roles(*allowed)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def can(permission: Permission | str) -> bool:
    """Whether the current user has the permission (an app.models.roles permission or its name,
    as templates ask: `{% if can('supervise') %}`); never for anonymous users. An unknown name
    is an error, not a silent no."""
    if isinstance(permission, str):
        permission = PERMISSIONS[permission]
    return current_user.is_authenticated and current_user.role in permission


def current_unit_id() -> int | None:
    """The unit the current user is bound to (unit_staff), else None."""
    if not current_user.is_authenticated:
        return None
    return current_user.unit_id if current_user.role == Role.UNIT_STAFF else None


def can_see_unit(unit_id: int | None) -> bool:
    if not current_user.is_authenticated:
        return False
    if current_user.role in OVERSEE_ALL_UNITS:
        return True
    return current_user.role == Role.UNIT_STAFF and unit_id is not None and current_user.unit_id == unit_id


def unit_scope_or_404(unit_id: int | None) -> None:
    """Abort 404 (not 403: do not reveal that the unit's record exists) unless the user may see this unit."""
    if not can_see_unit(unit_id):
        abort(404)
