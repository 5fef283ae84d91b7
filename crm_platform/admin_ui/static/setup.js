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
