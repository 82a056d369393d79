#!/usr/bin/env bash
# make bench-peers: edgewatchd beside what a user would pick instead, same machine, same run, same
# load generator (`edgewatch bench`), written to docs/benchmarks.md (its "make bench-peers"
# section; the instructions-per-delivery history table keeps its old rows and gains one).
#
# Servers (SERVERS, default all), each started fresh for every run, on loopback, pinned to core 0
# while the load generator runs on core 1; interleaved within each round:
#   edgewatch  edgewatchd (auth on: minted tokens, first-frame auth, subscribe bench/#; ingest)
#   lws        bench/peers/lws_broadcast (minimal libwebsockets broadcast)           --protocol raw
#   node       bench/peers/ws_broadcast.mjs (Node + ws)                              --protocol raw
#   mosquitto  Mosquitto 2.0 (Debian), WebSocket listener, MQTT 3.1.1 QoS 0        --protocol mqtt
#   fastapi    bench/peers/fastapi_broadcast.py (FastAPI + uvicorn)                  --protocol raw
#   flask      bench/peers/flask_socketio_broadcast.py (Flask-SocketIO, eventlet) --protocol socketio
#
# Scenarios (SCENARIOS, default all):
#   cpu     1 publisher -> 100 subscribers, saturating with 64 events in flight, DURATION_S
#   rate    1000 subscribers x 100 events/s for RATE_DURATION_S
#   slow    as rate, but subscriber 0 of the 1000 never reads after subscribing (4 KiB receive
#           buffer): the other 999's latency, to compare with `rate`
#   rss1k   1000 idle clients: RSS per client
#   rss10k  10 000 idle clients
#   storm   5000 clients connecting at once (no handshake limit): accepted (ready) per second
#   callgrind  edgewatchd under valgrind --tool=callgrind, fixed workload: instructions per
#           delivery, appended as a dated row to the history table
#   footprint  stripped sizes and libraries (scripts/footprint.sh, x86_64 and aarch64), idle RSS,
#           start-up time to the first accepted WebSocket (bench/startup_time.py; also under
#           qemu-aarch64 when an aarch64 build and its sysroot exist)
#
# Environment: REPS (3), DURATION_S (3), RATE_DURATION_S (6), SERVERS, SCENARIOS,
# BUILD_DIR (build/release: what `make release` produces; must hold app/edgewatchd,
# app/cli/edgewatch and bench/lws_broadcast — built here unless NO_BUILD=1), ARM_DIR
# (build/aarch64), OUT (docs/benchmarks.md), RESULTS (BUILD_DIR/bench-peers-results),
# IDLE_WAIT_S (2), NO_DEPS=1 (skip installing the peers).
# Every run is bounded (RUN_TIMEOUT_<scenario>); a peer that cannot finish is reported as such.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
REPS=${REPS:-3}
DURATION_S=${DURATION_S:-3}
RATE_DURATION_S=${RATE_DURATION_S:-6}
SERVERS=${SERVERS:-"edgewatch lws node mosquitto fastapi flask"}
SCENARIOS=${SCENARIOS:-"cpu rate slow rss1k rss10k storm callgrind footprint"}
BUILD_DIR=${BUILD_DIR:-build/release}
ARM_DIR=${ARM_DIR:-build/aarch64}
OUT=${OUT:-docs/benchmarks.md}
RESULTS=${RESULTS:-$BUILD_DIR/bench-peers-results}
IDLE_WAIT_S=${IDLE_WAIT_S:-2}
CG_SMALL=${CG_SMALL:-100}
CG_LARGE=${CG_LARGE:-600}
PY=/usr/bin/python3  # Debian's packages (fastapi, uvicorn, flask_socketio) live there

log() { printf '[bench-peers %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

run_timeout() {  # SCENARIO: seconds one load-generator run may take before SIGTERM
  case "$1" in
    cpu) echo $((DURATION_S + 30)) ;;
    rate | slow) echo $((RATE_DURATION_S + 22)) ;;
    rss1k) echo 40 ;;
    rss10k) echo 90 ;;
    storm) echo 75 ;;
    *) echo 60 ;;
  esac
}

