#!/usr/bin/env bash
# Prints the deployment footprint of edgewatchd / edgewatch for each build that has them:
# file size, stripped size, the shared libraries they need (readelf NEEDED) and the newest
# glibc / libstdc++ symbol versions they require (what decides which board OS can run them).
#
#   scripts/footprint.sh [BUILD_DIR...]      default: build/release build/aarch64
set -euo pipefail
cd "$(dirname "$0")/.."

dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(build/release build/aarch64)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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
    printf '  NEEDED: %s\n' "$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | paste -sd' ')"
    vers=$(readelf -V "$bin" | grep -oE '(GLIBC|GLIBCXX|CXXABI)_[0-9.]+' | sort -u |
      awk -F_ '{print $1 "_" $2}' | sort -t_ -k1,1 -k2,2V | awk -F_ '{m[$1]=$0} END {for (k in m) printf "%s ", m[k]}')
    printf '  newest symbol versions: %s\n' "${vers:-none}"
  done
done
[ "$found" -eq 1 ] || echo "footprint: no edgewatchd/edgewatch binaries yet (make release / make cross)"
