// Keeps the ticket page live: polls this ticket's small status document and updates status, technician, ETA.
// Polling (not SSE) on purpose: it works through every proxy and phone network, and the document carries
// only this ticket's status and times. When the repair is done the page reloads to show the confirmation link.
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var every = Math.max(2, parseInt(box.getAttribute("data-poll-seconds") || "5", 10)) * 1000;
  var notYet = document.getElementById("technician").textContent;
  var wasDone = document.getElementById("after") !== null;

  function text(id, value) {
    var el = document.getElementById(id);
    if (el && value !== null && value !== undefined && el.textContent !== value) el.textContent = value;
  }

  function apply(doc) {
    text("status", doc.status_label);
    text("technician", doc.technician || notYet);
    text("eta", doc.eta_text || notYet);
    text("deadline", doc.deadline_text);
    document.getElementById("late").hidden = !doc.late;
    var list = document.getElementById("timeline");
    if (list && list.children.length !== doc.timeline.length) {
      list.textContent = "";
      doc.timeline.forEach(function (item) {
        var li = document.createElement("li");
        var time = document.createElement("time");
        time.textContent = item.at;
        li.appendChild(time);
        li.appendChild(document.createTextNode(" " + item.status));
        list.appendChild(li);
      });
    }
    var updated = document.getElementById("updated");
    updated.textContent = updated.getAttribute("data-text") + " " + new Date().toLocaleTimeString(document.documentElement.lang);
    if (doc.done && !wasDone) window.location.reload();
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) { if (doc) apply(doc); })
      .catch(function () { /* offline for a moment: the next poll catches up */ })
      .then(function () { window.setTimeout(poll, document.hidden ? every * 4 : every); });
  }
  window.setTimeout(poll, every);
})();
