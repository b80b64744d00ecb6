// The ops dashboard: sign in, then watch the system live through the GraphQL API.
// - health: the systemStatus subscription (heartbeat, outbox backlog, dead events);
// - live events: the domainEvents subscription, filtered by detail type and source;
// - the modules' panels: each module may add one (its templates/ops/panels/<module>.html and
//   static/ops/panels/<module>.js, included by config/dashboard.py when the module is in MODULES).
//   Its script pushes { start(dashboard), stop(), event(event) } onto window.majesticOpsPanels
//   before this script runs; start gets { graphql(query, variables) } once a staff user is in,
//   event each event the live feed shows, stop when the dashboard signs out or disconnects.
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
  var DOMAIN_EVENTS = "subscription Events($detailTypes: [String!], $sources: [String!]) {" +
    " domainEvents(detailTypes: $detailTypes, sources: $sources) {" +
    " eventId source detailType occurredAt detail } }";
  var SYSTEM_STATUS = "subscription Status { systemStatus {" +
    " lastHeartbeatAt pendingEvents failedEvents oldestPendingEventAge } }";

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
  var eventCount = 0;
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
    badge.className = "badge " + (state === "live" ? "badge-on" : state === "connecting" ? "badge-wait" : "badge-off");
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
          setConnection("connecting");
        },
        connected: function () {
          setConnection("live");
        },
        closed: function (event) {
          setConnection("offline");
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
    subscribeEvents();
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
      live.dispose();
      live = null;
    }
    setConnection("offline");
  }

  // --- health -------------------------------------------------------------------------------------

  function subscribeStatus() {
    stopStatus = live.subscribe(
      { query: SYSTEM_STATUS },
      {
        next: function (result) {
          if (result.data && result.data.systemStatus) {
            lastStatus = result.data.systemStatus;
            renderHealth();
          }
        },
        error: function () {},
        complete: function () {},
      }
    );
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

  function subscribeEvents() {
    var previous = stopEvents;
    var variables = { detailTypes: valuesOf($("filter-detail-types")), sources: valuesOf($("filter-sources")) };
    eventFilter = variables;
    $("event-notice").hidden = true;
    stopEvents = live.subscribe(
      { query: DOMAIN_EVENTS, variables: variables },
      {
        next: function (result) {
          if (variables === eventFilter && result.errors && result.errors.length) {
            showNotice(result.errors[0].message);
          }
          if (result.data && result.data.domainEvents) {
            showEvent(result.data.domainEvents);
          }
        },
        error: function (error) {
          if (variables !== eventFilter) return; // a replaced feed's troubles are over
          var errors = Array.isArray(error) ? error : [error];
          showNotice(errors[0] && errors[0].message ? errors[0].message : "The event feed stopped.");
        },
        complete: function () {},
      }
    );
    if (previous) endFeedSoon(previous);
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
    var wanted =
      (!eventFilter.detailTypes || eventFilter.detailTypes.indexOf(event.detailType) !== -1) &&
      (!eventFilter.sources || eventFilter.sources.indexOf(event.source) !== -1);
    if (!wanted) return;
    if (event.eventId) {
      if (shownEvents.has(event.eventId)) return;
      shownEvents.add(event.eventId);
      if (shownEvents.size > MAX_EVENTS * 2) shownEvents.delete(shownEvents.values().next().value);
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
    eventCount += 1;
    $("event-count").textContent = "(" + eventCount + ")";
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
    if (live) subscribeEvents();
  });
  $("clear-filters").addEventListener("click", function () {
    $("filter-detail-types").value = "";
    $("filter-sources").value = "";
    if (live) subscribeEvents();
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
