// The unit picker (templates/_filters.html unit_picker): the text box searches /units/search as one
// types and lists the matches (an ARIA combobox: arrow keys move, Enter picks, Escape closes); a
// pick sets the hidden unit id. Typing over a pick clears the id, so the server reads the text again.
(function () {
  "use strict";
  const DELAY_MS = 200;

  function setUp(root, index) {
    const box = root.querySelector('input[name="unit_q"]');
    const id = root.querySelector('input[name="unit"]');
    if (!box || !id) { return; }
    const list = document.createElement("ul");
    list.id = "unit-picker-list-" + index;
    list.className = "unit-picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    root.appendChild(list);
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", list.id);
    box.setAttribute("aria-expanded", "false");
    const help = root.querySelector(".unit-picker-help");
    if (help) { help.hidden = false; }
    let timer = null;
    let pending = null;
    let active = -1;

    function options() { return list.querySelectorAll('[role="option"]'); }

    function close() {
      list.hidden = true;
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(next) {
      const all = options();
      if (!all.length) { return; }
      active = (next + all.length) % all.length;
      all.forEach(function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
      box.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function pick(li) {
      box.value = li.dataset.name;
      id.value = li.dataset.id;
      close();
    }

    function note(text) {
      const li = document.createElement("li");
      li.className = "unit-picker-note";
      li.textContent = text;
      list.appendChild(li);
    }

    function show(found) {
      list.replaceChildren();
      active = -1;
      found.units.forEach(function (unit, i) {
        const li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.id = unit.id;
        li.dataset.name = unit.name;
        li.dataset.code = unit.code;
        li.textContent = unit.name + " ";
        const code = document.createElement("small");
        code.className = "muted";
        code.textContent = unit.code;
        li.appendChild(code);
        list.appendChild(li);
      });
      if (!found.units.length) { note(root.dataset.none); }
      if (found.more) { note(root.dataset.more); }
      list.hidden = false;
      box.setAttribute("aria-expanded", "true");
    }

    function search() {
      const text = box.value.trim();
      if (pending) { pending.abort(); }
      if (!text) { close(); return; }
      pending = new AbortController();
      const url = new URL(root.dataset.searchUrl, window.location.href);
      url.searchParams.set("q", text);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: pending.signal })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(show)
        .catch(function (error) {
          if (error.name === "AbortError") { return; }
          list.replaceChildren();
          note(root.dataset.failed);
          list.hidden = false;
        });
    }

    box.addEventListener("input", function () {
      id.value = "";
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
    box.addEventListener("keydown", function (event) {
      if (list.hidden) {
        if (event.key === "ArrowDown" && box.value.trim()) { search(); event.preventDefault(); }
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        event.preventDefault();
      } else if (event.key === "Enter" && active >= 0) {
        pick(options()[active]);
        event.preventDefault();
      } else if (event.key === "Escape") {
        close();
        event.preventDefault();
      }
    });
    box.addEventListener("blur", close);
    // mousedown, not click: the box keeps its focus (its blur would close the list first).
    list.addEventListener("mousedown", function (event) {
      const li = event.target instanceof Element ? event.target.closest('[role="option"]') : null;
      event.preventDefault();
      if (li) { pick(li); }
    });
  }

  document.querySelectorAll("[data-unit-picker]").forEach(setUp);
})();
