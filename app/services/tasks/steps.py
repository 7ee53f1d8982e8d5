"""What completing each kind of task means for the ledger and the process.

One handler per form key: it applies the submission to the domain (ledger items, rounds)
and returns the process data the diagram's gateways read. Handlers run inside the
completing transaction and raise StepRefused to stop it with a message.
"""
from dataclasses import dataclass
from typing import Any

from app import clock, workdays
from app.engine import runtime
from app.models import ProcessInstance, Task
from app.services.ledger import ledger


class StepRefused(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
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
        raise StepRefused(f"尚有{still_open}项整改事项未销号，全部销号后才能进行总结评估")
    if step.data.get("verdict") != "fail":
        return {"verdict": "pass"}
    step.instance.round += 1
    items = ledger.create_items(step.instance, step.data.get("remedial_items") or [], origin="remedial",
                                status="rectifying", actor_id=step.actor_id)
    return {"verdict": "fail", "ledger": ledger.as_process_items(items)}


def _follow_up_review(step: Step) -> dict[str, Any]:
    if step.data.get("rebound") != "yes":
        return {"rebound": "no"}
    step.instance.round += 1
    ids = [int(i) for i in step.data.get("reopen_items") or []]
    items = ledger.reopen(step.instance, ids, step.actor_id)
    items += ledger.create_items(step.instance, step.data.get("new_items") or [], origin="follow_up",
                                 status="rectifying", actor_id=step.actor_id)
    if not items:
        raise StepRefused("有反弹时须重新打开或新增整改事项")
    return {"rebound": "yes", "ledger": ledger.as_process_items(items)}


HANDLERS = {
    "deploy": _deploy,
    "self_check": _self_check,
    "review_self_check": _review_self_check,
    "rectify_item": _rectify_item,
    "verify_item": _verify_item,
    "assessment": _assessment,
    "follow_up_review": _follow_up_review,
}


def apply(step: Step) -> dict[str, Any]:
    handler = HANDLERS.get(step.task.form_key)
    if handler is None:
        raise StepRefused(f"未知的任务表单：{step.task.form_key}")
    return handler(step)
