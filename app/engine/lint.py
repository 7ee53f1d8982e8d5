"""Lint a diagram before it may be deployed: one implementation for deploy, the designer and
`flask processes lint`.

The XML is read as untrusted input (app/engine/xml_safety.py) and checked element by element,
so a file from any modeler gets messages naming its elements; only a file without errors is
handed to SpiffWorkflow's parser, whose own refusals are reported the same way.

Data an expression may read (timers, conditions, `due`, operation parameters) is an
allow-list: the process data set at launch (app/services/campaigns/launch.py `process_data`), what
completing a step writes (app/services/tasks/steps.py), and the names the diagram itself defines
(multi-instance items and collections, message variables, operation result variables, data
objects). tests/unit/test_lint.py checks both lists against the services that fill them.
"""

import ast
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from app.i18n import ITEMS, Joined, LazyText, _l

from . import bpmn_xml as bx
from . import expressions, operations, xml_safety
from .errors import Problem

ROLES = ("unit_staff", "supervisor", "assessor")
LAUNCH_DATA = frozenset(
    {
        "campaign_id",
        "deadlines",
        "follow_up_at",
        "ledger_done",
        "ladder",
        "self_check_redo_due",
        "item_redo_due",
    }
)
STEP_DATA = frozenset({"decision", "verdict", "rebound", "verification", "ledger"})
KNOWN_DATA = LAUNCH_DATA | STEP_DATA
# Task properties (spiffworkflow:property) that hold expressions.
EXPRESSION_PROPERTIES = ("due",)
# Codes of problems that make an upload a refused code deployment, not a diagram to fix.
TRUST_CODES = frozenset(
    {
        "size",
        "doctype",
        "entity",
        "external_entity",
        "not_xml",
        "not_bpmn",
        "script",
        "unsafe_expression",
        "elements",
        "depth",
        "parse_time",
        "xinclude",
        "external_reference",
    }
)
# A timer cycle must repeat a stated number of times (at most Limits.max_cardinality) at least this
# often apart: each repetition of a cycle on a non-interrupting boundary event starts another branch
# (a reminder, a letter) for as long as the step stays open, and the scheduler sweeps every 30 s.
MIN_CYCLE_INTERVAL = timedelta(minutes=1)
_PYTHON = {"python", "python3", "text/x-python"}
_SCRIPT_ELEMENTS = {"script", "preScript", "postScript", "executionListener", "taskListener"}
CONDITION = _l("条件")
_ISO_LIKE = re.compile(r"^(R\d*/)?P[0-9TYMWDHS.,]+$|^\d{4}-\d{2}-\d{2}", re.IGNORECASE)


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    process_key: str | None = None
    spec: Any = None  # SpiffWorkflow's process spec (untyped library)
    subprocess_specs: dict[str, Any] | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def lint(xml: bytes, filename: str, known_forms: set[str], limits: xml_safety.Limits | None = None) -> Report:
    """Every problem of a diagram; never raises for bad input."""
    limits = limits or xml_safety.Limits()
    try:
        tree = xml_safety.parse(xml, limits)
    except xml_safety.UnsafeXml as exc:
        return Report([Problem(filename, None, "error", exc.text, exc.code)])
    root = tree.getroot()
    if not (bx.is_bpmn(root) and bx.local(root) == "definitions"):
        return Report(
            [Problem(filename, None, "error", _l("不是 BPMN 2.0 流程图（根元素应为 bpmn:definitions）"), "not_bpmn")]
        )
    linter = _Linter(filename, root, known_forms, limits.max_cardinality)
    report = Report(linter.run())
    if not report.errors:
        _build(report, tree, filename, linter.root_id)
    return report


