import click
from flask.cli import AppGroup

group = AppGroup("appraisal", help="考核方案 / appraisal schemes")


@group.command("load")
def load_command():
    """Load schemes/*.yaml as templates; a changed file becomes the next version."""
    from app.services.appraisal import appraisal_schemes

    results = appraisal_schemes.load_templates()
    for template, created in results:
        click.echo(f"{template.key} v{template.version} {template.name}（{'新版本' if created else '未变化'}）")
