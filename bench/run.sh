#!/usr/bin/env bash
# make bench: the standard benchmark matrix of edgewatchd beside two peers, written to
# docs/benchmarks.md (its "Fan-out benchmarks" section only; other sections are left alone).
#
# Servers: edgewatchd (auth on, minted tokens), bench/peers/lws_broadcast (minimal libwebsockets
# broadcast) and bench/peers/ws_broadcast.mjs (Node + ws). Every run starts a fresh server pinned
# to core 0 and runs `edgewatch bench` pinned to core 1; servers are interleaved within each
# round (edgewatch, lws, node, edgewatch, lws, node, ...).
#
# Scenarios (SCENARIOS, default all):
#   cpu       100 subscribers, saturating with a window of 64 events, DURATION_S seconds
#   rate      1000 subscribers x 100 events/s for RATE_DURATION_S seconds
#   rss1k     1000 idle authenticated clients: RSS per client
#   rss10k    10 000 idle clients (edgewatchd: --max-connections 20000 --memory-mb 48)
#   callgrind user-space instructions per delivery under valgrind (edgewatchd and lws)
#   forecast  heartbeat jitter (max, p99) with forecasts running: bench/forecast_jitter.py
#             rewrites its own section of $OUT (edgewatchd only, FORECAST_SECONDS per run)
#
# Environment: REPS (5), DURATION_S (5), RATE_DURATION_S (10), SERVERS ("edgewatch lws node"),
# SCENARIOS, BUILD_DIR (build/bench), OUT (docs/benchmarks.md), RESULTS (BUILD_DIR/bench-results),
# IDLE_WAIT_S (20: how long to wait for an idle machine before each run), NO_BUILD=1.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
REPS=${REPS:-5}
DURATION_S=${DURATION_S:-5}
RATE_DURATION_S=${RATE_DURATION_S:-10}
SERVERS=${SERVERS:-"edgewatch lws node"}
SCENARIOS=${SCENARIOS:-"cpu rate rss1k rss10k callgrind forecast"}
BUILD_DIR=${BUILD_DIR:-build/bench}
OUT=${OUT:-docs/benchmarks.md}
RESULTS=${RESULTS:-$BUILD_DIR/bench-results}
IDLE_WAIT_S=${IDLE_WAIT_S:-20}
CG_SMALL=${CG_SMALL:-100}
CG_LARGE=${CG_LARGE:-600}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- Dependencies: the build's (scripts/deps.sh), valgrind, Node + npm, python3. -------------
deps() {
  scripts/deps.sh build
  local missing=()
  command -v valgrind >/dev/null || missing+=(valgrind)
  command -v python3 >/dev/null || missing+=(python3)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v taskset >/dev/null || missing+=(util-linux)
  /usr/bin/python3 -c 'import websockets' 2>/dev/null || missing+=(python3-websockets)  # forecast
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "install: sudo apt-get install ${missing[*]}"
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -d bench/peers/node_modules/ws ]; then
    log "npm ci in bench/peers"
    (cd bench/peers && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

build() {
  # Release (-O3) with debug info for callgrind's function and line names (-g does not change the
  # generated code). -Wno-error=restrict: GCC 12's bogus -Wrestrict at -O3 (docs/cross.md).
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEWATCH_BUILD_TESTS=OFF \
    "-DCMAKE_CXX_FLAGS=-g -Wno-error=restrict" -DCMAKE_C_FLAGS=-g >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target edgewatchd edgewatch lws_broadcast
}

. bench/machine.sh  # busy_jiffies, proc_jiffies, wait_idle

# --- Servers -------------------------------------------------------------------------------
SERVER_PID=""
SERVER_PORT=""
RUN_DIR=""

wait_ready() {  # FILE TIMEOUT_S
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if grep -q '"port"' "$1" 2>/dev/null; then
      SERVER_PORT=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$1")
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_server NAME [wrapper...] -- [edgewatchd extra args...]
start_server() {
  local name=$1; shift
  local wrapper=() extra=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do wrapper+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  extra=("$@")
  rm -rf "$RUN_DIR"; mkdir -p "$RUN_DIR/state"
  case "$name" in
    edgewatch)
      taskset -c 0 "${wrapper[@]}" "$BUILD_DIR/app/edgewatchd" --listen 127.0.0.1:0 \
        --ingest "$RUN_DIR/ingest.sock" --state-dir "$RUN_DIR/state" \
        --board "$ROOT/boards/generic-x86_64.json" --log-level warn --refresh-s 0 \
        --conn-rate 1000000 --conn-burst 1000000 --cpu-shed-percent 1000 --ready-fd 3 \
        "${extra[@]}" 3>"$RUN_DIR/ready" >"$RUN_DIR/server.out" 2>"$RUN_DIR/server.log" &
      ;;
    lws)
      taskset -c 0 "${wrapper[@]}" "$BUILD_DIR/bench/lws_broadcast" --port 0 \
        >"$RUN_DIR/ready" 2>"$RUN_DIR/server.log" &
      ;;
    node)
      taskset -c 0 "${wrapper[@]}" node "$ROOT/bench/peers/ws_broadcast.mjs" --port 0 \
        >"$RUN_DIR/ready" 2>"$RUN_DIR/server.log" &
      ;;
    *) die "unknown server $name" ;;
  esac
  SERVER_PID=$!
  wait_ready "$RUN_DIR/ready" 120 || { cat "$RUN_DIR/server.log" >&2; die "$name did not start"; }
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server' EXIT

