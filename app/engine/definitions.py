"""Parse, lint and package diagrams for deployment.

A diagram is treated as code: it is parsed with DTDs and entities refused, every
expression is checked against the allow-list, script tasks and pre/post scripts are
refused, service tasks must name a registered operation, and every user task must name
a form that exists and sit in a lane that is a known role.
"""
import hashlib
import json
import pickle
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins import ExclusiveGatewayMixin, InclusiveGatewayMixin
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import expressions, operations
from .errors import DiagramError
from .serialization import SERIALIZER

ROLES = ("unit_staff", "supervisor", "assessor")
# Task properties (spiffworkflow:property) read by the application.
EXPRESSION_PROPERTIES = ("due",)


@dataclass
class UserTaskInfo:
    element_id: str
    name: str
    lane: str | None
    form_key: str | None
    phase: str | None


@dataclass
class ParsedDiagram:
    process_key: str
    content_hash: str
    spec_json: str
    form_keys: list[str]
    user_tasks: list[UserTaskInfo] = field(default_factory=list)


def content_hash(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


def _safe_tree(xml: bytes, filename: str):
    try:
        SafeET.fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise DiagramError([f"{filename}：不允许包含 DTD 或实体声明"]) from None
    except SafeET.ParseError as exc:
        raise DiagramError([f"{filename}：不是有效的 XML（{exc}）"]) from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(xml, parser=parser).getroottree()


def _all_specs(spec, subprocess_specs):
    for s in [spec, *subprocess_specs.values()]:
        yield from s.task_specs.values()


def parse(xml: bytes, filename: str, known_forms: set[str]) -> ParsedDiagram:
    """Parse and lint a diagram; raise DiagramError listing every problem."""
    tree = _safe_tree(xml, filename)
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(tree, filename=filename)
        executable = parser.get_process_ids()
        if len(executable) != 1:
            raise DiagramError([f"{filename}：应当只包含一个可执行流程，实际为 {len(executable)} 个"])
        process_key = executable[0]
        spec = parser.get_spec(process_key)
        subprocess_specs = parser.get_subprocess_specs(process_key)
    except ValidationException as exc:
        raise DiagramError([f"{filename}：流程图无效：{exc}"]) from None
    except SpiffWorkflowException as exc:
        raise DiagramError([f"{filename}：流程图无效：{exc}"]) from None

    problems: list[str] = []
    user_tasks: list[UserTaskInfo] = []
    form_keys: set[str] = set()
    for ts in _all_specs(spec, subprocess_specs):
        label = f"「{ts.bpmn_name or ts.bpmn_id or ts.name}」"
        if isinstance(ts, ScriptTask):
            problems.append(f"{label}是脚本任务：不允许在流程图中运行脚本，请改用服务任务调用已登记的操作")
        if getattr(ts, "prescript", None) or getattr(ts, "postscript", None):
            problems.append(f"{label}包含前置或后置脚本：不允许在流程图中运行脚本")
        if isinstance(ts, ServiceTask):
            if ts.operation_name not in operations.names():
                problems.append(f"{label}调用了未登记的操作 {ts.operation_name}")
            for name, param in ts.operation_params.items():
                _check(problems, label, f"参数 {name}", param.get("value"))
        if isinstance(ts, (ExclusiveGatewayMixin, InclusiveGatewayMixin)):
            for condition, target in ts.cond_task_specs:
                if condition is not None:
                    _check(problems, label, "条件", getattr(condition, "args", [condition])[0])
        if isinstance(ts, CatchingEvent) and hasattr(ts.event_definition, "expression"):
            _check(problems, label, "定时表达式", ts.event_definition.expression)
        if isinstance(ts, MultiInstanceTask) and ts.condition:
            _check(problems, label, "完成条件", ts.condition)
        props = (ts.extensions or {}).get("properties", {}) if hasattr(ts, "extensions") else {}
        for prop in EXPRESSION_PROPERTIES:
            if props.get(prop):
                _check(problems, label, f"属性 {prop}", props[prop])
        if isinstance(ts, UserTask):
            form_key = props.get("form_key")
            if not form_key:
                problems.append(f"{label}是用户任务，但没有设置表单（form_key 属性）")
            elif form_key not in known_forms:
                problems.append(f"{label}使用的表单 {form_key} 在 forms/ 中不存在")
            else:
                form_keys.add(form_key)
            if ts.lane not in ROLES:
                problems.append(f"{label}所在泳道「{ts.lane or '无'}」不是已知角色（{'、'.join(ROLES)}）")
            user_tasks.append(UserTaskInfo(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, ts.lane, form_key, props.get("phase")))
    if problems:
        raise DiagramError([f"{filename}：{p}" for p in problems])

    workflow = BpmnWorkflow(spec, subprocess_specs)
    spec_dict = SERIALIZER.to_dict(workflow)
    bundle = {"spec": spec_dict["spec"], "subprocess_specs": spec_dict["subprocess_specs"]}
    return ParsedDiagram(
        process_key=process_key,
        content_hash=content_hash(xml),
        spec_json=json.dumps(bundle, ensure_ascii=False, separators=(",", ":")),
        form_keys=sorted(form_keys),
        user_tasks=user_tasks,
    )


def _check(problems: list[str], label: str, what: str, expression: str | None) -> None:
    if expression is None:
        return
    try:
        expressions.parse(expression)
    except expressions.ExpressionError as exc:
        problems.append(f"{label}的{what}「{expression}」不被允许：{exc}")


class SpecBundle:
    """The spec objects of one deployed version, one copy per thread.

    SpiffWorkflow keeps one kind of run-time state on spec objects: when an event subprocess
    is first triggered it wires that subprocess to its process's start and end
    (BpmnStartTask.trigger_wf), and a spec wired so would start the event subprocess in every
    other workflow. So each thread gets its own copy (threads never share one), and every
    `borrow()` first undoes that wiring; runtime.load redoes it for the workflow at hand.
    A thread works on one workflow at a time (load, complete, dump), which this relies on.
    """

    def __init__(self, spec, subprocess_specs: dict):
        self._blob = pickle.dumps((spec, subprocess_specs), protocol=pickle.HIGHEST_PROTOCOL)
        self._local = threading.local()

    def fresh(self) -> tuple[object, dict]:
        """A private copy nobody else holds (unpickled: ~3x faster than restoring the JSON)."""
        return pickle.loads(self._blob)

    def borrow(self) -> tuple[object, dict]:
        """This thread's copy, without event-subprocess wiring left from its last workflow."""
        copy = getattr(self._local, "copy", None)
        if copy is None:
            copy = self._local.copy = self.fresh()
        spec, subprocess_specs = copy
        for process in [spec, *subprocess_specs.values()]:
            unwire_triggers(process)
        return copy


def unwire_triggers(process_spec) -> None:
    # Specs keep their links as lists of names (_inputs/_outputs); the properties build copies.
    start, end = process_spec.start, process_spec.end
    for name in getattr(start, "trigger_specs", []):
        target = process_spec.task_specs.get(name)
        if target is None or start.name not in target._inputs:
            continue
        start._outputs.remove(target.name)
        target._inputs.remove(start.name)
        if end.name in target._outputs:
            target._outputs.remove(end.name)
            end._inputs.remove(target.name)


@lru_cache(maxsize=64)
def load_bundle(content_hash: str, spec_json: str) -> SpecBundle:
    """Restore a deployed version's spec once (keyed by content hash) for copying."""
    bundle = json.loads(spec_json)
    registry = SERIALIZER.registry
    spec = registry.restore(bundle["spec"])
    subprocess_specs = {name: registry.restore(s) for name, s in bundle["subprocess_specs"].items()}
    return SpecBundle(spec, subprocess_specs)
