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

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    })
  );
})();
