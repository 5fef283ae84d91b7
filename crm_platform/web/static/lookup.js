// Lookup type-ahead: a form's lookup (a select of the target's records, or a name typed
// when there are too many) becomes a text box that asks the server for the records the
// user may see as they type (/lookup/<object>/<field>?q=). Without this script the
// select, or the typed name, works as it is.
(function () {
  "use strict";
  if (!window.fetch) { return; }
  var WAIT = 200, counter = 0;
  var words = (document.currentScript || {}).dataset || {};  // the UI's words, translated

  function enhance(original) {
    var isSelect = original.tagName === "SELECT";
    var input = original, listId = "lookup-list-" + (++counter);
    if (isSelect) {
      input = document.createElement("input");
      input.type = "text";
      input.className = original.className.replace("custom-select", "form-control");
      input.id = original.id;
      original.id = original.id + "-select";
      ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
        if (original.hasAttribute(name)) { input.setAttribute(name, original.getAttribute(name)); }
      });
      var current = original.options[original.selectedIndex];
      input.value = current && current.value ? current.text : "";
      var label = document.querySelector("label[for='" + input.id + "']");
      original.setAttribute("aria-label", label ? label.textContent.trim() : input.id);
      original.hidden = true;
      original.tabIndex = -1;
      original.setAttribute("aria-hidden", "true");
      original.parentNode.insertBefore(input, original);
    }
    var box = document.createElement("div");
    box.className = "lookup-box";
    input.parentNode.insertBefore(box, input);
    box.appendChild(input);
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "lookup-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    input.placeholder = input.placeholder || words.placeholder || "";

    var timer = null, active = -1, asked = 0, results = [];
    // a polymorphic lookup: the target picked first; another target clears the name
    var targetSelect = original.dataset.targetSelect && document.getElementById(original.dataset.targetSelect);
    if (targetSelect) {
      targetSelect.addEventListener("change", function () { input.value = ""; close(); });
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }
    function highlight(index) {
      var items = list.querySelectorAll("li[role=option]");
      if (!items.length) { return; }
      active = (index + items.length) % items.length;
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }
    // a name typed (too many records for a select): the id picked goes beside it, so two
    // records of the same name stay apart (the server checks it still bears that name)
    var picked = null;
    if (!isSelect && /__name$/.test(input.name)) {
      picked = document.createElement("input");
      picked.type = "hidden";
      picked.name = input.name.replace(/__name$/, "__id");
      box.appendChild(picked);
    }
    function pick(hit) {
      input.value = hit.text;
      if (picked) { picked.value = hit.id; }
      if (isSelect) {
        var option = Array.prototype.find.call(original.options, function (o) { return o.value === hit.id; });
        if (!option) { option = new Option(hit.text, hit.id); original.add(option); }
        original.value = hit.id;
        original.dispatchEvent(new Event("change", { bubbles: true }));
      }
      close();
    }
    function show(hits, q) {
      results = hits;
      list.dataset.query = q;  // what the options answer (tests and assistive tools read it)
      list.textContent = "";
      hits.forEach(function (hit, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.id = hit.id;
        li.textContent = hit.text;
        li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(hit); });
        list.appendChild(li);
      });
      if (!hits.length) {
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = words.none || "—";
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }
    function ask() {
      var q = input.value.trim(), mine = ++asked;
      var url = original.dataset.lookupUrl + "?q=" + encodeURIComponent(q);
      if (targetSelect) { url += "&target=" + encodeURIComponent(targetSelect.value); }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (mine === asked && document.activeElement === input) { show(data.results || [], q); } })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      if (picked) { picked.value = ""; }
      if (isSelect && !input.value.trim()) { original.value = ""; }
      clearTimeout(timer);
      timer = setTimeout(ask, WAIT);
    });
    input.addEventListener("focus", function () { if (isSelect && !input.value) { ask(); } });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); if (list.hidden) { ask(); } else { highlight(active + 1); } }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
      else if (event.key === "Enter" && !list.hidden && active >= 0) { event.preventDefault(); pick(results[active]); }
      else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () {
      close();
      if (!isSelect) { return; }
      // what shows is always what is chosen: a name typed but not picked goes back
      var chosen = original.options[original.selectedIndex];
      if (!input.value.trim()) { original.value = ""; }
      else { input.value = chosen && chosen.value ? chosen.text : ""; }
    });
  }

  document.querySelectorAll("[data-lookup-url]").forEach(enhance);
})();
