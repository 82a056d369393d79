#!/usr/bin/env bash
# Heartbeat jitter with forecasts running (docs/benchmarks.md). Builds the Release daemon if it is
# missing, then runs bench/forecast_jitter.py (baseline without forecasts, then 16 series at
# 10 points/s, context 512, horizon 96, season auto, refitted every second; 4 clients; 60 s each).
#
#   bench/forecast_jitter.sh [extra forecast_jitter.py flags, e.g. --seconds 30]
set -euo pipefail
cd "$(dirname "$0")/.."
daemon=${EDGEWATCHD:-build/release/app/edgewatchd}
if [ ! -x "$daemon" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target edgewatchd
fi
exec /usr/bin/python3 bench/forecast_jitter.py --daemon "$daemon" "$@"
