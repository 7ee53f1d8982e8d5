"""The registry of step kinds: per form key, everything Rectify decides about that step.

A step kind (StepKind) names its form (forms/<key>.yaml: fields and validation rules), what
completing it does (`apply`: the submission applied to the domain, such as ledger items and
rounds, returning the process data the diagram's gateways read), which unit step it reviews,
the choices its form fills at run time, and what its page shows. Handlers run inside the
completing transaction and raise StepRefused to stop it with a message. Nothing else in the
code base branches on a form key: it asks `kind_of(key)`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app import clock, workdays
from app.engine import runtime
from app.errors import Refused
from app.i18n import LazyText, _l
from app.models import ProcessInstance, Task
from app.services.ledger import ledger


class StepRefused(Refused):
    """Completing this step is refused as things stand; `field` names the input at fault."""

    code = "step_refused"

    def __init__(self, message: str | LazyText, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class Step:
    instance: ProcessInstance
    task: Task
    actor_id: int
    data: dict[str, Any]


def _deploy(step: Step) -> dict[str, Any]:
    return {}


def _self_check(step: Step) -> dict[str, Any]:
    ledger.replace_proposed(step.instance, step.data.get("ledger") or [], step.actor_id)
    return {}


REDO_DAYS = 5  # a returned step gets this many working days from its return


def redo_due() -> str:
    today = clock.local_now().date()
    return runtime.iso(workdays.add_working_days(today, REDO_DAYS))


def _review_self_check(step: Step) -> dict[str, Any]:
    if step.data.get("decision") == "return":
        return {"decision": "return", "self_check_redo_due": redo_due()}
    items = ledger.accept_proposed(step.instance, step.actor_id)
    return {"decision": "accept", "ledger": ledger.as_process_items(items)}


def _rectify_item(step: Step) -> dict[str, Any]:
    if step.task.ledger_item_id:
        ledger.mark_rectified(step.task.ledger_item_id, step.actor_id)
    return {}


def _verify_item(step: Step) -> dict[str, Any]:
    decision = "return" if step.data.get("decision") == "return" else "close"
    if step.task.ledger_item_id:
        ledger.verify(step.task.ledger_item_id, decision, step.actor_id)
    if decision == "return":
        return {"verification": decision, "item_redo_due": redo_due()}
    return {"verification": decision}


def _assessment(step: Step) -> dict[str, Any]:
    still_open = ledger.open_count(step.instance.id)
    if still_open:
        raise StepRefused(_l("尚有%(n)s项整改事项未销号，全部销号后才能进行总结评估", n=still_open))
    if step.data.get("verdict") != "fail":
        return {"verdict": "pass"}
    step.instance.round += 1
    items = ledger.create_items(
        step.instance,
        step.data.get("remedial_items") or [],
        origin="remedial",
        status="rectifying",
        actor_id=step.actor_id,
    )
    return {"verdict": "fail", "ledger": ledger.as_process_items(items)}


def _follow_up_review(step: Step) -> dict[str, Any]:
    if step.data.get("rebound") != "yes":
        return {"rebound": "no"}
    step.instance.round += 1
    ids = [int(i) for i in step.data.get("reopen_items") or []]
    items = ledger.reopen(step.instance, ids, step.actor_id)
    items += ledger.create_items(
        step.instance, step.data.get("new_items") or [], origin="follow_up", status="rectifying", actor_id=step.actor_id
    )
    if not items:
        raise StepRefused(_l("有反弹时须重新打开或新增整改事项"))
    return {"rebound": "yes", "ledger": ledger.as_process_items(items)}


# A form's run-time choices: field ("field" or "group.field") -> [(value, label)].
Choices = dict[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class StepKind:
    key: str  # the form key: forms/<key>.yaml holds its fields and validation rules
    apply: Callable[[Step], dict[str, Any]]
    reviews: str | None = None  # the unit step whose last submission this one judges
    choices: Callable[[Task], Choices] | None = None  # choices the form fills at run time, by field
    shows_open_items: bool = False  # the page shows how many ledger items are still open


def _reopen_choices(task: Task) -> Choices:
    return {"reopen_items": [(str(i.id), f"{i.seq}. {i.title}") for i in ledger.closed_items(task.instance_id)]}


KINDS = {
    kind.key: kind
    for kind in (
        StepKind("deploy", _deploy),
        StepKind("self_check", _self_check),
        StepKind("review_self_check", _review_self_check, reviews="self_check"),
        StepKind("rectify_item", _rectify_item),
        StepKind("verify_item", _verify_item, reviews="rectify_item"),
        StepKind("assessment", _assessment, shows_open_items=True),
        StepKind("follow_up_review", _follow_up_review, choices=_reopen_choices),
    )
}


def kind_of(form_key: str) -> StepKind | None:
    """The step kind of a form key; None for a key Rectify has no handler for."""
    return KINDS.get(form_key)


def apply(step: Step) -> dict[str, Any]:
    kind = kind_of(step.task.form_key)
    if kind is None:
        raise StepRefused(_l("未知的任务表单：%(key)s", key=step.task.form_key))
    return kind.apply(step)


def dynamic_choices(task: Task) -> Choices:
    """The run-time choices of a task's form (empty for most kinds)."""
    kind = kind_of(task.form_key)
    return kind.choices(task) if kind and kind.choices else {}


def shows_open_items(task: Task) -> bool:
    kind = kind_of(task.form_key)
    return bool(kind and kind.shows_open_items)
