// Lint problems shown twice: as a list beside the diagram and as markers on the elements;
// clicking either selects the element and scrolls it into view.
const SEVERITY = { error: "错误", warning: "警告" };

export function showProblems(modeler, listEl, problems) {
  const canvas = modeler.get("canvas");
  const overlays = modeler.get("overlays");
  const registry = modeler.get("elementRegistry");
  overlays.remove({ type: "lint" });
  registry.forEach((el) => {
    canvas.removeMarker(el, "lint-error");
    canvas.removeMarker(el, "lint-warning");
  });
  listEl.replaceChildren();
  for (const problem of problems) {
    const element = problem.element_id && registry.get(problem.element_id);
    const item = document.createElement("li");
    item.className = `problem problem-${problem.severity}`;
    item.dataset.element = problem.element_id || "";
    item.textContent = `${SEVERITY[problem.severity] || problem.severity}：${problem.message}`;
    if (element) {
      item.tabIndex = 0;
      item.addEventListener("click", () => focusElement(modeler, element));
      canvas.addMarker(element, `lint-${problem.severity}`);
      const badge = document.createElement("div");
      badge.className = `lint-badge lint-badge-${problem.severity}`;
      badge.textContent = "!";
      badge.title = problem.message;
      badge.dataset.element = problem.element_id;
      overlays.add(element, "lint", { position: { top: -8, right: 8 }, html: badge });
    }
    listEl.appendChild(item);
  }
}

export function focusElement(modeler, element) {
  modeler.get("selection").select(element);
  modeler.get("canvas").scrollToElement(element, { top: 120, bottom: 120, left: 120, right: 320 });
}
