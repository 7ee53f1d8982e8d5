"""`flask users ...`: create and list accounts from the command line."""

import click
from flask.cli import AppGroup

group = AppGroup("users", help="用户管理 (users)")


@group.command("create")
@click.option("--username", required=True, help="登录用户名")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="密码（不给则提示输入）")
@click.option("--role", required=True, help="admin / designer / supervisor / assessor / unit_staff")
@click.option("--unit", "unit_code", default=None, help="所属单位代码（unit_staff 必填）")
@click.option("--name", "display_name", default=None, help="显示名（默认同用户名）")
@click.option("--email", default=None)
@click.option(
    "--must-change/--no-must-change",
    "must_change",
    default=True,
    show_default=True,
    help="首次登录须修改密码（管理员设置的初始密码）",
)
def create(username, password, role, unit_code, display_name, email, must_change):
    """Create a user. The password must meet the policy (config.py PASSWORD_*); the user changes it
    at the first login unless --no-must-change."""
    from app.services.accounts import units, users

    unit_id = None
    if unit_code:
        unit = units.by_code(unit_code.strip())
        if unit is None:
            raise click.ClickException(f"单位不存在：{unit_code}")
        unit_id = unit.id
    user = users.create_user(
        username=username,
        password=password,
        role=role,
        display_name=display_name or username,
        unit_id=unit_id,
        email=email,
        must_change_password=must_change,
    )
    click.echo(f"已创建用户 {user.username}（{user.role}）id={user.id}")
    if must_change:
        click.echo("首次登录时须修改密码")


@group.command("list")
def list_():
    """List users."""
    from app.services.accounts import users

    for user in users.list_users():
        unit = user.unit.code if user.unit else "-"
        state = "" if user.active else "（已停用）"
        click.echo(f"{user.id}\t{user.username}\t{user.role}\t{unit}\t{user.display_name}{state}")
