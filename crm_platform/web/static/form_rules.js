// The layout's field conditions as the user types: the form is posted to the server,
// which evaluates visible_if, required_if and read_only_if with the expression language
// and answers each field's state; this script only applies the answer (no evaluator
// here). Without it the server applies them when the form is sent.
(function () {
  var form = document.querySelector("form.record-form[data-rules]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var timer = null;
  var asked = 0;

  function apply(fields) {
    Object.keys(fields).forEach(function (name) {
      var state = fields[name];
      var group = form.querySelector('.form-group[data-field="' + name + '"]');
      if (!group) { return; }
      group.hidden = !state.visible;
      var lock = group.querySelector("fieldset.rule-lock");
      if (lock && !group.querySelector(".read-only")) { lock.disabled = state.read_only; }
      var mark = group.querySelector(".req");
      var label = group.querySelector("label[for^='in-'], legend");
      if (state.required && !mark && label && !group.querySelector(".read-only")) {
        mark = document.createElement("span");
        mark.className = "req";
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = "*";
        label.appendChild(document.createTextNode(" "));
        label.appendChild(mark);
      } else if (!state.required && mark) {
        if (mark.previousSibling && mark.previousSibling.nodeType === 3) {
          mark.previousSibling.remove();
        }
        mark.remove();
      }
      if (state.choices) { offer(group.querySelector("select"), state.choices); }
      group.querySelectorAll("input, select, textarea").forEach(function (input) {
        if (input.type === "hidden") { return; }
        if (state.required) { input.setAttribute("aria-required", "true"); }
        else { input.removeAttribute("aria-required"); }
      });
    });
  }

  // a dependent picklist: the values valid for its controlling field's value as typed
  function offer(select, choices) {
    if (!select) { return; }
    var chosen = select.value;
    var blank = select.querySelector('option[value=""]');
    select.innerHTML = "";
    if (blank) { select.appendChild(blank); }
    choices.forEach(function (choice) {
      var option = document.createElement("option");
      option.value = choice[0];
      option.textContent = choice[1];
      option.selected = choice[0] === chosen;
      select.appendChild(option);
    });
  }

  function ask() {
    var mine = ++asked;
    var data = new FormData(form);
    data.delete("version");
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      data.delete(input.name);  // files go with the save, not with every keystroke
    });
    fetch(form.getAttribute("data-rules"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && mine === asked) { apply(answer.fields); }  // only the latest answer
    }).catch(function () { /* the server applies them on save */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 250);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
