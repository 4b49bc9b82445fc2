// Compliance page: while a request is pending or running, poll its status and update the rows.
(function () {
  "use strict";
  var table = document.getElementById("compliance-requests");
  if (!table) { return; }
  var url = table.getAttribute("data-status-url");
  function busy() {
    return table.querySelector("tr.status-running, tr.status-pending") !== null;
  }
  function update(requests) {
    requests.forEach(function (r) {
      var row = table.querySelector('tr[data-request="' + r.request_id + '"]');
      if (!row) { return; }
      row.className = "request status-" + r.status;
      row.querySelector(".status").textContent = r.status_text || r.status;
      row.querySelector(".detail").textContent = r.detail || "—";
    });
  }
  function poll() {
    if (!busy()) { return; }
    fetch(url, { credentials: "same-origin", headers: { "accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body) { update(body.requests); } })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { window.setTimeout(poll, 1000); });
  }
  window.setTimeout(poll, 500);
})();
