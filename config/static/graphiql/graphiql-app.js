// GraphiQL 4 for this server: queries and mutations over HTTP, subscriptions over
// graphql-transport-ws on the same path, and a sign-in that holds.
// - The "Sign in" plugin (GraphiQL's plugin API, left sidebar) signs in with a password or a phone
//   code, shows who is signed in and signs out.
// - The access token and the refresh token live in localStorage under the keys the ops dashboard
//   uses (signing in on one page signs the other in). The access token is renewed before it
//   expires, and once more when the server answers 401; a session that cannot be renewed is
//   dropped and the request goes again anonymously, so the schema still loads.
// - An Authorization header typed in the headers editor wins over the stored token, and is never
//   stored (see headerFreeStorage).
(function () {
  "use strict";

  var h = React.createElement;
  var TOKEN_KEY = "majestic.accessToken";
  var REFRESH_KEY = "majestic.refreshToken";
  // Renew this long before expiry (at most a quarter of the token's lifetime, for short ones).
  var RENEW_AHEAD_MS = 60 * 1000;
  // The same texts as the ops dashboard's (config/static/ops/ops.js): with
  // GRAPHQL_TRUSTED_DOCUMENTS=require they are registered (trusted-documents.json), so a caller
  // who is not staff yet may still sign in, renew and sign out.
  var SIGN_IN = "mutation SignIn($username: String!, $password: String!) {" +
    " signInWithPassword(username: $username, password: $password) {" +
    " accessToken refreshToken errors { code message } } }";
  var REFRESH = "mutation Refresh($refreshToken: String!) { refreshToken(refreshToken: $refreshToken) {" +
    " accessToken refreshToken errors { code message } } }";
  var SIGN_OUT = "mutation SignOut($refreshToken: String!) { signOut(refreshToken: $refreshToken) {" +
    " errors { code } } }";
  var ME = "query Me { me { username fullName isStaff } }";
  var REQUEST_CODE = "mutation RequestCode($phoneNumber: String!) {" +
    " requestVerificationCode(phoneNumber: $phoneNumber, purpose: SIGN_IN) { expiresAt errors { code message } } }";
  var SIGN_IN_WITH_CODE = "mutation SignInWithCode($phoneNumber: String!, $code: String!) {" +
    " signInWithCode(phoneNumber: $phoneNumber, code: $code) { accessToken refreshToken errors { code message } } }";

  var DEFAULT_QUERY = [
    "# Majestic GraphiQL. Queries and mutations go over HTTP,",
    "# subscriptions over a websocket on the same path.",
    "# Sign in with the person icon on the left (the demo staff account is printed by `make run`);",
    "# the page keeps the session and renews its token. An API key goes in the",
    "# headers pane below, as the Authorization header (never stored by this page).",
    "#",
    "# subscription { domainEvents { detailType source occurredAt } }",
    "",
    "{",
    "  me { username fullName isStaff }",
    "}",
    "",
  ].join("\n");

  var endpoint = document.body.dataset.endpoint || "/graphql/";
  var httpUrl = new URL(endpoint, window.location.href);
  var wsUrl = new URL(endpoint, window.location.href);
  wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

  // --- the session ------------------------------------------------------------------------------

  var session = {
    user: null, // { username, fullName, isStaff } once known
    listeners: [],
    renewTimer: null,
    renewing: null,
  };

  function accessToken() {
    return window.localStorage.getItem(TOKEN_KEY);
  }

  function changed() {
    scheduleRenewal();
    session.listeners.slice().forEach(function (listener) {
      listener();
    });
  }

  function subscribe(listener) {
    session.listeners.push(listener);
    return function () {
      session.listeners = session.listeners.filter(function (other) {
        return other !== listener;
      });
    };
  }

  function storeTokens(payload) {
    window.localStorage.setItem(TOKEN_KEY, payload.accessToken);
    if (payload.refreshToken) {
      window.localStorage.setItem(REFRESH_KEY, payload.refreshToken);
    }
  }

  function forget() {
    window.localStorage.removeItem(TOKEN_KEY);
    window.localStorage.removeItem(REFRESH_KEY);
    session.user = null;
    changed();
  }

  function claims(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(window.atob(part));
    } catch (error) {
      return null; // not a JWT we can read: let the server judge it
    }
  }

  // Milliseconds until the token should be renewed (0: now), or null when it cannot tell.
  function renewIn(token) {
    var c = claims(token);
    if (!c || !c.exp) {
      return null;
    }
    var lifetime = c.iat ? (c.exp - c.iat) * 1000 : RENEW_AHEAD_MS * 4;
    var ahead = Math.min(RENEW_AHEAD_MS, lifetime / 4);
    return Math.max(0, c.exp * 1000 - ahead - Date.now());
  }

  function scheduleRenewal() {
    window.clearTimeout(session.renewTimer);
    var token = accessToken();
    var wait = token && window.localStorage.getItem(REFRESH_KEY) ? renewIn(token) : null;
    if (wait !== null) {
      session.renewTimer = window.setTimeout(function () {
        renew(token);
      }, wait);
    }
  }

  function post(query, variables, token) {
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (token) {
      headers.Authorization = "Bearer " + token;
    }
    return window
      .fetch(httpUrl.toString(), {
        method: "POST",
        headers: headers,
        body: JSON.stringify({ query: query, variables: variables || {} }),
      })
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

  // Exchanges the refresh token for a new pair; true when the session goes on. `stale` is the
  // access token the caller found wanting: when another tab (or the ops dashboard) renewed it
  // meanwhile, its new token is used as it is. A refresh token works once (reuse ends the whole
  // session), so tabs take turns through a Web Lock where the browser has them.
  function renew(stale) {
    if (session.renewing) {
      return session.renewing;
    }
    var attempt = function () {
      var current = accessToken();
      if (current && current !== stale && renewIn(current) !== 0) {
        changed();
        return Promise.resolve(true);
      }
      var refreshToken = window.localStorage.getItem(REFRESH_KEY);
      if (!refreshToken) {
        return Promise.resolve(false);
      }
      return post(REFRESH, { refreshToken: refreshToken }, null).then(function (result) {
        var payload = result.data && result.data.refreshToken;
        if (payload && payload.accessToken) {
          storeTokens(payload);
          changed();
          return true;
        }
        forget(); // revoked, expired or reused: this session is over
        return false;
      });
    };
    var locked = window.navigator.locks
      ? window.navigator.locks.request("majestic.refreshToken", attempt)
      : attempt();
    session.renewing = Promise.resolve(locked)
      .catch(function () {
        return false; // the server cannot be reached: keep the tokens, try again next time
      })
      .finally(function () {
        session.renewing = null;
      });
    return session.renewing;
  }

  function freshToken() {
    var token = accessToken();
    if (token && renewIn(token) === 0) {
      return renew(token).then(accessToken);
    }
    return Promise.resolve(token);
  }

  function loadUser() {
    var token = accessToken();
    if (!token) {
      session.user = null;
      changed();
      return Promise.resolve(null);
    }
    return authorizedFetch(httpUrl.toString(), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query: ME, variables: {} }),
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (body) {
        session.user = (body.data && body.data.me) || null;
        changed();
        return session.user;
      })
      .catch(function () {
        return null;
      });
  }

  function signedIn(payload) {
    storeTokens(payload);
    return loadUser();
  }

  // Ends the session on the server too (with a renewed token if this one has expired), then here.
  function signOut() {
    return freshToken()
      .then(function (token) {
        var refreshToken = window.localStorage.getItem(REFRESH_KEY);
        return refreshToken && token ? post(SIGN_OUT, { refreshToken: refreshToken }, token) : null;
      })
      .catch(function () {}) // the server cannot be reached: this page forgets the session anyway
      .then(forget);
  }

  // Another tab signed in, renewed or signed out: follow it.
  window.addEventListener("storage", function (event) {
    if (event.key === TOKEN_KEY || event.key === null) {
      if (!accessToken()) {
        session.user = null;
        changed();
      } else if (!session.user || !event.oldValue) {
        loadUser();
      } else {
        changed();
      }
    }
  });

  // --- requests ---------------------------------------------------------------------------------

  // The headers of the latest operation, as typed in GraphiQL's headers editor.
  var editorHeaders = {};

  function typedAuthorization() {
    var names = Object.keys(editorHeaders || {});
    for (var i = 0; i < names.length; i++) {
      if (names[i].toLowerCase() === "authorization" && editorHeaders[names[i]]) {
        return String(editorHeaders[names[i]]);
      }
    }
    return null;
  }

  // fetch with the session's token (unless the request carries its own Authorization): renewed
  // first when it is about to expire, and once more on a 401. When the session cannot go on, the
  // request goes again without credentials: what anyone may see (the schema, in development)
  // still answers.
  function authorizedFetch(input, init) {
    var headers = new Headers((init && init.headers) || {});
    if (headers.has("authorization")) {
      return window.fetch(input, Object.assign({}, init, { headers: headers }));
    }
    var send = function (token) {
      var sent = new Headers(headers);
      if (token) {
        sent.set("authorization", "Bearer " + token);
      }
      return window.fetch(input, Object.assign({}, init, { headers: sent }));
    };
    return freshToken().then(function (token) {
      return send(token).then(function (response) {
        if (response.status !== 401 || !token) {
          return response;
        }
        return renew(token).then(function (renewed) {
          return send(renewed ? accessToken() : null);
        });
      });
    });
  }

  var wsClient = graphqlWs.createClient({
    url: wsUrl.toString(),
    lazy: true, // connects for the first subscription, closes after the last: fresh credentials
    connectionParams: function () {
      var typed = typedAuthorization();
      if (typed) {
        return { authorization: typed };
      }
      return freshToken().then(function (token) {
        return token ? { authorization: "Bearer " + token } : {};
      });
    },
  });

  var httpFetcher = GraphiQL.createFetcher({
    url: httpUrl.toString(),
    wsClient: wsClient,
    fetch: authorizedFetch,
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

  // --- the sign-in plugin -------------------------------------------------------------------------

  function useSession() {
    var state = React.useState(0);
    React.useEffect(function () {
      return subscribe(function () {
        state[1](function (n) {
          return n + 1;
        });
      });
    }, []);
    return { user: session.user, token: accessToken() };
  }

  function errorOf(result, field) {
    var payload = result.data && result.data[field];
    var errors = (payload && payload.errors) || result.errors || [];
    return errors.length ? errors[0].message : "Could not sign in.";
  }

  function Field(props) {
    return h(
      "label",
      { className: "majestic-field" },
      h("span", null, props.label),
      h("input", {
        name: props.name,
        type: props.type || "text",
        value: props.value,
        autoComplete: props.autoComplete,
        onChange: function (event) {
          props.onChange(event.target.value);
        },
      })
    );
  }

  function PasswordForm() {
    var username = React.useState("");
    var password = React.useState("");
    var error = React.useState("");
    var busy = React.useState(false);
    function submit(event) {
      event.preventDefault();
      busy[1](true);
      error[1]("");
      post(SIGN_IN, { username: username[0].trim(), password: password[0] }, null)
        .then(function (result) {
          var payload = result.data && result.data.signInWithPassword;
          if (payload && payload.accessToken) {
            password[1]("");
            return signedIn(payload);
          }
          error[1](errorOf(result, "signInWithPassword"));
        })
        .catch(function () {
          error[1]("The server cannot be reached.");
        })
        .finally(function () {
          busy[1](false);
        });
    }
    return h(
      "form",
      { className: "majestic-sign-in", id: "majestic-password-sign-in", onSubmit: submit },
      h("h3", null, "With a password (staff)"),
      h(Field, { label: "Username", name: "username", value: username[0], onChange: username[1], autoComplete: "username" }),
      h(Field, { label: "Password", name: "password", type: "password", value: password[0], onChange: password[1], autoComplete: "current-password" }),
      h("button", { className: "graphiql-button", type: "submit", disabled: busy[0] }, "Sign in"),
      h("p", { className: "majestic-error", role: "alert" }, error[0])
    );
  }

  function CodeForm() {
    var phone = React.useState("");
    var code = React.useState("");
    var sent = React.useState(false);
    var message = React.useState("");
    var busy = React.useState(false);
    function submit(event) {
      event.preventDefault();
      busy[1](true);
      message[1]("");
      var number = phone[0].trim();
      var request = sent[0]
        ? post(SIGN_IN_WITH_CODE, { phoneNumber: number, code: code[0].trim() }, null).then(function (result) {
            var payload = result.data && result.data.signInWithCode;
            if (payload && payload.accessToken) {
              code[1]("");
              sent[1](false);
              return signedIn(payload);
            }
            message[1](errorOf(result, "signInWithCode"));
          })
        : post(REQUEST_CODE, { phoneNumber: number }, null).then(function (result) {
            var payload = result.data && result.data.requestVerificationCode;
            if (payload && payload.expiresAt) {
              sent[1](true);
              message[1]("Code sent; it works until " + new Date(payload.expiresAt).toLocaleTimeString() + ".");
            } else {
              message[1](errorOf(result, "requestVerificationCode"));
            }
          });
      request
        .catch(function () {
          message[1]("The server cannot be reached.");
        })
        .finally(function () {
          busy[1](false);
        });
    }
    return h(
      "form",
      { className: "majestic-sign-in", id: "majestic-code-sign-in", onSubmit: submit },
      h("h3", null, "With a code sent by text"),
      h(Field, { label: "Phone number", name: "phoneNumber", type: "tel", value: phone[0], onChange: phone[1], autoComplete: "tel" }),
      sent[0] ? h(Field, { label: "Code", name: "code", value: code[0], onChange: code[1], autoComplete: "one-time-code" }) : null,
      h("button", { className: "graphiql-button", type: "submit", disabled: busy[0] }, sent[0] ? "Sign in" : "Send code"),
      h("p", { className: "majestic-error", role: "status" }, message[0])
    );
  }

  function SignInPanel() {
    var state = useSession();
    var title = h("div", { className: "graphiql-doc-explorer-title" }, "Sign in");
    if (state.token) {
      var user = state.user;
      return h(
        "div",
        { className: "majestic-session" },
        title,
        h(
          "p",
          { id: "majestic-signed-in-as" },
          user ? "Signed in as " + (user.fullName ? user.fullName + " (" + user.username + ")" : user.username) + (user.isStaff ? ", staff." : ".") : "Signed in."
        ),
        h("p", null, "Requests carry this session's token, renewed before it expires."),
        h("button", { className: "graphiql-button", type: "button", id: "majestic-sign-out", onClick: signOut }, "Sign out")
      );
    }
    return h("div", { className: "majestic-session" }, title, h(PasswordForm), h(CodeForm));
  }

  function PersonIcon(props) {
    return h(
      "svg",
      Object.assign({ viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", strokeWidth: 1.5 }, props),
      h("circle", { cx: 12, cy: 8, r: 4 }),
      h("path", { d: "M4 21c0-4.4 3.6-8 8-8s8 3.6 8 8", strokeLinecap: "round" })
    );
  }

  var signInPlugin = { title: "Sign in", icon: PersonIcon, content: SignInPanel };

  // Always on screen (in GraphiQL's logo): who is signed in. A sign-in or sign-out loads the schema
  // again: with GRAPHQL_INTROSPECTION=staff only staff see it.
  function Who() {
    var state = useSession();
    var schema = GraphiQL.React.useSchemaStore();
    var isSignedIn = !!state.token;
    var before = React.useRef(isSignedIn);
    React.useEffect(function () {
      if (before.current !== isSignedIn) {
        before.current = isSignedIn;
        schema.introspect();
      }
    }, [isSignedIn]);
    var label = !isSignedIn ? "signed out" : state.user ? state.user.username : "signed in";
    return h(
      "span",
      null,
      "Majestic ",
      h("span", { id: "majestic-who", className: "majestic-who" }, label)
    );
  }

  // --- storage without credentials ----------------------------------------------------------------

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

  // --- the page -----------------------------------------------------------------------------------

  // For the browser tests and the curious: the page's session, read-only.
  window.majesticSession = {
    user: function () {
      return session.user;
    },
    renew: function () {
      return renew(accessToken());
    },
  };

  loadUser();
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    h(
      GraphiQL,
      {
        fetcher: fetcher,
        defaultQuery: DEFAULT_QUERY,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
        storage: headerFreeStorage,
        plugins: [signInPlugin],
      },
      h(GraphiQL.Logo, null, h(Who))
    )
  );
})();
