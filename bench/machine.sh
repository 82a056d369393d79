# Machine-state helpers shared by bench/run.sh and bench/peers.sh (sourced, not run): CPU
# jiffies of the whole machine and of one process, and a bounded wait for an idle machine.
# wait_idle reads IDLE_WAIT_S from the caller.

# --- Machine state -------------------------------------------------------------------------
busy_jiffies() {  # all CPUs: user nice system irq softirq steal
  local _ u n s i w q sq st
  read -r _ u n s i w q sq st _ </proc/stat
  echo $((u + n + s + q + sq + st))
}

proc_jiffies() {  # utime + stime of PID (0 when gone)
  local f
  f=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  f=${f##*) }
  # shellcheck disable=SC2086
  set -- $f
  echo $(("${12}" + "${13}"))
}

# Waits (at most IDLE_WAIT_S) until other processes use under 15 % of one core over 1 s; prints
# the last measured percentage.
wait_idle() {
  local hz deadline a b pct
  hz=$(getconf CLK_TCK)
  deadline=$((SECONDS + IDLE_WAIT_S))
  while :; do
    a=$(busy_jiffies); sleep 1; b=$(busy_jiffies)
    pct=$(((b - a) * 100 / hz))
    if [ "$pct" -lt 15 ] || [ $SECONDS -ge $deadline ]; then echo "$pct"; return; fi
  done
}
