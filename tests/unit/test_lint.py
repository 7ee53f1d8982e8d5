"""Each lint rule with a failing and a passing diagram."""

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

from app.engine import definitions, lint, xml_safety
from app.engine.errors import DiagramError, Problem

ROOT = Path(__file__).resolve().parents[2]
FORMS = {p.stem for p in (ROOT / "forms").glob("*.yaml")}
RECTIFICATION = (ROOT / "processes" / "rectification.bpmn").read_bytes()

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)


def bpmn(body: str, executable: str = "true", extra: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {NS} id="d" targetNamespace="t">'
        f'<bpmn:process id="p" isExecutable="{executable}">{body}</bpmn:process>{extra}'
        "</bpmn:definitions>"
    ).encode()


def flow(fid, src, tgt, condition=None, language=""):
    lang = f' language="{language}"' if language else ""
    cond = (
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"{lang}>{condition}</bpmn:conditionExpression>'
        if condition is not None
        else ""
    )
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{tgt}">{cond}</bpmn:sequenceFlow>'


def user(uid, form_key="deploy", extra=""):
    return (
        f'<bpmn:userTask id="{uid}" name="任务{uid}"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="form_key" value="{form_key}"/></spiffworkflow:properties>{extra}'
        f"</bpmn:extensionElements></bpmn:userTask>"
    )


def lanes(role="unit_staff", *refs):
    return (
        f'<bpmn:laneSet id="ls"><bpmn:lane id="lane_{role}" name="{role}">'
        + "".join(f"<bpmn:flowNodeRef>{r}</bpmn:flowNodeRef>" for r in refs)
        + "</bpmn:lane></bpmn:laneSet>"
    )


def linear(middle: str, mid_id: str = "x") -> str:
    """start -> middle -> end."""
    return (
        '<bpmn:startEvent id="s"/>'
        + flow("f1", "s", mid_id)
        + middle
        + flow("f2", mid_id, "e")
        + '<bpmn:endEvent id="e"/>'
    )


