// The ops dashboard's dead and retrying events (eventDeliveries), each with its delivery attempts a
// click away, and the redriveEvents buttons: one event, the selected ones, or every dead one, each
// after a confirmation, with the result shown. Read again on each systemStatus (config/static/ops/
// ops.js calls `status`; at most once per READ_GAP_MS), after a redrive, on Refresh, and every
// RETRYING_READ_MS while a retrying event shows (it leaves the table once the relay sends it).
(function () {
  "use strict";

  var DELIVERIES = "query Deliveries { dead: eventDeliveries(status: [DEAD], first: 50) { ...Page }" +
    " retrying: eventDeliveries(retrying: true, first: 50) { ...Page } }" +
    " fragment Page on EventDeliveryConnection { totalCount edges { node { id eventId source" +
    " detailType status attemptCount lastError createdAt nextAttemptAt" +
    " attempts(first: 5) { attemptedAt outcome error durationMs worker } } } }";
  var REDRIVE = "mutation Redrive($eventIds: [UUID!]) { redriveEvents(eventIds: $eventIds) {" +
    " redrivenCount errors { code message } } }";

  var READ_GAP_MS = 2000;
  var RETRYING_READ_MS = 5000;

  var api = null;
  var selected = {}; // eventId -> true, for the dead events ticked
  var opened = {}; // eventId -> true, for the rows whose attempts are shown
  var deadCount = 0;
  var readTimer = null;
  var lastRead = 0;

  function $(id) {
    return document.getElementById(id);
  }

  function when(value) {
    return value ? new Date(value).toLocaleString() : "–";
  }

  function cell(row, content, className) {
    var td = document.createElement("td");
    if (typeof content === "string") td.textContent = content;
    else if (content) td.appendChild(content);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function button(text, onClick) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "small";
    element.textContent = text;
    element.addEventListener("click", onClick);
    return element;
  }

  // A yes/no question in the page's own dialog (window.confirm would block the live feed).
  function confirmAction(text) {
    var dialog = $("confirm-dialog");
    $("confirm-text").textContent = text;
    return new Promise(function (resolve) {
      function answer(yes) {
        $("confirm-ok").removeEventListener("click", ok);
        $("confirm-cancel").removeEventListener("click", cancel);
        dialog.removeEventListener("cancel", cancel);
        dialog.close();
        resolve(yes);
      }
      function ok() {
        answer(true);
      }
      function cancel() {
        answer(false);
      }
      $("confirm-ok").addEventListener("click", ok);
      $("confirm-cancel").addEventListener("click", cancel);
      dialog.addEventListener("cancel", cancel); // Escape
      dialog.showModal();
    });
  }

  function redrive(eventIds, question) {
    return confirmAction(question).then(function (yes) {
      if (!yes || !api) return;
      $("redrive-result").textContent = "Redriving…";
      return api.graphql(REDRIVE, { eventIds: eventIds }).then(function (result) {
        var payload = result.data && result.data.redriveEvents;
        var errors = (payload && payload.errors) || result.errors || [];
        if (!payload || errors.length) {
          $("redrive-result").textContent = errors.length ? errors[0].message : "The redrive failed.";
          $("redrive-result").dataset.state = "bad";
          return;
        }
        var count = payload.redrivenCount;
        $("redrive-result").textContent =
          count === 1 ? "1 event is pending again." : count + " events are pending again.";
        $("redrive-result").dataset.state = "ok";
        selected = {};
        return load();
      });
    });
  }

  function attemptsRow(delivery) {
    var row = document.createElement("tr");
    row.className = "attempts";
    var td = cell(row, null);
    td.colSpan = 8;
    var list = document.createElement("ol");
    list.className = "plain";
    if (!delivery.attempts.length) {
      list.appendChild(document.createTextNode("No attempt recorded."));
    }
    delivery.attempts.forEach(function (attempt) {
      var item = document.createElement("li");
      item.dataset.outcome = attempt.outcome;
      item.textContent =
        when(attempt.attemptedAt) + " · " + attempt.outcome +
        (attempt.durationMs !== null && attempt.durationMs !== undefined ? " · " + Math.round(attempt.durationMs) + " ms" : "") +
        (attempt.worker ? " · " + attempt.worker : "") +
        (attempt.error ? " · " + attempt.error : "");
      list.appendChild(item);
    });
    td.appendChild(list);
    return row;
  }

  function deliveryRows(delivery) {
    var row = document.createElement("tr");
    row.dataset.eventId = delivery.eventId;
    row.dataset.status = delivery.status;
    var dead = delivery.status === "DEAD";
    var tick = null;
    if (dead) {
      tick = document.createElement("input");
      tick.type = "checkbox";
      tick.className = "select-dead";
      tick.checked = !!selected[delivery.eventId];
      tick.setAttribute("aria-label", "Select " + delivery.detailType + " " + delivery.eventId);
      tick.addEventListener("change", function () {
        if (tick.checked) selected[delivery.eventId] = true;
        else delete selected[delivery.eventId];
        renderSelection();
      });
    }
    cell(row, tick);
    cell(row, delivery.detailType);
    cell(row, delivery.source);
    cell(row, dead ? "DEAD" : "RETRYING, next " + when(delivery.nextAttemptAt));
    cell(row, String(delivery.attemptCount));
    var error = cell(row, delivery.lastError || "–", "error-text");
    error.title = delivery.lastError || "";
    cell(row, when(delivery.createdAt));
    var actions = cell(row, null);
    actions.appendChild(
      button(opened[delivery.eventId] ? "Hide attempts" : "Attempts", function () {
        if (opened[delivery.eventId]) delete opened[delivery.eventId];
        else opened[delivery.eventId] = true;
        load();
      })
    );
    if (dead) {
      var again = button("Redrive", function () {
        redrive([delivery.eventId], "Redrive " + delivery.detailType + " " + delivery.eventId + "?");
      });
      again.className = "small redrive-one";
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(again);
    }
    return opened[delivery.eventId] ? [row, attemptsRow(delivery)] : [row];
  }

  function renderSelection() {
    var count = Object.keys(selected).length;
    $("redrive-selected").disabled = count === 0;
    $("redrive-selected").textContent = count ? "Redrive selected (" + count + ")" : "Redrive selected";
    $("redrive-all").disabled = deadCount === 0;
  }

  function loadSoon(delay) {
    if (!api || readTimer) return;
    var wait = Math.max(delay || 0, lastRead + READ_GAP_MS - Date.now());
    readTimer = window.setTimeout(function () {
      readTimer = null;
      load();
    }, wait);
  }

  function load() {
    if (!api) return Promise.resolve();
    lastRead = Date.now();
    return api
      .graphql(DELIVERIES)
      .then(function (result) {
        var data = result.data;
        if (!data || !data.dead || !data.retrying) return;
        var rows = $("delivery-rows");
        rows.textContent = "";
        var shown = {};
        data.dead.edges.concat(data.retrying.edges).forEach(function (edge) {
          shown[edge.node.eventId] = true;
          deliveryRows(edge.node).forEach(function (row) {
            rows.appendChild(row);
          });
        });
        Object.keys(selected).forEach(function (eventId) {
          if (!shown[eventId]) delete selected[eventId]; // delivered or redriven meanwhile
        });
        deadCount = data.dead.totalCount;
        $("delivery-count").textContent =
          "(" + data.dead.totalCount + " dead, " + data.retrying.totalCount + " retrying)";
        $("deliveries-empty").hidden = rows.children.length > 0;
        renderSelection();
        if (data.retrying.totalCount > 0) loadSoon(RETRYING_READ_MS);
      })
      .catch(function () {});
  }

  $("refresh-deliveries").addEventListener("click", load);
  $("redrive-selected").addEventListener("click", function () {
    var eventIds = Object.keys(selected);
    if (!eventIds.length) return;
    redrive(eventIds, "Redrive the " + eventIds.length + " selected dead events?");
  });
  $("redrive-all").addEventListener("click", function () {
    redrive(null, "Redrive every dead event (" + deadCount + ")?");
  });
  $("select-all-dead").addEventListener("change", function (event) {
    Array.prototype.forEach.call(document.querySelectorAll("#delivery-rows .select-dead"), function (tick) {
      tick.checked = event.target.checked;
      var eventId = tick.closest("tr").dataset.eventId;
      if (tick.checked) selected[eventId] = true;
      else delete selected[eventId];
    });
    renderSelection();
  });

  (window.majesticOpsPanels = window.majesticOpsPanels || []).push({
    start: function (dashboard) {
      api = dashboard;
      load();
    },
    stop: function () {
      api = null;
      selected = {};
      opened = {};
      window.clearTimeout(readTimer);
      readTimer = null;
    },
    event: function () {},
    status: function () {
      loadSoon(0);
    },
  });
})();
