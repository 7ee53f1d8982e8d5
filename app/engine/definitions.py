"""Parse and package diagrams for deployment (the rules live in app/engine/lint.py).

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
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from . import lint as linter
from .errors import DiagramError, Problem
from .serialization import SERIALIZER
from .xml_safety import Limits

ROLES = linter.ROLES


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
    warnings: list[Problem] = field(default_factory=list)


def content_hash(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


def parse(xml: bytes, filename: str, known_forms: set[str], limits: Limits | None = None) -> ParsedDiagram:
    """Lint and package a diagram; raise DiagramError carrying every error found."""
    report = linter.lint(xml, filename, known_forms, limits)
    if report.errors:
        raise DiagramError(report.errors)
    spec, subprocess_specs = report.spec, report.subprocess_specs
    # A report without errors carries the parsed specs and the process key (lint sets them together).
    assert subprocess_specs is not None and report.process_key is not None
    user_tasks: list[UserTaskInfo] = []
    for s in [spec, *subprocess_specs.values()]:
        for ts in s.task_specs.values():
            if isinstance(ts, UserTask):
                props = (ts.extensions or {}).get("properties", {})
                user_tasks.append(
                    UserTaskInfo(
                        ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, ts.lane, props.get("form_key"), props.get("phase")
                    )
                )
    workflow = BpmnWorkflow(spec, subprocess_specs)
    spec_dict = SERIALIZER.to_dict(workflow)
    bundle = {"spec": spec_dict["spec"], "subprocess_specs": spec_dict["subprocess_specs"]}
    return ParsedDiagram(
        process_key=report.process_key,
        content_hash=content_hash(xml),
        spec_json=json.dumps(bundle, ensure_ascii=False, separators=(",", ":")),
        form_keys=sorted({t.form_key for t in user_tasks if t.form_key}),
        user_tasks=user_tasks,
        warnings=[p for p in report.problems if not p.is_error],
    )


class SpecBundle:
    """The spec objects of one deployed version, one copy per thread.

    SpiffWorkflow keeps one kind of run-time state on spec objects: when an event subprocess
    is first triggered it wires that subprocess to its process's start and end
    (BpmnStartTask.trigger_wf), and a spec wired so would start the event subprocess in every
    other workflow. So each thread gets its own copy (threads never share one), and every
    `borrow()` first undoes that wiring; runtime.load redoes it for the workflow at hand.
    A thread works on one workflow at a time (load, complete, dump), which this relies on.
    """

    def __init__(self, spec: Any, subprocess_specs: dict[str, Any]) -> None:
        self._blob = pickle.dumps((spec, subprocess_specs), protocol=pickle.HIGHEST_PROTOCOL)
        self._local = threading.local()

    def fresh(self) -> tuple[Any, dict[str, Any]]:
        """A private copy nobody else holds (unpickled: ~3x faster than restoring the JSON)."""
        copy: tuple[Any, dict[str, Any]] = pickle.loads(self._blob)
        return copy

    def borrow(self) -> tuple[Any, dict[str, Any]]:
        """This thread's copy, without event-subprocess wiring left from its last workflow."""
        copy: tuple[Any, dict[str, Any]] | None = getattr(self._local, "copy", None)
        if copy is None:
            copy = self._local.copy = self.fresh()
        spec, subprocess_specs = copy
        for process in [spec, *subprocess_specs.values()]:
            unwire_triggers(process)
        return copy


def unwire_triggers(process_spec: Any) -> None:
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
