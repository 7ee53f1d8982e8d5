"""The script engine every workflow runs with: restricted expressions, no scripts,
service tasks limited to registered operations."""
import json

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit

from . import expressions, operations
from .errors import EngineError


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression, context, external_context=None):
        return expressions.evaluate(expression, context, external_context)

    def execute(self, script, context, external_context=None):
        raise EngineError("流程图中的脚本已被禁用")

    def call_service(self, context, **kwargs):  # pragma: no cover - RectifyScriptEngine handles it
        raise EngineError("服务任务必须通过已登记的操作调用")


class RectifyScriptEngine(PythonScriptEngine):
    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        func = operations.get(operation_name)
        if func is None:
            raise EngineError(f"未登记的操作：{operation_name}")
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


def _attached_user_task(task):
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
