#!/usr/bin/env bash
# Builds the edgewatch .deb packages (make deb): a Release build with Debian's hardening flags
# (dpkg-buildflags, hardening=+all) and prefix /usr, Depends from dpkg-shlibdeps
# (scripts/deb-depends.sh), CPack's DEB generator (cmake/Packaging.cmake), then lintian.
#
#   scripts/make-deb.sh [amd64] [arm64]      default: both
#
# Output: build/deb/edgewatch_<version>-<rev>_<arch>.deb (and .lintian.txt next to each).
# Environment:
#   STATIC_LWS=1        link libwebsockets statically (EDGEWATCH_STATIC_LWS; for Jetson boards on
#                       Ubuntu 22.04): build dirs get a -static-lws suffix, packages go to
#                       build/deb/static-lws/
#   DEB_BUILD_AMD64 / DEB_BUILD_ARM64   build directories (default build/deb-amd64, build/deb-arm64)
#   EDGEWATCH_SYSROOT   arm64 sysroot (default build/sysroot-arm64; make sysroot)
#   JOBS                build parallelism (default nproc)
#   LINTIAN=0           skip lintian
# Exits non-zero when a build fails or lintian reports an error (E:).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64)
jobs=${JOBS:-$(nproc)}
static=${STATIC_LWS:-0}
suffix=""
out=$root/build/deb
if [ "$static" = 1 ]; then
  suffix=-static-lws
  out=$root/build/deb/static-lws
fi
sysroot=$(realpath -m "${EDGEWATCH_SYSROOT:-build/sysroot-arm64}")
log() { echo "make-deb: $*" >&2; }
mkdir -p "$out"

# Debian's flags for packages: -O2 is overridden by Release's -O3; -g is left out (stripped anyway).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
flags() { dpkg-buildflags --get "$1" | sed 's/-g //; s/ -g$//'; }
cppflags=$(flags CPPFLAGS)
cflags="$cppflags $(flags CFLAGS)"
cxxflags="$cppflags $(flags CXXFLAGS)"
ldflags=$(flags LDFLAGS)
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$root
fi

# The dashboard's esbuild and uPlot (web/node_modules), when Node is there.
if command -v node >/dev/null 2>&1 && [ ! -d web/node_modules/esbuild ]; then
  scripts/js-deps.sh || log "WARNING: scripts/js-deps.sh failed: packages without the dashboard"
fi

status=0
for arch in "${arches[@]}"; do
  start=$(date +%s)
  case "$arch" in
    amd64)
      dir=$(realpath -m "${DEB_BUILD_AMD64:-build/deb-amd64}$suffix")
      cross=()
      depends_args=()
      ;;
    arm64)
      dir=$(realpath -m "${DEB_BUILD_ARM64:-build/deb-arm64}$suffix")
      export EDGEWATCH_SYSROOT=$sysroot
      cross=(-DCMAKE_TOOLCHAIN_FILE="$root/toolchains/aarch64-linux-gnu.cmake")
      depends_args=(--sysroot "$sysroot")
      ;;
    *) log "unknown architecture '$arch' (amd64|arm64)"; exit 2 ;;
  esac
  log "$arch: configuring $dir"
  cmake -S "$root" -B "$dir" -G Ninja "${cross[@]}" "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DEDGEWATCH_BUILD_TESTS=OFF \
    -DEDGEWATCH_STATIC_LWS="$([ "$static" = 1 ] && echo ON || echo OFF)" \
    -DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cxxflags" \
    -DCMAKE_EXE_LINKER_FLAGS="$ldflags" >"$dir.configure.log" 2>&1 || {
    cat "$dir.configure.log" >&2
    exit 1
  }
  targets=(edgewatchd edgewatch)
  # The dashboard bundle (web/CMakeLists.txt; needs node and web/node_modules).
  build_targets=$(cmake --build "$dir" --target help)
  if grep -q '^edgewatch_web:' <<<"$build_targets"; then
    targets+=(edgewatch_web)
  else
    log "$arch: WARNING: no dashboard bundle in this package (needs node and web/node_modules:" \
      "scripts/js-deps.sh)"
  fi
  log "$arch: building ${targets[*]} (-j$jobs)"
  cmake --build "$dir" -j "$jobs" --target "${targets[@]}"
  depends=$(scripts/deb-depends.sh "${depends_args[@]}" "$dir/app/edgewatchd" "$dir/app/cli/edgewatch")
  depends="$depends, passwd"
  log "$arch: Depends: $depends"
  rm -rf "$dir/packages"
  (cd "$dir" && cpack -G DEB -D CPACK_DEBIAN_PACKAGE_SHLIBDEPS=OFF \
    -D "CPACK_DEBIAN_PACKAGE_DEPENDS=$depends" >"$dir/cpack.log" 2>&1) || {
    cat "$dir/cpack.log" >&2
    exit 1
  }
  deb=$(ls "$dir"/packages/edgewatch_*_"$arch".deb)
  cp "$deb" "$out/"
  deb="$out/$(basename "$deb")"
  log "$arch: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB, $(( $(date +%s) - start )) s"
  # The unit and a generated board drop-in, as systemd would load them from the package's files.
  if command -v systemd-analyze >/dev/null 2>&1 && [ -d /lib/systemd/system ]; then
    vroot="$dir/verify-root"
    rm -rf "$vroot"
    mkdir -p "$vroot"
    dpkg-deb -x "$deb" "$vroot"
    cp -an /lib/systemd/system/. "$vroot/lib/systemd/system/"  # the targets the unit refers to
    printf 'Raspberry Pi 4 Model B Rev 1.4\0' >"$vroot/model"
    EDGEWATCH_MODEL_FILE="$vroot/model" EDGEWATCH_BOARDS_DIR="$vroot/usr/share/edgewatch/boards" \
      EDGEWATCH_DROPIN_DIR="$vroot/etc/systemd/system/edgewatch.service.d" \
      sh "$vroot/usr/lib/edgewatch/edgewatch-select-board" 2>/dev/null
    if verify=$(systemd-analyze verify --root="$vroot" /lib/systemd/system/edgewatch.service 2>&1) &&
      [ -z "$verify" ]; then
      log "$arch: systemd-analyze verify: unit and board drop-in OK"
    else
      log "$arch: systemd-analyze verify reported:"
      echo "$verify" >&2
      status=1
    fi
  fi
  if [ "${LINTIAN:-1}" = 1 ] && command -v lintian >/dev/null 2>&1; then
    lintian --info --display-info --pedantic "$deb" >"${deb%.deb}.lintian.txt" 2>&1 || true
    errors=$(grep -c '^E:' "${deb%.deb}.lintian.txt" || true)
    warnings=$(grep -c '^W:' "${deb%.deb}.lintian.txt" || true)
    log "$arch: lintian: $errors errors, $warnings warnings (${deb%.deb}.lintian.txt)"
    grep '^[EW]:' "${deb%.deb}.lintian.txt" >&2 || true
    [ "$errors" -eq 0 ] || status=1
  fi
done
exit $status
