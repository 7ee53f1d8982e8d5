"""The roles and permissions of app.models.roles: stored values, labels, documented permissions."""

import pickle
import re
from pathlib import Path

import pytest

from app.engine import lint
from app.models import roles
from app.models.roles import PERMISSIONS, ROLE_LABELS, ROLES, Permission, Role

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def test_stored_values_are_the_lower_case_words():
    assert [str(r) for r in ROLES] == ["admin", "designer", "supervisor", "assessor", "unit_staff"]
    assert Role("unit_staff") is Role.UNIT_STAFF and Role.SUPERVISOR == "supervisor"


def test_every_role_has_a_label():
    assert set(ROLE_LABELS) == set(Role)
    assert Role.ADMIN.label == "系统管理员"


def test_every_permission_is_registered_by_its_name_and_documented():
    declared = {name: value for name, value in vars(roles).items() if isinstance(value, Permission)}
    assert {p.name for p in declared.values()} == set(PERMISSIONS)
    for constant, permission in declared.items():
        assert permission.name == constant.lower()
        assert permission and permission <= set(Role), permission
        assert len(permission.__doc__) > 30, f"{constant} says what it allows"


def test_a_permission_is_a_frozenset_of_roles():
    assert "supervisor" in roles.SUPERVISE and "unit_staff" not in roles.SUPERVISE
    assert roles.OVERSEE_ALL_UNITS | {Role.UNIT_STAFF} == roles.SEE_UNIT_RECORDS
    copied = pickle.loads(pickle.dumps(roles.DESIGN))
    assert copied == roles.DESIGN and copied.name == "design"


def test_a_role_that_does_not_exist_cannot_be_given_a_permission():
    with pytest.raises(ValueError):
        Permission("typo", {"supervisorr"}, "A permission naming a role that does not exist.")


def test_the_diagrams_lanes_are_roles():
    assert set(lint.ROLES) <= set(Role)


def test_templates_ask_for_known_permissions_and_compare_no_roles():
    asked, compared = set(), []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        asked |= set(re.findall(r"can\('([a-z_]+)'\)", text))
        compared += [f"{path.name}: {m}" for m in re.findall(r"current_user\.role\s*(?:==|!=|in|not in)\s*\S+", text)]
    assert asked and asked <= set(PERMISSIONS), asked - set(PERMISSIONS)
    assert not compared, compared
