#!/usr/bin/env bash
# The emulated-board test (make test-emulated): boots the cross-built edgewatchd in
# qemu-system-aarch64 with Debian's arm64 kernel and a gpio-sim bank, and checks that an intrusion
# drives the alert_led line to 1 and that pulling the ack_button line acknowledges the alert and
# returns the LED to 0 (tests/emulated/init.sh does the steps inside the VM).
#
#   scripts/test-emulated.sh [BUILD_DIR]     default: build/aarch64 (make cross)
#
# Unattended and bounded: QEMU runs under `timeout`; the VM powers itself off. Prints PASS or
# FAIL and exits non-zero on failure. Assets (kernel, modules, busybox) come from
# scripts/make-emulated-assets.sh, cached in build/emulated/assets.
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath -m "${1:-build/aarch64}")
sysroot=$(realpath -m "${EDGEWATCH_SYSROOT:-build/sysroot-arm64}")
out=$(realpath -m build/emulated)
timeout_s=${EMULATED_TIMEOUT_S:-180}
log() { echo "test-emulated: $*" >&2; }
start=$(date +%s)

for f in "$build/app/edgewatchd" "$build/app/cli/edgewatch"; do
  [ -x "$f" ] || { log "$f missing: run make cross first"; exit 1; }
done
scripts/make-emulated-assets.sh "$out"
assets="$out/assets"

# --- initramfs: busybox, the two programs, the shared libraries they need, modules, data ---
rd="$out/initramfs"
rm -rf "$rd"
mkdir -p "$rd"/{bin,lib/aarch64-linux-gnu,lib/modules,etc/edgewatch,usr/share/edgewatch/boards}
mkdir -p "$rd"/{proc,sys,dev,tmp}
cp "$assets/busybox" "$rd/bin/busybox"
cp "$build/app/edgewatchd" "$build/app/cli/edgewatch" "$rd/bin/"
aarch64-linux-gnu-strip "$rd/bin/edgewatchd" "$rd/bin/edgewatch" 2>/dev/null || true
cp "$assets"/*.ko "$rd/lib/modules/"
cp boards/*.json "$rd/usr/share/edgewatch/boards/"
cp tests/emulated/config.json "$rd/etc/edgewatch/config.json"
install -m 0755 tests/emulated/init.sh "$rd/init"

# Walk the NEEDED entries through the sysroot (transitively).
find_lib() {
  local d
  for d in lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu; do
    if [ -e "$sysroot/$d/$1" ]; then echo "$sysroot/$d/$1"; return 0; fi
  done
  return 1
}
todo=("$rd/bin/edgewatchd" "$rd/bin/edgewatch")
declare -A seen=()
while [ ${#todo[@]} -gt 0 ]; do
  f=${todo[0]}
  todo=("${todo[@]:1}")
  for lib in $(readelf -d "$f" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
    [ -n "${seen[$lib]:-}" ] && continue
    seen[$lib]=1
    path=$(find_lib "$lib") || { log "library $lib not found in $sysroot"; exit 1; }
    cp -L "$path" "$rd/lib/aarch64-linux-gnu/$lib"
    todo+=("$rd/lib/aarch64-linux-gnu/$lib")
  done
done
interp=$(readelf -l "$rd/bin/edgewatchd" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
mkdir -p "$rd$(dirname "$interp")"
cp -L "$(find_lib "$(basename "$interp")")" "$rd$interp"
(cd "$rd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.cpio.gz"
log "initramfs: ${#seen[@]} libraries, $(du -h "$out/initrd.cpio.gz" | cut -f1); kernel $(cat "$assets/KERNEL")"

# --- boot ---
vm_start=$(date +%s)
set +e
timeout "$timeout_s" qemu-system-aarch64 -M virt -cpu cortex-a53 -smp 2 -m 512 -nographic \
  -nic none -no-reboot -kernel "$assets/vmlinuz" -initrd "$out/initrd.cpio.gz" \
  -append "console=ttyAMA0 quiet loglevel=3 panic=-1" </dev/null >"$out/console.log" 2>&1
rc=$?
set -e
sed -n '/^emulated:\|^EMULATED-TEST\|^---\|edgewatchd\|^20[0-9][0-9]-/p' "$out/console.log" >&2
now=$(date +%s)
if grep -q '^EMULATED-TEST: PASS' "$out/console.log"; then
  echo "test-emulated: PASS (VM $((now - vm_start)) s, total $((now - start)) s)"
  exit 0
fi
[ $rc -eq 124 ] && log "QEMU did not finish within ${timeout_s} s"
log "full console log: $out/console.log"
echo "test-emulated: FAIL (VM $((now - vm_start)) s, total $((now - start)) s)"
exit 1
