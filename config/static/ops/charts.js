// The ops dashboard's charts (uPlot, served from /static/graphiql/vendor/): over the last hour, per
// minute, the events emitted by detail type, the outbox backlog and its oldest pending age, and
// the deliveries that failed. Seeded from the eventStats query when a staff user is in; then every
// live event and every systemStatus push (config/static/ops/ops.js calls `event` and `status`)
// reads the newest buckets again, at most once per LIVE_READ_GAP_MS. Each chart's element keeps
// its newest bucket in data-latest and the window's sums in data-totals (JSON), and its number of
// points in data-points.
(function () {
  "use strict";

  var STATS = "query EventStats($since: DateTime!, $bucketSeconds: Int!) {" +
    " eventStats(since: $since, bucketSeconds: $bucketSeconds) { bucketSeconds buckets {" +
    " start emitted { detailType count } deliveriesSent deliveriesFailed pendingEvents" +
    " oldestPendingEventAge } } }";
  var WINDOW_S = 3600;
  var BUCKET_S = 60;
  var LIVE_READ_GAP_MS = 2000;
  var SHOWN_TYPES = 6; // the busiest detail types get a line each; the rest add up as "other"
  var COLORS = ["#2453c7", "#1f8a4c", "#b7791f", "#9f3fbf", "#0f8b8d", "#c53030", "#6b7385"];

  var api = null;
  var buckets = {}; // start (seconds since the epoch) -> bucket
  var charts = {}; // element id -> { plot, key }
  var readTimer = null;
  var lastRead = 0;

  function $(id) {
    return document.getElementById(id);
  }

  function read(sinceSeconds) {
    if (!api) return Promise.resolve();
    lastRead = Date.now();
    var variables = { since: new Date(sinceSeconds * 1000).toISOString(), bucketSeconds: BUCKET_S };
    return api
      .graphql(STATS, variables)
      .then(function (result) {
        var stats = result.data && result.data.eventStats;
        if (!stats) {
          var errors = result.errors || [];
          $("charts-error").textContent = errors.length ? errors[0].message : "";
          return;
        }
        $("charts-error").textContent = "";
        stats.buckets.forEach(function (bucket) {
          buckets[Date.parse(bucket.start) / 1000] = bucket;
        });
        var oldest = Date.now() / 1000 - WINDOW_S;
        Object.keys(buckets).forEach(function (start) {
          if (Number(start) < oldest) delete buckets[start];
        });
        render();
      })
      .catch(function () {});
  }

  // Live: the bucket holding now and the one before it (an event may land at a bucket's edge).
  function readSoon() {
    if (!api || readTimer) return;
    var wait = Math.max(0, lastRead + LIVE_READ_GAP_MS - Date.now());
    readTimer = window.setTimeout(function () {
      readTimer = null;
      var now = Date.now() / 1000;
      read(Math.floor(now / BUCKET_S) * BUCKET_S - BUCKET_S);
    }, wait);
  }

  function ordered() {
    return Object.keys(buckets)
      .map(Number)
      .sort(function (a, b) {
        return a - b;
      })
      .map(function (start) {
        return buckets[start];
      });
  }

  function busiestTypes(rows) {
    var totals = {};
    rows.forEach(function (bucket) {
      bucket.emitted.forEach(function (entry) {
        totals[entry.detailType] = (totals[entry.detailType] || 0) + entry.count;
      });
    });
    return Object.keys(totals)
      .sort(function (a, b) {
        return totals[b] - totals[a] || (a < b ? -1 : 1);
      })
      .slice(0, SHOWN_TYPES);
  }

  function countOf(bucket, detailType) {
    var found = bucket.emitted.filter(function (entry) {
      return entry.detailType === detailType;
    })[0];
    return found ? found.count : 0;
  }

  function line(label, index, extra) {
    var series = { label: label, stroke: COLORS[index % COLORS.length], width: 2, points: { show: false } };
    Object.keys(extra || {}).forEach(function (key) {
      series[key] = extra[key];
    });
    return series;
  }

  // (Re)draws one chart; a chart whose series changed (a new detail type) is made anew.
  function draw(id, key, series, data, axes) {
    var element = $(id);
    var width = Math.max(280, element.clientWidth || 320);
    var chart = charts[id];
    if (chart && chart.key === key) {
      chart.plot.setData(data);
    } else {
      if (chart) chart.plot.destroy();
      var options = {
        width: width,
        height: 200,
        series: [{}].concat(series),
        axes: axes || [{}, {}],
        scales: { y: { range: function (plot, min, max) { return [0, Math.max(1, max)]; } } },
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
      };
      if (axes && axes.length > 2) {
        options.scales.age = { range: function (plot, min, max) { return [0, Math.max(1, max)]; } };
      }
      charts[id] = { plot: new window.uPlot(options, data, element), key: key };
    }
  }

  function mark(id, rows, latest, totals) {
    var element = $(id);
    element.dataset.points = String(rows.length);
    element.dataset.latest = JSON.stringify(latest);
    element.dataset.totals = JSON.stringify(totals);
  }

  function sum(rows, field) {
    return rows.reduce(function (total, bucket) {
      return total + bucket[field];
    }, 0);
  }

  function render() {
    var rows = ordered();
    if (!rows.length) return;
    var xs = rows.map(function (bucket) {
      return Date.parse(bucket.start) / 1000;
    });
    var last = rows[rows.length - 1];

    var types = busiestTypes(rows);
    var others = function (bucket) {
      return bucket.emitted.reduce(function (sum, entry) {
        return types.indexOf(entry.detailType) === -1 ? sum + entry.count : sum;
      }, 0);
    };
    var eventSeries = types.map(function (type, index) {
      return line(type, index);
    });
    var eventData = [xs].concat(
      types.map(function (type) {
        return rows.map(function (bucket) {
          return countOf(bucket, type);
        });
      })
    );
    if (rows.some(function (bucket) { return others(bucket) > 0; })) {
      eventSeries.push(line("other", COLORS.length - 1));
      eventData.push(rows.map(others));
    }
    if (!eventSeries.length) {
      eventSeries = [line("events", 0)];
      eventData = [xs, rows.map(function () { return 0; })];
    }
    draw("chart-events", eventSeries.map(function (s) { return s.label; }).join("|"), eventSeries, eventData);
    var emittedNow = {};
    last.emitted.forEach(function (entry) {
      emittedNow[entry.detailType] = entry.count;
    });
    var emittedInWindow = {};
    rows.forEach(function (bucket) {
      bucket.emitted.forEach(function (entry) {
        emittedInWindow[entry.detailType] = (emittedInWindow[entry.detailType] || 0) + entry.count;
      });
    });
    mark("chart-events", rows, emittedNow, emittedInWindow);

    draw(
      "chart-outbox",
      "outbox",
      [line("pending", 0), line("oldest pending (s)", 2, { scale: "age" })],
      [
        xs,
        rows.map(function (bucket) { return bucket.pendingEvents; }),
        rows.map(function (bucket) { return bucket.oldestPendingEventAge; }),
      ],
      [{}, {}, { scale: "age", side: 1, grid: { show: false } }]
    );
    var outboxNow = { pendingEvents: last.pendingEvents, oldestPendingEventAge: last.oldestPendingEventAge };
    mark("chart-outbox", rows, outboxNow, outboxNow);

    draw(
      "chart-failures",
      "failures",
      [line("failed", 5, { paths: window.uPlot.paths.bars({ size: [0.7, 40] }), fill: "rgba(197, 48, 48, 0.35)" })],
      [xs, rows.map(function (bucket) { return bucket.deliveriesFailed; })]
    );
    mark(
      "chart-failures",
      rows,
      { deliveriesFailed: last.deliveriesFailed, deliveriesSent: last.deliveriesSent },
      { deliveriesFailed: sum(rows, "deliveriesFailed"), deliveriesSent: sum(rows, "deliveriesSent") }
    );
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (id) {
      var width = Math.max(280, $(id).clientWidth || 320);
      charts[id].plot.setSize({ width: width, height: 200 });
    });
  });

  (window.majesticOpsPanels = window.majesticOpsPanels || []).push({
    start: function (dashboard) {
      api = dashboard;
      var now = Date.now() / 1000;
      read(Math.floor((now - WINDOW_S) / BUCKET_S) * BUCKET_S + BUCKET_S);
    },
    stop: function () {
      api = null;
      window.clearTimeout(readTimer);
      readTimer = null;
    },
    event: readSoon,
    status: readSoon,
  });
})();
