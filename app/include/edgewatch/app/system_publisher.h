// SystemPublisher: publishes `system/resources` from the HAL's SysInfo on a gateway timer.
//
// Loop thread only. Each sample goes through Gateway::Submit, so change suppression applies
// (cpu_percent moves of less than 5 points are not fanned out but refresh every refresh_s).
#pragma once

#include <cstdint>
#include <string>

#include "edgewatch/fw/gateway.h"
#include "edgewatch/hal/sysinfo.h"

namespace edgewatch::app {

class SystemPublisher {
 public:
  // `sysinfo` is not owned and must outlive the publisher. `thermal_zone` selects the
  // temperature reported as temperature_c (empty: the hottest zone, if any).
  SystemPublisher(fw::Gateway& gw, hal::SysInfo& sysinfo, std::string thermal_zone);
  ~SystemPublisher();

  void Start(int period_ms);
  // Takes one sample and submits it; returns the sample's JSON (for tests) or the error.
  Result<std::string> PublishOnce();

 private:
  fw::Gateway& gw_;
  hal::SysInfo& sysinfo_;
  std::string thermal_zone_;
  uint64_t timer_ = 0;
  bool warned_ = false;
};

}  // namespace edgewatch::app
