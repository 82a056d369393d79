#!/usr/bin/env bash
# Starts edgewatchd on the simulated board with the demo pipeline, in the foreground.
# Used by `make demo`; HOST/PORT come from the Makefile (defaults 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."

host=127.0.0.1
port=8080
while [ $# -gt 0 ]; do
  case "$1" in
    --host) host=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) echo "demo.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

bin=build/release/app
cli=build/release/app/cli/edgewatch
state=build/demo-state
ingest=build/demo-state/ingest.sock
secret=$state/jwt.secret
mkdir -p "$state"
chmod 700 "$state"

# The dashboard served at / (docs/dashboard.md): bundled by esbuild, which needs Node and
# web/node_modules (scripts/deps.sh build, scripts/js-deps.sh). Without them the API still works.
web=build/release/dashboard
if command -v node >/dev/null 2>&1 && scripts/js-deps.sh &&
  cmake --preset release >/dev/null && cmake --build --preset release --target edgewatch_web >/dev/null; then
  dashboard="http://$host:$port/#token="
else
  echo "demo.sh: the dashboard is not built (needs node and npm: scripts/deps.sh build); / answers 404" >&2
  dashboard="(no dashboard) http://$host:$port/#token="
fi

# Auth stays on: mint a demo token with the gateway's secret (created here on the first run).
token=$("$cli" token --secret-file "$secret" --sub demo --ttl 7d \
  --scope "read:# write:pipeline/# write:alerts write:notifications/#")

cat <<EOT

  edgewatch demo — simulated board, two synthetic cameras and a training run

  Open:    $dashboard$token
  Health:  http://$host:$port/healthz
  Watch:   $cli tail --url ws://$host:$port/ws --token $token 'pipeline/#'
  Publish: $cli publish --ingest $ingest pipeline/cam3/error \\
             '{"pipeline_id":"cam3","error_message":"lens covered","severity":"high"}'
  Tokens:  $cli token --secret-file $secret --sub phone1 --scope 'read:pipeline/#'

  Ctrl-C stops it.

EOT
export EDGEWATCH_BOARDS_DIR="$PWD/boards"
exec "$bin/edgewatchd" --board boards/generic-x86_64.json --demo \
  --listen "$host:$port" --state-dir "$state" --ingest "$ingest" --jwt-secret-file "$secret" \
  --web-root "$web"
