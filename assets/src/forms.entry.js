/* Repeating groups of task forms: add a row from the hidden template, remove a row.
   Removed rows leave gaps in the row numbers; WTForms reads any indices and renumbers them. */
(function () {
  "use strict";
  if (window.rectifyFormsLoaded) { return; }
  window.rectifyFormsLoaded = true;

  var ATTRS = ["name", "id", "for", "aria-describedby"];

  function rows(group) {
    return group.querySelectorAll("tbody[data-rows] > tr[data-row]");
  }

  function updateButtons(group) {
    var count = rows(group).length;
    var max = parseInt(group.getAttribute("data-max-rows") || "0", 10);
    var min = parseInt(group.getAttribute("data-min-rows") || "0", 10);
    var add = group.querySelector("[data-add-row]");
    if (add) { add.disabled = max > 0 && count >= max; }
    Array.prototype.forEach.call(rows(group), function (row) {
      var remove = row.querySelector("[data-remove-row]");
      if (remove) { remove.disabled = count <= min; }
    });
  }

  function addRow(group) {
    var template = group.querySelector("template[data-row-template]");
    if (!template) { return; }
    var index = parseInt(group.getAttribute("data-next-index") || "0", 10);
    group.setAttribute("data-next-index", String(index + 1));
    var fragment = template.content.cloneNode(true);
    Array.prototype.forEach.call(fragment.querySelectorAll("*"), function (el) {
      ATTRS.forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && value.indexOf("__index__") !== -1) {
          el.setAttribute(attr, value.split("__index__").join(String(index)));
        }
      });
    });
    var tbody = group.querySelector("tbody[data-rows]");
    tbody.appendChild(fragment);
    var added = tbody.lastElementChild;
    var first = added && added.querySelector("input, select, textarea");
    if (first) { first.focus(); }
    updateButtons(group);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) { return; }
    var add = target.closest("[data-add-row]");
    var remove = target.closest("[data-remove-row]");
    var group = (add || remove) && target.closest("[data-form-group]");
    if (!group) { return; }
    event.preventDefault();
    if (add) {
      addRow(group);
    } else {
      var row = remove.closest("tr[data-row]");
      if (row) { row.parentNode.removeChild(row); }
      updateButtons(group);
    }
  });

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-form-group]"), updateButtons);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
