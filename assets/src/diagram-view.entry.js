// Read-only diagrams (version diff, instance progress): every [data-diagram] element gets a
// NavigatedViewer showing the XML of the textarea it names, with marker classes per element
// from data-marks ({element_id: "mark-added", ...}); list items with data-focus select theirs.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const viewers = {};

async function show(container) {
  const viewer = new NavigatedViewer({ container });
  viewers[container.id] = viewer;
  const xml = document.getElementById(container.dataset.diagram).value;
  try {
    await viewer.importXML(xml);
  } catch (err) {
    container.textContent = `流程图无法显示：${err.message}`;
    return;
  }
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const marks = JSON.parse(container.dataset.marks || "{}");
  const marked = Object.keys(marks).map((id) => registry.get(id)).filter(Boolean);
  for (const element of marked) {
    for (const cls of [].concat(marks[element.id])) canvas.addMarker(element, cls);
  }
  canvas.zoom("fit-viewport");
  // A large diagram fitted whole is too small to read: zoom in on the first marked element.
  if (canvas.zoom() < 0.6) {
    canvas.zoom(0.8);
    if (marked.length) canvas.scrollToElement(marked[0]);
  }
  container.dataset.ready = "1";
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-focus]");
  if (!link) return;
  const viewer = viewers[link.dataset.viewer];
  const element = viewer && viewer.get("elementRegistry").get(link.dataset.focus);
  if (!element) return;
  event.preventDefault();
  viewer.get("canvas").scrollToElement(element);
  link.closest("table, ul")?.querySelectorAll(".focused").forEach((el) => el.classList.remove("focused"));
  link.classList.add("focused");
});

for (const container of document.querySelectorAll("[data-diagram]")) show(container);
