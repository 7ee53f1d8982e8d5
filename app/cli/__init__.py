"""`flask` commands, one module per group."""
from flask import Flask


def register(app: Flask) -> None:
    from . import appraisal, calendar, campaign, demo, processes, scheduler, units, users

    for module in (processes, units, campaign, appraisal, scheduler, users, demo, calendar):
        app.cli.add_command(module.group)
