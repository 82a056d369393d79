// LinuxSysInfo: SysInfo from /proc/stat, /proc/meminfo, /proc/uptime and
// /sys/class/thermal/thermal_zone*/{type,temp}.
#pragma once

#include <cstdint>
#include <string>

#include "edgewatch/hal/sysinfo.h"

namespace edgewatch::hal {

class LinuxSysInfo final : public SysInfo {
 public:
  // `root` prefixes every path ("" for the real system; tests pass a temp dir holding a fake
  // proc/ and sys/ tree).
  explicit LinuxSysInfo(std::string root = "");

 private:
  Result<SysSample> DoSample() override;

  std::string root_;
  uint64_t prev_busy_ = 0;
  uint64_t prev_total_ = 0;
};

}  // namespace edgewatch::hal
