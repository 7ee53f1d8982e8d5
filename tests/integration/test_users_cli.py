"""`flask users create` and the user service's rules behind it."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.accounts import users


def _create(runner, *args):
    return runner.invoke(args=["users", "create", *args])


def _user(app, username):
    with app.app_context():
        return db.session.scalar(select(User).where(User.username == username))


def test_create_admin(app, runner):
    result = _create(runner, "--username", "root", "--password", "Passw0rd!", "--role", "admin", "--name", "管理员")
    assert result.exit_code == 0, result.output
    assert "已创建用户 root" in result.output
    user = _user(app, "root")
    assert user.display_name == "管理员" and user.role == "admin" and user.unit_id is None
    assert user.password_hash != "Passw0rd!" and user.password_hash.startswith("$argon2")
    with app.app_context():
        assert users.authenticate("root", "Passw0rd!").id == user.id


def test_create_unit_staff_with_unit_code(app, runner, make_unit):
    unit_id = make_unit("430521001")
    result = _create(
        runner, "--username", "clerk", "--password", "Passw0rd!", "--role", "unit_staff", "--unit", "430521001"
    )
    assert result.exit_code == 0, result.output
    user = _user(app, "clerk")
    assert user.unit_id == unit_id and user.display_name == "clerk"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--role", "unit_staff"], "单位工作人员必须指定所属单位"),
        (["--role", "boss"], "角色无效"),
        (["--role", "unit_staff", "--unit", "NOPE"], "单位不存在：NOPE"),
        (["--role", "admin", "--unit", "U1"], "只有单位工作人员可以指定所属单位"),
    ],
)
def test_create_errors_exit_non_zero(app, runner, make_unit, args, message):
    make_unit("U1")
    result = _create(runner, "--username", "x1", "--password", "Passw0rd!", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert _user(app, "x1") is None


def test_duplicate_username_and_short_password(app, runner):
    assert _create(runner, "--username", "dup", "--password", "Passw0rd!", "--role", "admin").exit_code == 0
    result = _create(runner, "--username", "dup", "--password", "Passw0rd!", "--role", "assessor")
    assert result.exit_code != 0 and "用户名已存在：dup" in result.output
    assert _user(app, "dup").role == "admin"
    result = _create(runner, "--username", "shorty", "--password", "abc", "--role", "admin")
    assert result.exit_code != 0 and "密码至少需要8个字符" in result.output


def test_password_can_be_prompted(app, runner):
    result = runner.invoke(
        args=["users", "create", "--username", "asked", "--role", "designer"], input="Passw0rd!\nPassw0rd!\n"
    )
    assert result.exit_code == 0, result.output
    assert _user(app, "asked").role == "designer"


def test_ensure_user_is_idempotent(app):
    with app.app_context():
        first = users.ensure_user("demo", "Passw0rd!", "supervisor", "督导一组")
        again = users.ensure_user("demo", "Other-pass1", "admin", "别的名字")
        assert again.id == first.id and again.role == "supervisor"
        assert users.authenticate("demo", "Passw0rd!").id == first.id


def test_list_command(runner, make_user):
    make_user("assessor", username="judge")
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0 and "judge" in result.output and "assessor" in result.output
