"""Files exported by other modelers (tests/fixtures/bpmn/): each deploys or is refused with messages
naming its elements, never with an exception other than DiagramError; all can be viewed when
they carry diagram interchange."""

from pathlib import Path

import pytest

from app.engine import definitions, runtime
from app.engine.errors import DiagramError
from app.extensions import db
from app.models import ProcessDefinition
from app.services.design import designer, processes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"
ROOT = Path(__file__).resolve().parents[2]
FORMS = {p.stem for p in (ROOT / "forms").glob("*.yaml")}

REFUSED = {
    "camunda7_leave_request.bpmn": {
        ("Activity_approve", "form_key"),
        ("Activity_approve", "lane"),
        ("Event_escalate", "unknown_data"),
        ("Gateway_approved", "gateway_default"),
        ("Activity_notify", "operation"),
        ("Activity_remind", "operation"),
        ("Flow_yes", "expression"),
        ("Flow_no", "expression"),
    },
    "zeebe_order.bpmn": {
        ("Task_score", "script"),
        ("Task_fetch", "operation"),
        ("Task_review", "form_key"),
        ("Task_review", "lane"),
        ("Flow_big", "expression"),
    },
    "signavio_complaint_collaboration.bpmn": {("sid-citizen-process", "executable")},
    "bizagi_inspection.bpmn": {("Id_process_9e2", "executable")},
    "non_executable.bpmn": {("spot_check_draft", "executable")},
}
DEPLOYABLE = {
    "rectify_collaboration_with_partner.bpmn": "spot_check",
    "no_di.bpmn": "spot_check_plain",
    "subprocess_and_call_activity.bpmn": "recheck",
}


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_every_fixture_is_classified():
    assert {p.name for p in FIXTURES.glob("*.bpmn")} == set(REFUSED) | set(DEPLOYABLE)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_foreign_file_is_refused_with_element_specific_messages(ctx, name):
    found = designer.lint(read(name), name)
    assert {(p.element_id, p.code) for p in found if p.is_error} == REFUSED[name]
    assert all(p.message and p.file == name for p in found)
    with pytest.raises(DiagramError) as raised:
        processes.deploy(read(name), name)
    assert {(p.element_id, p.code) for p in raised.value.items} == REFUSED[name]
    assert db.session.query(ProcessDefinition).count() == 1
    # Only the script is a trust-boundary refusal; the rest can be opened and fixed in the designer.
    assert [p.code for p in designer.check_upload(read(name), name, None)] == (
        ["script"] if name == "zeebe_order.bpmn" else []
    )


@pytest.mark.parametrize("name", sorted(REFUSED) + sorted(DEPLOYABLE))
def test_viewable_when_it_has_diagram_interchange(app, ctx, name):
    assert designer.viewable(read(name)) == (name != "no_di.bpmn")


@pytest.mark.parametrize("name", sorted(DEPLOYABLE))
def test_executable_files_deploy(ctx, name):
    try:
        definition, created = processes.deploy(read(name), name)
        assert created and definition.process_key == DEPLOYABLE[name] and definition.version == 1
        warnings = [p for p in designer.lint(read(name), name) if not p.is_error]
        assert [p.code for p in warnings] == (["no_di"] if name == "no_di.bpmn" else [])
    finally:
        db.session.rollback()  # conftest then drops the version deployed here


def test_subprocess_and_call_activity_run_to_the_end():
    parsed = definitions.parse(read("subprocess_and_call_activity.bpmn"), "s.bpmn", FORMS)
    run = runtime.start(definitions.load_bundle(parsed.content_hash, parsed.spec_json), {"deadlines": {}})
    [visit] = run.ready_tasks()
    assert (visit.element_id, visit.lane, visit.form_key) == ("Visit_record", "supervisor", "follow_up_review")
    run.complete(visit.spiff_id, {"rebound": "no"})
    assert run.completed
    assert [(e.kind, e.payload["message"]) for e in run.take_effects()] == [("notify_unit", "请配合复查")]


@pytest.mark.parametrize("name", sorted(REFUSED) + sorted(DEPLOYABLE))
def test_broken_copies_never_raise(name):
    from app.engine import lint

    data = read(name)
    for cut in range(1, 12):
        found = lint.lint(data[: len(data) * cut // 12], name, FORMS).problems
        assert found and any(p.is_error for p in found)
