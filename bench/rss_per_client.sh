#!/usr/bin/env bash
# RSS per idle authenticated client of edgewatchd (the rss1k/rss10k scenarios of make bench,
# edgewatchd only): N subscribers connect, authenticate and subscribe, then sit idle; the bench
# tool reports (RSS with clients - RSS before) / N. Runs it RUNS times and prints the median.
#
#   bench/rss_per_client.sh [N] [RUNS] [BUILD_DIR]     default: 10000 3 build/release
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
runs=${2:-3}
build=${3:-build/release}
values=()
for i in $(seq "$runs"); do
  dir=$(mktemp -d)
  exec 3< <(EDGEWATCH_BOARDS_DIR=$PWD/boards taskset -c 0 "$build/app/edgewatchd" \
    --board boards/generic-x86_64.json --listen 127.0.0.1:0 --ingest "$dir/ingest.sock" \
    --state-dir "$dir/state" --max-connections 20000 --memory-mb 48 --conn-rate 1000000 \
    --conn-burst 1000000 --cpu-shed-percent 101 --ready-fd 4 4>&1 >/dev/null 2>"$dir/stderr")
  read -r -t 20 ready <&3
  pid=$(sed 's/.*"pid":\([0-9]*\).*/\1/' <<<"$ready")
  port=$(sed 's/.*"port":\([0-9]*\).*/\1/' <<<"$ready")
  taskset -c 1 "$build/app/cli/edgewatch" bench --json --server-pid "$pid" \
    --url "ws://127.0.0.1:$port/ws" --ingest "$dir/ingest.sock" \
    --secret-file "$dir/state/jwt.secret" --subscribers "$n" --settle-ms 3000 >"$dir/bench.json"
  v=$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("rss_per_connection_bytes") or d["server"]["rss_per_connection_bytes"])' "$dir/bench.json")
  values+=("$v")
  echo "run $i: $v bytes per client ($n clients)"
  kill -TERM "$pid"; exec 3<&-; rm -rf "$dir"
done
printf '%s\n' "${values[@]}" | sort -n | awk '{a[NR]=$1} END{print "median: " a[int((NR+1)/2)] " bytes per idle client"}'
