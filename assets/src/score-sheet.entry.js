// A unit's score sheet (appraisal/sheet.html): a running total while typing, weighted as the scheme
// says (each row carries data-component, data-points and data-max); the server recomputes it on save.
(function () {
  "use strict";
  const form = document.querySelector("form.sheet");
  const out = document.getElementById("live-total");
  if (!form || !out) { return; }
  function update() {
    const byComponent = {};
    form.querySelectorAll("tr[data-component]").forEach(function (row) {
      const value = parseFloat(row.querySelector("input.score").value);
      const c = byComponent[row.dataset.component] || (byComponent[row.dataset.component] =
        { sum: 0, points: parseFloat(row.dataset.points), max: parseFloat(row.dataset.max) });
      if (!isNaN(value)) c.sum += value;
    });
    let total = 0;
    Object.values(byComponent).forEach(function (c) { total += c.sum * c.points / c.max; });
    const penalty = parseFloat(form.querySelector('input[name="penalty"]').value);
    if (!isNaN(penalty)) total -= penalty;
    out.textContent = Math.max(total, 0).toFixed(2).replace(/\.?0+$/, "");
  }
  form.addEventListener("input", update);
  update();
})();
