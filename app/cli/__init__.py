"""`flask` commands, one module per group.

A DomainError a command does not handle itself ends the command as a click error: its message
on stderr ("错误：…", in the source language: a command has no reader's locale) and exit status
1, never a traceback."""

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from app.errors import DomainError
from app.i18n import gettext


class CommandError(click.ClickException):
    """A DomainError on the command line: the message, then exit 1."""

    exit_code = 1

    def __init__(self, error: DomainError):
        super().__init__(error.message)
        self.error = error

    def show(self, file=None) -> None:
        click.echo(gettext("错误：%(message)s", message=self.format_message()), file=file, err=file is None)


# The callbacks _guarded made, so that registering the commands again (another app) wraps none twice.
_GUARDS: set[Callable[..., Any]] = set()


def _guarded(command: click.Command) -> None:
    """Turn the DomainErrors of `command` (and of a group's subcommands) into CommandErrors."""
    for sub in getattr(command, "commands", {}).values():
        _guarded(sub)
    callback = command.callback
    if callback is None or callback in _GUARDS:
        return

    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except DomainError as exc:
            raise CommandError(exc) from exc

    _GUARDS.add(guarded)
    command.callback = guarded


def register(app: Flask) -> None:
    from . import appraisal, audit, backup, calendar, campaign, demo, files, processes, scheduler, units, users

    for module in (processes, units, campaign, appraisal, scheduler, users, demo, calendar, files, backup, audit):
        _guarded(module.group)
        app.cli.add_command(module.group)
