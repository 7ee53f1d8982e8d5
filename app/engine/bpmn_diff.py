"""The difference between two versions of a diagram, element by element (by BPMN id).

Compares what each element means (name, lane, form, timers, conditions, operation, flows...),
not the text, so moving a shape or reordering the XML is no change.
"""

from dataclasses import dataclass, field

from app.i18n import ITEMS, PHRASES, Joined, LazyText, _l

from . import bpmn_xml as bx
from . import xml_safety

# What each aspect of an element is called in a change (the keys compare by msgid).
PROPERTY_NAMES = {"form_key": _l("表单"), "due": _l("期限"), "phase": _l("阶段")}
# An element's aspects: {what the aspect is called: its value}, both shown in the reader's language.
Aspects = dict[LazyText, str | LazyText]


@dataclass
class ElementChange:
    element_id: str
    name: str
    element_type: str  # the BPMN tag, e.g. "userTask"; bpmn_xml.TYPE_NAMES names it
    details: list[str | LazyText] = field(default_factory=list)  # texts, in the reader's language


@dataclass
class VersionDiff:
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def describe(root: bx.Element) -> dict[str, tuple[bx.Element, Aspects]]:
    """Every flow element of every process: id -> (element, {aspect: value})."""
    lanes = bx.lanes_by_node(root)
    messages = {m.get("id"): m.get("name") or m.get("id") for m in bx.bpmn_children(root, "message")}
    flows = list(root.iter(f"{{{bx.BPMN}}}sequenceFlow"))
    incoming: dict[str | None, list[str]] = {}
    outgoing: dict[str | None, list[str]] = {}
    for f in flows:
        outgoing.setdefault(f.get("sourceRef"), []).append(f.get("id") or "")
        incoming.setdefault(f.get("targetRef"), []).append(f.get("id") or "")
    found: dict[str, tuple[bx.Element, Aspects]] = {}
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
) -> Aspects:
    aspects: Aspects = {
        _l("名称"): el.get("name") or "",
        _l("泳道"): bx.lane_of(el, lanes) or "",
        _l("所在子流程"): parent,
        _l("入口顺序流"): Joined(sorted(incoming.get(el.get("id"), [])), ITEMS),
        _l("出口顺序流"): Joined(sorted(outgoing.get(el.get("id"), [])), ITEMS),
        _l("默认路径"): el.get("default") or "",
        _l("附着于"): el.get("attachedToRef") or "",
        _l("中断活动"): el.get("cancelActivity") or "",
        _l("调用流程"): el.get("calledElement") or "",
        _l("事件"): Joined(bx.event_kinds(el), ITEMS),
    }
    for name, value in bx.spiff_properties(el).items():
        aspects[PROPERTY_NAMES.get(name) or _l("属性 %(name)s", name=name)] = value
    for kind, expression in bx.timers(el):
        aspects[bx.TIMER_KINDS[kind]] = expression
    for definition in bx.bpmn_children(el):
        if ref := definition.get("messageRef"):
            aspects[_l("消息")] = messages.get(ref, ref) or ""
    operator = bx.service_operator(el)
    if operator is not None:
        aspects[_l("操作")] = operator.get("id") or ""
        aspects[_l("结果变量")] = operator.get("resultVariable") or ""
        for param in operator.iter(f"{{{bx.SPIFF}}}parameter"):
            aspects[_l("参数 %(name)s", name=param.get("id"))] = param.get("value") or ""
    loop = el.find("bpmn:multiInstanceLoopCharacteristics", bx.NS)
    if loop is not None:
        parts = [f"{bx.local(c)}={bx.text(c) or c.get('name') or ''}" for c in bx.bpmn_children(loop)]
        how = _l("顺序") if loop.get("isSequential") == "true" else _l("并行")
        aspects[_l("多实例")] = _l("%(how)s：%(parts)s", how=how, parts=Joined(parts, PHRASES))
    return {k: v for k, v in aspects.items() if v}


def _flow(el: bx.Element) -> Aspects:
    aspects: Aspects = {
        _l("名称"): el.get("name") or "",
        _l("来源"): el.get("sourceRef") or "",
        _l("目标"): el.get("targetRef") or "",
        _l("条件"): bx.condition(el) or "",
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
        details: list[str | LazyText] = []
        if bx.local(el) != bx.local(new_el):
            details.append(_l("类型：%(before)s → %(after)s", before=_type(el), after=_type(new_el)))
        for aspect in list(before) + [a for a in after if a not in before]:
            if before.get(aspect, "") != after.get(aspect, ""):
                details.append(
                    _l(
                        "%(aspect)s：%(before)s → %(after)s",
                        aspect=aspect,
                        before=_shown(before.get(aspect)),
                        after=_shown(after.get(aspect)),
                    )
                )
        if details:
            result.changed.append(_change(element_id, new_el, details))
    return result


def _change(element_id: str, el: bx.Element, details: list[str | LazyText] | None = None) -> ElementChange:
    return ElementChange(element_id, el.get("name") or element_id, bx.local(el), details or [])


def _type(el: bx.Element) -> str | LazyText:
    return bx.TYPE_NAMES.get(bx.local(el), bx.local(el))


def _shown(value: str | LazyText | None) -> LazyText:
    return _l("「%(name)s」", name=value) if value else _l("（无）")
