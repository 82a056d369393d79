#!/bin/busybox sh
# /init of the emulated-board install test (scripts/test-emulated-install.sh): PID 1 of a
# qemu-system-aarch64 "virt" machine whose initramfs is a minimal arm64 Debian userland (dpkg,
# passwd, the package's dependencies) plus busybox. There is no systemd in the image.
#
#   1. network (virtio-net, QEMU user networking), a gpio-sim bank labelled edgewatch-sim (the
#      qemu-virt board's chip) with the permissions the package's udev rule gives (group gpio);
#   2. `dpkg -i` the arm64 package; check its postinst: user edgewatch in group gpio, the board
#      drop-in naming qemu-virt (model "linux,dummy-virt") with MemoryMax, the conffile;
#   3. start edgewatchd as the edgewatch user with the unit's ExecStart and the drop-in's
#      Environment (plus --demo --ready-fd 3), as systemd would; print "INSTALL-TEST: READY";
#   4. wait for the host's verdict on port 9000 (it read the demo events over wss:// through
#      hostfwd), SIGTERM the daemon (expects exit 0), `dpkg --purge` (expects the state and the
#      drop-in gone), print "INSTALL-TEST: PASS" or "INSTALL-TEST: FAIL: <why>", power off.
# Every wait has a bound; none polls.
# Debian's busybox-static runs its own applets before PATH (SH_STANDALONE): Debian's dpkg,
# dpkg-deb and dpkg-query are therefore called by their full paths.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
/bin/busybox mkdir -p /opt/busybox
/bin/busybox --install -s /opt/busybox
export PATH=$PATH:/opt/busybox
mount -t proc none /proc
mount -t sysfs none /sys
mount -t devtmpfs none /dev
mount -t tmpfs -o mode=0755 none /run
mount -t tmpfs -o mode=1777 none /tmp

say() { echo "install: $*"; }
finish() {
  echo "INSTALL-TEST: $*"
  if [ "$1" != PASS ]; then
    echo "--- dpkg ---"
    tail -n 30 /tmp/dpkg.log 2>/dev/null
    echo "--- edgewatchd log (tail) ---"
    tail -n 40 /tmp/edgewatchd.log 2>/dev/null
  fi
  poweroff -f
}
fail() { finish "FAIL: $*"; }

say "kernel $(uname -r), model: $(tr -d '\0' </proc/device-tree/model)"
ip link set lo up
while read -r m; do
  insmod "/lib/modules/extra/$m.ko" || fail "insmod $m.ko"
done </lib/modules/extra/net.order
ip link set eth0 up || fail "no eth0"
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2

insmod /lib/modules/extra/configfs.ko || fail "insmod configfs.ko"
insmod /lib/modules/extra/irq_sim.ko || fail "insmod irq_sim.ko"
insmod /lib/modules/extra/gpio-sim.ko || fail "insmod gpio-sim.ko"
mount -t configfs none /sys/kernel/config || fail "mount configfs"
G=/sys/kernel/config/gpio-sim/edgewatch
mkdir "$G" "$G/bank0" || fail "gpio-sim configfs"
echo 4 >"$G/bank0/num_lines"
echo edgewatch-sim >"$G/bank0/label"
echo 1 >"$G/live" || fail "gpio-sim: live"

# --- install -------------------------------------------------------------------------------
say "dpkg -i $(/usr/bin/dpkg-deb -f /test/edgewatch.deb Package Version Architecture | tr '\n' ' ')"
/usr/bin/dpkg -i /test/edgewatch.deb >/tmp/dpkg.log 2>&1 || fail "dpkg -i failed"
sed 's/^/install: dpkg| /' /tmp/dpkg.log
[ "$(/usr/bin/dpkg-query -W -f='${Status}' edgewatch)" = "install ok installed" ] ||
  fail "edgewatch is not 'install ok installed'"
/usr/bin/dpkg-query -W -f='${Conffiles}\n' edgewatch | grep -q '/etc/edgewatch/config.json' ||
  fail "/etc/edgewatch/config.json is not a conffile"
