#!/bin/busybox sh
# /init of the emulated-board test (scripts/test-emulated.sh): runs as PID 1 in the initramfs of
# a qemu-system-aarch64 "virt" machine with Debian's arm64 kernel.
#
#   1. load configfs, irq_sim and gpio-sim; create a gpio-sim bank labelled "edgewatch-sim";
#   2. start the cross-built edgewatchd (board detected from /proc/device-tree/model, which must
#      pick boards/qemu-virt.json) and wait for its ready line;
#   3. publish an intrusion through the ingest socket; once the `alerts` event says "active", the
#      gpio-sim line of alert_led (sim_gpio0) must read 1;
#   4. pull ack_button (sim_gpio3) low as a pressed button would; once the `alerts` event says
#      "acked" via "button", sim_gpio0 must read 0.
# Every wait is on an event (the ready fd, the `alerts` events read by `edgewatch tail`) with a
# bound; no step polls. Prints "EMULATED-TEST: PASS" or "EMULATED-TEST: FAIL: <why>", then powers
# the machine off so QEMU exits.
/bin/busybox --install -s /bin
export PATH=/bin LD_LIBRARY_PATH=/lib/aarch64-linux-gnu
mount -t proc none /proc
mount -t sysfs none /sys
mount -t devtmpfs none /dev
mount -t tmpfs none /tmp
ip link set lo up  # edgewatch tail reaches the daemon over 127.0.0.1

say() { echo "emulated: $*"; }
finish() {
  echo "EMULATED-TEST: $*"
  if [ "$1" != PASS ]; then
    echo "--- edgewatchd log (tail) ---"
    tail -n 40 /tmp/edgewatchd.log 2>/dev/null
    echo "--- edgewatch tail stderr ---"
    cat /tmp/tail.err 2>/dev/null
  fi
  poweroff -f
}
fail() { finish "FAIL: $*"; }

# Reads `alerts` events from the tail until one contains $1 (bounded by $2 seconds in total).
wait_event() {
  deadline=$(($(date +%s) + $2))
  while :; do
    left=$((deadline - $(date +%s)))
    [ "$left" -gt 0 ] || return 1
    read -r -t "$left" line <&4 || return 1
    say "alerts event: $line"
    case "$line" in *"$1"*) return 0 ;; esac
  done
}

say "kernel $(uname -r), model: $(tr -d '\0' </proc/device-tree/model)"
insmod /lib/modules/configfs.ko || fail "insmod configfs.ko"
insmod /lib/modules/irq_sim.ko || fail "insmod irq_sim.ko"
insmod /lib/modules/gpio-sim.ko || fail "insmod gpio-sim.ko"
mount -t configfs none /sys/kernel/config || fail "mount configfs"
G=/sys/kernel/config/gpio-sim/edgewatch
mkdir "$G" "$G/bank0" || fail "gpio-sim configfs"
echo 4 >"$G/bank0/num_lines"
echo edgewatch-sim >"$G/bank0/label"
echo 1 >"$G/live" || fail "gpio-sim: live"
S="/sys/devices/platform/$(cat "$G/dev_name")/$(cat "$G/bank0/chip_name")"
LED="$S/sim_gpio0/value"
[ -r "$LED" ] || fail "no $LED"
say "gpio-sim bank edgewatch-sim is $(cat "$G/bank0/chip_name")"

mkfifo /tmp/ready /tmp/alerts
EDGEWATCH_BOARDS_DIR=/usr/share/edgewatch/boards \
  edgewatchd --no-auth --listen 127.0.0.1:8080 --ingest /tmp/ingest.sock \
  --state-dir /tmp/state --config /etc/edgewatch/config.json --ready-fd 3 \
  3>/tmp/ready 2>/tmp/edgewatchd.log &
read -r -t 60 ready </tmp/ready || fail "edgewatchd did not become ready"
say "edgewatchd ready: $ready"
grep -q "board qemu-virt" /tmp/edgewatchd.log || fail "board qemu-virt was not detected"

edgewatch tail --url ws://127.0.0.1:8080/ws --timeout-s 120 alerts >/tmp/alerts 2>/tmp/tail.err &
exec 4</tmp/alerts

[ "$(cat "$LED")" = 0 ] || fail "alert_led is not 0 before the intrusion"
edgewatch publish --ingest /tmp/ingest.sock pipeline/cam1/analytics \
  '{"pipeline_id":"cam1","analytics":{"node_id":"zones","node_type":"zone_counter","results":null,"new_intrusions":1}}' ||
  fail "publish"
wait_event '"state":"active"' 30 || fail "no active alert event"
led=$(cat "$LED")
say "alert_led (sim_gpio0) = $led"
[ "$led" = 1 ] || fail "alert_led reads $led during the alert, expected 1"

say "pressing ack_button (sim_gpio3 pull-down)"
echo pull-down >"$S/sim_gpio3/pull"
wait_event '"ack_via":"button"' 30 || fail "no acked-by-button alert event"
led=$(cat "$LED")
say "alert_led (sim_gpio0) = $led"
[ "$led" = 0 ] || fail "alert_led reads $led after the acknowledgement, expected 0"
finish PASS
