#!/usr/bin/env bash
# The emulated-board install test (make test-emulated, after scripts/test-emulated.sh): boots an
# arm64 Debian userland under qemu-system-aarch64 with Debian's arm64 kernel, installs the arm64
# .deb with the guest's own dpkg, starts the daemon the way the unit does, and from the host
# receives the demo pipeline's events through QEMU's user networking forwarded to 127.0.0.1.
#
#   scripts/test-emulated-install.sh [DEB]     default: build/deb/edgewatch_*_arm64.deb (make deb)
#
# What the guest is, and why (docs/deploy.md, "The emulated-board install test"):
# - Root filesystem: the arm64 packages dpkg, libc-bin, passwd and the closure of the .deb's
#   Depends, resolved and downloaded by apt with a private configuration (like make-sysroot.sh),
#   unpacked on the host with dpkg-deb -x, with /var/lib/dpkg/status written from each package's
#   control file: debootstrap --foreign without its second stage, because running the second stage
#   needs binfmt_misc (absent in containers) or minutes under emulation. Busybox supplies the
#   shell and core utilities. Loaded as an initramfs; cached in build/emulated/install/base.
# - No systemd in the image (booting it under TCG takes minutes): tests/emulated/install-init.sh
#   is PID 1. It runs the real `dpkg -i` (dependency check against the status database, conffile
#   registration, the postinst: system user in gpio, board chosen from the device tree, the unit
#   drop-in), then starts edgewatchd as the edgewatch user with the unit's ExecStart line and the
#   drop-in's Environment (plus --demo and --ready-fd), as systemd would.
# - The host mints a token with the package's own edgewatch CLI (arm64, under qemu-user) from a
#   secret the guest installs as /var/lib/edgewatch/jwt.secret, and reads events over wss://
#   (the packaged config has "tls": "auto") through hostfwd. Then it tells the guest (a second
#   forwarded port) to stop the daemon (exit 0 expected) and purge the package.
#
# Unattended and bounded (QEMU under `timeout`, every wait has a deadline). Prints PASS or FAIL and
# exits non-zero on failure. Needs what make test-emulated needs plus network for the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
deb=${1:-}
if [ -z "$deb" ]; then
  deb=$(ls -t build/deb/edgewatch_*_arm64.deb 2>/dev/null | head -n 1 || true)
fi
[ -n "$deb" ] && [ -f "$deb" ] || { echo "test-emulated-install: no arm64 .deb: run make deb" >&2; exit 1; }
deb=$(realpath "$deb")
sysroot=$(realpath -m "${EDGEWATCH_SYSROOT:-build/sysroot-arm64}")
emu=$(realpath -m build/emulated)
out=$emu/install
timeout_s=${INSTALL_TIMEOUT_S:-300}
log() { echo "test-emulated-install: $*" >&2; }
start=$(date +%s)

scripts/make-emulated-assets.sh "$emu"
assets=$emu/assets
abi=$(cut -d' ' -f1 "$assets/KERNEL")
kver=$(cut -d' ' -f2 "$assets/KERNEL")

# --- the base root filesystem (cached; keyed by the package's Depends and the kernel) ---------
depends=$(dpkg-deb -f "$deb" Depends)
# "libc6 (>= 2.34), libfoo1 | libbar1, ..." -> package names (first alternative)
dep_names=$(echo "$depends" | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep -v '^$')
base_pkgs="dpkg libc-bin passwd $(echo $dep_names)"
key="packages: $base_pkgs
kernel: $abi $kver
format: 1"
base=$out/base
if [ ! -f "$base/.stamp" ] || [ "$(cat "$base/.stamp")" != "$key" ]; then
  log "building the base root filesystem: $base_pkgs"
  host_arch=$(dpkg --print-architecture)
  mkdir -p "$out/apt/state/lists/partial" "$out/apt/cache/archives/partial" "$out/debs"
  : >"$out/apt/state/status"
  srclist=/dev/null
  [ -s /etc/apt/sources.list ] && srclist=/etc/apt/sources.list
  cat >"$out/apt/apt.conf" <<CONF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Dir::State "$out/apt/state";
