#!/usr/bin/env bash
# Idle footprint of edgewatchd: starts it N times (no clients, no demo, auth on), waits for its
# ready line, reads VmRSS from /proc/PID/status, stops it; prints each figure and the median.
#
#   bench/idle_rss.sh [BUILD_DIR] [RUNS]      default: build/release 5
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
runs=${2:-5}
bin=$build/app/edgewatchd
[ -x "$bin" ] || { echo "idle_rss: $bin not built (make release)" >&2; exit 1; }
values=()
for i in $(seq "$runs"); do
  dir=$(mktemp -d)
  exec 3< <(EDGEWATCH_BOARDS_DIR=$PWD/boards "$bin" --board boards/generic-x86_64.json \
    --listen 127.0.0.1:0 --ingest "$dir/ingest.sock" --state-dir "$dir/state" \
    --ready-fd 4 4>&1 >/dev/null 2>"$dir/stderr")
  read -r -t 20 ready <&3 || { echo "idle_rss: no ready line" >&2; cat "$dir/stderr" >&2; exit 1; }
  pid=$(sed 's/.*"pid":\([0-9]*\).*/\1/' <<<"$ready")
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
  values+=("$rss")
  echo "run $i: VmRSS ${rss} KiB"
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do wait "$pid" 2>/dev/null || true; done
  exec 3<&-
  rm -rf "$dir"
done
median=$(printf '%s\n' "${values[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
echo "median idle RSS: ${median} KiB over $runs runs"
