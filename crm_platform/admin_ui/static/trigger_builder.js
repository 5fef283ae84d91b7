/* The trigger builder: each action row shows only the inputs of its chosen action type
   (without JavaScript the empty row shows every type's inputs, and only the chosen
   type's are read when the form is saved). */
(function () {
  "use strict";
  document.querySelectorAll("[data-action-row]").forEach(function (row) {
    var select = row.querySelector("[data-action-type]");
    function sync() {
      row.querySelectorAll("[data-action-options]").forEach(function (group) {
        group.hidden = group.dataset.actionOptions !== select.value;
        var title = group.querySelector(".action-type-title");
        if (title) { title.hidden = true; }
      });
    }
    select.addEventListener("change", sync);
    sync();
  });
})();
