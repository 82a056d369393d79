#!/usr/bin/env bash
# Fetches and builds what the emulated-board test boots (scripts/test-emulated.sh): Debian's arm64
# kernel, the gpio-sim and irq_sim modules it lacks (built out of tree from linux-source files
# against Debian's arm64 headers, cross-compiled), configfs.ko, and busybox-static for arm64.
#
#   scripts/make-emulated-assets.sh [DIR]      default DIR: build/emulated
#
# Output: DIR/assets/{vmlinuz,configfs.ko,irq_sim.ko,gpio-sim.ko,busybox,KERNEL}. Like
# make-sysroot.sh it uses an APT configuration of its own (arm64 plus the host architecture for
# the kbuild tools; the host's sources; private state) and never touches the host's dpkg state.
# A stamp makes re-runs a no-op without network; delete DIR/assets to pick up a newer kernel.
# Needs: apt-get, dpkg-deb, make, xz, aarch64-linux-gnu-gcc-12 (scripts/deps.sh cross emulated).
set -euo pipefail

out=$(realpath -m "${1:-build/emulated}")
assets="$out/assets"
work="$out/work"
stamp="$assets/.stamp"
log() { echo "emulated-assets: $*" >&2; }

if [ -f "$stamp" ] && [ -f "$assets/vmlinuz" ] && [ -f "$assets/gpio-sim.ko" ]; then
  log "$assets is up to date ($(cat "$assets/KERNEL"))"
  exit 0
fi

start=$(date +%s)
host_arch=$(dpkg --print-architecture)
mkdir -p "$work/apt/state/lists/partial" "$work/apt/cache/archives/partial" "$work/debs"
: >"$work/apt/state/status"
srclist=/dev/null
[ -s /etc/apt/sources.list ] && srclist=/etc/apt/sources.list
cat >"$work/apt/apt.conf" <<CONF
APT::Architecture "arm64";
APT::Architectures { "arm64"; "$host_arch"; };
Dir::State "$work/apt/state";
Dir::State::status "$work/apt/state/status";
Dir::Cache "$work/apt/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Dir::Etc::SourceParts "/etc/apt/sources.list.d";
Dir::Etc::SourceList "$srclist";
APT::Install-Recommends "false";
Debug::NoLocking "true";
CONF
export APT_CONFIG="$work/apt/apt.conf"
apt_opts=(-q -o APT::Sandbox::User="$(id -un)")

log "apt-get update (private state in $work/apt)"
apt-get "${apt_opts[@]}" update >"$work/update.log" 2>&1 || true
grep '^[WE]:' "$work/update.log" >&2 || true

# The ABI name (e.g. 6.1.0-56-arm64) changes with every kernel security update: ask apt.
image=$(apt-cache depends linux-image-arm64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
if [ -z "$image" ]; then
  log "cannot resolve linux-image-arm64 (see $work/update.log)"
  exit 1
fi
abi=${image#linux-image-}                 # 6.1.0-56-arm64
ver=$(apt-cache show "$image" | awk '/^Version:/{print $2; exit}')  # 6.1.192-2
series=$(echo "$abi" | cut -d. -f1-2)     # 6.1
log "kernel $abi ($ver)"

pkgs=("$image=$ver" "linux-headers-$abi=$ver" "linux-headers-${abi%-arm64}-common=$ver"
  "linux-kbuild-$series:$host_arch=$ver" "linux-source-$series=$ver" busybox-static)
rm -f "$work"/debs/*.deb
(cd "$work/debs" && apt-get "${apt_opts[@]}" download "${pkgs[@]}" >"$work/download.log" 2>&1) || {
  cat "$work/download.log" >&2
  exit 1
}
deb() { ls "$work"/debs/"$1"_*.deb; }

rm -rf "$work/root" "$work/src" "$work/mod" "$assets.tmp"
mkdir -p "$work/root" "$work/src" "$work/mod" "$assets.tmp"
log "unpacking the kernel, configfs.ko and busybox"
dpkg-deb --fsys-tarfile "$(deb "$image")" |
  tar -x -C "$work/root" "./boot/vmlinuz-$abi" "./lib/modules/$abi/kernel/fs/configfs/configfs.ko"
cp "$work/root/boot/vmlinuz-$abi" "$assets.tmp/vmlinuz"
cp "$work/root/lib/modules/$abi/kernel/fs/configfs/configfs.ko" "$assets.tmp/"
dpkg-deb --fsys-tarfile "$(deb busybox-static)" | tar -x -C "$work/root" ./bin/busybox
cp "$work/root/bin/busybox" "$assets.tmp/busybox"

log "extracting gpio-sim.c, gpiolib.h and irq_sim.c from linux-source-$series"
src="linux-source-$series"
dpkg-deb --fsys-tarfile "$(deb "$src")" | tar -xO "./usr/src/$src.tar.xz" | xz -dc |
  tar -x -C "$work/src" "$src/drivers/gpio/gpio-sim.c" "$src/drivers/gpio/gpiolib.h" \
    "$src/kernel/irq/irq_sim.c"
cp "$work/src/$src/drivers/gpio/gpio-sim.c" "$work/src/$src/drivers/gpio/gpiolib.h" "$work/mod/"
# irq_sim is built-in-only upstream: as a module it needs a licence, and irq_to_desc() is not
# exported to modules (generic_handle_irq does the same for a simple irq).
sed 's/handle_simple_irq(irq_to_desc(irqnum))/generic_handle_irq(irqnum)/' \
  "$work/src/$src/kernel/irq/irq_sim.c" >"$work/mod/irq_sim.c"
grep -q 'generic_handle_irq(irqnum)' "$work/mod/irq_sim.c" || {
  log "irq_sim.c changed upstream: the patch no longer applies"
  exit 1
}
printf '\n#include <linux/module.h>\nMODULE_LICENSE("GPL");\n' >>"$work/mod/irq_sim.c"
echo 'obj-m := gpio-sim.o irq_sim.o' >"$work/mod/Kbuild"

log "building gpio-sim.ko and irq_sim.ko"
for d in "linux-headers-$abi" "linux-headers-${abi%-arm64}-common" "linux-kbuild-$series"; do
  dpkg-deb -x "$(deb "$d")" "$work/root"
done
headers="$work/root/usr/src/linux-headers-$abi"
# The headers' Makefile includes the -common one by absolute path: point it at the unpacked copy.
echo "include $work/root/usr/src/linux-headers-${abi%-arm64}-common/Makefile" >"$headers/Makefile"
cross=aarch64-linux-gnu-
[ "$host_arch" = arm64 ] && cross=
make -s -C "$headers" M="$work/mod" ARCH=arm64 CROSS_COMPILE="$cross" modules >"$work/modules.log" 2>&1 || {
  cat "$work/modules.log" >&2
  exit 1
}
cp "$work/mod/gpio-sim.ko" "$work/mod/irq_sim.ko" "$assets.tmp/"
echo "$abi $ver" >"$assets.tmp/KERNEL"
echo "$abi $ver format 1" >"$assets.tmp/.stamp"
rm -rf "$assets"
mv "$assets.tmp" "$assets"
# The .debs (~210 MB, mostly linux-source) and unpacked trees are not needed any more.
rm -rf "$work/debs" "$work/root" "$work/src"
log "done in $(($(date +%s) - start)) s: $(du -sh "$assets" | cut -f1) in $assets"
