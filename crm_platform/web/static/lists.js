// List pages' bulk selection and the mass edit's field choice (both work without it:
// "Select all on this page" reloads with every box checked, "Choose" sends the form).
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var count = document.getElementById("selected-count");
  var rows = document.querySelectorAll("input.select-row");
  function update() {
    var checked = Array.prototype.filter.call(rows, function (r) { return r.checked; }).length;
    if (all) {
      all.checked = checked === rows.length && rows.length > 0;
      all.indeterminate = checked > 0 && checked < rows.length;
    }
    if (count) { count.textContent = checked ? checked + " / " + rows.length : ""; }
  }
  if (all) {
    all.addEventListener("change", function () {
      rows.forEach(function (r) { r.checked = all.checked; });
      update();
    });
  }
  rows.forEach(function (r) { r.addEventListener("change", update); });
  update();
  // Mass edit: choosing the field shows its input at once.
  var field = document.getElementById("mass-field");
  if (field && field.form) {
    field.addEventListener("change", function () {
      var choose = field.form.querySelector("button[name=choose]");
      if (choose) { choose.click(); }
    });
  }
})();
