// Shipping's panel on the ops dashboard: transports in transit, reloaded when a transport event
// shows in the live feed. The page (config/templates/ops/dashboard.html) includes it because
// shipping is in MODULES; config/static/ops/ops.js calls start/stop/event (see its "panels").
(function () {
  "use strict";

  var TRANSPORT_EVENTS = ["TransportCreated", "TransportStarted", "TransportCompleted", "DriverAssigned",
    "BatchesAddedToTransport"];
  var IN_TRANSIT = "query InTransit { transports(filter: {status: IN_TRANSIT}, first: 100) {" +
    " totalCount edges { node { uuid departedAt batchCount sourceCenter { centerCode name }" +
    " destinationCenter { centerCode name } driver { username fullName } } } } }";

  var api = null; // what ops.js hands over while signed in: { graphql(query, variables) }
  var reload = null;
  var timer = null;

  function $(id) {
    return document.getElementById(id);
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function center(c) {
    return c ? c.centerCode + (c.name ? " · " + c.name : "") : "?";
  }

  function loadTransports() {
    if (!api) return;
    api
      .graphql(IN_TRANSIT)
      .then(function (result) {
        var connection = result.data && result.data.transports;
        if (!connection) return;
        var rows = $("transport-rows");
        rows.textContent = "";
        connection.edges.forEach(function (edge) {
          var t = edge.node;
          var row = document.createElement("tr");
          row.dataset.uuid = t.uuid;
          cell(row, center(t.sourceCenter));
          cell(row, center(t.destinationCenter));
          cell(row, t.driver ? t.driver.fullName || t.driver.username : "–");
          cell(row, String(t.batchCount));
          cell(row, t.departedAt ? new Date(t.departedAt).toLocaleString() : "–");
          rows.appendChild(row);
        });
        $("transport-count").textContent = "(" + connection.totalCount + ")";
        $("transports-empty").hidden = connection.edges.length > 0;
      })
      .catch(function () {});
  }

  $("refresh-transports").addEventListener("click", loadTransports);

  // Registered before ops.js runs (this script comes first on the page).
  (window.majesticOpsPanels = window.majesticOpsPanels || []).push({
    start: function (dashboard) {
      api = dashboard;
      loadTransports();
      timer = window.setInterval(loadTransports, 60 * 1000);
    },
    stop: function () {
      api = null;
      window.clearInterval(timer);
      window.clearTimeout(reload);
    },
    event: function (event) {
      if (TRANSPORT_EVENTS.indexOf(event.detailType) === -1) return;
      window.clearTimeout(reload);
      reload = window.setTimeout(loadTransports, 300); // one reload for a burst of events
    },
  });
})();
