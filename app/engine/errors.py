"""Errors the engine raises to the services, with messages fit for people."""


class EngineError(Exception):
    """A workflow could not be run as asked."""


class DiagramError(EngineError):
    """A diagram that cannot be deployed; `problems` lists every reason found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("；".join(problems))


class TaskNotReady(EngineError):
    """The task is no longer ready (completed by someone else, or the flow moved on)."""
