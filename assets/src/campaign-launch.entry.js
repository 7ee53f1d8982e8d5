// The launch page (admin/campaign_launch.html): ask the server for one batch at a time until it says
// finished; each answer moves the bar. Texts come from the page: data-text-progress holds "{n}" and
// "{m}" for started and enrolled units, data-text-failed the message when a batch fails.
(function () {
  "use strict";
  var box = document.getElementById("launch");
  if (!box) { return; }
  var bar = document.getElementById("launch-bar");
  var text = document.getElementById("launch-text");
  var error = document.getElementById("launch-error");
  var start = document.getElementById("launch-start");
  var matrix = document.getElementById("launch-matrix");
  var token = document.getElementById("csrf_token").value;
  var template = box.getAttribute("data-text-progress");
  var failed = box.getAttribute("data-text-failed");

  function show(p) {
    var pct = p.total ? Math.round(100 * p.done / p.total) : 100;
    bar.setAttribute("data-progress", pct);
    bar.style.width = pct + "%";
    bar.parentNode.setAttribute("aria-valuenow", p.done);
    bar.parentNode.setAttribute("aria-valuemax", p.total);
    text.textContent = template.replace("{n}", p.done).replace("{m}", p.total);
  }

  function batch() {
    fetch(box.getAttribute("data-batch-url"), {
      method: "POST",
      headers: { "X-CSRFToken": token, "Accept": "application/json" },
      credentials: "same-origin",
    }).then(function (resp) {
      return resp.json().catch(function () { return { error: failed }; }).then(function (body) {
        if (!resp.ok || body.error) { throw new Error(body.error || failed); }
        return body;
      });
    }).then(function (p) {
      show(p);
      if (p.finished) { matrix.hidden = false; start.hidden = true; } else { batch(); }
    }).catch(function (e) {
      error.textContent = e.message || failed;
      error.hidden = false;
      start.hidden = false;
      start.disabled = false;
    });
  }

  start.addEventListener("click", function () {
    start.disabled = true;
    error.hidden = true;
    batch();
  });
  if (box.getAttribute("data-autostart") === "1" && !start.hidden) { start.click(); }
})();