# --- Dependencies --------------------------------------------------------------------------
deps() {
  scripts/deps.sh build
  scripts/deps.sh bench  # mosquitto, python3-fastapi, python3-uvicorn, python3-flask-socketio, valgrind
  local missing=()
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v taskset >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || die "install: sudo apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -d bench/peers/node_modules/ws ]; then
    (cd bench/peers && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# Flask-SocketIO serves WebSockets only with eventlet or gevent (its threading mode needs
# simple-websocket, not in Debian 12). Prints why flask cannot run, or nothing.
flask_unavailable() {
  $PY -c 'import flask_socketio, eventlet' 2>/dev/null && return 0
  echo "Flask-SocketIO needs python3-eventlet for its WebSocket transport (not installed)"
}

build() {
  [ "${NO_BUILD:-0}" = 1 ] && return 0
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target edgewatchd edgewatch lws_broadcast
}

. bench/machine.sh  # busy_jiffies, proc_jiffies, wait_idle

# --- Servers -------------------------------------------------------------------------------
SERVER_PID=""
SERVER_PORT=""
RUN_DIR=""

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_ready() {  # FILE TIMEOUT_S: the server's {"port":N} line
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if grep -q '"port"' "$1" 2>/dev/null; then
      SERVER_PORT=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$1")
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

wait_listening() {  # PORT TIMEOUT_S: for servers that print nothing (mosquitto)
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      printf '{"port":%d,"pid":%d}\n' "$1" "$SERVER_PID" >"$RUN_DIR/ready"
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# start_server NAME SCENARIO [wrapper...]: starts NAME on core 0, sets SERVER_PID/SERVER_PORT.
start_server() {
  local name=$1 sc=$2; shift 2
  local wrapper=("$@") extra=()
  rm -rf "$RUN_DIR"; mkdir -p "$RUN_DIR/state"
  case "$name" in
    edgewatch)
      # Admission limits opened for the big idle and storm scenarios (as make bench does).
      case "$sc" in
        rss10k | storm) extra=(--max-connections 20000 --memory-mb 48) ;;
        callgrind) extra=(--handshake-timeout-s 60 --auth-timeout-s 60) ;;  # valgrind is slow
      esac
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
      taskset -c 0 node "$ROOT/bench/peers/ws_broadcast.mjs" --port 0 \
        >"$RUN_DIR/ready" 2>"$RUN_DIR/server.log" &
      ;;
    fastapi)
      taskset -c 0 $PY "$ROOT/bench/peers/fastapi_broadcast.py" --port 0 \
        >"$RUN_DIR/ready" 2>"$RUN_DIR/server.log" &
      ;;
    flask)
      taskset -c 0 $PY "$ROOT/bench/peers/flask_socketio_broadcast.py" --port 0 \
        >"$RUN_DIR/ready" 2>"$RUN_DIR/server.log" &
      ;;
    mosquitto)
      local ws mq
      ws=$(free_port); mq=$(free_port)
      # Mosquitto 2.0.11 starts a WebSocket listener only beside a plain one (mosquitto#2284), and
      # binds WebSocket listeners to an interface, not an address (mosquitto#3383): "lo".
      sed -e "s/@MQTT_PORT@/$mq/" -e "s/@WS_PORT@/$ws/" "$ROOT/bench/peers/mosquitto.conf.in" \
        >"$RUN_DIR/mosquitto.conf"
      taskset -c 0 mosquitto -c "$RUN_DIR/mosquitto.conf" >"$RUN_DIR/server.out" 2>"$RUN_DIR/server.log" &
      SERVER_PID=$!
      wait_listening "$ws" 30 || { cat "$RUN_DIR/server.log" >&2; return 1; }
      SERVER_PORT=$ws
      return 0
      ;;
    *) die "unknown server $name" ;;
  esac
  SERVER_PID=$!
  wait_ready "$RUN_DIR/ready" 120 || { cat "$RUN_DIR/server.log" >&2; return 1; }
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap 'stop_server' EXIT

target_args() {  # NAME: how `edgewatch bench` reaches the running server
  case "$1" in
    edgewatch) echo "--url ws://127.0.0.1:$SERVER_PORT/ws --ingest $RUN_DIR/ingest.sock --secret-file $RUN_DIR/state/jwt.secret" ;;
    mosquitto) echo "--protocol mqtt --url ws://127.0.0.1:$SERVER_PORT/mqtt" ;;
    flask) echo "--protocol socketio --url ws://127.0.0.1:$SERVER_PORT/socket.io/" ;;
    *) echo "--protocol raw --url ws://127.0.0.1:$SERVER_PORT/" ;;
  esac
}

