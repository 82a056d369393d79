// SysInfo: CPU load, memory, temperatures and uptime, for load shedding, the `system/resources`
// topic and over-temperature alerts.
//
// Backends: LinuxSysInfo (linux_sysinfo.h, reads /proc and /sys) and SimSysInfo (sim_sysinfo.h,
// values set by tests). Threading: one thread at a time (Sample() keeps the previous CPU
// counters); it reads a few small procfs files and does not block otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "edgewatch/base/status.h"

namespace edgewatch::hal {

struct SysSample {
  // Busy share of all CPUs, 0..100, since the previous Sample() (the first one: since boot).
  double cpu_percent = 0;
  // In use = total - available (MemAvailable: what can be allocated without swapping).
  uint64_t mem_used_bytes = 0;
  uint64_t mem_total_bytes = 0;
  // Thermal zone type ("cpu-thermal") -> degrees Celsius. Zones whose temperature cannot be read
  // are left out; a second zone of the same type is keyed "<type>#<N>" (N = its zone number).
  std::map<std::string, double> temperatures_c;
  double uptime_s = 0;
};

class SysInfo {
 public:
  virtual ~SysInfo() = default;

  // A fresh sample. Errors: NotFound/PermissionDenied when /proc/stat, /proc/meminfo or
  // /proc/uptime cannot be read, Internal when they cannot be parsed.
  Result<SysSample> Sample() { return DoSample(); }

 private:
  virtual Result<SysSample> DoSample() = 0;
};

}  // namespace edgewatch::hal
