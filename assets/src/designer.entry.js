// The process designer: bpmn-js Modeler with the properties panel and our 「督办平台」 group,
// saving drafts, linting on the server, deploying. Page data comes from #designer's data-*.
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";

import { focusElement, showProblems } from "./designer/problems";
import rectifyProvider from "./designer/rectify-provider";
import spiffworkflow from "./designer/spiffworkflow-moddle.json";
import translateZh from "./designer/translate-zh";

const root = document.getElementById("designer");
const data = root.dataset;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const statusEl = document.getElementById("designer-status");
const problemsEl = document.getElementById("problems");
let draftId = data.draftId ? Number(data.draftId) : null;
let dirty = false;

const modeler = new BpmnModeler({
  container: "#canvas",
  propertiesPanel: { parent: "#properties", layout: { groups: { rectify: { open: true }, timer: { open: true } } } },
  additionalModules: [
    BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, rectifyProvider, translateZh,
    { rectifyOptions: ["value", JSON.parse(data.options)] },
  ],
  moddleExtensions: { spiffworkflow },
});

function status(message, kind = "info") {
  statusEl.textContent = message;
  statusEl.className = `designer-status flash flash-${kind}`;
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let payload = {};
  try {
    payload = await response.json();
  } catch {
    payload = { error: `服务器返回 ${response.status}` };
  }
  return { ok: response.ok, status: response.status, payload };
}

// Spiff names loop data by variable (loopDataInputRef ledger), which bpmn-moddle reads as a
// reference to a missing element and would drop on save; keep each as a named placeholder.
function keepVariableReferences(warnings) {
  const moddle = modeler.get("moddle");
  for (const w of warnings) {
    const prop = w.element && w.property && w.element.$descriptor.propertiesByName[w.property];
    if (prop && prop.isReference && !prop.isMany && w.value) {
      w.element.set(w.property, moddle.create(prop.type, { id: w.value }));
    }
  }
}

// A diagram the canvas cannot draw (no diagram interchange) is still checked, saved and
// deployed as stored.
let drawn = false;

async function currentXml() {
  if (!drawn) return document.getElementById("diagram-xml").value;
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

async function save() {
  const xml = await currentXml();
  const name = document.getElementById("draft-name").value;
  const { ok, payload } = draftId
    ? await postJson(`${data.root}/drafts/${draftId}/save`, { xml, name })
    : await postJson(`${data.root}/drafts`, { xml, name, based_on: data.basedOn ? Number(data.basedOn) : null });
  if (!ok) {
    status(payload.error || "保存失败", "error");
    return false;
  }
  draftId = payload.id;
  dirty = false;
  history.replaceState(null, "", payload.url);
  document.getElementById("download").href = `${data.root}/drafts/${draftId}/xml`;
  status(`草稿「${payload.name}」已保存`, "success");
  return true;
}

async function lint() {
  const { ok, payload } = await postJson(`${data.root}/lint`, { xml: await currentXml(), name: document.getElementById("draft-name").value });
  if (!ok) {
    status(payload.error || "检查失败", "error");
    return null;
  }
  showProblems(modeler, problemsEl, payload.problems);
  const errors = payload.problems.filter((p) => p.severity === "error").length;
  const warnings = payload.problems.length - errors;
  if (errors) status(`检查发现 ${errors} 个错误、${warnings} 个警告，请按列表修改`, "error");
  else if (warnings) status(`检查通过，有 ${warnings} 个警告`, "warning");
  else status("检查通过，没有发现问题", "success");
  return payload.problems;
}

async function deploy() {
  const problems = await lint();
  if (problems === null) return;
  if (problems.some((p) => p.severity === "error")) return;
  if (!(await save())) return;
  status("正在发布…");
  const { ok, payload } = await postJson(`${data.root}/drafts/${draftId}/deploy`, {});
  if (!ok) {
    if (payload.problems) showProblems(modeler, problemsEl, payload.problems);
    status(payload.error || "发布失败", "error");
    return;
  }
  status(payload.message, "success");
  dirty = false;
  window.location.assign(payload.url);
}

function busy(button, action) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      status(`操作失败：${err.message || err}`, "error");
    } finally {
      button.disabled = false;
    }
  });
}

busy(document.getElementById("save"), save);
busy(document.getElementById("lint"), lint);
busy(document.getElementById("deploy"), deploy);
modeler.on("commandStack.changed", () => {
  dirty = true;
});
window.addEventListener("beforeunload", (event) => {
  if (dirty) event.preventDefault();
});

// A whole province's diagram fitted into the page is too small to read: start at 80 % from the left.
function showReadable() {
  const canvas = modeler.get("canvas");
  const { width, height } = canvas.getSize();
  canvas.viewbox({ x: -90, y: -10, width: width / 0.8, height: height / 0.8 });
}

// 「定位元素」: every task, event and gateway by name, to jump to it in a large diagram.
function fillLocator() {
  const select = document.getElementById("locate");
  const nodes = modeler.get("elementRegistry").filter((e) => !e.waypoints && !e.labelTarget && e.businessObject
    && e.businessObject.$instanceOf("bpmn:FlowNode"));
  nodes.sort((a, b) => (a.businessObject.name || a.id).localeCompare(b.businessObject.name || b.id, "zh"));
  for (const node of nodes) {
    select.add(new Option(`${node.businessObject.name || "（未命名）"} · ${node.id}`, node.id));
  }
  select.addEventListener("change", () => {
    const element = modeler.get("elementRegistry").get(select.value);
    if (element) focusElement(modeler, element);
  });
}

(async () => {
  const xml = document.getElementById("diagram-xml").value;
  try {
    const { warnings } = await modeler.importXML(xml);
    keepVariableReferences(warnings);
    drawn = true;
    showReadable();
    fillLocator();
    root.dataset.ready = "1";
  } catch (err) {
    status(`流程图无法在画布中显示（${err.message}），仍可检查、保存和发布文件原样的内容`, "warning");
    root.dataset.ready = "1";
  }
})();