def timer_event(kind, expression):
    return (
        f'<bpmn:intermediateCatchEvent id="x" name="等待"><bpmn:timerEventDefinition id="td">'
        f'<bpmn:{kind} xsi:type="bpmn:tFormalExpression">{expression}</bpmn:{kind}>'
        f"</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )


def problems(xml: bytes) -> list[Problem]:
    return lint.lint(xml, "x.bpmn", FORMS).problems


def errors(xml: bytes) -> list[tuple[str | None, str]]:
    return [(p.element_id, p.code) for p in problems(xml) if p.is_error]


OK_USER = linear(lanes("unit_staff", "x") + user("x"))


def test_the_shipped_diagram_lints_clean():
    assert problems(RECTIFICATION) == []


def test_a_good_small_diagram_has_no_errors():
    assert errors(bpmn(OK_USER)) == []


def test_the_process_must_be_executable():
    assert errors(bpmn(OK_USER, executable="false")) == [("p", "executable")]


def test_exactly_one_executable_process():
    second = '<bpmn:process id="p2" isExecutable="true"><bpmn:startEvent id="s2"/></bpmn:process>'
    assert ("p2", "executable") in errors(bpmn(OK_USER, extra=second))
    # A non-executable partner pool is only a warning.
    partner = '<bpmn:process id="p3" isExecutable="false"/>'
    found = problems(bpmn(OK_USER, extra=partner))
    assert [(p.element_id, p.severity, p.code) for p in found if p.element_id == "p3"] == [
        ("p3", "warning", "not_executable")
    ]
    assert not [p for p in found if p.is_error]


def test_user_task_needs_a_role_lane():
    assert errors(bpmn(linear(lanes("janitor", "x") + user("x")))) == [("x", "lane")]
    assert errors(bpmn(linear(user("x")))) == [("x", "lane")]


def test_user_task_needs_an_existing_form():
    assert errors(bpmn(linear(lanes("unit_staff", "x") + user("x", "nope")))) == [("x", "form_key")]
    no_form = '<bpmn:userTask id="x" name="无表单"/>'
    found = problems(bpmn(linear(lanes("supervisor", "x") + no_form)))
    assert [(p.element_id, p.code) for p in found if p.is_error] == [("x", "form_key")]
    assert "没有设置表单" in [p for p in found if p.is_error][0].message


def service(op=None, params=""):
    operator = (
        f'<spiffworkflow:serviceTaskOperator id="{op}" resultVariable="r">{params}</spiffworkflow:serviceTaskOperator>'
        if op
        else ""
    )
    return (
        f'<bpmn:serviceTask id="x" name="服务"><bpmn:extensionElements>{operator}</bpmn:extensionElements>'
        "</bpmn:serviceTask>"
    )


def test_service_task_must_name_a_registered_operation():
    assert errors(bpmn(linear(service("rm_rf")))) == [("x", "operation")]
    assert errors(bpmn(linear(service()))) == [("x", "operation")]
    param = (
        '<spiffworkflow:parameters><spiffworkflow:parameter id="message" type="str" value="\'请按期完成\'"/>'
        "</spiffworkflow:parameters>"
    )
    assert errors(bpmn(linear(service("notify_unit", param)))) == []


def test_script_tasks_and_scripts_in_any_form_are_refused():
    script_task = '<bpmn:scriptTask id="x" name="脚本"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
    assert errors(bpmn(linear(script_task))) == [("x", "script")]
    pre = lanes("unit_staff", "x") + user("x", extra="<spiffworkflow:preScript>x = 1</spiffworkflow:preScript>")
    assert errors(bpmn(linear(pre))) == [("x", "script")]
    listener = lanes("unit_staff", "x") + user(
        "x",
        extra=(
            '<camunda:executionListener event="start"><camunda:script scriptFormat="groovy">'
            "Runtime.exec('id')</camunda:script></camunda:executionListener>"
        ),
    )
    assert ("x", "script") in errors(bpmn(linear(listener)))


def gateway(default=None, conditions=("decision == 'return'", None)):
    d = f' default="{default}"' if default else ""
    body = (
        '<bpmn:startEvent id="s"/>'
        + flow("f0", "s", "g")
        + f'<bpmn:exclusiveGateway id="g" name="审核"{d}/>'
        + flow("fa", "g", "ea", conditions[0])
        + flow("fb", "g", "eb", conditions[1])
        + '<bpmn:endEvent id="ea"/><bpmn:endEvent id="eb"/>'
    )
    return bpmn(body)


def test_exclusive_gateway_needs_a_default_or_exhaustive_conditions():
    assert errors(gateway()) == [("fb", "condition_missing"), ("g", "gateway_default")]
    assert errors(gateway(conditions=("decision == 'return'", "decision == 'accept'"))) == [("g", "gateway_default")]
    assert errors(gateway(default="fb")) == []
    assert errors(gateway(conditions=("decision == 'return'", "decision != 'return'"))) == []
    assert errors(gateway(conditions=("'yes' == rebound", "not rebound == 'yes'"))) == []
    assert errors(gateway(default="nope", conditions=("decision == 'a'", "decision == 'b'"))) == [
        ("g", "gateway_default"),
        ("g", "gateway_default"),
    ]


def test_conditions_use_only_allowed_expressions_and_known_data():
    assert errors(gateway(default="fb", conditions=("open('/etc/passwd')", None))) == [("fa", "expression")]
    assert errors(gateway(default="fb", conditions=("().__class__", None))) == [("fa", "unsafe_expression")]
    assert errors(gateway(default="fb", conditions=("approved == True", None))) == [("fa", "unknown_data")]
    assert errors(gateway(default="fb", conditions=("verdict == 'fail'", None))) == []
    assert errors(
        gateway(
            default="fb",
            conditions=("approved", None),
        )
    ) == [("fa", "unknown_data")]
    js = bpmn(
        '<bpmn:startEvent id="s"/>'
        + flow("f0", "s", "g")
        + '<bpmn:exclusiveGateway id="g" default="fb"/>'
        + flow("fa", "g", "e", "decision == 'x'", language="javascript")
        + flow("fb", "g", "e")
        + '<bpmn:endEvent id="e"/>'
    )
    assert ("fa", "script") in errors(js)


def test_timers_parse_and_use_known_data():
    assert errors(bpmn(linear(timer_event("timeDuration", '"P3D"')))) == []
    assert errors(bpmn(linear(timer_event("timeDate", "follow_up_at")))) == []
    assert errors(bpmn(linear(timer_event("timeDate", "ladder_at(deadlines['deploy'], ladder['letter'])")))) == []
    unquoted = problems(bpmn(linear(timer_event("timeDuration", "P3D"))))
    assert [(p.element_id, p.code) for p in unquoted if p.is_error] == [("x", "unknown_data")]
    assert "须加引号" in [p for p in unquoted if p.is_error][0].message
    assert errors(bpmn(linear(timer_event("timeDate", "due_date")))) == [("x", "unknown_data")]
    assert errors(bpmn(linear(timer_event("timeDate", "'next tuesday'")))) == [("x", "timer")]
    assert errors(bpmn(linear(timer_event("timeDuration", "'P3'")))) == [("x", "timer")]
    assert errors(bpmn(linear(timer_event("timeCycle", "'R3/PT1H'")))) == []
    assert errors(bpmn(linear(timer_event("timeDuration", "9**9**9")))) == [("x", "unsafe_expression")]


def test_names_the_diagram_defines_are_known_data():
    mi = (
        '<bpmn:startEvent id="s"/>'
        + flow("f1", "s", "x")
        + lanes("unit_staff", "x")
        + '<bpmn:userTask id="x" name="逐项"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="form_key" value="rectify_item"/>'
        '<spiffworkflow:property name="due" value="thing[\'due\']"/></spiffworkflow:properties>'
        "</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics>"
        '<bpmn:loopDataInputRef>things</bpmn:loopDataInputRef><bpmn:inputDataItem id="thing" name="thing"/>'
        "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>" + flow("f2", "x", "e") + '<bpmn:endEvent id="e"/>'
    )
    assert errors(bpmn(mi)) == []
    assert errors(bpmn(mi.replace("thing['due']", "other['due']"))) == [("x", "unknown_data")]


def test_everything_reachable_and_every_path_ends():
    orphan = OK_USER + lanes("unit_staff", "y").replace('id="ls"', 'id="ls2"') + user("y") + flow("f9", "y", "e")
    assert errors(bpmn(orphan)) == [("y", "unreachable")]
    dead_end = '<bpmn:startEvent id="s"/>' + flow("f1", "s", "x") + lanes("unit_staff", "x") + user("x")
    assert errors(bpmn(dead_end)) == [("x", "no_end")]
    trap = (
        lanes("unit_staff", "x", "y")
        + '<bpmn:startEvent id="s"/>'
        + flow("f1", "s", "x")
        + user("x")
        + user("y")
        + flow("f2", "x", "y")
        + flow("f3", "y", "x")
    )
    assert errors(bpmn(trap)) == [("s", "no_end"), ("x", "no_end"), ("y", "no_end")]


def test_the_allow_lists_match_what_the_services_write():
    from app.services.tasks import steps

    launch_src = (ROOT / "app" / "services" / "campaigns" / "launch.py").read_text()
    tree = ast.parse(launch_src)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "process_data")
    ret = next(n for n in ast.walk(func) if isinstance(n, ast.Return))
    assert {k.value for k in ret.value.keys} == set(lint.LAUNCH_DATA)
    step_keys = set()
    for kind in steps.KINDS.values():  # what each step kind's handler returns to the process
        source = textwrap.dedent(inspect.getsource(kind.apply))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Dict):
                step_keys |= {k.value for k in node.value.keys}
    assert step_keys - {"self_check_redo_due", "item_redo_due"} == set(lint.STEP_DATA)


