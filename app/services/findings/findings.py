"""Ledger items added while an instance runs (a supervisor's finding, an accepted tip, an imported ledger)."""

from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.forms import registry as forms
from app.forms.builder import RectifyForm
from app.i18n import N_, _l
from app.models import LedgerItem, ProcessInstance, User
from app.models.roles import SUPERVISE
from app.services.ledger import ledger
from app.services.tasks import workflow
from app.services.tasks.tasks import STALE, Conflict, FormInvalid, TaskNotFound

ITEM_ADDED = "ledger_item_added"
NOT_RUNNING = N_("该单位的整治流程已办结，不能再新增整改事项")


def add_item(user: User, instance_id: int, form: RectifyForm, origin: str = "supervision") -> LedgerItem:
    """Create the item and start its rectification in the running instance: one transaction."""
    instance = db.session.get(ProcessInstance, instance_id)
    if instance is None or user.role not in SUPERVISE:
        raise TaskNotFound()
    if instance.status != "running":
        raise Conflict(NOT_RUNNING)
    if not forms.validate(form):
        raise FormInvalid(form)
    item = start_item(instance, forms.to_data(form), origin, user.id)
    db.session.commit()
    return item


def start_item(instance: ProcessInstance, data: dict[str, Any], origin: str, actor_id: int) -> LedgerItem:
    return start_items(instance, [data], origin=origin, actor_id=actor_id)[0]


def start_items(
    instance: ProcessInstance, rows: list[dict[str, Any]], *, origin: str, actor_id: int | None
) -> list[LedgerItem]:
    """Add the items and send each into the instance's event subprocess, which gives it its own
    rectify task, ladder and verification; the caller commits (on Conflict the session is rolled back)."""
    if instance.status != "running":
        raise Conflict(NOT_RUNNING)
    run = workflow.load(instance)
    items = ledger.create_items(instance, rows, origin=origin, status="rectifying", actor_id=actor_id)
    try:
        for item in items:
            run.send_message(ITEM_ADDED, ledger.as_process_item(item))
        workflow.save(instance, run, actor_id)
        db.session.flush()
    except workflow.EngineError as exc:
        db.session.rollback()
        raise Conflict(_l("该流程当前不能接收新增整改事项：%(error)s", error=exc.text)) from None
    except StaleDataError:
        db.session.rollback()
        raise Conflict(STALE) from None
    return items
