"""The difference between two versions of a diagram, element by element (by BPMN id).

Compares what each element means (name, lane, form, timers, conditions, operation, flows...),
not the text, so moving a shape or reordering the XML is no change.
"""
from dataclasses import dataclass, field

from . import bpmn_xml as bx
from . import xml_safety


@dataclass
class ElementChange:
    element_id: str
    name: str
    element_type: str  # the BPMN tag, e.g. "userTask"; bpmn_xml.TYPE_NAMES has the Chinese
    details: list[str] = field(default_factory=list)


@dataclass
class VersionDiff:
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def describe(root: bx.Element) -> dict[str, tuple[bx.Element, dict[str, str]]]:
    """Every flow element of every process: id -> (element, {aspect: value})."""
    lanes = bx.lanes_by_node(root)
    messages = {m.get("id"): m.get("name") or m.get("id") for m in bx.bpmn_children(root, "message")}
    flows = list(root.iter(f"{{{bx.BPMN}}}sequenceFlow"))
    incoming: dict[str | None, list[str]] = {}
    outgoing: dict[str | None, list[str]] = {}
    for f in flows:
        outgoing.setdefault(f.get("sourceRef"), []).append(f.get("id") or "")
        incoming.setdefault(f.get("targetRef"), []).append(f.get("id") or "")
    found: dict[str, tuple[bx.Element, dict[str, str]]] = {}
    for process in bx.processes(root):
        for scope in [process, *bx.inner_scopes(process)]:
            parent = "" if scope is process else scope.get("id") or ""
            for el in bx.flow_nodes(scope):
                found[el.get("id") or ""] = (el, _node(el, lanes, messages, incoming, outgoing, parent))
            for el in bx.sequence_flows(scope):
                found[el.get("id") or ""] = (el, _flow(el))
    return found


def _node(
    el: bx.Element,
    lanes: dict[str, str | None],
    messages: dict[str | None, str | None],
    incoming: dict[str | None, list[str]],
    outgoing: dict[str | None, list[str]],
    parent: str,
) -> dict[str, str]:
    aspects = {
        "名称": el.get("name") or "",
        "泳道": bx.lane_of(el, lanes) or "",
        "所在子流程": parent,
        "入口顺序流": "、".join(sorted(incoming.get(el.get("id"), []))),
        "出口顺序流": "、".join(sorted(outgoing.get(el.get("id"), []))),
        "默认路径": el.get("default") or "",
        "附着于": el.get("attachedToRef") or "",
        "中断活动": el.get("cancelActivity") or "",
        "调用流程": el.get("calledElement") or "",
        "事件": "、".join(bx.event_kinds(el)),
    }
    for name, value in bx.spiff_properties(el).items():
        aspects[{"form_key": "表单", "due": "期限", "phase": "阶段"}.get(name, f"属性 {name}")] = value
    for kind, expression in bx.timers(el):
        aspects[f"定时{bx.TIMER_KINDS[kind]}"] = expression
    for definition in bx.bpmn_children(el):
        if ref := definition.get("messageRef"):
            aspects["消息"] = messages.get(ref) or ref
    operator = bx.service_operator(el)
    if operator is not None:
        aspects["操作"] = operator.get("id") or ""
        aspects["结果变量"] = operator.get("resultVariable") or ""
        for param in operator.iter(f"{{{bx.SPIFF}}}parameter"):
            aspects[f"参数 {param.get('id')}"] = param.get("value") or ""
    loop = el.find("bpmn:multiInstanceLoopCharacteristics", bx.NS)
    if loop is not None:
        parts = [f"{bx.local(c)}={bx.text(c) or c.get('name') or ''}" for c in bx.bpmn_children(loop)]
        aspects["多实例"] = f"{'顺序' if loop.get('isSequential') == 'true' else '并行'}：{'，'.join(parts)}"
    return {k: v for k, v in aspects.items() if v}


def _flow(el: bx.Element) -> dict[str, str]:
    aspects = {
        "名称": el.get("name") or "",
        "来源": el.get("sourceRef") or "",
        "目标": el.get("targetRef") or "",
        "条件": bx.condition(el) or "",
    }
    return {k: v for k, v in aspects.items() if v}


def diff(old_xml: bytes, new_xml: bytes) -> VersionDiff:
    old = describe(xml_safety.parse(old_xml).getroot())
    new = describe(xml_safety.parse(new_xml).getroot())
    result = VersionDiff()
    for element_id, (el, _) in new.items():
        if element_id not in old:
            result.added.append(_change(element_id, el))
    for element_id, (el, before) in old.items():
        if element_id not in new:
            result.removed.append(_change(element_id, el))
            continue
        new_el, after = new[element_id]
        details = []
        if bx.local(el) != bx.local(new_el):
            details.append(f"类型：{_type(el)} → {_type(new_el)}")
        for aspect in list(before) + [a for a in after if a not in before]:
            if before.get(aspect, "") != after.get(aspect, ""):
                details.append(f"{aspect}：{_shown(before.get(aspect))} → {_shown(after.get(aspect))}")
        if details:
            result.changed.append(_change(element_id, new_el, details))
    return result


def _change(element_id: str, el: bx.Element, details: list[str] | None = None) -> ElementChange:
    return ElementChange(element_id, el.get("name") or element_id, bx.local(el), details or [])


def _type(el: bx.Element) -> str:
    return bx.TYPE_NAMES.get(bx.local(el), bx.local(el))


def _shown(value: str | None) -> str:
    return f"「{value}」" if value else "（无）"
