"""Errors the engine raises to the services, with messages fit for people (app.i18n texts,
translated where they are shown: the engine imports no Flask)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import DomainError
from app.i18n import Joined, LazyText, _l

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
    message: str | LazyText
    code: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def text(self) -> LazyText:
        if not self.file:
            return self.message if isinstance(self.message, LazyText) else LazyText(self.message)
        return _l("%(file)s：%(message)s", file=self.file, message=self.message)

    def __str__(self) -> str:
        return str(self.text())

    def as_json(self) -> dict[str, Any]:
        """For a JSON answer (the message is put into words when the answer is written)."""
        return {
            "file": self.file,
            "element_id": self.element_id,
            "severity": self.severity,
            "message": self.message,
            "code": self.code,
        }


class EngineError(DomainError):
    """A workflow could not be run as asked."""

    status = 409
    code = "engine_error"


class DiagramError(EngineError):
    """A diagram that cannot be deployed.

    `items` holds the structured problems; `problems` the same as lines of text
    ("file：message", in the reader's language), which is what older callers print.
    """

    status = 422
    code = "diagram_invalid"

    def __init__(self, problems: Sequence[Problem | str | LazyText]):
        self.items: list[Problem] = [p if isinstance(p, Problem) else Problem("", None, "error", p) for p in problems]
        super().__init__(Joined([p.text() for p in self.items]), details=[p.as_json() for p in self.items])

    @property
    def problems(self) -> list[str]:
        return [str(p) for p in self.items]


class TaskNotReady(EngineError):
    """The task is no longer ready (completed by someone else, or the flow moved on)."""

    code = "task_not_ready"
