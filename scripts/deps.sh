#!/usr/bin/env bash
# Installs the Debian packages edgewatch needs, or prints the exact command when not root.
#
#   scripts/deps.sh build    compilers, CMake, libraries (make demo)
#   scripts/deps.sh test     build + what the test suites drive (make test)
#   scripts/deps.sh cross    the aarch64 cross compiler and qemu-user (make cross)
#   scripts/deps.sh fuzz     clang and its runtimes: libFuzzer, ASan, UBSan (make fuzz)
#   scripts/deps.sh emulated qemu-system-aarch64 and the tools to build gpio-sim modules and an
#                            initramfs (make test-emulated; the arm64 kernel, headers and busybox are
#                            downloaded, not installed, by scripts/make-emulated-assets.sh)
#   scripts/deps.sh deb      dpkg-dev, fakeroot and lintian (make deb)
#   scripts/deps.sh bench    the peer servers of make bench-peers (Mosquitto, FastAPI, Flask-SocketIO)
#
# Exits 0 when everything is present (or was installed), 1 when the user must act.
set -euo pipefail

build_pkgs=(build-essential cmake ninja-build pkg-config libwebsockets-dev libmbedtls-dev
  libcjson-dev libgpiod-dev libsqlite3-dev libsystemd-dev libmosquitto-dev libavahi-client-dev
  libqrencode-dev zlib1g-dev nodejs)  # nodejs (+ npm): esbuild bundles the dashboard (web/)
test_pkgs=(libgtest-dev libgmock-dev googletest python3 python3-websockets socat
  python3-statsmodels mosquitto zbar-tools chromium dbus-daemon)
# statsmodels: the forecast accuracy check (docs/benchmarks.md); mosquitto: the MQTT tests' broker;
# zbar-tools: decodes `edgewatch pair --png`; chromium: the dashboard's headless browser tests;
# dbus-daemon: a private bus for the mDNS tests (no avahi-daemon on it).
# The dashboard's bundle and the JavaScript tests need Node and npm (playwright-core, the browser
# tests' driver, needs Node 20+). Some nodejs builds (NodeSource) ship npm themselves and conflict
# with Debian's npm package: ask for it only when the command is missing.
command -v npm >/dev/null 2>&1 || build_pkgs+=(npm)
cross_pkgs=(g++-aarch64-linux-gnu qemu-user-static)
fuzz_pkgs=(clang libclang-rt-14-dev)  # libclang-rt-14-dev ships libclang_rt.fuzzer (Debian 12)
emulated_pkgs=(qemu-system-arm cpio xz-utils make libelf1 libssl3)
deb_pkgs=(dpkg-dev fakeroot file lintian)  # make deb: CPack's DEB generator and lintian
# make bench-peers: the peers users would pick instead (docs/benchmarks.md)
bench_pkgs=(mosquitto python3-fastapi python3-uvicorn python3-flask-socketio python3-eventlet valgrind)
# python3-eventlet: Flask-SocketIO serves WebSockets only through eventlet or gevent on Debian 12.

want=()
for group in "$@"; do
  case "$group" in
    build) want+=("${build_pkgs[@]}") ;;
    test) want+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
    cross) want+=("${cross_pkgs[@]}") ;;
    fuzz) want+=("${fuzz_pkgs[@]}") ;;
    emulated) want+=("${emulated_pkgs[@]}") ;;
    deb) want+=("${deb_pkgs[@]}") ;;
    bench) want+=("${bench_pkgs[@]}") ;;
    *) echo "deps.sh: unknown group '$group' (build|test|cross|emulated|fuzz|deb|bench)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
# De-duplicate while keeping order.
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "edgewatch needs these Debian packages: ${missing[*]}" >&2
  echo "Run:  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them once per run when an install is needed.
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
