// SimSysInfo: a SysInfo whose values are set by the test (load shedding, over-temperature rules).
// Same threading as SysInfo; setters and Sample() from one thread.
#pragma once

#include <cstdint>
#include <string>

#include "edgewatch/hal/sysinfo.h"

namespace edgewatch::hal {

class SimSysInfo final : public SysInfo {
 public:
  // Starts at 0% CPU, 256 MiB used of 1 GiB, no thermal zones, uptime 0.
  SimSysInfo();

  void SetCpuPercent(double percent) { sample_.cpu_percent = percent; }
  void SetMemory(uint64_t used_bytes, uint64_t total_bytes) {
    sample_.mem_used_bytes = used_bytes;
    sample_.mem_total_bytes = total_bytes;
  }
  void SetTemperature(const std::string& zone, double celsius) {
    sample_.temperatures_c[zone] = celsius;
  }
  void RemoveTemperature(const std::string& zone) { sample_.temperatures_c.erase(zone); }
  void SetUptime(double seconds) { sample_.uptime_s = seconds; }
  // Makes Sample() fail with `error` until cleared with OkStatus().
  void SetError(Status error) { error_ = std::move(error); }

  // Number of Sample() calls so far.
  int samples() const { return samples_; }

 private:
  Result<SysSample> DoSample() override;

  SysSample sample_;
  Status error_;
  int samples_ = 0;
};

}  // namespace edgewatch::hal