target_args() {  # NAME: how `edgewatch bench` reaches the running server
  if [ "$1" = edgewatch ]; then
    echo "--url ws://127.0.0.1:$SERVER_PORT/ws --ingest $RUN_DIR/ingest.sock --secret-file $RUN_DIR/state/jwt.secret"
  else
    echo "--protocol raw --url ws://127.0.0.1:$SERVER_PORT/"
  fi
}

scenario_args() {
  case "$1" in
    cpu) echo "--subscribers 100 --window 64 --duration-s $DURATION_S" ;;
    rate) echo "--subscribers 1000 --rate 100 --duration-s $RATE_DURATION_S" ;;
    rss1k) echo "--subscribers 1000 --settle-ms 2000" ;;
    rss10k) echo "--subscribers 10000 --settle-ms 3000" ;;
  esac
}

server_extra() {  # SCENARIO NAME: extra edgewatchd flags
  if [ "$2" = edgewatch ] && [ "$1" = rss10k ]; then echo "--max-connections 20000 --memory-mb 48"; fi
}

CLI() { taskset -c 1 "$BUILD_DIR/app/cli/edgewatch" "$@"; }

run_one() {  # SCENARIO NAME REP
  local sc=$1 name=$2 rep=$3 idle m0 m1 s0 s1 t0 t1 extra
  RUN_DIR="$RESULTS/run/$sc-$name-$rep"
  idle=$(wait_idle)
  # shellcheck disable=SC2046
  start_server "$name" -- $(server_extra "$sc" "$name")
  m0=$(busy_jiffies); s0=$(proc_jiffies "$SERVER_PID"); t0=$(date +%s%N)
  # shellcheck disable=SC2046
  CLI bench --json --server-pid "$SERVER_PID" $(target_args "$name") $(scenario_args "$sc") \
    >"$RUN_DIR/bench.json" 2>"$RUN_DIR/bench.err" || true
  m1=$(busy_jiffies); s1=$(proc_jiffies "$SERVER_PID"); t1=$(date +%s%N)
  stop_server
  python3 bench/bench_report.py record "$RESULTS/runs.jsonl" --scenario "$sc" --server "$name" \
    --rep "$rep" --bench-json "$RUN_DIR/bench.json" --machine-busy-jiffies "$m0" "$m1" \
    --server-jiffies "$s0" "$s1" --wall-ns "$t0" "$t1" --idle-before-pct "$idle"
  python3 - "$RUN_DIR/bench.json" "$sc" "$name" "$rep" "$idle" <<'EOF' >&2
import json, sys
path, sc, name, rep, idle = sys.argv[1:]
try:
    b = json.load(open(path))
except Exception:
    print(f"  {sc} {name} #{rep}: NO RESULT (see {path.rsplit('/', 1)[0]}/bench.err)"); sys.exit()
s = b.get("server") or {}
print(f"  {sc} {name} #{rep}: ready {b['connect']['ready']}/{b['connect']['requested']}, "
      f"{b['delivery']['per_s']:.0f} deliveries/s, lost {b['delivery']['lost']}, "
      f"p99 {b['latency_us']['p99']/1e3:.1f} ms, cpu {s.get('cpu_us_per_delivery', 0):.2f} us/delivery, "
      f"rss/conn {s.get('rss_per_connection_bytes', 0):.0f} B, client {b['client']['cpu_percent']:.0f}%, "
      f"machine busy before {idle}%" + (f", FATAL {b['fatal']}" if b.get('fatal') else ""))
EOF
}

