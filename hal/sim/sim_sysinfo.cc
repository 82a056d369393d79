#include "edgewatch/hal/sim_sysinfo.h"

namespace edgewatch::hal {

SimSysInfo::SimSysInfo() {
  sample_.mem_used_bytes = uint64_t{256} << 20;
  sample_.mem_total_bytes = uint64_t{1} << 30;
}

Result<SysSample> SimSysInfo::DoSample() {
  ++samples_;
  if (!error_.ok()) return error_;
  return sample_;
}

}  // namespace edgewatch::hal
