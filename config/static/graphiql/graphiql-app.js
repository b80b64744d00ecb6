// GraphiQL for this server: queries and mutations over HTTP, subscriptions over
// graphql-transport-ws on the same path. Credentials: an Authorization header typed in the headers
// editor, else the access token the ops dashboard keeps (so signing in there signs GraphiQL in).
(function () {
  "use strict";

  var TOKEN_KEY = "majestic.accessToken";
  var DEFAULT_QUERY = [
    "# Majestic GraphiQL. Queries and mutations go over HTTP,",
    "# subscriptions over a websocket on the same path.",
    "# Signed in on /ops/? This page uses that token. Or set a header below:",
    "#   {\"Authorization\": \"Bearer <token>\"} or {\"Authorization\": \"Api-Key <key>\"}",
    "#",
    "# subscription { domainEvents { detailType source occurredAt } }",
    "",
    "{",
    "  __typename",
    "}",
    "",
  ].join("\n");

  var endpoint = document.body.dataset.endpoint || "/graphql/";
  var httpUrl = new URL(endpoint, window.location.href);
  var wsUrl = new URL(endpoint, window.location.href);
  wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

  // The headers of the latest operation, as typed in GraphiQL's headers editor.
  var editorHeaders = {};

  function authorization() {
    var names = Object.keys(editorHeaders || {});
    for (var i = 0; i < names.length; i++) {
      if (names[i].toLowerCase() === "authorization" && editorHeaders[names[i]]) {
        return String(editorHeaders[names[i]]);
      }
    }
    var token = window.localStorage.getItem(TOKEN_KEY);
    return token ? "Bearer " + token : null;
  }

  var wsClient = graphqlWs.createClient({
    url: wsUrl.toString(),
    lazy: true, // connects for the first subscription, closes after the last: fresh credentials
    connectionParams: function () {
      var value = authorization();
      return value ? { authorization: value } : {};
    },
  });

  var httpFetcher = GraphiQL.createFetcher({
    url: httpUrl.toString(),
    wsClient: wsClient,
    fetch: function (input, init) {
      var headers = new Headers((init && init.headers) || {});
      var value = authorization();
      if (value && !headers.has("authorization")) {
        headers.set("authorization", value);
      }
      return window.fetch(input, Object.assign({}, init, { headers: headers }));
    },
  });

  function fetcher(params, options) {
    editorHeaders = (options && options.headers) || {};
    // The toolkit picks the websocket for subscriptions from `documentAST`, which GraphiQL may
    // not have updated yet for the text being run: parse the very query that is sent.
    var opts = Object.assign({}, options);
    try {
      opts.documentAST = GraphiQL.GraphQL.parse(params.query);
    } catch (error) {
      opts.documentAST = undefined; // not GraphQL: the server explains what is wrong
    }
    return httpFetcher(params, opts);
  }

  // Typed headers hold credentials (Api-Key, Bearer): they live in the editor only, never in
  // localStorage, where any script of this origin (or whoever uses the browser next) reads them.
  // GraphiQL is told not to persist headers, and everything it stores goes through a filter that
  // drops headers anyway (a settings toggle or another GraphiQL version cannot bring them back).
  var GRAPHIQL_HEADERS = "graphiql:headers";
  var GRAPHIQL_PREFIX = "graphiql:";
  // The entries that keep a copy of each tab's or history item's headers (as a string).
  var WITH_HEADERS_INSIDE = ["graphiql:tabState", "graphiql:queries", "graphiql:favorites"];

  function withoutHeaders(key, value) {
    if (WITH_HEADERS_INSIDE.indexOf(key) < 0) {
      return value; // a query, variables, a flag: nothing of the headers editor in it
    }
    try {
      // null is what GraphiQL itself writes for "no headers", so it reads the entry back fine.
      return JSON.stringify(JSON.parse(value), function (name, inner) {
        return name === "headers" && typeof inner === "string" ? null : inner;
      });
    } catch (error) {
      return null; // unreadable: better dropped than kept with a key inside
    }
  }

  var headerFreeStorage = {
    getItem: function (key) {
      return key === GRAPHIQL_HEADERS ? null : window.localStorage.getItem(key);
    },
    setItem: function (key, value) {
      if (key === GRAPHIQL_HEADERS) {
        window.localStorage.removeItem(key);
        return;
      }
      var kept = withoutHeaders(key, String(value));
      if (kept === null) {
        window.localStorage.removeItem(key);
      } else {
        window.localStorage.setItem(key, kept);
      }
    },
    removeItem: function (key) {
      window.localStorage.removeItem(key);
    },
    clear: function () {
      graphiqlKeys().forEach(function (key) {
        window.localStorage.removeItem(key);
      });
    },
    get length() {
      return graphiqlKeys().length;
    },
  };

  function graphiqlKeys() {
    var keys = [];
    for (var i = 0; i < window.localStorage.length; i++) {
      var key = window.localStorage.key(i);
      if (key && key.indexOf(GRAPHIQL_PREFIX) === 0) {
        keys.push(key);
      }
    }
    return keys;
  }

  // Headers an earlier version of this page stored (shouldPersistHeaders was on) go now.
  graphiqlKeys().forEach(function (key) {
    if (key === GRAPHIQL_HEADERS || key === GRAPHIQL_PREFIX + "shouldPersistHeaders") {
      window.localStorage.removeItem(key);
    } else {
      headerFreeStorage.setItem(key, window.localStorage.getItem(key));
    }
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      storage: headerFreeStorage,
    })
  );
})();