def _build(report: Report, tree: etree._ElementTree, filename: str, process_key: str | None) -> None:
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_xml(tree, filename=filename)
        report.process_key = process_key
        report.spec = parser.get_spec(report.process_key)
        report.subprocess_specs = parser.get_subprocess_specs(report.process_key)
    except Exception as exc:  # noqa: BLE001 - untrusted input in a third-party parser: refuse, never crash
        report.process_key = report.spec = report.subprocess_specs = None
        element_id = getattr(exc, "id", None) or None
        report.problems.append(
            Problem(filename, element_id, "error", _l("流程图无法解析：%(error)s", error=str(exc)), "parse")
        )
        return
    for spec in [report.spec, *report.subprocess_specs.values()]:
        for ts in spec.task_specs.values():
            if isinstance(ts, ScriptTask) or getattr(ts, "prescript", None) or getattr(ts, "postscript", None):
                report.problems.append(Problem(filename, ts.bpmn_id, "error", _l("不允许在流程图中运行脚本"), "script"))


class _Linter:
    def __init__(self, filename: str, root: bx.Element, known_forms: set[str], max_cardinality: int = 1000) -> None:
        self.file = filename
        self.root = root
        self.known_forms = known_forms
        self.max_cardinality = max_cardinality
        self.problems: list[Problem] = []
        self.lanes = bx.lanes_by_node(root)
        self.root_id: str | None = None

    def add(self, el: bx.Element | None, message: str | LazyText, code: str, severity: str = "error") -> None:
        element_id = el.get("id") if el is not None else None
        self.problems.append(Problem(self.file, element_id, severity, message, code))

    def run(self) -> list[Problem]:
        self.scripts()
        self.unsafe_expressions()
        processes = bx.processes(self.root)
        called = {(c.get("calledElement") or "").strip() for c in self.root.iter(f"{{{bx.BPMN}}}callActivity")}
        executable = [p for p in processes if bx.is_executable(p)]
        # The process a campaign runs: executable and not merely called by another.
        roots = [p for p in executable if p.get("id") not in called]
        if not processes:
            self.add(None, _l("文件中没有流程（bpmn:process）"), "executable")
        elif not roots:
            self.add(
                processes[0],
                _l("流程%(process)s未标记为可执行（isExecutable），不能部署，只能查看", process=bx.label(processes[0])),
                "executable",
            )
        for extra in roots[1:]:
            self.add(
                extra,
                _l("流程%(process)s也是可执行的：一个文件只能有一个可执行的主流程", process=bx.label(extra)),
                "executable",
            )
        for other in processes:
            if roots and not bx.is_executable(other) and other.get("id") not in called:
                self.add(
                    other,
                    _l("流程%(process)s未标记为可执行，部署时将被忽略", process=bx.label(other)),
                    "not_executable",
                    "warning",
                )
        if not bx.has_di(self.root):
            self.add(None, _l("文件没有图形信息（BPMN DI），设计器中无法显示"), "no_di", "warning")
        if roots:
            self.root_id = roots[0].get("id")
            self.process(roots[0])
        return self.problems

    # -- the trust boundary: anywhere in the file
    def scripts(self) -> None:
        for el in self.root.iter():
            if not isinstance(el.tag, str):
                continue
            name = bx.local(el)
            owner = _owner(el)
            where = bx.label(owner) if owner is not None else ""
            if bx.is_bpmn(el) and name == "scriptTask":
                self.add(
                    el,
                    _l(
                        "%(element)s是脚本任务：不允许在流程图中运行脚本，请改用服务任务调用已登记的操作",
                        element=bx.label(el),
                    ),
                    "script",
                )
            elif name in _SCRIPT_ELEMENTS and not (owner is not None and bx.local(owner) == "scriptTask"):
                self.add(
                    owner,
                    _l("%(element)s包含脚本或监听器（%(name)s）：不允许在流程图中运行代码", element=where, name=name),
                    "script",
                )
            language = (el.get("language") or el.get("scriptFormat") or "").strip()
            if language and name != "scriptTask" and language.lower() not in _PYTHON:
                self.add(
                    owner,
                    _l("%(element)s使用了 %(language)s 表达式：只允许本平台的表达式", element=where, language=language),
                    "script",
                )

    def unsafe_expressions(self) -> None:
        for owner, what, expression in self.all_expressions(self.root):
            try:
                expressions.parse(expression)
            except expressions.ExpressionError as exc:
                if exc.unsafe:
                    self.add(
                        owner,
                        _l(
                            "%(element)s的%(what)s「%(expression)s」不被允许（可能危害服务器，已拒绝）：%(error)s",
                            element=bx.label(owner),
                            what=what,
                            expression=_short(expression),
                            error=exc.text,
                        ),
                        "unsafe_expression",
                    )

    def all_expressions(self, scope: bx.Element) -> Iterator[tuple[bx.Element, str | LazyText, str]]:
        """(owner element, what, expression) for every expression under scope."""
        for el in scope.iter():
            if not isinstance(el.tag, str) or not bx.is_bpmn(el):
                continue
            name = bx.local(el)
            if name == "sequenceFlow" and (condition := bx.condition(el)):
                yield el, CONDITION, condition
            elif name in bx.FLOW_NODES:
                for what, expression, _ in _node_expressions(el):
                    if expression:
                        yield el, what, expression

    # -- the executable process
    def process(self, process: bx.Element) -> None:
        self.known = set(KNOWN_DATA) | self.defined_names(self.root)
        self.processes = {p.get("id"): p for p in bx.processes(self.root)}
        done: set[str | None] = set()
        todo = [process]
        while todo:  # the main process and every process it calls, each once
            current = todo.pop()
            if current.get("id") in done:
                continue
            done.add(current.get("id"))
            self.scope_tree(current)
            for call in current.iter(f"{{{bx.BPMN}}}callActivity"):
                target = self.processes.get((call.get("calledElement") or "").strip())
                if target is not None:
                    todo.append(target)

    def scope_tree(self, process: bx.Element) -> None:
        for scope in [process, *bx.inner_scopes(process)]:
            for node in bx.flow_nodes(scope):
                self.node(node)
            for flow in bx.sequence_flows(scope):
                if condition := bx.condition(flow):
                    self.expression(flow, CONDITION, condition)
            self.graph(scope)

    def defined_names(self, process: bx.Element) -> set[str]:
        names: set[str | None] = set()
        for tag in ("loopDataInputRef", "loopDataOutputRef"):
            names |= {bx.text(e) for e in process.iter(f"{{{bx.BPMN}}}{tag}") if bx.text(e)}
        for tag in ("inputDataItem", "outputDataItem", "dataObject"):
            names |= {e.get("name") or e.get("id") for e in process.iter(f"{{{bx.BPMN}}}{tag}")}
        names |= {bx.text(e) for e in process.iter(f"{{{bx.SPIFF}}}messageVariable") if bx.text(e)}
        names |= {e.get("resultVariable") for e in process.iter(f"{{{bx.SPIFF}}}serviceTaskOperator")}
        return {n for n in names if n}

    def node(self, node: bx.Element) -> None:
        kind = bx.local(node)
        props = bx.spiff_properties(node)
        for what, expression, timer_kind in _node_expressions(node):
            if timer_kind:
                self.timer(node, timer_kind, expression)
            else:
                self.expression(node, what, expression)
        self.cardinality(node)
        if kind == "userTask":
            self.user_task(node, props)
        elif kind == "serviceTask":
            self.service_task(node)
        elif kind == "businessRuleTask":
            self.add(
                node,
                _l("%(element)s是业务规则任务（DMN）：本平台不支持，请改用服务任务", element=bx.label(node)),
                "unsupported",
            )
        elif kind == "callActivity":
            called = self.processes.get((node.get("calledElement") or "").strip())
            if called is None:
                self.add(
                    node,
                    _l(
                        "%(element)s调用的流程「%(called)s」不在本文件中",
                        element=bx.label(node),
                        called=node.get("calledElement") or _l("未指定"),
                    ),
                    "call_activity",
                )
            elif not bx.is_executable(called):
                self.add(
                    node,
                    _l(
                        "%(element)s调用的流程%(called)s未标记为可执行（isExecutable）",
                        element=bx.label(node),
                        called=bx.label(called),
                    ),
                    "call_activity",
                )
        elif kind == "exclusiveGateway":
            self.gateway(node)

    def user_task(self, node: bx.Element, props: dict[str, str]) -> None:
        form_key = props.get("form_key")
        if not form_key:
            self.add(
                node, _l("%(element)s是用户任务，但没有设置表单（form_key 属性）", element=bx.label(node)), "form_key"
            )
        elif form_key not in self.known_forms:
            self.add(
                node,
                _l("%(element)s使用的表单 %(form)s 在 forms/ 中不存在", element=bx.label(node), form=form_key),
                "form_key",
            )
        lane = bx.lane_of(node, self.lanes)
        if lane not in ROLES:
            self.add(
                node,
                _l(
                    "%(element)s所在泳道「%(lane)s」不是已知角色（%(roles)s）",
                    element=bx.label(node),
                    lane=lane or _l("无"),
                    roles=Joined(ROLES, ITEMS),
                ),
                "lane",
            )

    def service_task(self, node: bx.Element) -> None:
        operator = bx.service_operator(node)
        if operator is None or not operator.get("id"):
            self.add(
                node,
                _l(
                    "%(element)s是服务任务，但没有指定要调用的操作（可选：%(operations)s）",
                    element=bx.label(node),
                    operations=Joined(sorted(operations.names()), ITEMS),
                ),
                "operation",
            )
        elif operator.get("id") not in operations.names():
            self.add(
                node,
                _l("%(element)s调用了未登记的操作 %(operation)s", element=bx.label(node), operation=operator.get("id")),
                "operation",
            )

    def gateway(self, node: bx.Element) -> None:
        outgoing = [f for f in self.root.iter(f"{{{bx.BPMN}}}sequenceFlow") if f.get("sourceRef") == node.get("id")]
        if len(outgoing) < 2:
            return
        default = node.get("default")
        if default and default not in {f.get("id") for f in outgoing}:
            self.add(
                node,
                _l("%(element)s的默认路径 %(default)s 不是它的出口顺序流", element=bx.label(node), default=default),
                "gateway_default",
            )
            default = None
        conditions: list[str] = []
        for flow in outgoing:
            if flow.get("id") == default:
                continue
            condition = bx.condition(flow)
            if condition is None:
                self.add(
                    flow,
                    _l(
                        "从排他网关%(gateway)s出发的顺序流%(flow)s既没有条件，也不是默认路径",
                        gateway=bx.label(node),
                        flow=bx.label(flow),
                    ),
                    "condition_missing",
                )
            else:
                conditions.append(condition)
        if not default and not _exhaustive(conditions):
            self.add(
                node,
                _l(
                    "排他网关%(gateway)s没有默认路径，且无法证明各条件覆盖所有情况：请设置默认路径",
                    gateway=bx.label(node),
                ),
                "gateway_default",
            )

    def expression(
        self, owner: bx.Element, what: str | LazyText, expression: str, hint: str | LazyText = ""
    ) -> ast.Expression | None:
        try:
            tree = expressions.parse(expression)
        except expressions.ExpressionError as exc:
            if not exc.unsafe:  # unsafe ones are reported once, by unsafe_expressions()
                self.add(
                    owner,
                    _l(
                        "%(element)s的%(what)s「%(expression)s」不被允许：%(error)s%(hint)s",
                        element=bx.label(owner),
                        what=what,
                        expression=_short(expression),
                        error=exc.text,
                        hint=hint,
                    ),
                    "expression",
                )
            return None
        unknown = expressions.names(tree) - self.known
        if unknown:
            self.add(
                owner,
                _l(
                    "%(element)s的%(what)s「%(expression)s」使用了未知的流程数据：%(names)s%(hint)s",
                    element=bx.label(owner),
                    what=what,
                    expression=_short(expression),
                    names=Joined(sorted(unknown), ITEMS),
                    hint=hint,
                ),
                "unknown_data",
            )
            return None
        return tree

    def timer(self, node: bx.Element, kind: str, expression: str) -> None:
        what = bx.TIMER_KINDS[kind]
        if not expression:
            self.add(node, _l("%(element)s的%(what)s为空", element=bx.label(node), what=what), "timer")
            return
        hint: str | LazyText = _l('（ISO 8601 值须加引号，如 "P3D"）') if _ISO_LIKE.match(expression) else ""
        tree = self.expression(node, what, expression, hint)
        if tree is None or not isinstance(tree.body, ast.Constant):
            return
        value = tree.body.value
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            if kind == "timeDate":
                datetime.fromisoformat(value)
            elif kind == "timeDuration":
                TimerEventDefinition.parse_iso_duration(value)
            else:
                cycle = TimerEventDefinition.parse_iso_recurring_interval(value)
        except Exception:  # noqa: BLE001 - the library's ISO parsers raise several kinds
            self.add(
                node,
                _l(
                    "%(element)s的%(what)s「%(expression)s」不是有效的 ISO 8601 值",
                    element=bx.label(node),
                    what=what,
                    expression=_short(expression),
                ),
                "timer",
            )
            return
        if kind == "timeCycle":
            self.cycle(node, what, value, *cycle)

    def cycle(
        self,
        node: bx.Element,
        what: str | LazyText,
        value: str,
        repeats: int,
        start: datetime | None,
        interval: timedelta,
    ) -> None:
        """A cycle repeats a stated, bounded number of times, at least MIN_CYCLE_INTERVAL apart."""
        where = _l("%(element)s的%(what)s「%(value)s」", element=bx.label(node), what=what, value=_short(value))
        if interval <= timedelta(0):
            self.add(node, _l("%(where)s间隔为零：会不停地触发，请写明间隔，如 R3/P1D", where=where), "timer_cycle")
        elif interval < MIN_CYCLE_INTERVAL:
            self.add(node, _l("%(where)s间隔不足 1 分钟：请写明更长的间隔，如 R3/P1D", where=where), "timer_cycle")
        if repeats < 0:
            self.add(
                node,
                _l(
                    "%(where)s没有写明重复次数（将无限重复）：请写明次数，如 R3/P1D，最多 %(max)d 次",
                    where=where,
                    max=self.max_cardinality,
                ),
                "timer_cycle",
            )
        elif repeats > self.max_cardinality:
            self.add(
                node,
                _l(
                    "%(where)s重复 %(repeats)d 次，超过了上限 %(max)d 次",
                    where=where,
                    repeats=repeats,
                    max=self.max_cardinality,
                ),
                "timer_cycle",
            )

    def cardinality(self, node: bx.Element) -> None:
        """A multi-instance cardinality the diagram states (no process data in it) is at most the limit;
        one computed from process data is bounded by what the services write there."""
        loop = node.find("bpmn:multiInstanceLoopCharacteristics", bx.NS)
        found = loop.find("bpmn:loopCardinality", bx.NS) if loop is not None else None
        expression = bx.text(found) if found is not None else ""
        if not expression:
            return
        try:
            if expressions.names(expressions.parse(expression)):
                return
            value = expressions.evaluate(expression, {})
        except expressions.ExpressionError:
            return  # reported with the expression itself
        except (ArithmeticError, TypeError, ValueError):
            value = None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= self.max_cardinality:
            self.add(
                node,
                _l(
                    "%(where)s的循环次数「%(expression)s」不是 0 到 %(max)d 之间的整数，已拒绝",
                    where=bx.label(node),
                    expression=_short(expression),
                    max=self.max_cardinality,
                ),
                "cardinality",
            )

    # -- structure: reachability and ends, per scope
    def graph(self, scope: bx.Element) -> None:
        # Keyed by id; a node without one is keyed "" (None would break the sorting below).
        nodes = {n.get("id") or "": n for n in bx.flow_nodes(scope)}
        out: dict[str, list[str]] = {i: [] for i in nodes}
        incoming: dict[str, int] = dict.fromkeys(nodes, 0)
        for flow in bx.sequence_flows(scope):
            src, tgt = flow.get("sourceRef"), flow.get("targetRef")
            if src not in nodes or tgt not in nodes:
                self.add(flow, _l("顺序流%(flow)s连接的元素不在同一流程中或不存在", flow=bx.label(flow)), "flow")
                continue
            out[src].append(tgt)
            incoming[tgt] += 1
        attached = {i: n.get("attachedToRef") or "" for i, n in nodes.items() if bx.local(n) == "boundaryEvent"}
        event_subs = {i for i, n in nodes.items() if bx.local(n) in bx.SCOPES and n.get("triggeredByEvent") == "true"}
        starts = [i for i, n in nodes.items() if bx.local(n) == "startEvent"]
        if not starts:
            starts = [i for i in nodes if incoming[i] == 0 and i not in attached and i not in event_subs]
        hosts: dict[str, list[str]] = {}
        for boundary, host in attached.items():
            hosts.setdefault(host, []).append(boundary)
        reached = _closure(starts + sorted(event_subs), lambda i: out[i] + hosts.get(i, []))
        ends = {i for i, n in nodes.items() if bx.local(n) == "endEvent"} | event_subs
        backwards: dict[str, list[str]] = {i: [] for i in nodes}
        for src, targets in out.items():
            for tgt in targets:
                backwards[tgt].append(src)
        finishing = _closure(sorted(ends), lambda i: backwards[i])
        dead_ends = sorted(i for i in reached if not out[i] and i not in ends)
        # Nodes leading only to a dead end are explained by it; a loop with no way out is not.
        explained = _closure(dead_ends, lambda i: backwards[i])
        for i, node in nodes.items():
            if i not in reached:
                self.add(node, _l("%(element)s从开始事件无法到达", element=bx.label(node)), "unreachable")
            elif i in dead_ends:
                self.add(
                    node, _l("%(element)s没有出口顺序流：这条路径不能到达结束事件", element=bx.label(node)), "no_end"
                )
            elif i not in finishing and i not in explained:
                self.add(
                    node, _l("从%(element)s出发无法到达结束事件（路径陷入循环）", element=bx.label(node)), "no_end"
                )


