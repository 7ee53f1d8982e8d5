// Behaviour every page may use, declared in the markup with data-* attributes, so no template needs
// an inline script or handler (a Content-Security-Policy can then forbid both):
//   <div class="progress-bar" data-progress="40">   a bar filled to 40%
//   <form data-confirm="确定…？">                     asks before submitting
//   <button type="button" data-print>                prints the page
//   <input type="checkbox" data-select-all="task_id"> ticks every input[name=task_id] with it
(function () {
  "use strict";

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  // The server gives each bar its percentage; width is set through the CSSOM, which CSP allows.
  function fillProgressBars() {
    each(".progress-bar[data-progress]", function (bar) {
      var pct = parseFloat(bar.getAttribute("data-progress"));
      bar.style.width = Math.min(Math.max(isNaN(pct) ? 0 : pct, 0), 100) + "%";
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form instanceof Element ? form.getAttribute("data-confirm") : null;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) {
      event.preventDefault();
      window.print();
    }
  });

  document.addEventListener("change", function (event) {
    var all = event.target;
    var name = all instanceof Element ? all.getAttribute("data-select-all") : null;
    if (!name) { return; }
    each('input[type="checkbox"][name="' + name + '"]', function (box) { box.checked = all.checked; });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fillProgressBars);
  } else {
    fillProgressBars();
  }
})();
