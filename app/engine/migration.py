"""Moving a running workflow to another version of its diagram (SpiffWorkflow's diff utilities).

`blockers` says why a workflow cannot move: a task it is working on or waiting for (ready,
waiting, started, pending timers included) was removed from the new version, or changed in a
way the running task cannot follow (its timer, form or due time, its type, its
multi-instance settings). Renaming, moving between lanes and re-routing what comes after it
are changes a running task can follow.

`migrate` re-points the workflow at the new specs with `migrate_workflow`, then puts back what
its reset of ready and waiting tasks drops: their data and internal data (a timer's fire time
lives there, so a pending timer fires when it would have). Finished tasks of elements the new
version no longer has are cut out of the tree (their children move up to their parent): the
state is stored without its spec, so it may only name elements the new version has; the
history of what was done stays in the application's own tables.
"""

from collections.abc import Iterator
from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from app.i18n import ITEMS, N_, Joined, LazyText, _l

from .definitions import SpecBundle
from .runtime import TIMER_EVENTS, Run
from .serialization import SERIALIZER, dump_state

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR
# Attributes a running task may see change under it.
FOLLOWABLE = {
    "bpmn_name",
    "description",
    "documentation",
    "inputs",
    "outputs",
    "lane",
    "lookahead",
    "position",
    "trigger_specs",
}
ATTRIBUTE_NAMES = {
    "event_definition": N_("定时或事件定义"),
    "extensions": N_("表单、期限或阶段等属性"),
    "typename": N_("元素类型"),
    "cardinality": N_("多实例设置"),
    "condition": N_("多实例完成条件"),
    "data_input": N_("多实例输入"),
    "data_output": N_("多实例输出"),
    "input_item": N_("多实例输入项"),
    "output_item": N_("多实例输出项"),
    "task_spec": N_("多实例内容"),
    "cancel_activity": N_("是否中断"),
    "prescript": N_("前置脚本"),
    "postscript": N_("后置脚本"),
    "operation_name": N_("操作"),
    "operation_params": N_("操作参数"),
    "cond_task_specs": N_("条件"),
    "default_task_spec": N_("默认路径"),
    "manual": N_("任务类型"),
    "io_specification": N_("输入输出"),
    "data_input_associations": N_("数据输入"),
    "data_output_associations": N_("数据输出"),
}


def _doing(task: SpiffTask) -> LazyText:
    if task.has_state(TaskState.READY) and task.task_spec.manual:
        return _l("正在办理")
    if task.has_state(TaskState.WAITING):
        kind = type(getattr(task.task_spec, "event_definition", None)).__name__
        return _l("正在等待定时") if kind in TIMER_EVENTS else _l("正在等待")
    return _l("正在执行")


def _element(spec: Any) -> LazyText:
    return _l("「%(name)s」（%(id)s）", name=spec.bpmn_name or spec.bpmn_id or spec.name, id=spec.bpmn_id or spec.name)


def _pairs(workflow: BpmnWorkflow, spec: Any, subprocess_specs: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(workflow or subworkflow, the new spec for it or None) for the workflow and its subprocesses."""
    yield workflow, spec
    for sub in workflow.subprocesses.values():
        yield sub, subprocess_specs.get(sub.spec.name)


def blockers(run: Run, target: SpecBundle) -> list[LazyText]:
    """Why this workflow cannot move to the target version (empty: it can), as texts (app.i18n)."""
    spec, subprocess_specs = target.fresh()
    return _blockers(run.workflow, spec, subprocess_specs)


def _blockers(workflow: BpmnWorkflow, spec: Any, subprocess_specs: dict[str, Any]) -> list[LazyText]:
    reasons: list[LazyText] = []
    internal: list[LazyText] = []
    for wf, new in _pairs(workflow, spec, subprocess_specs):
        active = wf.get_tasks(state=ACTIVE, skip_subprocesses=True)
        if new is None:
            if active:
                reasons.append(_l("子流程「%(name)s」在新版本中已删除，而实例正在其中办理", name=wf.spec.name))
            continue
        diff = SpecDiff(SERIALIZER.registry, wf.spec, new)
        removed, changed = set(diff.removed), diff.changed
        for task in active:
            ts = task.task_spec
            out = reasons if ts.bpmn_id else internal
            if ts in removed:
                out.append(_l("%(element)s%(doing)s，但在新版本中已删除", element=_element(ts), doing=_doing(task)))
            elif set(changed.get(ts, [])) - FOLLOWABLE:
                names = sorted({ATTRIBUTE_NAMES.get(a, a) for a in changed[ts] if a not in FOLLOWABLE})
                out.append(
                    _l(
                        "%(element)s%(doing)s，但新版本修改了它的%(what)s",
                        element=_element(ts),
                        doing=_doing(task),
                        what=Joined([LazyText(n) for n in names], ITEMS),
                    )
                )
    unique = list(dict.fromkeys(reasons))
    return unique or list(dict.fromkeys(internal))


def migrate(run: Run, target: SpecBundle) -> bytes:
    """The workflow's state moved onto the target version (check `blockers` first)."""
    spec, subprocess_specs = target.fresh()
    workflow = run.workflow
    kept: dict[Any, tuple[Any, Any]] = {}
    for wf, _ in _pairs(workflow, spec, subprocess_specs):
        for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True):
            kept[task.id] = (deepcopy(task.data), deepcopy(task.internal_data))
    for wf, new in list(_pairs(workflow, spec, subprocess_specs)):
        diff = WorkflowDiff(wf, SpecDiff(SERIALIZER.registry, wf.spec, new))
        migrate_workflow(diff, wf, new)
        _cut_unknown(wf, new)
    workflow.subprocess_specs = subprocess_specs
    for wf, _ in _pairs(workflow, spec, subprocess_specs):
        for task in wf.tasks.values():
            if task.id in kept and task.has_state(TaskState.READY | TaskState.WAITING | TaskState.FUTURE):
                task.data, task.internal_data = kept[task.id]
    return dump_state(workflow)


def _cut_unknown(wf: Any, new_spec: Any) -> None:
    """Remove tasks whose element the new version lacks: finished ones are spliced out (children
    move to the parent), predicted ones dropped with what they predicted."""
    known = set(new_spec.task_specs.values())
    for task in list(wf.tasks.values()):
        if task.id not in wf.tasks or task.task_spec in known:
            continue
        parent = task.parent
        if task.has_state(FINISHED) and parent is not None:
            for child in task.children:
                child.parent = parent
            at = parent._children.index(task.id)
            parent._children[at : at + 1] = list(task._children)
            del wf.tasks[task.id]
        elif not task.has_state(ACTIVE):
            for gone in list(task):
                wf.tasks.pop(gone.id, None)
            if parent is not None:
                parent._children.remove(task.id)
    if wf.last_task is not None and wf.last_task.id not in wf.tasks:
        wf.last_task = None
