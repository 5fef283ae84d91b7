/* The email template and dashboard builder forms (both work without this script):
   - the merge-field hint follows the chosen object of an email template;
   - "Add a row" adds another empty component row to a dashboard (the page already ends
     with one), numbered after the last and positioned last. */
(function () {
  var select = document.querySelector("select[data-merge-fields]");
  if (select) {
    select.addEventListener("change", function () {
      document.querySelectorAll("[data-fields-of]").forEach(function (hint) {
        hint.hidden = hint.getAttribute("data-fields-of") !== select.value;
      });
    });
  }
  var table = document.getElementById("dashboard-components");
  var add = document.getElementById("add-component");
  if (!table || !add) { return; }
  add.hidden = false;
  add.addEventListener("click", function () {
    var rows = table.querySelectorAll("tbody.dashboard-row");
    var last = rows[rows.length - 1];
    var number = 0, position = 0;
    rows.forEach(function (row) {
      number = Math.max(number, parseInt(row.getAttribute("data-row"), 10) + 1);
      var input = row.querySelector("input[name$='_position']");
      position = Math.max(position, parseFloat(input && input.value) || 0);
    });
    var row = last.cloneNode(true);
    row.setAttribute("data-row", String(number));
    row.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    row.querySelectorAll("[name]").forEach(function (input) {
      var key = input.name.replace(/^c\d+_/, "");
      input.name = "c" + number + "_" + key;
      input.id = "c" + number + "-" + key;
      input.classList.remove("is-invalid");
      if (input.tagName === "SELECT") { input.selectedIndex = 0; } else { input.value = ""; }
    });
    row.querySelectorAll("label[for]").forEach(function (label) {
      label.htmlFor = label.htmlFor.replace(/^c\d+-/, "c" + number + "-");
    });
    row.querySelector("input[name$='_position']").value = String(Math.floor(position) + 1);
    table.appendChild(row);
    row.querySelector("select").focus();
  });
})();
