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
    payload: dict[str, Any]


@dataclass
class OperationContext:
    task_data: dict[str, Any]
    element_id: str
    # For a service task reached from a boundary event: the user task it is attached to.
    attached_task_id: str | None = None
    attached_element_id: str | None = None
    attached_due: str | None = None
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


def _escalate(ctx: OperationContext, level: str) -> dict[str, Any]:
    """A rung of the overdue ladder: recorded by the service layer, exactly once per task and level."""
    if ctx.attached_task_id is None:
        raise ValueError(f"{level}: the service task must follow a boundary event on a user task")
    raw_item = ctx.task_data.get("item")
    item = raw_item if isinstance(raw_item, dict) else {}
    ctx.effects.append(
        Effect(
            "escalate",
            {
                "level": level,
                "spiff_task_id": ctx.attached_task_id,
                "element_id": ctx.attached_element_id,
                "ledger_item_id": item.get("id"),
                "due": ctx.attached_due,
            },
        )
    )
    return {"level": level}


@operation("send_reminder")
def send_reminder(ctx: OperationContext, **_: Any) -> dict[str, Any]:
    """催办: notify the unit's staff that a step is due or overdue."""
    return _escalate(ctx, "reminder")


@operation("issue_supervision_letter")
def issue_supervision_letter(ctx: OperationContext, **_: Any) -> dict[str, Any]:
    """督办函: a numbered letter to the unit with a new deadline."""
    return _escalate(ctx, "letter")


@operation("publish_public_notice")
def publish_public_notice(ctx: OperationContext, **_: Any) -> dict[str, Any]:
    """通报: a public notice naming the unit and what is overdue."""
    return _escalate(ctx, "notice")


@operation("notify_unit")
def notify_unit(ctx: OperationContext, message: str = "", **_: Any) -> dict[str, Any]:
    """Ask the service layer to notify the instance's unit (applied in the same transaction)."""
    ctx.effects.append(Effect("notify_unit", {"message": str(message), "element_id": ctx.element_id}))
    return {"queued": True}
