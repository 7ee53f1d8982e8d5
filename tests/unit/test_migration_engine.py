"""The engine side of migration: a pending duration timer keeps its fire time (recomputing it
would count the duration again from the moment of migration)."""

from datetime import UTC, datetime
from pathlib import Path

import time_machine

from app.engine import definitions, migration, runtime

ROOT = Path(__file__).resolve().parents[2]
FORMS = {p.stem for p in (ROOT / "forms").glob("*.yaml")}


def diagram(task_name: str, wait: str = '"P3D"') -> bytes:
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
<bpmn:process id="p" isExecutable="true">
  <bpmn:laneSet id="ls">
    <bpmn:lane id="l" name="unit_staff"><bpmn:flowNodeRef>u</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="s"/>
  <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="wait"/>
  <bpmn:intermediateCatchEvent id="wait" name="等三天"><bpmn:timerEventDefinition id="td">
    <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{wait}</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="u"/>
  <bpmn:userTask id="u" name="{task_name}"><bpmn:extensionElements><spiffworkflow:properties>
    <spiffworkflow:property name="form_key" value="deploy"/></spiffworkflow:properties></bpmn:extensionElements>
  </bpmn:userTask>
  <bpmn:sequenceFlow id="f3" sourceRef="u" targetRef="e"/>
  <bpmn:endEvent id="e"/>
</bpmn:process></bpmn:definitions>'''.encode()


def bundle(xml: bytes) -> definitions.SpecBundle:
    parsed = definitions.parse(xml, "t.bpmn", FORMS)
    return definitions.load_bundle(parsed.content_hash, parsed.spec_json)


T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_pending_duration_timer_keeps_its_fire_time_across_migration():
    v1, v2 = bundle(diagram("办理")), bundle(diagram("办理（改名）"))
    with time_machine.travel(T0, tick=False):
        run = runtime.start(v1, {})
        fire_at = run.next_timer_at()
    assert fire_at == datetime(2026, 11, 5, 1, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 11, 3, 1, 0, tzinfo=UTC), tick=False):
        assert migration.blockers(run, v2) == []
        moved = runtime.load(v2, migration.migrate(run, v2))
        moved.advance()
        assert moved.next_timer_at() == fire_at
    with time_machine.travel(datetime(2026, 11, 5, 1, 1, tzinfo=UTC), tick=False):
        moved.advance()
    assert [t.name for t in moved.ready_tasks()] == ["办理（改名）"]


def test_changed_pending_timer_blocks_and_says_which():
    v1, v2 = bundle(diagram("办理")), bundle(diagram("办理", '"P5D"'))
    with time_machine.travel(T0, tick=False):
        run = runtime.start(v1, {})
    assert migration.blockers(run, v2) == ["「等三天」（wait）正在等待定时，但新版本修改了它的定时或事件定义"]