run_callgrind() {  # NAME
  local name=$1 n small large
  for n in "$CG_SMALL" "$CG_LARGE"; do
    RUN_DIR="$RESULTS/run/callgrind-$name-$n"
    start_server "$name" valgrind --tool=callgrind --callgrind-out-file="$RESULTS/callgrind.$name.$n" \
      --collect-systime=no -- --handshake-timeout-s 60 --auth-timeout-s 60
    # shellcheck disable=SC2046
    CLI bench --json $(target_args "$name") --subscribers 100 --rate 100 --count "$n" \
      --settle-ms 500 --drain-timeout-ms 20000 --connect-concurrency 16 \
      >"$RUN_DIR/bench.json" 2>"$RUN_DIR/bench.err" || true
    stop_server
    callgrind_annotate --inclusive=no --auto=no "$RESULTS/callgrind.$name.$n" \
      >"$RESULTS/annotate.$name.$n.txt" 2>/dev/null || true
    python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(b["delivery"]["received"])' \
      "$RUN_DIR/bench.json" >"$RUN_DIR/received" || die "callgrind run of $name failed: $(cat "$RUN_DIR/bench.err")"
  done
  small=$(cat "$RESULTS/run/callgrind-$name-$CG_SMALL/received")
  large=$(cat "$RESULTS/run/callgrind-$name-$CG_LARGE/received")
  python3 bench/bench_report.py callgrind "$RESULTS/callgrind.json" --server "$name" \
    --small "$RESULTS/callgrind.$name.$CG_SMALL" --large "$RESULTS/callgrind.$name.$CG_LARGE" \
    --small-deliveries "$small" --large-deliveries "$large" \
    --annotate-small "$RESULTS/annotate.$name.$CG_SMALL.txt" \
    --annotate-large "$RESULTS/annotate.$name.$CG_LARGE.txt" \
    --workload "100 subscribers, 100 events/s, 200-byte data; $CG_SMALL and $CG_LARGE events"
  log "callgrind $name: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["ir_per_delivery"])' "$RESULTS/callgrind.json" "$name") instructions per delivery"
}

machine_json() {
  python3 - "$REPS" <<'EOF'
import json, os, platform, re, subprocess, sys, datetime
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""
cpu = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
os_name = sh(". /etc/os-release && echo $PRETTY_NAME")
virt = sh("systemd-detect-virt 2>/dev/null") or sh("lscpu | sed -n 's/^Hypervisor vendor: *//p'")
ws = json.load(open("bench/peers/node_modules/ws/package.json"))["version"]
commit = sh("git rev-parse --short HEAD") + (" + uncommitted changes" if sh("git status --porcelain --untracked-files=no") else "")
desc = (f"{cpu}, {os.cpu_count()} cores, {mem} GiB, {os_name}, Linux {platform.release()}"
        + (f" ({virt})" if virt and virt != "none" else "")
        + f"; {sh('gcc --version | head -1')}; valgrind {sh('valgrind --version')}. "
        "The machine is shared: other processes' CPU during each scenario is given below.")
print(json.dumps({"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                  "commit": commit, "description": desc, "reps": int(sys.argv[1]),
                  "lws": sh("pkg-config --modversion libwebsockets").rstrip("-"), "node": sh("node --version"),
                  "ws": ws}))
EOF
}

