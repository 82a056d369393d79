#!/usr/bin/env bash
# Prints the Debian Depends of the given ELF binaries (one line, e.g.
# "libc6 (>= 2.34), libwebsockets17 (>= 4.1.0), ..."), computed by dpkg-shlibdeps from the
# libraries' symbols/shlibs files, i.e. the lowest versions that provide every symbol used.
#
#   scripts/deb-depends.sh BINARY...                   host binaries: the host's dpkg database
#   scripts/deb-depends.sh --sysroot DIR BINARY...     cross binaries (arm64): the sysroot's .debs
#
# Cross mode: dpkg-shlibdeps cannot look libraries up in a sysroot unpacked with dpkg -x (no dpkg
# database there). For each NEEDED soname the script finds the .deb that ships it among the ones
# scripts/make-sysroot.sh downloaded (DIR.apt/debs), unpacks it with its control files
# (dpkg-deb -R) and hands it to dpkg-shlibdeps with -S, the option for "a package built next to
# this one": dpkg-shlibdeps then reads that package's DEBIAN/symbols. DEB_HOST_ARCH selects the
# cross objdump. Needs dpkg-dev, readelf (binutils) and, for arm64, binutils-aarch64-linux-gnu.
set -euo pipefail

sysroot=""
if [ "${1:-}" = "--sysroot" ]; then
  sysroot=$(realpath -m "$2")
  shift 2
fi
[ $# -gt 0 ] || { echo "usage: $0 [--sysroot DIR] BINARY..." >&2; exit 2; }
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian" "$work/pk"
# dpkg-shlibdeps reads debian/control for the package's own name; a stub is enough.
printf 'Source: edgewatch\n\nPackage: edgewatch\nArchitecture: any\n' >"$work/debian/control"

args=()
if [ -n "$sysroot" ]; then
  debs="$sysroot.apt/debs"
  [ -d "$debs" ] || { echo "deb-depends: $debs missing: run scripts/make-sysroot.sh $sysroot" >&2; exit 1; }
  case "$(readelf -h "${bins[0]}" | sed -n 's/.*Machine:[[:space:]]*//p')" in
    AArch64) arch=arm64 ;;
    *) echo "deb-depends: unsupported machine of ${bins[0]}" >&2; exit 1 ;;
  esac
  export DEB_HOST_ARCH=$arch
  # Index: "<path inside the package> <deb>" for every shared library in the downloaded .debs.
  for d in "$debs"/*_"$arch".deb; do
    dpkg-deb -c "$d" | awk -v deb="$d" '$6 ~ /\.so(\.[0-9]+)*$/ { sub(/^\./, "", $6); print $6, deb }'
  done >"$work/index"
  declare -A used=()
  for b in "${bins[@]}"; do
    for so in $(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      deb=$(awk -v so="$so" '{ n = split($1, p, "/"); if (p[n] == so) { print $2; exit } }' "$work/index")
      [ -n "$deb" ] || { echo "deb-depends: no package in $debs ships $so" >&2; exit 1; }
      [ -n "${used[$deb]:-}" ] && continue
      used[$deb]=1
      dir="$work/pk/$(basename "$deb" .deb)"
      dpkg-deb -R "$deb" "$dir"
      args+=("-S$dir")
    done
  done
fi

out=$(cd "$work" && dpkg-shlibdeps -O "${args[@]}" "${bins[@]}" 2> >(grep -v 'should already be installed in their package' >&2))
deps=${out#shlibs:Depends=}
[ -n "$deps" ] && [ "$deps" != "$out" ] || { echo "deb-depends: dpkg-shlibdeps printed '$out'" >&2; exit 1; }
echo "$deps"