Dir::State::status "$out/apt/state/status";
Dir::Cache "$out/apt/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Dir::Etc::SourceParts "/etc/apt/sources.list.d";
Dir::Etc::SourceList "$srclist";
APT::Install-Recommends "false";
Debug::NoLocking "true";
CONF
  export APT_CONFIG=$out/apt/apt.conf
  apt_opts=(-q -o APT::Sandbox::User="$(id -un)")
  apt-get "${apt_opts[@]}" update >"$out/update.log" 2>&1 || true
  # shellcheck disable=SC2086
  apt-get "${apt_opts[@]}" install -s $base_pkgs >"$out/resolve.log" 2>&1 || {
    cat "$out/resolve.log" >&2
    exit 1
  }
  mapfile -t closure < <(awk '/^Inst /{print $2}' "$out/resolve.log")
  rm -f "$out"/debs/*.deb
  (cd "$out/debs" && apt-get "${apt_opts[@]}" download "${closure[@]}" "linux-image-$abi=$kver" \
    >"$out/download.log" 2>&1) || {
    cat "$out/download.log" >&2
    exit 1
  }
  unset APT_CONFIG
  rm -rf "$base.tmp"
  mkdir -p "$base.tmp"/var/lib/dpkg/{info,updates,triggers,alternatives} "$base.tmp/bin"
  : >"$base.tmp/var/lib/dpkg/available"
  for d in "$out"/debs/*.deb; do
    case "$(basename "$d")" in linux-image-*) continue ;; esac
    dpkg-deb -x "$d" "$base.tmp"
    pkg=$(dpkg-deb -f "$d" Package)
    # What dpkg would have recorded after configuring the package (the second stage's result).
    dpkg-deb -f "$d" | awk '{ print } /^Package:/ { print "Status: install ok installed" }'
    echo
    list=$pkg
    [ "$(dpkg-deb -f "$d" Multi-Arch)" = same ] && list="$pkg:arm64"
    dpkg-deb -c "$d" | awk '{ p = $6; sub(/^\./, "", p); if (p == "/") p = "/."; print p }' |
      sed 's#/$##' >"$base.tmp/var/lib/dpkg/info/$list.list"
  done >"$base.tmp/var/lib/dpkg/status"
  # The kernel's virtio PCI and network drivers are modules (virtio and virtio_ring are built in).
  # The .deb has no modules.dep (depmod runs at install) and the host may lack kmod: read each
  # module's depends= from its .modinfo and write the insmod order to lib/modules/extra/net.order.
  mods=$out/kmod
  rm -rf "$mods"
  mkdir -p "$mods" "$base.tmp/lib/modules/extra"
  img=$(ls "$out"/debs/linux-image-"$abi"_*.deb)
  dpkg-deb --fsys-tarfile "$img" | tar -x -C "$mods" --wildcards \
    "./lib/modules/$abi/kernel/drivers/virtio/*" "./lib/modules/$abi/kernel/drivers/net/virtio_net.ko" \
    "./lib/modules/$abi/kernel/drivers/net/net_failover.ko" "./lib/modules/$abi/kernel/net/core/failover.ko"
  declare -A placed=()
  order=()
  place() {  # place MODULE: its dependencies first
    local m=$1 f d
    [ -n "${placed[$m]:-}" ] && return 0
    placed[$m]=1
    f=$(find "$mods" -name "$m.ko" | head -n 1)
    [ -n "$f" ] || { log "kernel module $m not found in $img"; exit 1; }
    for d in $(strings -a "$f" | sed -n 's/^depends=//p' | tr ',' ' '); do place "$d"; done
    cp "$f" "$base.tmp/lib/modules/extra/"
    order+=("$m")
  }
  place virtio_pci
  place virtio_net
  printf '%s\n' "${order[@]}" >"$base.tmp/lib/modules/extra/net.order"
  rm -rf "$mods" "$out"/debs/linux-image-*.deb
  # The accounts a Debian base system starts with (base-passwd's postinst).
  mkdir -p "$base.tmp/etc"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$base.tmp/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$base.tmp/etc/group"
  printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$base.tmp/etc/shadow"
  printf 'root:*::\nnogroup:*::\n' >"$base.tmp/etc/gshadow"
  chmod 0640 "$base.tmp/etc/shadow" "$base.tmp/etc/gshadow"
  # Documentation is not needed to run (dpkg's path-exclude does the same on minimal images).
  rm -rf "$base.tmp"/usr/share/{doc,man,info,locale,lintian}
  echo "$key" >"$base.tmp/.stamp"
  rm -rf "$base"
  mv "$base.tmp" "$base"
  log "base: ${#closure[@]} packages, $(du -sh "$base" | cut -f1)"
fi

# --- this run's initramfs: the base, busybox, the gpio-sim modules, /init, the test inputs ------
rd=$out/rootfs
rm -rf "$rd"
cp -a "$base" "$rd"
rm -f "$rd/.stamp"
mkdir -p "$rd"/{proc,sys,dev,run,tmp,root,test,sbin,usr/sbin} "$rd/lib/modules/extra"
cp "$assets/busybox" "$rd/bin/busybox"
for a in sh ash; do ln -sf busybox "$rd/bin/$a"; done
ln -sf /bin/busybox "$rd/usr/sbin/nologin"  # login's, in a full system
mkdir -p "$rd/var/log"
cp "$assets"/{configfs,irq_sim,gpio-sim}.ko "$rd/lib/modules/extra/"
install -m 0755 tests/emulated/install-init.sh "$rd/init"
cp "$deb" "$rd/test/edgewatch.deb"
# The gateway's JWT secret, known to the host (64 hex digits, like the daemon would create).
secret_dir=$out/host
rm -rf "$secret_dir"
mkdir -p "$secret_dir"
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$secret_dir/jwt.secret"
echo >>"$secret_dir/jwt.secret"
chmod 0600 "$secret_dir/jwt.secret"
cp "$secret_dir/jwt.secret" "$rd/test/jwt.secret"
(cd "$rd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$out/initrd.cpio.gz"
log "initramfs $(du -h "$out/initrd.cpio.gz" | cut -f1), kernel $abi"

# --- the host side: the package's own CLI (arm64) under qemu-user -------------------------------
dpkg-deb -x "$deb" "$secret_dir/pkg"
qemu_user=$(command -v qemu-aarch64-static || command -v qemu-aarch64)
cli() { "$qemu_user" -L "$sysroot" "$secret_dir/pkg/usr/bin/edgewatch" "$@"; }
cli token --secret-file "$secret_dir/jwt.secret" --sub install-test --ttl 1h >"$secret_dir/token"
# A free loopback port: the kernel's choice via Python when present, else a random one from the
# ephemeral range that /proc/net/tcp does not list.
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
    return
  fi
  local p hex
  while :; do
    p=$((32768 + RANDOM % 28000))
    hex=$(printf ':%04X ' "$p")
    grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$p"; return; }
  done
}
port=$(free_port)
ctl=$(free_port)

# --- boot ---------------------------------------------------------------------------------------
vm_start=$(date +%s)
deadline=$((vm_start + timeout_s))
console=$out/console.log
: >"$console"
# The console goes through a FIFO this script reads line by line (the log keeps every line).
fifo=$out/console.fifo
rm -f "$fifo"
mkfifo "$fifo"
timeout "$timeout_s" qemu-system-aarch64 -M virt -cpu cortex-a53 -smp 2 -m 1024 -nographic \
  -no-reboot -kernel "$assets/vmlinuz" -initrd "$out/initrd.cpio.gz" \
  -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:8080,hostfwd=tcp:127.0.0.1:$ctl-:9000" \
  -device virtio-net-pci,netdev=n0,romfile= \
  -append "console=ttyAMA0 quiet loglevel=3 panic=-1" </dev/null >"$fifo" 2>&1 &
vm_pid=$!
exec {vm_out}<"$fifo"
# Reads console lines into the log until one matches $1 (or the deadline / end of output).
wait_line() {
  local line left
  while :; do
    left=$((deadline - $(date +%s)))
    [ "$left" -gt 0 ] || return 1
    IFS= read -r -t "$left" line <&"$vm_out" || return 1
    line=${line%$'\r'}
    echo "$line" >>"$console"
    case "$line" in install:* | INSTALL-TEST:*) echo "  vm| $line" >&2 ;; esac
    case "$line" in *"$1"*) return 0 ;; esac
  done
}
result=FAIL
reason=""
if wait_line "INSTALL-TEST: READY"; then
  ready_s=$(($(date +%s) - vm_start))
  log "daemon ready in the guest after $ready_s s; reading demo events via 127.0.0.1:$port"
  events=$secret_dir/events.jsonl
  if cli tail --url "wss://127.0.0.1:$port/ws" --insecure --token-file "$secret_dir/token" \
    --count 5 --timeout-s 60 'pipeline/#' >"$events" 2>"$secret_dir/tail.err" &&
    [ "$(grep -c '"topic":"pipeline/cam[12]/' "$events")" -ge 5 ]; then
    log "received $(wc -l <"$events") events, e.g. $(head -c 160 "$events")"
    verdict=ok
  else
    reason="no demo events through hostfwd: $(tail -n 3 "$secret_dir/tail.err" | tr '\n' ' ')"
    verdict="fail"
  fi
  # Tell the guest to stop the daemon and purge the package (it powers off afterwards).
  exec 5<>"/dev/tcp/127.0.0.1/$ctl" && { echo "$verdict" >&5; exec 5>&-; } ||
    reason="$reason; cannot reach the guest's control port"
  if wait_line "INSTALL-TEST: " && grep -q '^INSTALL-TEST: PASS' "$console" && [ -z "$reason" ]; then
    result=PASS
  fi
else
  reason="the guest never reported ready"
fi
# Drain what is left of the console (the VM powers off by itself; timeout bounds it).
while IFS= read -r -t 30 line <&"$vm_out"; do echo "${line%$'\r'}" >>"$console"; done || true
wait "$vm_pid" 2>/dev/null || true
exec {vm_out}<&-
rm -f "$fifo"
now=$(date +%s)
if [ "$result" = PASS ]; then
  echo "test-emulated-install: PASS (VM $((now - vm_start)) s, ready after ${ready_s} s, total $((now - start)) s)"
  exit 0
fi
[ -n "$reason" ] && log "$reason"
sed -n '/^install:\|^INSTALL-TEST\|^---\|^20[0-9][0-9]-\|dpkg\|edgewatch/p' "$console" | tail -n 60 >&2
log "full console log: $console"
echo "test-emulated-install: FAIL (VM $((now - vm_start)) s, total $((now - start)) s)"
exit 1
