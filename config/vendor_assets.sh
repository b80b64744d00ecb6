#!/usr/bin/env bash
# Refreshes the browser libraries that GraphiQL and the ops dashboard load from /static/graphiql/vendor/.
# They are committed (many deployments are offline, and nothing is fetched from a CDN at run time);
# run this only to change a version, then commit the result. Needs npm and the npm registry.
set -euo pipefail
cd "$(dirname "$0")"
GRAPHIQL=4.1.2  # the last GraphiQL with a browser (UMD) build; 5 ships ES modules for a bundler only
REACT=18.3.1  # the last React with a browser (UMD) build; GraphiQL 4 supports 18 and 19
GRAPHQL_WS=5.16.2
UPLOT=1.6.32  # the ops dashboard's charts: ~50 KB, canvas, no dependencies
out=static/graphiql/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && for p in "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" "graphql-ws@$GRAPHQL_WS" "uplot@$UPLOT"; do
  npm pack --silent "$p" >/dev/null
done && for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done)
mkdir -p "$out"
cp "$work/graphiql-$GRAPHIQL/package/graphiql.min.js" "$work/graphiql-$GRAPHIQL/package/graphiql.min.css" "$out/"
cp "$work/react-$REACT/package/umd/react.production.min.js" "$out/"
cp "$work/react-dom-$REACT/package/umd/react-dom.production.min.js" "$out/"
cp "$work/graphql-ws-$GRAPHQL_WS/package/umd/graphql-ws.min.js" "$out/"
cp "$work/uplot-$UPLOT/package/dist/uPlot.iife.min.js" "$work/uplot-$UPLOT/package/dist/uPlot.min.css" "$out/"
# The source maps are not shipped: drop the references, or browsers ask for them and get a 404.
sed -i -e 's|//# sourceMappingURL=.*$||' -e 's|/\*# sourceMappingURL=[^*]*\*/||' "$out"/*.js "$out"/*.css
{
  echo "Browser libraries vendored by config/vendor_assets.sh (from the npm registry)."
  echo "graphiql $GRAPHIQL, react $REACT, react-dom $REACT, graphql-ws $GRAPHQL_WS, uplot $UPLOT"
  for pkg in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT" "graphql-ws-$GRAPHQL_WS" "uplot-$UPLOT"; do
    echo; echo "===== $pkg ====="; cat "$work/$pkg/package/LICENSE"* 2>/dev/null || true
  done
} > "$out/LICENSES.txt"
ls -la "$out"
