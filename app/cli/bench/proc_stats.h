// Samples of a process from /proc: CPU time (all threads) and resident memory. For the server
// under test (`--server-pid`) and the load generator itself.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "edgewatch/base/status.h"

namespace edgewatch::cli::bench {

struct ProcSample {
  int64_t cpu_us = 0;   // utime + stime of every thread, from /proc/PID/stat (clock ticks)
  int64_t rss_kib = 0;  // VmRSS from /proc/PID/status
  int64_t hwm_kib = 0;  // VmHWM (peak RSS)
  int64_t threads = 0;
  int64_t mono_us = 0;  // when the sample was taken (CLOCK_MONOTONIC)
};

// Reads /proc/<pid>/stat and /proc/<pid>/status. NotFound when the process is gone.
Result<ProcSample> SampleProcess(pid_t pid);

// This process's CPU time (user + system) from getrusage, in microseconds (finer than ticks).
int64_t SelfCpuMicros();

}  // namespace edgewatch::cli::bench
