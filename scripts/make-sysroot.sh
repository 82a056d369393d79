#!/usr/bin/env bash
# Assembles a private arm64 sysroot from Debian's arm64 packages, without touching the host's dpkg
# state (no multiarch, no dpkg lock, no host upgrades): an APT configuration of its own resolves,
# downloads and unpacks the -dev packages edgewatch links against, plus their dependencies.
#
#   scripts/make-sysroot.sh [DIR]        default DIR: build/sysroot-arm64
#
# Re-running is cheap: DIR/.edgewatch-sysroot.stamp records the package list (and the apt sources);
# when it matches, nothing is done. Delete DIR (or change the list) to rebuild.
# The APT state (lists, .deb cache) lives next to DIR in DIR.apt/, so a rebuild re-downloads only
# what changed. Needs apt-get and dpkg-deb (any Debian/Ubuntu host); does not need root.
set -euo pipefail

PACKAGES=(libwebsockets-dev libmbedtls-dev libcjson-dev libgpiod-dev libgtest-dev libgmock-dev
  libsqlite3-dev libsystemd-dev libmosquitto-dev libavahi-client-dev libqrencode-dev zlib1g-dev
  libstdc++-12-dev libc6-dev)

dir=${1:-build/sysroot-arm64}
mkdir -p "$(dirname "$dir")"
dir=$(realpath -m "$dir")
work="$dir.apt"
stamp="$dir/.edgewatch-sysroot.stamp"
log() { echo "sysroot: $*" >&2; }

# Host APT sources: deb822 files and one-line .list files under sources.list.d, plus sources.list
# when it exists (Debian 12 containers usually have only sources.list.d/debian.sources).
srclist=/dev/null
[ -s /etc/apt/sources.list ] && srclist=/etc/apt/sources.list
sources_sig=$(shopt -s nullglob
  cat "$srclist" /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources |
    grep -v '^[[:space:]]*#' | md5sum | cut -d' ' -f1)
key="packages: ${PACKAGES[*]}
sources: $sources_sig
format: 1"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
  log "$dir is up to date ($(sed -n 's/^packages: //p' "$stamp" | wc -w) packages requested)"
  exit 0
fi

start=$(date +%s)
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/debs"
: >"$work/state/status"
cat >"$work/apt.conf" <<EOF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Dir::State "$work/state";
Dir::State::status "$work/state/status";
Dir::Cache "$work/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Dir::Etc::SourceParts "/etc/apt/sources.list.d";
Dir::Etc::SourceList "$srclist";
APT::Install-Recommends "false";
APT::Get::AllowUnauthenticated "false";
Debug::NoLocking "true";
EOF
export APT_CONFIG="$work/apt.conf"
# As root, apt would download as _apt, which cannot write into the work dir: stay the caller.
apt_opts=(-q -o APT::Sandbox::User="$(id -un)")

log "apt-get update (arm64 indexes from the host's sources, private state in $work)"
# Warnings are shown but tolerated (e.g. an amd64-only third-party repository); if the Debian
# indexes are missing, resolving below fails with apt's own message.
apt-get "${apt_opts[@]}" update >"$work/update.log" 2>&1 || true
grep '^[WE]:' "$work/update.log" >&2 || true

mapfile -t debs < <(apt-get "${apt_opts[@]}" install -s "${PACKAGES[@]}" 2>"$work/resolve.log" |
  awk '/^Inst /{print $2 "=" substr($3, 2)}')
if [ ${#debs[@]} -eq 0 ]; then
  log "could not resolve the arm64 packages:" && cat "$work/resolve.log" >&2
  exit 1
fi
log "downloading ${#debs[@]} arm64 packages"
(cd "$work/debs" && apt-get "${apt_opts[@]}" download "${debs[@]}" >"$work/download.log" 2>&1) || {
  cat "$work/download.log" >&2
  exit 1
}

log "unpacking into $dir"
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
# Only the versions just resolved: the debs/ dir may hold older ones from a previous run.
for d in "${debs[@]}"; do
  name=${d%%=*} ver=${d#*=}
  f=$(printf '%s/debs/%s_%s_*.deb' "$work" "$name" "${ver//:/%3a}")
  # shellcheck disable=SC2086
  dpkg-deb -x $f "$dir.tmp"
done
# Absolute symlinks (libz.so -> /lib/..., libcap.so, ...) would point into the host: make them relative.
find "$dir.tmp" -type l -lname '/*' -print0 | while IFS= read -r -d '' l; do
  ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$dir.tmp$(readlink "$l")")" "$l"
done
# Keep the dir small: docs, man pages and locales are not needed to build or run tests.
rm -rf "$dir.tmp/usr/share/doc" "$dir.tmp/usr/share/man" "$dir.tmp/usr/share/locale" "$dir.tmp/usr/share/lintian"
printf '%s\n' "${debs[@]}" >"$dir.tmp/.edgewatch-sysroot.packages"
printf '%s\n' "$key" >"$dir.tmp/.edgewatch-sysroot.stamp"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
# Old versions of the .debs are dropped so the cache does not grow across Debian point releases.
(cd "$work/debs" && for f in *.deb; do
  grep -qxF "$(dpkg-deb -f "$f" Package)=$(dpkg-deb -f "$f" Version)" "$dir/.edgewatch-sysroot.packages" || rm -f "$f"
done)
log "done: ${#debs[@]} packages, $(du -sm "$dir" | cut -f1) MB in $(($(date +%s) - start)) s"