groups=$(id -nG edgewatch) || fail "no user edgewatch"
say "user edgewatch: uid $(id -u edgewatch), groups: $groups"
case " $groups " in *" gpio "*) ;; *) fail "edgewatch is not in group gpio" ;; esac
DROPIN=/etc/systemd/system/edgewatch.service.d/50-board.conf
[ -f "$DROPIN" ] || fail "no $DROPIN"
sed 's/^/install: drop-in| /' "$DROPIN"
grep -q '^Environment=EDGEWATCH_BOARD=/usr/share/edgewatch/boards/qemu-virt.json$' "$DROPIN" ||
  fail "the postinst did not choose qemu-virt"
grep -q '^MemoryMax=112M$' "$DROPIN" || fail "MemoryMax is not qemu-virt's 48 MiB + 64 MiB"
UNIT=/lib/systemd/system/edgewatch.service
[ -f "$UNIT" ] || fail "no $UNIT"

# --- start it as systemd would (no systemd here) ----------------------------------------------
# udev's job (the package's 60-edgewatch-gpio.rules): the GPIO chips belong to group gpio.
chgrp gpio /dev/gpiochip* && chmod 0660 /dev/gpiochip* || fail "gpiochip permissions"
# StateDirectory= / RuntimeDirectory=: the postinst made the first; the test's known secret.
cp /test/jwt.secret /var/lib/edgewatch/jwt.secret && chmod 0600 /var/lib/edgewatch/jwt.secret &&
  chown edgewatch:edgewatch /var/lib/edgewatch/jwt.secret || fail "install jwt.secret"
mkdir -p /run/edgewatch && chown edgewatch:edgewatch /run/edgewatch && chmod 0755 /run/edgewatch
# Environment= lines of the unit, then of the drop-in (later ones win, as in systemd).
for f in "$UNIT" "$DROPIN"; do
  for kv in $(sed -n 's/^Environment=//p' "$f"); do export "$kv"; done
done
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
cmd=$(eval "echo \"$exec_start\"")
say "ExecStart: $cmd"
mkfifo /tmp/ready && chown edgewatch /tmp/ready
su -s /bin/sh -c "exec $cmd --demo --ready-fd 3 3>/tmp/ready 2>/tmp/edgewatchd.log" edgewatch &
daemon=$!
read -r -t 120 ready </tmp/ready || fail "edgewatchd did not become ready"
say "edgewatchd ready: $ready"
uid=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$daemon/status")
[ "$uid" = "$(id -u edgewatch)" ] || fail "edgewatchd runs as uid $uid, not edgewatch"
grep -q "board qemu-virt" /tmp/edgewatchd.log || fail "edgewatchd did not use the qemu-virt board"
grep -q "certificate SHA-256 fingerprint" /tmp/edgewatchd.log || fail "no TLS (tls auto) start"
[ -S /run/edgewatch/ingest.sock ] || fail "no ingest socket in /run/edgewatch"
echo "INSTALL-TEST: READY"

# --- the host's verdict, then stop and purge ---------------------------------------------------
verdict=$(timeout 240 nc -l -p 9000 | head -n 1)
say "host verdict: ${verdict:-none}"
[ "$verdict" = ok ] || fail "the host did not receive demo events (${verdict:-no verdict})"
kill -TERM "$daemon"
wait "$daemon"
rc=$?
[ "$rc" = 0 ] || fail "edgewatchd exited $rc after SIGTERM"
grep -q '"stopped"\|stopped' /tmp/edgewatchd.log || fail "edgewatchd did not log its stop"
say "edgewatchd stopped (exit 0)"
/usr/bin/dpkg --purge edgewatch >/tmp/dpkg.log 2>&1 || fail "dpkg --purge failed"
[ ! -e /var/lib/edgewatch ] || fail "purge left /var/lib/edgewatch"
[ ! -e "$DROPIN" ] || fail "purge left $DROPIN"
[ ! -e /etc/edgewatch/config.json ] || fail "purge left /etc/edgewatch/config.json"
[ ! -e /usr/bin/edgewatchd ] || fail "purge left /usr/bin/edgewatchd"
say "purged: state, drop-in and conffile gone"
finish PASS
