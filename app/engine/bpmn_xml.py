"""Reading BPMN 2.0 XML as elements: names, lanes, properties, flows and scopes.

Works on the XML itself (not SpiffWorkflow's specs) so lint and diff can name every element
of any modeler's file, including ones SpiffWorkflow would refuse to parse.
"""

from collections.abc import Iterator

from lxml import etree

from app.i18n import LazyText, _l

# An element of a parsed diagram (lxml's element class; "private" in name only).
Element = etree._Element

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "spiffworkflow": SPIFF}

FLOW_NODES = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "task",
    "userTask",
    "serviceTask",
    "scriptTask",
    "manualTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}
SCOPES = {"process", "subProcess", "transaction", "adHocSubProcess"}
# A timer definition's kind, and how a message names it.
TIMER_KINDS = {"timeDate": _l("定时日期"), "timeDuration": _l("定时时长"), "timeCycle": _l("定时周期")}
TYPE_NAMES = {
    "startEvent": _l("开始事件"),
    "endEvent": _l("结束事件"),
    "intermediateCatchEvent": _l("中间捕获事件"),
    "intermediateThrowEvent": _l("中间抛出事件"),
    "boundaryEvent": _l("边界事件"),
    "task": _l("任务"),
    "userTask": _l("用户任务"),
    "serviceTask": _l("服务任务"),
    "scriptTask": _l("脚本任务"),
    "manualTask": _l("手工任务"),
    "sendTask": _l("发送任务"),
    "receiveTask": _l("接收任务"),
    "businessRuleTask": _l("业务规则任务"),
    "callActivity": _l("调用活动"),
    "subProcess": _l("子流程"),
    "transaction": _l("事务子流程"),
    "adHocSubProcess": _l("自由子流程"),
    "exclusiveGateway": _l("排他网关"),
    "parallelGateway": _l("并行网关"),
    "inclusiveGateway": _l("包容网关"),
    "eventBasedGateway": _l("事件网关"),
    "complexGateway": _l("复杂网关"),
    "sequenceFlow": _l("顺序流"),
    "process": _l("流程"),
    "lane": _l("泳道"),
}


def local(el: Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def is_bpmn(el: Element) -> bool:
    return isinstance(el.tag, str) and etree.QName(el).namespace == BPMN


def bpmn_children(el: Element, name: str | None = None) -> list[Element]:
    return [c for c in el if is_bpmn(c) and (name is None or local(c) == name)]


def label(el: Element) -> LazyText:
    """How a message names an element: 「name」 (or its id when it has no name)."""
    return _l("「%(name)s」", name=(el.get("name") or "").strip() or el.get("id") or local(el))


def text(el: Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def processes(root: Element) -> list[Element]:
    return bpmn_children(root, "process")


def is_executable(process: Element) -> bool:
    return (process.get("isExecutable") or "").strip().lower() == "true"


def has_di(root: Element) -> bool:
    return bool(root.findall(f"{{{BPMNDI}}}BPMNDiagram/{{{BPMNDI}}}BPMNPlane"))


def lanes_by_node(root: Element) -> dict[str, str | None]:
    """Lane name of every flow node listed in a lane (as SpiffWorkflow reads it)."""
    lanes: dict[str, str | None] = {}
    for ref in root.iter(f"{{{BPMN}}}flowNodeRef"):
        if ref.text:
            lane = ref.getparent()
            lanes[ref.text.strip()] = lane.get("name") if lane is not None else None
    return lanes


def lane_of(node: Element, lanes: dict[str, str | None]) -> str | None:
    """A node's lane, or its enclosing subprocess's when the node sits in no lane."""
    el: Element | None = node
    while el is not None:
        lane = lanes.get(el.get("id") or "")
        if lane:
            return lane
        el = el.getparent()
        if el is not None and local(el) == "process":
            return None
    return None


def spiff_properties(el: Element) -> dict[str, str]:
    return {
        name: p.get("value") or ""
        for p in el.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)
        if (name := p.get("name"))
    }


def service_operator(el: Element) -> Element | None:
    return el.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)


def timers(el: Element) -> list[tuple[str, str]]:
    """(kind, expression) of an event's timer definitions."""
    found = []
    for definition in bpmn_children(el, "timerEventDefinition"):
        for child in bpmn_children(definition):
            if local(child) in TIMER_KINDS:
                found.append((local(child), text(child)))
    return found


def condition(flow: Element) -> str | None:
    expr = flow.find("bpmn:conditionExpression", NS)
    return text(expr) if expr is not None else None


def event_kinds(el: Element) -> list[str]:
    return [local(c) for c in bpmn_children(el) if local(c).endswith("EventDefinition")]


def flow_nodes(scope: Element) -> list[Element]:
    return [c for c in bpmn_children(scope) if local(c) in FLOW_NODES]


def sequence_flows(scope: Element) -> list[Element]:
    return bpmn_children(scope, "sequenceFlow")


def inner_scopes(scope: Element) -> Iterator[Element]:
    """Scopes nested in this one (subprocesses), depth first."""
    for node in flow_nodes(scope):
        if local(node) in SCOPES:
            yield node
            yield from inner_scopes(node)
