// The properties panel's 「督办平台」 group: what Rectify reads from a diagram (form key, role
// lane, due, phase, service operation, the overdue ladder's offsets), written in the spiff
// dialect the engine parses. The choices come from the server (rectifyOptions).
import { SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { h } from "@bpmn-io/properties-panel/preact";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

import { formatLadder, parseLadder } from "./ladder";
import { getOperator, getSpiffProperty, setOperatorAttr, setSpiffProperty } from "./spiff-extensions";

const NONE = { value: "", label: "（未设置）" };

function useWriters() {
  return { modeling: useService("modeling"), bpmnFactory: useService("bpmnFactory") };
}

function withCurrent(options, current, suffix) {
  if (!current || options.some((o) => o.value === current)) return options;
  return [...options, { value: current, label: `${current}（${suffix}）` }];
}

// The lane a flow node sits in, found through the laneSets of its process or subprocess.
export function laneOf(element) {
  const bo = getBusinessObject(element);
  for (let scope = bo.$parent; scope; scope = scope.$parent) {
    for (const laneSet of scope.get ? scope.get("laneSets") || [] : []) {
      const lane = (laneSet.get("lanes") || []).find((l) => (l.get("flowNodeRef") || []).includes(bo));
      if (lane) return lane.get("name") || lane.get("id");
    }
    if (is(scope, "bpmn:Process")) break;
  }
  return null;
}

function PropertySelect({ element, id, name, label, optionsKey, missing }) {
  const writers = useWriters();
  const options = useService("rectifyOptions");
  return h(SelectEntry, {
    element, id, label,
    getValue: () => getSpiffProperty(element, name) || "",
    setValue: (value) => setSpiffProperty(element, name, value, writers),
    getOptions: () => [NONE, ...withCurrent(options[optionsKey], getSpiffProperty(element, name), missing)],
  });
}

function FormKey(props) {
  return PropertySelect({ ...props, name: "form_key", label: "表单（form_key）", optionsKey: "forms", missing: "forms/ 中不存在" });
}

function Phase(props) {
  return PropertySelect({ ...props, name: "phase", label: "阶段（phase）", optionsKey: "phases", missing: "未知阶段" });
}

function Due({ element, id }) {
  const writers = useWriters();
  return h(TextFieldEntry, {
    element, id, label: "办理期限表达式（due）", debounce: useService("debounceInput"),
    description: "例如 deadlines['deploy']，按流程数据计算本步骤的期限",
    getValue: () => getSpiffProperty(element, "due") || "",
    setValue: (value) => setSpiffProperty(element, "due", (value || "").trim(), writers),
  });
}

function Role({ element, id }) {
  const options = useService("rectifyOptions");
  const lane = laneOf(element);
  const known = lane && options.roles.includes(lane);
  return h(TextFieldEntry, {
    element, id, label: "办理角色（所在泳道）", disabled: true, debounce: (fn) => fn,
    description: known ? "泳道即角色；把任务拖到另一条泳道即可更换角色"
      : `不在已知角色的泳道中（应为 ${options.roles.join("、")}）`,
    getValue: () => lane || "（无泳道）",
    setValue: () => {},
  });
}

function Operation({ element, id }) {
  const writers = useWriters();
  const options = useService("rectifyOptions");
  const current = () => (getOperator(element) ? getOperator(element).get("id") : "") || "";
  return h(SelectEntry, {
    element, id, label: "调用的操作（serviceTaskOperator）",
    getValue: current,
    setValue: (value) => setOperatorAttr(element, "id", value, writers),
    getOptions: () => [NONE, ...withCurrent(options.operations, current(), "未登记")],
  });
}

function ResultVariable({ element, id }) {
  const writers = useWriters();
  return h(TextFieldEntry, {
    element, id, label: "结果变量（resultVariable）", debounce: useService("debounceInput"),
    getValue: () => (getOperator(element) ? getOperator(element).get("resultVariable") : "") || "",
    setValue: (value) => setOperatorAttr(element, "resultVariable", (value || "").trim(), writers),
  });
}

// The timer's expression: timeDate, timeDuration or timeCycle, whichever the diagram uses.
function timerExpression(element) {
  const bo = getBusinessObject(element);
  const timer = (bo.get("eventDefinitions") || []).find((d) => is(d, "bpmn:TimerEventDefinition"));
  if (!timer) return null;
  for (const kind of ["timeDate", "timeDuration", "timeCycle"]) {
    if (timer.get(kind)) return timer.get(kind);
  }
  return null;
}

function useLadder(element) {
  const { modeling } = useWriters();
  const expression = timerExpression(element);
  const ladder = parseLadder(expression && expression.get("body"));
  const update = (changes) => modeling.updateModdleProperties(element, expression, {
    body: formatLadder({ ...parseLadder(expression.get("body")), ...changes }),
  });
  return { ladder: ladder || {}, update };
}

function LadderDue({ element, id }) {
  const { ladder, update } = useLadder(element);
  return h(TextFieldEntry, {
    element, id, label: "从哪个期限起算", debounce: useService("debounceInput"),
    getValue: () => ladder.due || "", setValue: (value) => value && update({ due: value.trim() }),
  });
}

function LadderSource({ element, id }) {
  const { ladder, update } = useLadder(element);
  const options = useService("rectifyOptions");
  return h(SelectEntry, {
    element, id, label: "逾期后间隔",
    getValue: () => (ladder.level ? `campaign:${ladder.level}` : "fixed"),
    setValue: (value) => (value === "fixed"
      ? update({ level: null, days: ladder.days ?? 0, unit: ladder.unit || "working" })
      : update({ level: value.slice("campaign:".length) })),
    getOptions: () => [
      ...options.ladder_levels.map((l) => ({ value: `campaign:${l.value}`, label: `按专项整治的设置：${l.label}（ladder['${l.value}']）` })),
      { value: "fixed", label: "在流程图中固定天数" },
    ],
  });
}

function LadderDays({ element, id }) {
  const { ladder, update } = useLadder(element);
  return h(TextFieldEntry, {
    element, id, label: "间隔天数", debounce: useService("debounceInput"),
    validate: (value) => (/^\d{1,3}$/.test((value || "").trim()) ? null : "请输入 0 到 999 之间的整数"),
    getValue: () => String(ladder.days ?? 0),
    setValue: (value) => /^\d{1,3}$/.test((value || "").trim()) && update({ level: null, days: Number(value), unit: ladder.unit || "working" }),
  });
}

function LadderUnit({ element, id }) {
  const { ladder, update } = useLadder(element);
  const options = useService("rectifyOptions");
  return h(SelectEntry, {
    element, id, label: "天数单位",
    getValue: () => ladder.unit || "working",
    setValue: (value) => update({ level: null, days: ladder.days ?? 0, unit: value }),
    getOptions: () => options.offset_units,
  });
}

function entriesFor(element) {
  const entry = (id, component, isEdited = isTextFieldEntryEdited) => ({ id, component, element, isEdited });
  const entries = [];
  if (is(element, "bpmn:UserTask")) {
    entries.push(entry("rectify-role", Role), entry("rectify-form-key", FormKey, isSelectEntryEdited),
      entry("rectify-due", Due), entry("rectify-phase", Phase, isSelectEntryEdited));
  } else if (is(element, "bpmn:IntermediateCatchEvent")) {
    entries.push(entry("rectify-phase", Phase, isSelectEntryEdited));
  }
  if (is(element, "bpmn:ServiceTask")) {
    entries.push(entry("rectify-operation", Operation, isSelectEntryEdited), entry("rectify-result", ResultVariable));
  }
  const expression = timerExpression(element);
  const ladder = expression && parseLadder(expression.get("body"));
  if (ladder) {
    entries.push(entry("rectify-ladder-due", LadderDue), entry("rectify-ladder-source", LadderSource, isSelectEntryEdited));
    if (!ladder.level) {
      entries.push(entry("rectify-ladder-days", LadderDays), entry("rectify-ladder-unit", LadderUnit, isSelectEntryEdited));
    }
  }
  return entries;
}

function RectifyPropertiesProvider(propertiesPanel) {
  propertiesPanel.registerProvider(400, this);
}

RectifyPropertiesProvider.prototype.getGroups = function getGroups(element) {
  return (groups) => {
    const entries = entriesFor(element);
    if (entries.length) {
      groups.splice(Math.min(1, groups.length), 0, { id: "rectify", label: "督办平台", entries });
    }
    return groups;
  };
};

RectifyPropertiesProvider.$inject = ["propertiesPanel"];

export default {
  __init__: ["rectifyPropertiesProvider"],
  rectifyPropertiesProvider: ["type", RectifyPropertiesProvider],
};