scenario_args() {
  case "$1" in
    cpu) echo "--subscribers 100 --window 64 --duration-s $DURATION_S" ;;
    rate) echo "--subscribers 1000 --rate 100 --duration-s $RATE_DURATION_S" ;;
    slow) echo "--subscribers 1000 --slow-subscribers 1 --rate 100 --duration-s $RATE_DURATION_S" ;;
    rss1k) echo "--subscribers 1000 --settle-ms 2000 --connect-timeout-s 30" ;;
    rss10k) echo "--subscribers 10000 --settle-ms 3000 --connect-timeout-s 75" ;;
    storm) echo "--subscribers 5000 --connect-concurrency 5000 --settle-ms 200 --connect-timeout-s 60" ;;
  esac
}

CLI() { taskset -c 1 "$BUILD_DIR/app/cli/edgewatch" "$@"; }

run_one() {  # SCENARIO NAME REP
  local sc=$1 name=$2 rep=$3 idle m0 m1 s0 s1 t0 t1
  RUN_DIR="$RESULTS/run/$sc-$name-$rep"
  idle=$(wait_idle)
  if ! start_server "$name" "$sc"; then
    log "  $sc $name #$rep: the server did not start (see $RUN_DIR/server.log)"
    stop_server
    echo '{"fatal":"server did not start"}' >"$RUN_DIR/bench.json"
    return 0
  fi
  m0=$(busy_jiffies); s0=$(proc_jiffies "$SERVER_PID"); t0=$(date +%s%N)
  # shellcheck disable=SC2046
  timeout -s TERM -k 10 "$(run_timeout "$sc")" taskset -c 1 "$BUILD_DIR/app/cli/edgewatch" bench \
    --json --server-pid "$SERVER_PID" $(target_args "$name") $(scenario_args "$sc") \
    >"$RUN_DIR/bench.json" 2>"$RUN_DIR/bench.err" || true
  m1=$(busy_jiffies); s1=$(proc_jiffies "$SERVER_PID"); t1=$(date +%s%N)
  stop_server
  $PY bench/bench_report.py record "$RESULTS/runs.jsonl" --scenario "$sc" --server "$name" \
    --rep "$rep" --bench-json "$RUN_DIR/bench.json" --machine-busy-jiffies "$m0" "$m1" \
    --server-jiffies "$s0" "$s1" --wall-ns "$t0" "$t1" --idle-before-pct "$idle"
  $PY bench/peers_report.py summary "$RUN_DIR/bench.json" "$sc $name #$rep" >&2 || true
}

run_callgrind() {  # edgewatchd only: the figure tracked over time
  local n
  for n in "$CG_SMALL" "$CG_LARGE"; do
    RUN_DIR="$RESULTS/run/callgrind-edgewatch-$n"
    start_server edgewatch callgrind valgrind --tool=callgrind \
      --callgrind-out-file="$RESULTS/callgrind.edgewatch.$n" --collect-systime=no \
      || die "edgewatchd did not start under valgrind"
    # shellcheck disable=SC2046
    timeout -s TERM -k 10 300 taskset -c 1 "$BUILD_DIR/app/cli/edgewatch" bench --json \
      $(target_args edgewatch) --subscribers 100 --rate 100 --count "$n" --settle-ms 500 \
      --drain-timeout-ms 20000 --connect-concurrency 16 \
      >"$RUN_DIR/bench.json" 2>"$RUN_DIR/bench.err" || true
    stop_server
    $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["delivery"]["received"])' \
      "$RUN_DIR/bench.json" >"$RUN_DIR/received" || die "callgrind run failed: $(cat "$RUN_DIR/bench.err")"
  done
  $PY bench/bench_report.py callgrind "$RESULTS/callgrind.json" --server edgewatch \
    --small "$RESULTS/callgrind.edgewatch.$CG_SMALL" --large "$RESULTS/callgrind.edgewatch.$CG_LARGE" \
    --small-deliveries "$(cat "$RESULTS/run/callgrind-edgewatch-$CG_SMALL/received")" \
    --large-deliveries "$(cat "$RESULTS/run/callgrind-edgewatch-$CG_LARGE/received")" \
    --workload "100 subscribers, 100 events/s, 200-byte data; $CG_SMALL and $CG_LARGE events"
}

run_footprint() {
  local dirs=("$BUILD_DIR")
  [ -d "$ARM_DIR" ] && dirs+=("$ARM_DIR")
  scripts/footprint.sh "${dirs[@]}" >"$RESULTS/footprint.txt" 2>&1 || true
  $PY bench/startup_time.py --daemon "$BUILD_DIR/app/edgewatchd" --board boards/generic-x86_64.json \
    --runs 5 --cpu 0 >"$RESULTS/startup.x86_64.json" || log "start-up time (x86_64) failed"
  local sysroot=${SYSROOT:-build/sysroot-arm64}
  if [ -x "$ARM_DIR/app/edgewatchd" ] && [ -d "$sysroot" ] && command -v qemu-aarch64-static >/dev/null; then
    $PY bench/startup_time.py --daemon "$ARM_DIR/app/edgewatchd" --board boards/generic-x86_64.json \
      --runs 3 --cpu 0 --wrapper "qemu-aarch64-static -L $sysroot" \
      >"$RESULTS/startup.aarch64-qemu.json" || log "start-up time under qemu failed"
  fi
}

