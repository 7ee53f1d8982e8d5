"""Running workflows: start, load, complete user tasks, deliver messages, fire timers."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from app import clock, workdays
from app.errors import reason
from app.i18n import _l

from . import expressions
from .definitions import SpecBundle
from .errors import EngineError, TaskNotReady
from .operations import Effect
from .script_engine import SCRIPT_ENGINE
from .serialization import dump_state, load_state


@dataclass
class ReadyTask:
    """A ready user task as the application sees it."""

    spiff_id: str
    element_id: str
    name: str
    lane: str | None
    form_key: str | None
    phase: str | None
    due_at: datetime | None
    item: dict[str, Any] | None


def _props(task_spec: Any) -> dict[str, Any]:
    props: dict[str, Any] = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    return props


def parse_due(value: Any) -> datetime | None:
    """A due value from process data: an ISO datetime, or a date meaning the end of that local day."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return workdays.end_of_working_day(value).astimezone(UTC)
    else:
        text = str(value)
        if len(text) == 10:
            return workdays.end_of_working_day(date.fromisoformat(text)).astimezone(UTC)
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.local_tz())
    return parsed.astimezone(UTC)


TIMER_EVENTS = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}


@dataclass
class TimerChange:
    """A waiting date timer whose fire time was computed again and came out different."""

    element_id: str
    name: str
    attached_task_id: str | None  # the user task its boundary event sits on, if any
    before: datetime | None
    after: datetime | None


class Run:
    """One loaded workflow."""

    def __init__(self, workflow: BpmnWorkflow) -> None:
        self.workflow = workflow
        workflow.script_engine = SCRIPT_ENGINE  # not serialised: set again on every load

    # -- reading
    def ready_tasks(self) -> list[ReadyTask]:
        result = []
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            spec = task.task_spec
            props = _props(spec)
            result.append(
                ReadyTask(
                    spiff_id=str(task.id),
                    element_id=spec.bpmn_id,
                    name=spec.bpmn_name or spec.bpmn_id,
                    lane=spec.lane,
                    form_key=props.get("form_key"),
                    phase=props.get("phase"),
                    due_at=self._due(task, props.get("due")),
                    item=item if isinstance(item := task.data.get("item"), dict) else None,
                )
            )
        return result

    def _due(self, task: SpiffTask, expression: str | None) -> datetime | None:
        if not expression:
            return None
        try:
            return parse_due(expressions.evaluate(expression, task.data))
        except (expressions.ExpressionError, ValueError, TypeError):
            return None

    def waiting_phases(self) -> list[str]:
        """Phases of waiting catch events (a message gate, a timer) that carry a phase property."""
        phases = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            phase = _props(task.task_spec).get("phase")
            if phase:
                phases.append(phase)
        return phases

    def waiting_for_message(self, name: str) -> bool:
        return any(e.event_type == "MessageEventDefinition" and e.name == name for e in self.workflow.waiting_events())

    def next_timer_at(self) -> datetime | None:
        times: list[datetime] = []
        for event in self.workflow.waiting_events():
            if event.event_type not in TIMER_EVENTS or not event.value:
                continue
            value = event.value["next"] if isinstance(event.value, dict) else event.value
            try:
                due = parse_due(value)
            except ValueError:
                continue
            if due is not None:
                times.append(due)
        return min(times) if times else None

    @property
    def completed(self) -> bool:
        return bool(self.workflow.completed)

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.workflow.data
        return data

    # -- changing
    def complete(self, spiff_id: str, data: dict[str, Any]) -> None:
        """Complete a ready user task with process data and run to the next wait state."""
        try:
            task = self.workflow.get_task_from_id(UUID(spiff_id))
        except (ValueError, KeyError, SpiffWorkflowException):
            task = None
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(_l("该任务已被处理或流程已推进"))
        task.data.update(data)
        self._step(task.run)

    def send_message(self, name: str, payload: dict[str, Any] | None = None) -> None:
        """Deliver a message to whatever catches it (a gate, or an event subprocess start)."""
        self._step(lambda: self.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload or {})))

    def advance(self) -> None:
        """Fire timers that are due and run the engine."""
        self._step(lambda: None)

    def _step(self, action: Callable[[], object]) -> None:
        try:
            action()
            self.workflow.do_engine_steps()
            # A timer that became waiting in the steps above computes its fire time on refresh;
            # one already past fires in the second run.
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps()
        except expressions.ExpressionError as exc:
            raise EngineError(_l("流程表达式求值失败：%(error)s", error=exc.text)) from exc
        except SpiffWorkflowException as exc:
            raise EngineError(_l("流程执行失败：%(error)s", error=str(exc))) from exc

    def open_data(self) -> list[dict[str, Any]]:
        """The data dicts the process reads from here on: every unfinished task's and each
        (sub)workflow's. Changing them in place changes the deadlines the diagram computes next."""
        seen: dict[int, dict[str, Any]] = {}
        for task in self.workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK):
            seen.setdefault(id(task.data), task.data)
        for wf in [self.workflow, *self.workflow.subprocesses.values()]:
            seen.setdefault(id(wf.data), wf.data)
        return list(seen.values())

    def recompute_timers(self) -> list[TimerChange]:
        """Evaluate every waiting date timer's expression again and store its new fire time.

        SpiffWorkflow computes a timer's fire time once, when it starts waiting, and keeps it in
        the task's internal_data['event_value']; after the process data or the working-day
        calendar changed, that stored time is stale. Nothing fires here, even a time now in the
        past: the next sweep does that. Duration and cycle timers count from when they started
        waiting and are left alone. Returns the timers whose time changed."""
        changes: list[TimerChange] = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if not isinstance(definition, TimeDateEventDefinition):
                continue
            old = task._get_internal_data("event_value")
            if old is None or task._get_internal_data("event_fired", False):
                continue  # never computed yet: it will be, from the current data and calendar
            try:
                new = task.workflow.script_engine.evaluate(task, definition.expression)
                before, after = parse_due(old), parse_due(new)
            except (expressions.ExpressionError, SpiffWorkflowException, ValueError, TypeError) as exc:
                raise EngineError(
                    _l(
                        "定时器“%(name)s”重新计算失败：%(error)s",
                        name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                        error=reason(exc),
                    )
                ) from exc
            if before == after:
                continue
            task._set_internal_data(event_value=new)
            attached = _attached_user_task(task)
            changes.append(
                TimerChange(
                    element_id=task.task_spec.bpmn_id,
                    name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                    attached_task_id=str(attached.id) if attached is not None else None,
                    before=before,
                    after=after,
                )
            )
        return changes

    def take_effects(self) -> list[Effect]:
        effects: list[Effect] = self.workflow.__dict__.pop("_rectify_effects", [])
        return effects

    def pending_effects(self) -> list[Effect]:
        """The effects take_effects() would return, left in place."""
        return list(self.workflow.__dict__.get("_rectify_effects", []))

    def dump(self) -> bytes:
        return dump_state(self.workflow)


