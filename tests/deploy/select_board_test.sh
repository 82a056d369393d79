#!/bin/sh
# deploy/edgewatch-select-board (run by the package's postinst): the board chosen for each
# device-tree model of boards/*.json, the drop-in it writes (board file, MemoryHigh/MemoryMax from
# budget.memory_mb), and that an administrator's drop-in (no marker line) is left alone.
#
#   tests/deploy/select_board_test.sh SOURCE_DIR        (ctest: deploy.select_board)
set -eu
src=$1
tool="$src/deploy/edgewatch-select-board"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export EDGEWATCH_BOARDS_DIR="$src/boards" EDGEWATCH_MODEL_FILE="$tmp/model"
export EDGEWATCH_DROPIN_DIR="$tmp/dropin"
failures=0
check() {  # check MODEL EXPECTED_BOARD EXPECTED_MEMORY_MB
  printf '%s\000' "$1" >"$tmp/model"
  got=$(sh "$tool" --print)
  want="$src/boards/$2.json $3"
  if [ "$got" = "$want" ]; then
    echo "ok: '$1' -> $2 ($3 MiB)"
  else
    echo "FAIL: '$1' -> '$got', want '$want'"
    failures=$((failures + 1))
  fi
}
check "Raspberry Pi 4 Model B Rev 1.4" rpi4b 64
check "Raspberry Pi Compute Module 4 Rev 1.0" rpi4b 64
check "Raspberry Pi 5 Model B Rev 1.0" rpi5 96
check "NVIDIA Jetson Orin Nano Developer Kit" jetson-orin-nano 96
check "NVIDIA Jetson Orin NX Engineering Reference Developer Kit" jetson-orin-nano 96
check "linux,dummy-virt" qemu-virt 48
check "Some Other Board" generic-x86_64 64
rm -f "$tmp/model"
check "" generic-x86_64 64  # no device tree (x86 PCs, VMs)

# The drop-in: generated, rewritten while the marker is there, kept once an admin removed it.
printf 'Raspberry Pi 5 Model B Rev 1.0\000' >"$tmp/model"
sh "$tool" 2>/dev/null
d="$tmp/dropin/50-board.conf"
grep -q "^Environment=EDGEWATCH_BOARD=$src/boards/rpi5.json\$" "$d" || { echo "FAIL: drop-in board"; failures=$((failures + 1)); }
grep -q '^MemoryHigh=128M$' "$d" || { echo "FAIL: MemoryHigh"; failures=$((failures + 1)); }
grep -q '^MemoryMax=160M$' "$d" || { echo "FAIL: MemoryMax"; failures=$((failures + 1)); }
printf 'Raspberry Pi 4 Model B Rev 1.4\000' >"$tmp/model"
sh "$tool" 2>/dev/null
grep -q 'rpi4b.json$' "$d" || { echo "FAIL: a generated drop-in was not rewritten"; failures=$((failures + 1)); }
sed -i '/^# edgewatch-generated/d; s/^MemoryMax=.*/MemoryMax=1G/' "$d"
printf 'Raspberry Pi 5 Model B Rev 1.0\000' >"$tmp/model"
sh "$tool" 2>/dev/null
grep -q '^MemoryMax=1G$' "$d" && grep -q 'rpi4b.json$' "$d" ||
  { echo "FAIL: an administrator's drop-in was overwritten"; failures=$((failures + 1)); }

[ "$failures" -eq 0 ] && echo "PASS" || { echo "$failures failure(s)"; exit 1; }