def _node_expressions(el: bx.Element) -> Iterator[tuple[str | LazyText, str, str | None]]:
    """(what, expression, timer kind or None) for each expression a flow node holds."""
    for kind, expression in bx.timers(el):
        yield bx.TIMER_KINDS[kind], expression, kind
    for prop, value in bx.spiff_properties(el).items():
        if prop in EXPRESSION_PROPERTIES and value:
            yield _l("属性 %(name)s", name=prop), value, None
    operator = bx.service_operator(el)
    for param in operator.iter(f"{{{bx.SPIFF}}}parameter") if operator is not None else ():
        if parameter := param.get("value"):
            yield _l("参数 %(name)s", name=param.get("id")), parameter, None
    loop = el.find("bpmn:multiInstanceLoopCharacteristics", bx.NS)
    for part, what in (("completionCondition", _l("完成条件")), ("loopCardinality", _l("循环次数"))):
        node = loop.find(f"bpmn:{part}", bx.NS) if loop is not None else None
        if bx.text(node):
            yield what, bx.text(node), None


def _owner(el: bx.Element | None) -> bx.Element | None:
    """The nearest element with an id (the one a message should point at)."""
    while el is not None and not el.get("id"):
        el = el.getparent()
    return el


def _short(expression: str, limit: int = 80) -> str:
    return expression if len(expression) <= limit else expression[:limit] + "…"


