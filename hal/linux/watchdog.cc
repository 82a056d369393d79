#include "edgewatch/hal/watchdog.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

#include "edgewatch/base/log.h"

namespace edgewatch::hal {

Watchdog::Watchdog() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  notify_enabled_ = socket != nullptr && socket[0] != '\0';
  uint64_t usec = 0;
  // > 0: a watchdog is configured for this process (WATCHDOG_PID, when set, matches getpid()).
  int r = sd_watchdog_enabled(/*unset_environment=*/0, &usec);
  if (r < 0) {
    EW_WARN("hal", "ignoring invalid WATCHDOG_USEC/WATCHDOG_PID: %s",
            ErrnoToStatus(-r, "sd_watchdog_enabled").ToString().c_str());
  } else if (r > 0 && usec > 0) {
    interval_ = std::chrono::microseconds(usec / 2);
  }
  if (notify_enabled_) {
    std::string watchdog = "off";
    if (interval_.count() > 0)
      watchdog = "kick every " + std::to_string(interval_.count() / 1000) + " ms";
    EW_INFO("hal", "running under systemd (NOTIFY_SOCKET set); watchdog %s", watchdog.c_str());
  }
}

Status Watchdog::Send(const char* state, bool only_with_watchdog) {
  if (!notify_enabled_) return OkStatus();
  if (only_with_watchdog && interval_.count() == 0) return OkStatus();
  int r = sd_notify(/*unset_environment=*/0, state);
  if (r < 0) {
    Status s = ErrnoToStatus(-r, std::string("sd_notify ") + state);
    EW_WARN("hal", "%s", s.ToString().c_str());
    return s;
  }
  return OkStatus();
}

Status Watchdog::NotifyReady() {
  return Send("READY=1", false);
}

Status Watchdog::Kick() {
  return Send("WATCHDOG=1", true);
}

Status Watchdog::NotifyStopping() {
  return Send("STOPPING=1", false);
}

Status Watchdog::NotifyStatus(std::string_view text) {
  std::string state = "STATUS=";
  // One line: systemd shows STATUS= up to the first newline anyway.
  state += text.substr(0, text.find('\n'));
  return Send(state.c_str(), false);
}

}  // namespace edgewatch::hal
