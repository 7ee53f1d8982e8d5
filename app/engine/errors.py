"""Errors the engine raises to the services, with messages fit for people."""
from collections.abc import Sequence
from dataclasses import dataclass

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Problem:
    """One finding about a diagram, pinned to the element it is about (None: the whole file).

    `code` names the rule (e.g. "form_key", "doctype"), so callers can tell a trust-boundary
    refusal from an ordinary modelling mistake without reading the message.
    """

    file: str
    element_id: str | None
    severity: str  # "error" | "warning"
    message: str
    code: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        return f"{self.file}：{self.message}"


class EngineError(Exception):
    """A workflow could not be run as asked."""


class DiagramError(EngineError):
    """A diagram that cannot be deployed.

    `items` holds the structured problems; `problems` the same as lines of text
    ("file：message"), which is what older callers print.
    """

    def __init__(self, problems: Sequence[Problem | str]):
        self.items: list[Problem] = [
            p if isinstance(p, Problem) else Problem("", None, "error", str(p)) for p in problems
        ]
        self.problems: list[str] = [str(p) if isinstance(p, Problem) else str(p) for p in problems]
        super().__init__("；".join(self.problems))


class TaskNotReady(EngineError):
    """The task is no longer ready (completed by someone else, or the flow moved on)."""
