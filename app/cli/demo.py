import click
from flask import current_app
from flask.cli import AppGroup

group = AppGroup("demo", help="演示数据 / demo data")


@group.command("seed")
def seed_command():
    """Create the demo campaign, units and users (idempotent), and print the logins."""
    from app.demo import seed

    # The app itself, not the context-local proxy (typed as Flask).
    result = seed.seed(current_app._get_current_object())  # type: ignore[attr-defined]
    state = "已创建" if result.created else "已存在，保持不变"
    click.echo(f"演示专项整治 {result.doc_number}（编号 {result.campaign_id}）{state}")
    click.echo(f"演示账号（密码均为 {seed.PASSWORD}）：")
    for username, role, name in seed.logins():
        click.echo(f"  {username:<14} {role:<11} {name}")
    click.echo("  其他单位：staff_<单位代码小写>，如 staff_d01、staff_t18")
