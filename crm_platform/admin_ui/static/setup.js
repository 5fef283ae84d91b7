/* Setup's small helpers (the pages work without them):
   - an expression input with data-check-object is checked as it is typed by the API's
     validator (POST /api/v1/expressions/check); the answer shows under it, an error with
     a caret under its position. */
(function () {
  "use strict";
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content;

  function show(box, source, answer) {
    box.textContent = "";
    if (answer.valid) {
      box.className = "small mt-1 text-success";
      box.textContent = "\u2713 " + (box.dataset.okText || "valid") + ": " + answer.type;
      return;
    }
    box.className = "small mt-1 field-error";
    var message = document.createElement("div");
    message.className = "expression-message";
    message.textContent = answer.message;
    box.appendChild(message);
    if (answer.position) {
      var lines = source.split("\n");
      var line = lines[(answer.line || 1) - 1] || "";
      var pre = document.createElement("pre");
      pre.className = "expression-check mb-0";
      pre.textContent = line + "\n" + " ".repeat(Math.max(answer.position - 1, 0)) + "^";
      box.appendChild(pre);
    }
  }

  function watch(input) {
    var box = document.getElementById(input.getAttribute("aria-describedby"));
    var returns = input.dataset.checkReturn ? document.querySelector(input.dataset.checkReturn) : null;
    var timer = null, asked = 0;
    function ask() {
      var source = input.value;
      if (!source.trim()) { box.textContent = ""; return; }
      var mine = ++asked;
      var from = input.dataset.checkObjectFrom ? document.querySelector(input.dataset.checkObjectFrom) : null;
      var body = { object: from ? from.value : input.dataset.checkObject, expression: source };
      if (returns && returns.value) { body.expected = returns.value; }
      if (input.dataset.checkExpected) { body.expected = input.dataset.checkExpected; }
      fetch("/api/v1/expressions/check", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: JSON.stringify(body)
      }).then(function (r) { return r.json(); }).then(function (answer) {
        if (mine === asked) { show(box, source, answer); }
      });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 250); });
    if (returns) { returns.addEventListener("change", ask); }
    var objectInput = input.dataset.checkObjectFrom ? document.querySelector(input.dataset.checkObjectFrom) : null;
    if (objectInput) { objectInput.addEventListener("change", ask); }
    if (input.value.trim()) { ask(); }
  }

  document.querySelectorAll("[data-check-object], [data-check-object-from]").forEach(watch);
})();

/* The layout editor: up/down buttons and drag and drop move rows on the page (the
   buttons post the form when JavaScript is off); positions and sections are renumbered
   so that saving posts the order the admin sees. */
(function () {
  "use strict";
  var editor = document.querySelector("[data-layout-editor]");
  if (!editor) { return; }

  function renumber() {
    editor.querySelectorAll("ol.layout-fields").forEach(function (list) {
      list.querySelectorAll("li.layout-field").forEach(function (row, position) {
        row.querySelector(".position-input").value = position;
        row.querySelector(".section-of").value = list.dataset.section;
      });
    });
  }

  function move(row, step) {
    var lists = Array.prototype.slice.call(editor.querySelectorAll("ol.layout-fields"));
    var sibling = step < 0 ? row.previousElementSibling : row.nextElementSibling;
    if (sibling) {
      row.parentNode.insertBefore(row, step < 0 ? sibling : sibling.nextElementSibling);
    } else {
      var next = lists[lists.indexOf(row.parentNode) + step];
      if (!next) { return; }
      if (step < 0) { next.appendChild(row); } else { next.insertBefore(row, next.firstElementChild); }
    }
    renumber();
    row.querySelector(step < 0 ? ".move-up" : ".move-down").focus();
  }

  editor.addEventListener("click", function (event) {
    var button = event.target.closest(".move-up, .move-down");
    if (!button) { return; }
    event.preventDefault();
    move(button.closest("li.layout-field"), button.classList.contains("move-up") ? -1 : 1);
  });

  var dragged = null;
  editor.addEventListener("dragstart", function (event) {
    dragged = event.target.closest && event.target.closest("li.layout-field");
    if (!dragged) { return; }
    dragged.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.field);
  });
  editor.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    renumber();
  });
  editor.addEventListener("dragover", function (event) {
    var list = event.target.closest && event.target.closest("ol.layout-fields");
    if (!dragged || !list) { return; }
    event.preventDefault();
    var over = event.target.closest("li.layout-field");
    if (over && over !== dragged) {
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextElementSibling : over);
    } else if (!over) {
      list.appendChild(dragged);
    }
  });
  editor.addEventListener("drop", function (event) { event.preventDefault(); renumber(); });
})();

/* The YAML editor of the builders: each line "<key>: <expression>" whose key names a
   condition (data-yaml-check) is checked as it is typed against the object the
   definition names ("object: ..."); an error is shown with its line and a caret. */
(function () {
  "use strict";
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content;
  document.querySelectorAll("textarea[data-yaml-check]").forEach(function (area) {
    var keys = area.dataset.yamlCheck.split(",");
    var box = document.getElementById(area.getAttribute("aria-describedby"));
    var pattern = new RegExp("^(\\s*-?\\s*(?:" + keys.join("|") + ")\\s*:\\s*)(['\"]?)(.+?)\\2\\s*$");
    var timer = null, asked = 0;
    function check() {
      var lines = area.value.split("\n");
      var object = null;
      lines.forEach(function (line) {
        var found = line.match(/^object\s*:\s*['"]?([a-z0-9_]+)/);
        if (found && !object) { object = found[1]; }
      });
      var mine = ++asked;
      var wanted = [];
      lines.forEach(function (line, index) {
        var found = line.match(pattern);
        if (found && object) {
          wanted.push({ line: index + 1, column: found[1].length + found[2].length, text: found[3], source: line });
        }
      });
      Promise.all(wanted.map(function (item) {
        return fetch("/api/v1/expressions/check", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": token },
          body: JSON.stringify({ object: object, expression: item.text, expected: "boolean" })
        }).then(function (r) { return r.json(); }).then(function (answer) { item.answer = answer; return item; });
      })).then(function (items) {
        if (mine !== asked) { return; }
        box.textContent = "";
        items.filter(function (i) { return !i.answer.valid; }).forEach(function (item) {
          var at = item.column + (item.answer.position || 1);
          var message = document.createElement("div");
          message.className = "field-error expression-message";
          message.textContent = (box.dataset.lineText || "line") + " " + item.line + ", " +
            (box.dataset.columnText || "column") + " " + at + ": " + item.answer.message;
          var pre = document.createElement("pre");
          pre.className = "expression-check mb-1";
          pre.textContent = item.source + "\n" + " ".repeat(Math.max(at - 1, 0)) + "^";
          box.appendChild(message);
          box.appendChild(pre);
        });
        if (items.length && !box.childNodes.length) {
          box.className = "small mt-1 text-success";
          box.textContent = "\u2713 " + items.length + " " + (box.dataset.okText || "valid");
        } else { box.className = "small mt-1"; }
      });
    }
    area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(check, 300); });
    if (area.value.trim()) { check(); }
  });
})();
