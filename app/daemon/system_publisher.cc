#include "edgewatch/app/system_publisher.h"

#include <cmath>
#include <optional>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"

namespace edgewatch::app {

SystemPublisher::SystemPublisher(fw::Gateway& gw, hal::SysInfo& sysinfo, std::string thermal_zone)
    : gw_(gw), sysinfo_(sysinfo), thermal_zone_(std::move(thermal_zone)) {}

SystemPublisher::~SystemPublisher() {
  if (timer_ != 0) gw_.CancelTimer(timer_);
}

void SystemPublisher::Start(int period_ms) {
  timer_ = gw_.Every(static_cast<int64_t>(period_ms) * 1000, [this] {
    auto r = PublishOnce();
    if (!r.ok() && !warned_) {
      warned_ = true;
      EW_WARN("system", "cannot publish system/resources: %s", r.status().ToString().c_str());
    }
  });
}

Result<std::string> SystemPublisher::PublishOnce() {
  EW_ASSIGN_OR_RETURN(hal::SysSample s, sysinfo_.Sample());
  JsonWriter w;
  w.BeginObject();
  w.Key("cpu_percent").Double(std::round(s.cpu_percent * 10) / 10);
  w.Key("memory_used_bytes").Uint(s.mem_used_bytes);
  w.Key("memory_total_bytes").Uint(s.mem_total_bytes);
  if (s.mem_total_bytes > 0) {
    double pct =
        100.0 * static_cast<double>(s.mem_used_bytes) / static_cast<double>(s.mem_total_bytes);
    w.Key("memory_percent").Double(std::round(pct * 10) / 10);
  }
  std::optional<double> temp;
  if (!thermal_zone_.empty()) {
    auto it = s.temperatures_c.find(thermal_zone_);
    if (it != s.temperatures_c.end()) temp = it->second;
  } else {
    for (const auto& [zone, c] : s.temperatures_c) {
      if (!temp || c > *temp) temp = c;
    }
  }
  if (temp) w.Key("temperature_c").Double(std::round(*temp * 10) / 10);
  if (!s.temperatures_c.empty()) {
    w.Key("temperatures_c").BeginObject();
    for (const auto& [zone, c] : s.temperatures_c) w.Key(zone).Double(std::round(c * 10) / 10);
    w.EndObject();
  }
  w.Key("uptime_s").Double(std::round(s.uptime_s));
  w.Key("connections").Uint(gw_.session_count());
  w.EndObject();
  std::string json = w.Take();
  auto parsed = ParseJson(json);
  if (!parsed.ok()) return parsed.status();
  EW_TRY(gw_.Submit("system/resources", parsed->get(), UnixMillis()));
  gw_.ReportLoad(s.cpu_percent, temp);
  return json;
}

}  // namespace edgewatch::app
