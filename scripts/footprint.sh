#!/usr/bin/env bash
# Prints the deployment footprint of edgewatchd / edgewatch for each build that has them:
# file size, stripped size, the shared libraries they need (readelf NEEDED), what those libraries
# weigh on disk beyond the C/C++ runtime every board image already has, and the newest glibc /
# libstdc++ symbol versions they require (what decides which board OS can run them).
# bench/peers.sh (make bench-peers) reads this output for docs/benchmarks.md.
#
#   scripts/footprint.sh [BUILD_DIR...]      default: build/release build/aarch64
#   SYSROOT (default build/sysroot-arm64): where an aarch64 build's libraries are looked up.
set -euo pipefail
cd "$(dirname "$0")/.."

dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(build/release build/aarch64)
sysroot=${SYSROOT:-build/sysroot-arm64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# lib_bytes ARCH LIB...: summed size of the libraries (symlinks followed) outside the C/C++
# runtime; prints "<bytes> <count> <missing names>".
lib_bytes() {
  local arch=$1; shift
  local roots total=0 count=0 missing="" lib f r
  case "$arch" in
    aarch64) roots=("$sysroot/usr/lib/aarch64-linux-gnu" "$sysroot/lib/aarch64-linux-gnu") ;;
    *) roots=(/usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu) ;;
  esac
  for lib in "$@"; do
    case "$lib" in libc.so.* | libm.so.* | libstdc++.so.* | libgcc_s.so.* | ld-linux*) continue ;; esac
    f=""
    for r in "${roots[@]}"; do
      if [ -e "$r/$lib" ]; then f=$(readlink -f "$r/$lib"); break; fi
    done
    if [ -n "$f" ]; then
      total=$((total + $(stat -c %s "$f"))); count=$((count + 1))
    else
      missing+=" $lib"
    fi
  done
  echo "$total $count$missing"
}

found=0
for d in "${dirs[@]}"; do
  [ -d "$d" ] || { echo "$d: not built"; continue; }
  for name in edgewatchd edgewatch; do
    bin=$(find "$d" -type f -name "$name" -perm -u+x 2>/dev/null | head -n1)
    if [ -z "$bin" ]; then
      echo "$d: $name not built"
      continue
    fi
    found=1
    machine=$(readelf -h "$bin" | sed -n 's/^ *Machine: *//p')
    strip="strip" arch=$machine
    case "$machine" in
      *AArch64*) strip=aarch64-linux-gnu-strip arch=aarch64 ;;
      *X86-64*) arch=x86_64 ;;
    esac
    "$strip" -o "$tmp/$name" "$bin"
    printf '%-40s %-8s %8d bytes, stripped %8d bytes\n' "$bin" "$arch" \
      "$(stat -c %s "$bin")" "$(stat -c %s "$tmp/$name")"
    needed=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | paste -sd' ')
    printf '  NEEDED: %s\n' "$needed"
    # shellcheck disable=SC2086
    read -r bytes count missing < <(lib_bytes "$arch" $needed)
    printf '  libraries beyond libc/libm/libstdc++/libgcc_s: %d files, %d bytes%s\n' "$count" "$bytes" \
      "${missing:+ (not found: $missing)}"
    vers=$(readelf -V "$bin" | grep -oE '(GLIBC|GLIBCXX|CXXABI)_[0-9.]+' | sort -u |
      awk -F_ '{print $1 "_" $2}' | sort -t_ -k1,1 -k2,2V | awk -F_ '{m[$1]=$0} END {for (k in m) printf "%s ", m[k]}')
    printf '  newest symbol versions: %s\n' "${vers:-none}"
  done
done
[ "$found" -eq 1 ] || echo "footprint: no edgewatchd/edgewatch binaries yet (make release / make cross)"
