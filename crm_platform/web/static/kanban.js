// The Kanban board's drag and drop, by mouse or by touch (the board works without it:
// each card has a Move form).
// A dropped card moves at once; the record is updated through the records API with the
// card's version (If-Match) and the page's CSRF token. Refused (a validation rule, a
// required field, a 412 when someone else changed it), the card goes back where it was
// and the message shows above the board.
(function () {
  "use strict";
  var board = document.getElementById("kanban");
  if (!board || !window.fetch) { return; }
  var objectName = board.dataset.object, fieldName = board.dataset.field;
  var summed = board.dataset.summed;
  var token = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
  var message = document.getElementById("board-message");
  var dragged = null;

  function say(text, ok) {
    message.textContent = text;
    message.classList.remove("d-none", "alert-danger", "alert-success");
    message.classList.add(ok ? "alert-success" : "alert-danger");
    message.setAttribute("role", ok ? "status" : "alert");
    if (!ok) { message.focus(); }
  }

  function figures(column, delta, amount) {
    var count = column.querySelector(".count");
    var n = parseInt(count.dataset.count, 10) + delta;
    count.dataset.count = n;
    count.textContent = (n === 1 ? board.dataset.one : board.dataset.many).replace(/\d+/, String(n));
    var total = column.querySelector(".total");
    if (total && summed) {
      var value = parseFloat(total.dataset.total) + delta * amount;
      total.dataset.total = value;
      total.textContent = value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
  }

  function reason(body) {
    if (!body) { return ""; }
    var errors = body.errors || {}, out = [];
    Object.keys(errors).forEach(function (key) { out = out.concat(errors[key]); });
    return out.length ? out.join("; ") : (body.detail || body.title || "");
  }

  // Move a card to a column and tell the server; undo on refusal.
  function move(card, column) {
    var from = card.closest(".kanban-column");
    if (!column || column === from || column.dataset.droppable !== "true") { return; }
    var next = card.nextElementSibling, amount = parseFloat(card.dataset.amount || "0");
    column.querySelector(".kanban-cards").prepend(card);
    figures(from, -1, amount);
    figures(column, 1, amount);
    card.classList.add("saving");
    var body = {};
    body[fieldName] = column.dataset.value || null;
    fetch("/api/v1/records/" + objectName + "/" + card.dataset.id, {
      method: "PATCH",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token,
        "If-Match": '"' + card.dataset.version + '"'
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        card.classList.remove("saving");
        if (response.ok) {
          card.dataset.version = data.version;
          card.querySelectorAll("input[name=version]").forEach(function (i) { i.value = data.version; });
          var select = card.querySelector("select[name=value]");
          if (select) { select.value = column.dataset.value; }
          say(board.dataset.moved, true);
          return;
        }
        from.querySelector(".kanban-cards").insertBefore(card, next && next.parentNode ? next : null);
        figures(column, -1, amount);
        figures(from, 1, amount);
        card.classList.add("refused");
        setTimeout(function () { card.classList.remove("refused"); }, 2000);
        say(response.status === 412 ? board.dataset.stale
          : board.dataset.failed.replace("{reason}", reason(data)), false);
      });
    });
  }

  board.addEventListener("dragstart", function (event) {
    dragged = event.target.closest && event.target.closest(".kanban-card");
    if (!dragged) { return; }
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.id);
    dragged.classList.add("dragging");
  });
  board.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    board.querySelectorAll(".drop-here").forEach(function (c) { c.classList.remove("drop-here"); });
    dragged = null;
  });
  board.addEventListener("dragover", function (event) {
    var column = event.target.closest(".kanban-column");
    if (dragged && column && column.dataset.droppable === "true") {
      event.preventDefault();
      column.classList.add("drop-here");
    }
  });
  board.addEventListener("dragleave", function (event) {
    var column = event.target.closest(".kanban-column");
    if (column && !column.contains(event.relatedTarget)) { column.classList.remove("drop-here"); }
  });
  board.addEventListener("drop", function (event) {
    var column = event.target.closest(".kanban-column");
    if (!dragged || !column) { return; }
    event.preventDefault();
    column.classList.remove("drop-here");
    move(dragged, column);
  });

  // Touch screens fire no drag events: a long press (a short one is a tap, a swipe
  // scrolls) picks the card up, it follows the finger, and lifting it over a column
  // moves it there the same way.
  var touch = null;
  function columnAt(x, y) {
    var under = document.elementFromPoint(x, y);
    var column = under && under.closest(".kanban-column");
    return column && board.contains(column) ? column : null;
  }
  function dropTargets(column) {
    board.querySelectorAll(".drop-here").forEach(function (c) {
      if (c !== column) { c.classList.remove("drop-here"); }
    });
    if (column && column.dataset.droppable === "true") { column.classList.add("drop-here"); }
  }
  function putDown(state) {
    clearTimeout(state.timer);
    state.card.classList.remove("dragging");
    state.card.style.transform = "";
    state.card.style.pointerEvents = "";
    dropTargets(null);
  }
  board.addEventListener("touchstart", function (event) {
    var card = event.target.closest(".kanban-card");
    if (!card || event.touches.length !== 1 || event.target.closest("form, select, button, input")) {
      return;
    }
    var point = event.touches[0];
    touch = { card: card, x: point.clientX, y: point.clientY, lifted: false };
    touch.timer = setTimeout(function () {
      touch.lifted = true;
      card.classList.add("dragging");
      card.style.pointerEvents = "none"; // so the column under the finger is found
      if (navigator.vibrate) { navigator.vibrate(15); }
    }, 350);
  }, { passive: true });
  board.addEventListener("touchmove", function (event) {
    if (!touch) { return; }
    var point = event.touches[0], dx = point.clientX - touch.x, dy = point.clientY - touch.y;
    if (!touch.lifted) {
      if (Math.abs(dx) + Math.abs(dy) > 10) { clearTimeout(touch.timer); touch = null; }
      return; // a swipe: the page scrolls as usual
    }
    event.preventDefault();
    touch.card.style.transform = "translate(" + dx + "px," + dy + "px)";
    dropTargets(columnAt(point.clientX, point.clientY));
  }, { passive: false });
  board.addEventListener("touchend", function (event) {
    if (!touch) { return; }
    var state = touch, point = event.changedTouches[0];
    touch = null;
    putDown(state);
    if (!state.lifted) { return; }
    event.preventDefault(); // no click on the card's link after a drag
    move(state.card, columnAt(point.clientX, point.clientY));
  });
  board.addEventListener("touchcancel", function () {
    if (touch) { putDown(touch); touch = null; }
  });
  board.addEventListener("contextmenu", function (event) {
    if (touch && touch.lifted) { event.preventDefault(); } // the long press lifts, no menu
  });

  // The Move form (keyboard users, or a touch screen) goes the same way, without a reload.
  board.addEventListener("submit", function (event) {
    var form = event.target.closest(".move-form");
    if (!form) { return; }
    event.preventDefault();
    var value = form.querySelector("select[name=value]").value;
    var column = Array.prototype.find.call(board.querySelectorAll(".kanban-column"), function (c) {
      return c.dataset.value === value;
    });
    if (column) { move(form.closest(".kanban-card"), column); } else { form.submit(); }
  });
})();
