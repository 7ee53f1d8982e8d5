"""Diagram lint and packaging: what may be deployed."""

from pathlib import Path

import pytest

from app.engine import definitions, runtime
from app.engine.errors import DiagramError

ROOT = Path(__file__).resolve().parents[2]
FORMS = {p.stem for p in (ROOT / "forms").glob("*.yaml")}
RECTIFICATION = (ROOT / "processes" / "rectification.bpmn").read_bytes()

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
)


def diagram(body: str, lanes: str = "") -> bytes:
    return (HEAD + f'<bpmn:process id="p" isExecutable="true">{lanes}{body}</bpmn:process></bpmn:definitions>').encode()


def lane(name, *refs):
    return (
        f'<bpmn:laneSet id="ls"><bpmn:lane id="l_{name}" name="{name}">'
        + "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in refs)
        + "</bpmn:lane></bpmn:laneSet>"
    )


def user_task(form_key="deploy"):
    return (
        f'<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="u"/>'
        f'<bpmn:userTask id="u" name="U"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="form_key" value="{form_key}"/></spiffworkflow:properties>'
        f'</bpmn:extensionElements></bpmn:userTask><bpmn:sequenceFlow id="f2" sourceRef="u" targetRef="e"/>'
        f'<bpmn:endEvent id="e"/>'
    )


def test_rectification_diagram_deploys_with_all_forms():
    parsed = definitions.parse(RECTIFICATION, "rectification.bpmn", FORMS)
    assert parsed.process_key == "rectification"
    assert set(parsed.form_keys) == {
        "deploy",
        "self_check",
        "review_self_check",
        "rectify_item",
        "verify_item",
        "assessment",
        "follow_up_review",
    }
    lanes = {t.element_id: t.lane for t in parsed.user_tasks}
    assert lanes["deploy"] == "unit_staff" and lanes["verify_item"] == "supervisor"
    assert lanes["rectify_added_item"] == "unit_staff" and lanes["assessment"] == "assessor"


def test_rectification_diagram_has_diagram_interchange_for_every_element():
    from lxml import etree

    tree = etree.fromstring(RECTIFICATION)
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI"}
    drawn = {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNShape", ns)} | {
        e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", ns)
    }
    elements = {
        e.get("id")
        for e in tree.iterfind(".//bpmn:process//*[@id]", ns)
        if etree.QName(e).namespace == ns["bpmn"]
        and etree.QName(e).localname
        not in (
            "laneSet",
            "messageEventDefinition",
            "timerEventDefinition",
            "multiInstanceLoopCharacteristics",
            "inputDataItem",
            "outputDataItem",
        )
    }
    # Lanes nested in a subprocess's own laneSet carry the roles but are not drawn.
    nested_lanes = {e.get("id") for e in tree.iterfind(".//bpmn:subProcess//bpmn:lane", ns)}
    assert elements - drawn - nested_lanes == set()


def test_same_content_same_hash_different_content_different_hash():
    a = definitions.parse(RECTIFICATION, "r.bpmn", FORMS)
    b = definitions.parse(RECTIFICATION, "other-name.bpmn", FORMS)
    c = definitions.parse(RECTIFICATION.replace("动员部署".encode(), "动员部署阶段".encode()), "r.bpmn", FORMS)
    assert a.content_hash == b.content_hash != c.content_hash


def test_unknown_form_key_is_a_deploy_error():
    with pytest.raises(DiagramError, match="表单 no_such_form 在 forms/ 中不存在"):
        definitions.parse(diagram(user_task("no_such_form"), lane("unit_staff", "u")), "x.bpmn", FORMS)


def test_user_task_outside_a_role_lane_is_refused():
    with pytest.raises(DiagramError, match="泳道"):
        definitions.parse(diagram(user_task(), lane("janitor", "u")), "x.bpmn", FORMS)


def test_script_task_is_refused():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x"/>'
        '<bpmn:scriptTask id="x" name="X"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/><bpmn:endEvent id="e"/>'
    )
    with pytest.raises(DiagramError, match="脚本任务"):
        definitions.parse(diagram(body), "x.bpmn", FORMS)


def test_unsafe_condition_is_refused():
    bad = RECTIFICATION.replace(b"decision == 'return'", b"__import__('os').system('id')")
    with pytest.raises(DiagramError, match="不被允许"):
        definitions.parse(bad, "x.bpmn", FORMS)


def test_unregistered_service_operation_is_refused():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x"/>'
        '<bpmn:serviceTask id="x" name="X"><bpmn:extensionElements>'
        '<spiffworkflow:serviceTaskOperator id="rm_rf"/></bpmn:extensionElements></bpmn:serviceTask>'
        '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/><bpmn:endEvent id="e"/>'
    )
    with pytest.raises(DiagramError, match="未登记的操作 rm_rf"):
        definitions.parse(diagram(body), "x.bpmn", FORMS)


def test_registered_service_operation_runs_and_returns_effects():
    body = (
        '<bpmn:startEvent id="s"/><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="x"/>'
        '<bpmn:serviceTask id="x" name="X"><bpmn:extensionElements>'
        '<spiffworkflow:serviceTaskOperator id="notify_unit" resultVariable="r">'
        '<spiffworkflow:parameters><spiffworkflow:parameter id="message" type="str" value="\'请按期完成\'"/>'
        "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
        '<bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="e"/><bpmn:endEvent id="e"/>'
    )
    parsed = definitions.parse(diagram(body), "x.bpmn", FORMS)
    run = runtime.start(definitions.load_bundle(parsed.content_hash, parsed.spec_json), {})
    assert run.completed
    effects = run.take_effects()
    assert [(e.kind, e.payload["message"]) for e in effects] == [("notify_unit", "请按期完成")]


def test_dtd_and_entities_are_refused():
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(DiagramError, match="DTD"):
        definitions.parse(evil, "evil.bpmn", FORMS)


def test_not_xml_is_a_clear_error():
    with pytest.raises(DiagramError, match="不是有效的 XML"):
        definitions.parse(b"not xml at all", "x.bpmn", FORMS)