def _closure(seeds: Iterable[str], step: Callable[[str], list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(seeds)
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        stack.extend(step(i))
    return seen


_NEGATION = {"==": "!=", "!=": "==", "truthy": "falsy", "falsy": "truthy"}


def _atom(node: ast.expr) -> tuple[str, str, str | None] | None:
    """A condition as (subject, test, value) when it is simple enough to reason about."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _atom(node.operand)
        return (inner[0], _NEGATION[inner[1]], inner[2]) if inner and inner[1] in _NEGATION else None
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
        left, right = node.left, node.comparators[0]
        if isinstance(left, ast.Constant):
            left, right = right, left
        if isinstance(right, ast.Constant):
            return ast.dump(left), "==" if isinstance(node.ops[0], ast.Eq) else "!=", repr(right.value)
        return None
    if isinstance(node, ast.Constant):
        return ("const", "true", None) if node.value else None
    return ast.dump(node), "truthy", None


def _exhaustive(conditions: list[str]) -> bool:
    """Provably true for every input: a literal true, or a test and its negation (x == v, x != v)."""
    atoms: set[tuple[str, str, str | None]] = set()
    for condition in conditions:
        try:
            atom = _atom(expressions.parse(condition).body)
        except expressions.ExpressionError:
            return False
        if atom and atom[1] == "true":
            return True
        if atom:
            atoms.add(atom)
    return any((subject, _NEGATION[test], value) in atoms for subject, test, value in atoms)
