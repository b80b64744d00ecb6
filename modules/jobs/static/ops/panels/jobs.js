// The jobs module's panel on the ops dashboard: running jobs first, then the most recent ones, each
// with a progress bar; a job's row errors on a click, and a cancel button while it runs. Read every
// 2 s while a job runs, every 30 s otherwise. The page includes it because jobs is in MODULES;
// config/static/ops/ops.js calls start/stop (see its "panels").
(function () {
  "use strict";

  var RUNNING_JOBS = "query RunningJobs { bulkJobs(filter: {running: true}, first: 20," +
    " order: {field: CREATED_AT, direction: DESC}) { totalCount edges { node {" +
    " id kind status total processed failed progress cancelRequested createdAt startedAt" +
    " finishedAt createdBy { ... on User { username } } } } } }";
  var RECENT_JOBS = "query RecentJobs { bulkJobs(filter: {running: false}, first: 10," +
    " order: {field: FINISHED_AT, direction: DESC}) { totalCount edges { node {" +
    " id kind status total processed failed progress cancelRequested createdAt startedAt" +
    " finishedAt createdBy { ... on User { username } } } } } }";
  var ROW_ERRORS = "query JobRowErrors($id: ID!) { bulkJob(id: $id) { id kind" +
    " rowErrors(first: 50) { totalCount edges { node { rowNumber code message } } } } }";
  var CANCEL_JOB = "mutation CancelJob($id: ID!) { cancelBulkJob(id: $id) {" +
    " bulkJob { id status cancelRequested } errors { code message } } }";
  var BUSY_MS = 2000;
  var IDLE_MS = 30000;

  var api = null; // what ops.js hands over while signed in: { graphql(query, variables) }
  var timer = null;
  var shownErrorsFor = null;

  function $(id) {
    return document.getElementById(id);
  }

  function cell(row, content) {
    var td = document.createElement("td");
    if (typeof content === "string") td.textContent = content;
    else td.appendChild(content);
    row.appendChild(td);
    return td;
  }

  function when(value) {
    return value ? new Date(value).toLocaleString() : "–";
  }

  function jobRow(job) {
    var row = document.createElement("tr");
    row.dataset.jobId = job.id;
    row.dataset.status = job.status;
    cell(row, job.kind);
    cell(row, job.cancelRequested && job.status === "RUNNING" ? "CANCELLING" : job.status);
    var bar = document.createElement("progress");
    bar.max = 1;
    bar.value = job.progress;
    bar.title = Math.round(job.progress * 100) + " %";
    cell(row, bar);
    cell(row, job.processed + " / " + job.total);
    var failed = cell(row, String(job.failed));
    if (job.failed > 0) {
      var link = document.createElement("button");
      link.type = "button";
      link.className = "small link";
      link.textContent = "errors";
      link.addEventListener("click", function () {
        showErrors(job.id);
      });
      failed.appendChild(document.createTextNode(" "));
      failed.appendChild(link);
    }
    cell(row, job.createdBy && job.createdBy.username ? job.createdBy.username : "–");
    cell(row, when(job.startedAt));
    var actions = cell(row, "");
    if ((job.status === "QUEUED" || job.status === "RUNNING") && !job.cancelRequested) {
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "small";
      cancel.textContent = "Cancel";
      cancel.addEventListener("click", function () {
        if (!window.confirm("Cancel this " + job.kind + " job after its current chunk?")) return;
        api.graphql(CANCEL_JOB, { id: job.id }).then(load);
      });
      actions.appendChild(cancel);
    }
    return row;
  }

  function load() {
    if (!api) return;
    window.clearTimeout(timer);
    Promise.all([api.graphql(RUNNING_JOBS), api.graphql(RECENT_JOBS)])
      .then(function (results) {
        var running = results[0].data && results[0].data.bulkJobs;
        var recent = results[1].data && results[1].data.bulkJobs;
        if (!running || !recent) return;
        var rows = $("job-rows");
        rows.textContent = "";
        running.edges.concat(recent.edges).forEach(function (edge) {
          rows.appendChild(jobRow(edge.node));
        });
        $("job-count").textContent = "(" + running.totalCount + " running)";
        $("jobs-empty").hidden = rows.children.length > 0;
        if (shownErrorsFor) showErrors(shownErrorsFor);
        schedule(running.totalCount > 0 ? BUSY_MS : IDLE_MS);
      })
      .catch(function () {
        schedule(IDLE_MS);
      });
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    if (api) timer = window.setTimeout(load, delay);
  }

  function showErrors(id) {
    shownErrorsFor = id;
    api.graphql(ROW_ERRORS, { id: id }).then(function (result) {
      var job = result.data && result.data.bulkJob;
      if (!job) return;
      var rows = $("job-error-rows");
      rows.textContent = "";
      job.rowErrors.edges.forEach(function (edge) {
        var row = document.createElement("tr");
        cell(row, String(edge.node.rowNumber));
        cell(row, edge.node.code);
        cell(row, edge.node.message);
        rows.appendChild(row);
      });
      $("job-errors-title").textContent =
        job.kind + ": " + job.rowErrors.totalCount + " rows failed" +
        (job.rowErrors.totalCount > job.rowErrors.edges.length ? " (first 50 shown)" : "");
      $("job-errors").hidden = false;
    });
  }

  $("refresh-jobs").addEventListener("click", load);

  // Registered before ops.js runs (this script comes first on the page).
  (window.majesticOpsPanels = window.majesticOpsPanels || []).push({
    start: function (dashboard) {
      api = dashboard;
      load();
    },
    stop: function () {
      api = null;
      shownErrorsFor = null;
      window.clearTimeout(timer);
    },
    event: function () {},
  });
})();
