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
  canvas.zoom("fit-viewport");
  const marks = JSON.parse(container.dataset.marks || "{}");
  for (const [id, classes] of Object.entries(marks)) {
    if (!registry.get(id)) continue;
    for (const cls of [].concat(classes)) canvas.addMarker(id, cls);
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
