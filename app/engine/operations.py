"""Registered operations: the only code a service task in a diagram may call.

An operation gets its evaluated parameters and an OperationContext and returns a
JSON-serialisable result (stored in the task data under the result variable). Side
effects on the database are not done here (the engine knows no database): an operation
appends effects to the context, which the calling service applies in its own transaction.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Effect:
    kind: str
    payload: dict


@dataclass
class OperationContext:
    task_data: dict
    element_id: str
    effects: list[Effect] = field(default_factory=list)


Operation = Callable[..., Any]
_registry: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    """Register a function as the operation `name`."""

    def wrap(func: Operation) -> Operation:
        _registry[name] = func
        return func

    return wrap


def get(name: str) -> Operation | None:
    return _registry.get(name)


def names() -> set[str]:
    return set(_registry)


@operation("notify_unit")
def notify_unit(ctx: OperationContext, message: str = "", **_: Any) -> dict:
    """Ask the service layer to notify the instance's unit (applied in the same transaction)."""
    ctx.effects.append(Effect("notify_unit", {"message": str(message), "element_id": ctx.element_id}))
    return {"queued": True}
