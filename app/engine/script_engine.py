"""The script engine every workflow runs with: restricted expressions, no scripts,
service tasks limited to registered operations."""

import json
from typing import Any, NoReturn

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.task import Task as SpiffTask

from app.i18n import _l

from . import expressions, operations
from .errors import EngineError


# SpiffWorkflow ships no type information: its classes are Any to mypy, so subclassing them is flagged.
class RestrictedEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        return expressions.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> NoReturn:
        raise EngineError(_l("流程图中的脚本已被禁用"))

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> NoReturn:  # pragma: no cover
        # Never reached: RectifyScriptEngine.call_service handles service tasks.
        raise EngineError(_l("服务任务必须通过已登记的操作调用"))


class RectifyScriptEngine(PythonScriptEngine):  # type: ignore[misc]  # SpiffWorkflow: no types (above)
    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())

    def call_service(
        self,
        task: SpiffTask,
        operation_name: str | None = None,
        operation_params: dict[str, dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> str:
        func = operations.get(operation_name) if operation_name else None
        if func is None:
            raise EngineError(_l("未登记的操作：%(name)s", name=operation_name))
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        ctx = operations.OperationContext(task_data=task.data, element_id=task.task_spec.bpmn_id)
        attached = _attached_user_task(task)
        if attached is not None:
            ctx.attached_task_id = str(attached.id)
            ctx.attached_element_id = attached.task_spec.bpmn_id
            due = (attached.task_spec.extensions or {}).get("properties", {}).get("due")
            if due:
                ctx.attached_due = expressions.evaluate(due, attached.data)
        result = func(ctx, **params)
        # The effects ride on the workflow object until the runtime hands them to the service.
        task.workflow.top_workflow.__dict__.setdefault("_rectify_effects", []).extend(ctx.effects)
        return json.dumps(result, ensure_ascii=False, default=str)


def _attached_user_task(task: SpiffTask) -> SpiffTask | None:
    """The user task whose boundary event led straight to this service task, if any."""
    event = task.parent
    node = event.parent if event is not None else None
    if node is None or not isinstance(node.task_spec, BoundaryEventSplit):
        return None
    for child in node.children:
        if getattr(child.task_spec, "manual", False):
            return child
    return None


SCRIPT_ENGINE = RectifyScriptEngine()