machine_json() {
  $PY - "$REPS" <<'EOF'
import json, os, platform, subprocess, sys, datetime
def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
cpu = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
virt = sh("systemd-detect-virt 2>/dev/null") or sh("lscpu | sed -n 's/^Hypervisor vendor: *//p'")
def deb(p):
    return sh(f"dpkg-query -W -f='${{Version}}' {p} 2>/dev/null") or "not installed"
commit = sh("git rev-parse --short HEAD") + (" + uncommitted changes" if sh("git status --porcelain --untracked-files=no") else "")
print(json.dumps({
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "day": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
    "commit": commit, "reps": int(sys.argv[1]),
    "description": (f"{cpu}, {os.cpu_count()} cores, {mem} GiB, {sh('. /etc/os-release && echo $PRETTY_NAME')}, "
                    f"Linux {platform.release()}" + (f" ({virt})" if virt and virt != "none" else "")
                    + f"; {sh('gcc --version | head -1')}"),
    "load": sh("cat /proc/loadavg"),
    "versions": {"lws": sh("pkg-config --modversion libwebsockets"), "node": sh("node --version"),
                 "ws": json.load(open("bench/peers/node_modules/ws/package.json"))["version"],
                 "mosquitto": deb("mosquitto"), "fastapi": deb("python3-fastapi"),
                 "uvicorn": deb("python3-uvicorn"), "websockets": deb("python3-websockets"),
                 "flask-socketio": deb("python3-flask-socketio"), "eventlet": deb("python3-eventlet"),
                 "valgrind": sh("valgrind --version")}}))
EOF
}

main() {
  [ "$(nproc)" -ge 2 ] || die "needs 2 cores (server on core 0, load generator on core 1)"
  [ "${NO_DEPS:-0}" = 1 ] || deps
  build
  local need=(app/cli/edgewatch)
  [[ " $SERVERS $SCENARIOS " == *" edgewatch "* || " $SCENARIOS " == *" callgrind "* ||
     " $SCENARIOS " == *" footprint "* ]] && need+=(app/edgewatchd)
  [[ " $SERVERS " == *" lws "* ]] && need+=(bench/lws_broadcast)
  for f in "${need[@]}"; do
    [ -x "$BUILD_DIR/$f" ] || die "$BUILD_DIR/$f missing (make release, or BUILD_DIR=...)"
  done
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"  # 10 000 clients, for every peer
  mkdir -p "$RESULTS"
  rm -rf "$RESULTS/run" "$RESULTS/runs.jsonl" "$RESULTS"/callgrind.* "$RESULTS"/startup.* "$RESULTS/skipped.txt"
  touch "$RESULTS/runs.jsonl" "$RESULTS/skipped.txt"
  local servers=() why name sc rep
  for name in $SERVERS; do
    why=""
    [ "$name" = flask ] && why=$(flask_unavailable)
    if [ -n "$why" ]; then
      log "skipping flask: $why"
      echo "flask: $why" >>"$RESULTS/skipped.txt"
    else
      servers+=("$name")
    fi
  done
  machine_json >"$RESULTS/machine.json"
  for sc in $SCENARIOS; do
    case "$sc" in callgrind | footprint) continue ;; esac
    log "scenario $sc: $REPS rounds of: ${servers[*]}"
    for ((rep = 1; rep <= REPS; rep++)); do
      for name in "${servers[@]}"; do run_one "$sc" "$name" "$rep"; done
    done
  done
  if [[ " $SCENARIOS " == *" callgrind "* ]]; then
    log "callgrind: edgewatchd"
    run_callgrind
  fi
  if [[ " $SCENARIOS " == *" footprint "* ]]; then
    log "footprint"
    run_footprint
  fi
  $PY bench/peers_report.py report --results "$RESULTS" --out "$OUT" \
    --command "make bench-peers BUILD_DIR=$BUILD_DIR REPS=$REPS DURATION_S=$DURATION_S RATE_DURATION_S=$RATE_DURATION_S"
  log "wrote $OUT (raw results in $RESULTS)"
}

main "$@"
