// Small improvements only: every page works without this file.
(function () {
  // A list view picked from the select applies at once (the Apply button does it too).
  var view = document.getElementById("view");
  if (view && view.form) {
    view.addEventListener("change", function () { view.form.submit(); });
  }
  // An open app menu closes when the user clicks elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.app-switcher[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });
})();