main() {
  [ "$(nproc)" -ge 2 ] || die "needs 2 cores (server on core 0, load generator on core 1)"
  deps
  [ "${NO_BUILD:-0}" = 1 ] || build
  mkdir -p "$RESULTS"
  rm -rf "$RESULTS/run" "$RESULTS/runs.jsonl" "$RESULTS/callgrind.json" "$RESULTS"/callgrind.* "$RESULTS"/annotate.*
  touch "$RESULTS/runs.jsonl"
  local sc rep name
  for sc in $SCENARIOS; do
    [ "$sc" = callgrind ] || [ "$sc" = forecast ] && continue
    log "scenario $sc: $REPS rounds of: $SERVERS"
    for ((rep = 1; rep <= REPS; rep++)); do
      for name in $SERVERS; do run_one "$sc" "$name" "$rep"; done
    done
  done
  if [[ " $SCENARIOS " == *" callgrind "* ]]; then
    for name in $SERVERS; do
      [ "$name" = node ] && continue  # a JIT under valgrind measures valgrind, not the server
      log "callgrind: $name"
      run_callgrind "$name"
    done
  fi
  machine_json >"$RESULTS/machine.json"
  cat >"$RESULTS/commands.txt" <<EOF
make bench        # = bench/run.sh: installs valgrind/node/npm if missing, npm ci in bench/peers,
                  #   builds $BUILD_DIR (Release), runs the matrix, rewrites this section of $OUT
# Environment knobs: REPS=$REPS DURATION_S=$DURATION_S RATE_DURATION_S=$RATE_DURATION_S SCENARIOS="$SCENARIOS"
# One run by hand (what the script does for each figure):
taskset -c 0 $BUILD_DIR/app/edgewatchd --listen 127.0.0.1:8080 --ingest /tmp/ew/ingest.sock \\
    --state-dir /tmp/ew/state --board boards/generic-x86_64.json --log-level warn --refresh-s 0 \\
    --conn-rate 1000000 --conn-burst 1000000 --cpu-shed-percent 1000 &   # rss10k adds: --max-connections 20000 --memory-mb 48
taskset -c 1 $BUILD_DIR/app/cli/edgewatch bench --server-pid \$! --url ws://127.0.0.1:8080/ws \\
    --ingest /tmp/ew/ingest.sock --secret-file /tmp/ew/state/jwt.secret \\
    --subscribers 100 --window 64 --duration-s $DURATION_S     # cpu
    #  --subscribers 1000 --rate 100 --duration-s $RATE_DURATION_S  # rate
    #  --subscribers 1000 --settle-ms 2000                           # rss1k (no events: idle)
    #  --subscribers 10000 --settle-ms 3000                          # rss10k
taskset -c 0 $BUILD_DIR/bench/lws_broadcast --port 9001 &
taskset -c 0 node bench/peers/ws_broadcast.mjs --port 9002 &
taskset -c 1 $BUILD_DIR/app/cli/edgewatch bench --protocol raw --url ws://127.0.0.1:9001/ --server-pid PID ...
# callgrind: the server under valgrind --tool=callgrind, then
#   edgewatch bench ... --subscribers 100 --rate 100 --count $CG_SMALL (and --count $CG_LARGE)
EOF
  python3 bench/bench_report.py report "$RESULTS/runs.jsonl" --callgrind "$RESULTS/callgrind.json" \
    --machine "$RESULTS/machine.json" --commands "$RESULTS/commands.txt" \
    --results-dir "$RESULTS" --out "$OUT"
  log "wrote $OUT (raw results in $RESULTS)"
  if [[ " $SCENARIOS " == *" forecast "* ]]; then
    log "forecast: heartbeat jitter with forecasts running"
    /usr/bin/python3 bench/forecast_jitter.py --daemon "$BUILD_DIR/app/edgewatchd" \
      --seconds "${FORECAST_SECONDS:-60}" --out "$OUT" || log "forecast: skipped (see above)"
  fi
}

main "$@"
