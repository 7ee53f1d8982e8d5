// The notice form (admin/campaign_form.html): repeating phase and task rows. A new row is the blank
// <template id="<name>-template"> with the next free index, so WTForms reads it as <name>-N-*.
(function () {
  "use strict";
  function nextIndex(tbody, name) {
    var max = -1;
    tbody.querySelectorAll('[name^="' + name + '-"]').forEach(function (el) {
      var m = el.name.match(/^[a-z]+-(\d+)-/);
      if (m) { max = Math.max(max, parseInt(m[1], 10)); }
    });
    return max + 1;
  }
  document.addEventListener("click", function (ev) {
    if (!(ev.target instanceof Element)) { return; }
    var add = ev.target.closest("[data-add-row]");
    if (add) {
      var name = add.getAttribute("data-add-row");
      var tbody = document.querySelector('[data-rows="' + name + '"] tbody');
      var html = document.getElementById(name + "-template").innerHTML;
      tbody.insertAdjacentHTML("beforeend", html.split("__i__").join(String(nextIndex(tbody, name))));
      var first = tbody.lastElementChild.querySelector("input, select");
      if (first) { first.focus(); }
      return;
    }
    var remove = ev.target.closest("[data-remove-row]");
    if (remove) { remove.closest("tr").remove(); }
  });
})();
