"""Workflow state without its spec: the spec is stored once per deployed version.

SpiffWorkflow's serialisation embeds the whole spec in every workflow (25–50 KB).
The converter below leaves it out on save and takes the already restored spec objects
on load; the remaining state is JSON compressed with zlib.
"""

import json
import zlib
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.i18n import _l

from .errors import EngineError

FORMAT = f"rectify-state/1 spiff/{VERSION}"


# SpiffWorkflow ships no type information: subclassing its (Any) converter is flagged otherwise.
class StateOnlyWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Converts a workflow without its specs; on load the caller supplies spec objects."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore_with_specs(self, dct: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


# The full serializer: used to serialise specs at deploy time.
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

_STATE_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
# Constructing the converter registers it for BpmnWorkflow in place of the default one.
_STATE_CONVERTER = StateOnlyWorkflowConverter(BpmnWorkflow, _STATE_REGISTRY)


def dump_state(workflow: BpmnWorkflow) -> bytes:
    dct = _STATE_REGISTRY.convert(workflow)
    dct["format"] = FORMAT
    raw = json.dumps(dct, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return zlib.compress(raw, 6)


def state_dict(state: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(zlib.decompress(state))
    return data


def load_state(state: bytes, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    dct = state_dict(state)
    if dct.pop("format", None) != FORMAT:
        raise EngineError(_l("流程实例的存储格式与当前引擎版本不符"))
    dct.pop("typename", None)
    return _STATE_CONVERTER.restore_with_specs(dct, spec, subprocess_specs)
