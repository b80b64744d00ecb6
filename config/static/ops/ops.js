// The ops dashboard: sign in, then watch the system live through the GraphQL API.
// - health and watching: the systemStatus subscription (heartbeat, outbox backlog, dead events,
//   connections, relay workers, throttled clients; the server looks again every
//   LIVE_STATUS_POLL_SECONDS and pushes whatever changed);
// - live events: the domainEvents subscription, filtered by detail type and source; after a lost
//   connection it resumes with `after:` the last event shown, so the gap is replayed, not lost;
// - panels: charts.js and deliveries.js (the page's own), and each module's (its
//   templates/ops/panels/<module>.html and static/ops/panels/<module>.js, included by
//   config/dashboard.py when the module is in MODULES). A panel's script pushes
//   { start(dashboard), stop(), event(event), status(systemStatus) } onto window.majesticOpsPanels
//   before this script runs; start gets { graphql(query, variables) } once a staff user is in,
//   event each event the live feed shows, status each systemStatus, stop on sign-out.
// The access token lives in localStorage["majestic.accessToken"] (a reload stays signed in) and is
// renewed with the refresh token before it expires.
(function () {
  "use strict";

  var TOKEN_KEY = "majestic.accessToken";
  var REFRESH_KEY = "majestic.refreshToken";
  var MAX_EVENTS = 200;
  // When the filters change, the old event feed stays open this long while the new one starts, so
  // an event published in between still shows (once, and only if the new filters want it). The
  // server filters the old feed by the old filters: an event only the new ones want can still be
  // missed in the moment before the new feed is live (graphql-ws does not say when that is).
  var FEED_HANDOVER_MS = 5 * 1000;
  var HEARTBEAT_STALE_MS = 10 * 60 * 1000; // the heartbeat runs every 5 minutes

  var SIGN_IN = "mutation SignIn($username: String!, $password: String!) {" +
    " signInWithPassword(username: $username, password: $password) {" +
    " accessToken refreshToken errors { code message } } }";
  var REFRESH = "mutation Refresh($refreshToken: String!) { refreshToken(refreshToken: $refreshToken) {" +
    " accessToken refreshToken errors { code message } } }";
  var SIGN_OUT = "mutation SignOut($refreshToken: String!) { signOut(refreshToken: $refreshToken) {" +
    " errors { code } } }";
  var ME = "query Me { me { username fullName isStaff } }";
  var DOMAIN_EVENTS = "subscription Events($detailTypes: [String!], $sources: [String!], $after: ID) {" +
    " domainEvents(detailTypes: $detailTypes, sources: $sources, after: $after) {" +
    " eventId source detailType occurredAt detail } }";
  var SYSTEM_STATUS = "subscription Status { systemStatus {" +
    " lastHeartbeatAt pendingEvents retryingEvents failedEvents oldestPendingEventAge" +
    " websocketConnections activeSubscriptions lastHeartbeatTasks { name count }" +
    " relayWorkers { name startedAt lastSeenAt published failed stale }" +
    " throttledClients { client refusals } } }";

  var endpoint = document.body.dataset.endpoint || "/graphql/";
  var wsUrl = new URL(endpoint, window.location.href);
  wsUrl.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";

  var live = null; // the graphql-ws client while signed in
  var stopEvents = null;
  var eventFilter = { detailTypes: null, sources: null }; // the current feed's filters
  var shownEvents = new Set(); // ids of the last MAX_EVENTS * 2 events shown, oldest first
  var endingFeeds = []; // { stop, timer }: feeds of the previous filters, open a while longer
  var stopStatus = null;
  var lastStatus = null;
  var lastEventId = null; // the newest event shown: where a catch-up after a lost connection starts
  var everLive = false; // this sign-in's connection was up once: a close now is a lost connection
  var connectionLost = false; // the live connection dropped and has not come back yet
  var throttledUntil = 0;
  var throttleTimer = null;
  var panels = window.majesticOpsPanels || [];
  var panelsStarted = false;
  var refreshing = null;
  var timers = [];

  function $(id) {
    return document.getElementById(id);
  }

  // --- credentials ------------------------------------------------------------------------------

  function accessToken() {
    return window.localStorage.getItem(TOKEN_KEY);
  }

  function storeTokens(payload) {
    window.localStorage.setItem(TOKEN_KEY, payload.accessToken);
    if (payload.refreshToken) {
      window.localStorage.setItem(REFRESH_KEY, payload.refreshToken);
    }
  }

  function expiresSoon(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var claims = JSON.parse(window.atob(part));
      return claims.exp * 1000 - Date.now() < 30 * 1000;
    } catch (error) {
      return false; // not a JWT we can read: let the server judge it
    }
  }

  function refreshAccessToken() {
    if (refreshing) {
      return refreshing;
    }
    var refreshToken = window.localStorage.getItem(REFRESH_KEY);
    if (!refreshToken) {
      return Promise.resolve(false);
    }
    refreshing = post(REFRESH, { refreshToken: refreshToken }, null)
      .then(function (result) {
        var payload = result.data && result.data.refreshToken;
        if (payload && payload.accessToken) {
          storeTokens(payload);
          return true;
        }
        return false;
      })
      .catch(function () {
        return false;
      })
      .finally(function () {
        refreshing = null;
      });
    return refreshing;
  }

  function freshToken() {
    var token = accessToken();
    if (token && expiresSoon(token)) {
      return refreshAccessToken().then(accessToken);
    }
    return Promise.resolve(token);
  }

  // --- HTTP ---------------------------------------------------------------------------------------

  function post(query, variables, token) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) {
      headers.Authorization = "Bearer " + token;
    }
    return window
      .fetch(endpoint, { method: "POST", headers: headers, body: JSON.stringify({ query: query, variables: variables || {} }) })
      .then(function (response) {
        return response.json().then(
          function (body) {
            body.status = response.status;
            return body;
          },
          function () {
            return { status: response.status, errors: [{ message: "The server answered " + response.status + "." }] };
          }
        );
      });
  }

  // An API call as the signed-in user; a token that no longer works is renewed once.
  function graphql(query, variables) {
    return freshToken()
      .then(function (token) {
        return post(query, variables, token);
      })
      .then(function (result) {
        noteThrottling(result);
        if (result.status !== 401) {
          return result;
        }
        return refreshAccessToken().then(function (renewed) {
          if (!renewed) {
            signOut(false);
            throw new Error("Signed out: the session has ended.");
          }
          return post(query, variables, accessToken());
        });
      });
  }

  // The cost budget refused a request: say so, and when it will fit again.
  function noteThrottling(result) {
    var refusal = (result.errors || []).filter(function (error) {
      return error.extensions && error.extensions.code === "THROTTLED";
    })[0];
    if (!refusal) return;
    var seconds = refusal.extensions.retryAfter;
    throttledUntil = Date.now() + (typeof seconds === "number" ? seconds : 60) * 1000;
    renderThrottle();
  }

  function renderThrottle() {
    var notice = $("throttle-notice");
    window.clearTimeout(throttleTimer);
    var left = Math.ceil((throttledUntil - Date.now()) / 1000);
    if (left <= 0) {
      notice.hidden = true;
      return;
    }
    notice.textContent = "Rate limited: this dashboard's requests cost more than its budget allows. " +
      "Figures resume in " + left + " s.";
    notice.hidden = false;
    throttleTimer = window.setTimeout(renderThrottle, 1000);
  }

  // --- signing in and out -------------------------------------------------------------------------

  function showSignIn(message) {
    $("dashboard").hidden = true;
    $("sign-out").hidden = true;
    $("who").textContent = "";
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = message || "";
    $("username").focus();
  }

  function signIn(event) {
    event.preventDefault();
    $("sign-in-error").textContent = "";
    $("sign-in-button").disabled = true;
    post(SIGN_IN, { username: $("username").value.trim(), password: $("password").value }, null)
      .then(function (result) {
        var payload = result.data && result.data.signInWithPassword;
        if (!payload || !payload.accessToken) {
          var errors = (payload && payload.errors) || result.errors || [];
          $("sign-in-error").textContent = errors.length ? errors[0].message : "Could not sign in.";
          return;
        }
        storeTokens(payload);
        $("password").value = "";
        return start();
      })
      .catch(function () {
        $("sign-in-error").textContent = "The server cannot be reached.";
      })
      .finally(function () {
        $("sign-in-button").disabled = false;
      });
  }

  function signOut(tellServer) {
    var refreshToken = window.localStorage.getItem(REFRESH_KEY);
    var token = accessToken();
    if (tellServer && refreshToken && token) {
      post(SIGN_OUT, { refreshToken: refreshToken }, token).catch(function () {});
    }
    window.localStorage.removeItem(TOKEN_KEY);
    window.localStorage.removeItem(REFRESH_KEY);
    disconnect();
    showSignIn();
  }

  function start() {
    if (!accessToken()) {
      showSignIn();
      return Promise.resolve();
    }
    return graphql(ME)
      .then(function (result) {
        var me = result.data && result.data.me;
        if (!me) {
          signOut(false);
          return;
        }
        if (!me.isStaff) {
          signOut(true);
          showSignIn("The ops dashboard is for staff.");
          return;
        }
        $("who").textContent = me.fullName ? me.fullName + " (" + me.username + ")" : me.username;
        $("sign-in").hidden = true;
        $("dashboard").hidden = false;
        $("sign-out").hidden = false;
        connect();
        startPanels();
      })
      .catch(function (error) {
        showSignIn(error.message);
      });
  }

  // --- the live connection ------------------------------------------------------------------------

  function setConnection(state) {
    var badge = $("connection");
    badge.textContent = state;
    badge.className = "badge " + (state === "live" ? "badge-on" : state === "offline" ? "badge-off" : "badge-wait");
  }

  function showConnectionNotice(text) {
    var notice = $("connection-notice");
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  function connect() {
    disconnect();
    live = graphqlWs.createClient({
      url: wsUrl.toString(),
      retryAttempts: Infinity,
      shouldRetry: function () {
        return true;
      },
      retryWait: function (retries) {
        var delay = Math.min(1000 * Math.pow(2, retries), 15000) + Math.random() * 500;
        return new Promise(function (resolve) {
          window.setTimeout(resolve, delay);
        });
      },
      connectionParams: function () {
        return freshToken().then(function (token) {
          return token ? { authorization: "Bearer " + token } : {};
        });
      },
      on: {
        connecting: function () {
          setConnection(connectionLost ? "reconnecting" : "connecting");
        },
        connected: function () {
          setConnection("live");
          everLive = true;
          if (connectionLost) {
            connectionLost = false;
            // The feed resumes after the last event shown: what was missed is replayed first.
            showConnectionNotice("Reconnected: the events missed meanwhile are replayed.");
            window.setTimeout(function () {
              if (!connectionLost) showConnectionNotice("");
            }, 5000);
            subscribeEvents({ catchUp: true });
          }
        },
        closed: function (event) {
          if (!live) return; // disconnect() closed it on purpose
          if (everLive) {
            connectionLost = true;
            setConnection("reconnecting");
            showConnectionNotice("Connection lost: reconnecting… No event is lost: those missed " +
              "meanwhile are replayed when the connection is back.");
          } else {
            setConnection("offline");
          }
          if (event && event.code === 4403) {
            // Refused credentials: renew them before the client tries again, or sign out.
            refreshAccessToken().then(function (renewed) {
              if (!renewed) {
                signOut(false);
              }
            });
          }
        },
      },
    });
    subscribeStatus();
    subscribeEvents({});
    timers.push(window.setInterval(renderHealth, 10 * 1000));
  }

  function disconnect() {
    stopPanels();
    if (stopEvents) stopEvents();
    endingFeeds.forEach(function (ending) {
      window.clearTimeout(ending.timer);
      ending.stop();
    });
    endingFeeds = [];
    if (stopStatus) stopStatus();
    stopEvents = stopStatus = null;
    timers.forEach(window.clearInterval);
    timers = [];
    if (live) {
      var closing = live;
      live = null; // first: the closed handler then knows this close was wanted
      closing.dispose();
    }
    everLive = connectionLost = false;
    showConnectionNotice("");
    setConnection("offline");
  }

  // --- health -------------------------------------------------------------------------------------

  function subscribeStatus() {
    stopStatus = live.subscribe(
      { query: SYSTEM_STATUS },
      {
        next: function (result) {
          if (result.data && result.data.systemStatus) showStatus(result.data.systemStatus);
        },
        error: function () {},
        complete: function () {},
      }
    );
  }

  function showStatus(status) {
    lastStatus = status;
    renderHealth();
    renderWatch();
    if (panelsStarted) eachPanel("status", status);
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 60) return Math.round(seconds) + " s";
    if (seconds < 3600) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }

  function renderHealth() {
    if (!lastStatus) return;
    var heartbeat = $("heartbeat");
    if (lastStatus.lastHeartbeatAt) {
      var since = Date.now() - Date.parse(lastStatus.lastHeartbeatAt);
      heartbeat.textContent = age(Math.max(0, since / 1000)) + " ago";
      heartbeat.title = new Date(lastStatus.lastHeartbeatAt).toLocaleString();
      heartbeat.dataset.state = since > HEARTBEAT_STALE_MS ? "stale" : "ok";
    } else {
      heartbeat.textContent = "never";
      heartbeat.dataset.state = "bad";
    }
    $("pending-events").textContent = String(lastStatus.pendingEvents);
    $("oldest-pending").textContent = age(lastStatus.oldestPendingEventAge);
    var failed = $("failed-events");
    failed.textContent = String(lastStatus.failedEvents);
    failed.dataset.state = lastStatus.failedEvents > 0 ? "bad" : "ok";
  }

  function listItem(parent, text, state) {
    var item = document.createElement("li");
    item.textContent = text;
    if (state) item.dataset.state = state;
    parent.appendChild(item);
  }

  function renderWatch() {
    var status = lastStatus;
    $("websocket-connections").textContent = String(status.websocketConnections);
    $("active-subscriptions").textContent = String(status.activeSubscriptions);
    var relays = $("relay-rows");
    relays.textContent = "";
    status.relayWorkers.forEach(function (relay) {
      var row = document.createElement("tr");
      row.dataset.state = relay.stale ? "stale" : "ok";
      [
        relay.name,
        // lastSeenAt is pushed only when `stale` flips: the state, not an age that would freeze.
        relay.stale ? "stale since " + new Date(relay.lastSeenAt).toLocaleTimeString() : "running",
        String(relay.published),
        String(relay.failed),
      ].forEach(function (text) {
        var cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      });
      row.title = "Started " + new Date(relay.startedAt).toLocaleString() + (relay.stale ? " (not seen lately)" : "");
      relays.appendChild(row);
    });
    $("relays-empty").hidden = status.relayWorkers.length > 0;
    var tasks = $("heartbeat-tasks");
    tasks.textContent = "";
    status.lastHeartbeatTasks.forEach(function (task) {
      listItem(tasks, task.name + ": " + task.count);
    });
    if (!status.lastHeartbeatTasks.length) listItem(tasks, "No heartbeat has run yet.", "unknown");
    var throttled = $("throttled-clients");
    throttled.textContent = "";
    status.throttledClients.forEach(function (client) {
      listItem(throttled, client.client + " (" + client.refusals + " refused)", "stale");
    });
    $("throttled-empty").hidden = status.throttledClients.length > 0;
  }

  // --- the modules' panels -----------------------------------------------------------------------

  function eachPanel(method, argument) {
    panels.forEach(function (panel) {
      try {
        if (panel[method]) panel[method](argument);
      } catch (error) {
        window.console.error(error); // one panel's fault leaves the dashboard and the others alone
      }
    });
  }

  function startPanels() {
    if (panelsStarted) return;
    panelsStarted = true;
    eachPanel("start", { graphql: graphql });
  }

  function stopPanels() {
    if (!panelsStarted) return;
    panelsStarted = false;
    eachPanel("stop");
  }

  // --- live events --------------------------------------------------------------------------------

  function valuesOf(input) {
    var values = input.value
      .split(/[\s,]+/)
      .map(function (v) {
        return v.trim();
      })
      .filter(Boolean);
    return values.length ? values : null;
  }

  function codeOf(error) {
    return error && error.extensions ? error.extensions.code : null;
  }

  // A new event feed with the filters of the form. With `catchUp` (the connection came back, or
  // the server dropped events for this client) it starts after the last event shown, so the
  // server replays the gap first, and it replaces the old feed at once: no event is missed and
  // the feed keeps delivery order. Otherwise (new filters) the old feed stays open a while.
  function subscribeEvents(options) {
    var previous = stopEvents;
    var variables = { detailTypes: valuesOf($("filter-detail-types")), sources: valuesOf($("filter-sources")) };
    if (options.catchUp && lastEventId && !options.fromNow) variables.after = lastEventId;
    if (!options.catchUp) dropUnwantedEvents(variables);
    eventFilter = variables;
    $("event-notice").hidden = true;
    if (previous && options.catchUp) previous();
    stopEvents = live.subscribe(
      { query: DOMAIN_EVENTS, variables: variables },
      {
        next: function (result) {
          var error = result.errors && result.errors[0];
          if (variables === eventFilter && error) {
            if (codeOf(error) === "EVENTS_DROPPED" && error.extensions.after) {
              lastEventId = error.extensions.after;
              showNotice(error.message + " Replaying them.");
              subscribeEvents({ catchUp: true });
              return;
            }
            showNotice(error.message);
          }
          if (result.data && result.data.domainEvents) {
            showEvent(result.data.domainEvents);
          }
        },
        error: function (error) {
          if (variables !== eventFilter) return; // a replaced feed's troubles are over
          var errors = Array.isArray(error) ? error : [error];
          var code = codeOf(errors[0]);
          if (variables.after && (code === "REPLAY_TOO_LONG" || code === "EVENT_NOT_FOUND")) {
            // The gap cannot be replayed (too long, or its start is gone): live from now.
            subscribeEvents({ catchUp: true, fromNow: true });
            showNotice(errors[0].message + " Showing live events from now; some were missed.");
            return;
          }
          showNotice(errors[0] && errors[0].message ? errors[0].message : "The event feed stopped.");
        },
        complete: function () {},
      }
    );
    if (previous && !options.catchUp) endFeedSoon(previous);
  }

  function wants(filter, event) {
    return (
      (!filter.detailTypes || filter.detailTypes.indexOf(event.detailType) !== -1) &&
      (!filter.sources || filter.sources.indexOf(event.source) !== -1)
    );
  }

  // New filters apply to the events already shown too.
  function dropUnwantedEvents(filter) {
    var feed = $("event-feed");
    Array.prototype.slice.call(feed.children).forEach(function (item) {
      if (!wants(filter, { detailType: item.dataset.detailType, source: item.dataset.source })) {
        feed.removeChild(item);
      }
    });
    $("events-empty").hidden = feed.children.length > 0;
    $("event-count").textContent = feed.children.length ? "(" + feed.children.length + ")" : "";
  }

  function endFeedSoon(stop) {
    var ending = { stop: stop };
    ending.timer = window.setTimeout(function () {
      endingFeeds = endingFeeds.filter(function (other) {
        return other !== ending;
      });
      stop();
    }, FEED_HANDOVER_MS);
    endingFeeds.push(ending);
  }

  function showEvent(event) {
    // Two feeds overlap while filters change: each event shows once, if the filters want it.
    if (!wants(eventFilter, event)) return;
    if (event.eventId) {
      if (shownEvents.has(event.eventId)) return;
      shownEvents.add(event.eventId);
      if (shownEvents.size > MAX_EVENTS * 2) shownEvents.delete(shownEvents.values().next().value);
      lastEventId = event.eventId;
    }
    addEvent(event);
  }

  function showNotice(text) {
    var notice = $("event-notice");
    notice.textContent = text;
    notice.hidden = false;
  }

  function addEvent(event) {
    var item = document.createElement("li");
    item.className = "event fresh";
    item.dataset.eventId = event.eventId;
    item.dataset.detailType = event.detailType;
    item.dataset.source = event.source;
    var meta = document.createElement("div");
    meta.className = "meta";
    [
      ["type", event.detailType],
      ["source", event.source],
      ["time", new Date(event.occurredAt).toLocaleTimeString()],
      ["id", event.eventId],
    ].forEach(function (part) {
      var span = document.createElement("span");
      span.className = part[0];
      span.textContent = part[1];
      meta.appendChild(span);
    });
    var details = document.createElement("details");
    var summary = document.createElement("summary");
    summary.textContent = "detail";
    var pre = document.createElement("pre");
    pre.textContent = JSON.stringify(event.detail, null, 2);
    details.appendChild(summary);
    details.appendChild(pre);
    item.appendChild(meta);
    item.appendChild(details);
    var feed = $("event-feed");
    feed.insertBefore(item, feed.firstChild);
    while (feed.children.length > MAX_EVENTS) {
      feed.removeChild(feed.lastChild);
    }
    $("event-count").textContent = "(" + feed.children.length + ")";
    $("events-empty").hidden = true;
    if (panelsStarted) eachPanel("event", event);
  }

  // --- wiring -------------------------------------------------------------------------------------

  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", function () {
    signOut(true);
  });
  $("event-filters").addEventListener("submit", function (event) {
    event.preventDefault();
    if (live) subscribeEvents({});
  });
  $("clear-filters").addEventListener("click", function () {
    $("filter-detail-types").value = "";
    $("filter-sources").value = "";
    if (live) subscribeEvents({});
  });
  // Signing out in another tab signs this one out too.
  window.addEventListener("storage", function (event) {
    if (event.key === TOKEN_KEY && !event.newValue && live) {
      disconnect();
      showSignIn();
    }
  });

  start();
})();