def _attached_user_task(timer: SpiffTask) -> SpiffTask | None:
    """The user task a boundary timer sits on (its sibling under the boundary split), if any."""
    node = timer.parent
    if node is None or not isinstance(node.task_spec, BoundaryEventSplit):
        return None
    return next((c for c in node.children if getattr(c.task_spec, "manual", False)), None)


def start(bundle: SpecBundle, data: dict[str, Any]) -> Run:
    """Start a workflow with process data and run it to its first wait state."""
    spec, subprocess_specs = bundle.borrow()
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    run = Run(workflow)
    run.advance()
    return run


def load(bundle: SpecBundle, state: bytes) -> Run:
    try:
        workflow = load_state(state, *bundle.borrow())
    except (KeyError, ValueError) as exc:
        raise EngineError(_l("无法读取流程实例状态：%(error)s", error=reason(exc))) from exc
    _restore_trigger_connections(workflow)
    return Run(workflow)


def _restore_trigger_connections(workflow: BpmnWorkflow) -> None:
    """Redo the spec wiring SpiffWorkflow makes when an event subprocess is first triggered.

    Spiff connects a triggered event subprocess to its process's start and end on the *spec*
    (BpmnStartTask.trigger_wf) and relies on that later; its own serialisation keeps the
    wiring because it embeds the spec in every workflow. We store the spec once, so the
    wiring is redone on load for every event subprocess the workflow has instances of.
    """
    for wf in [workflow, *workflow.subprocesses.values()]:
        start = wf.spec.start
        names = getattr(start, "trigger_specs", [])
        if not names:
            continue
        used = {t.task_spec.name for t in wf.get_tasks()}
        for name in names:
            spec = wf.spec.task_specs.get(name)
            if spec is not None and name in used and start not in spec.inputs:
                start.connect(spec)
                spec.connect(wf.spec.end)


def iso(value: date | datetime) -> str:
    """Process data carries times as ISO strings (JSON-safe, timezone-aware)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return workdays.end_of_working_day(value).isoformat()
