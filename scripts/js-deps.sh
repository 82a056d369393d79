#!/usr/bin/env bash
# Installs the JavaScript dependencies pinned in web/package-lock.json with `npm ci`, when
# web/node_modules is missing or older than the lockfile: `ws` and `socket.io-client` (the tests
# under tests/js), uPlot and esbuild (the dashboard's bundle), playwright-core (its browser tests,
# driving Debian's chromium; no browser is downloaded). The client itself
# (web/edgewatch-client.js) has no dependencies. Called by `make test` and the web build.
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v npm >/dev/null 2>&1; then
  echo "js-deps: npm not found; run scripts/deps.sh test" >&2
  exit 1
fi
want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.edgewatch-lock.sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "js-deps: npm ci --prefix web" >&2
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