def test_deploy_errors_carry_structured_problems_and_text():
    with pytest.raises(DiagramError) as raised:
        definitions.parse(bpmn(linear(lanes("unit_staff", "x") + user("x", "nope"))), "x.bpmn", FORMS)
    assert [(p.file, p.element_id, p.severity, p.code) for p in raised.value.items] == [
        ("x.bpmn", "x", "error", "form_key")
    ]
    assert raised.value.problems == ["x.bpmn：「任务x」使用的表单 nope 在 forms/ 中不存在"]


def test_lint_never_raises_on_garbage():
    for junk in (
        b"",
        b"\x00\xff",
        b"<a>",
        b"<html><body>hi</body></html>",
        "<中文/>".encode(),
        b"<?xml version='1.0'?>",
    ):
        found = problems(junk)
        assert found and all(p.is_error and p.element_id is None for p in found)


def test_timer_cycles_must_be_bounded_and_not_too_frequent():
    def cycle(expression: str) -> list:
        return [p for p in problems(bpmn(linear(timer_event("timeCycle", expression)))) if p.is_error]

    assert cycle("'R3/P1D'") == [] and cycle("'R1000/PT1H'") == []
    zero = cycle("'R/PT0S'")
    assert {(p.element_id, p.code) for p in zero} == {("x", "timer_cycle")}
    assert any("间隔为零" in p.message for p in zero) and any("无限重复" in p.message for p in zero)
    assert [p.code for p in cycle("'R5/PT0M'")] == ["timer_cycle"]
    assert "不足 1 分钟" in cycle("'R5/PT30S'")[0].message
    assert "无限重复" in cycle("'R/P1D'")[0].message
    assert "无限重复" in cycle("'R-1/P1D'")[0].message
    assert "超过了上限 1000 次" in cycle("'R1001/P1D'")[0].message
    limits = xml_safety.Limits(max_cardinality=10)
    found = lint.lint(bpmn(linear(timer_event("timeCycle", "'R11/P1D'"))), "x.bpmn", FORMS, limits).errors
    assert [p.code for p in found] == ["timer_cycle"]


def multi_instance(cardinality: str) -> bytes:
    return bpmn(
        '<bpmn:startEvent id="s"/>'
        + flow("f1", "s", "x")
        + lanes("unit_staff", "x")
        + '<bpmn:userTask id="x" name="逐项"><bpmn:extensionElements><spiffworkflow:properties>'
        '<spiffworkflow:property name="form_key" value="rectify_item"/></spiffworkflow:properties>'
        "</bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics>"
        f"<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality>"
        "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>" + flow("f2", "x", "e") + '<bpmn:endEvent id="e"/>'
    )


def test_multi_instance_cardinality_above_the_setting_is_refused():
    assert errors(multi_instance("3")) == [] and errors(multi_instance("1000")) == []
    assert errors(multi_instance("len(ledger)")) == []  # from process data: what the services write
    for huge in ("1000000000000", "1001", "999 * 999", "-1"):
        found = [p for p in problems(multi_instance(huge)) if p.is_error]
        assert [(p.element_id, p.code) for p in found] == [("x", "cardinality")], huge
        assert "0 到 1000 之间的整数" in found[0].message
    small = xml_safety.Limits(max_cardinality=2)
    assert [p.code for p in lint.lint(multi_instance("3"), "x.bpmn", FORMS, small).errors] == ["cardinality"]
