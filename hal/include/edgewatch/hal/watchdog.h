// Watchdog: tells systemd that edgewatchd is ready and still alive (sd_notify via libsystemd).
//
// Under systemd with Type=notify the service manager sets NOTIFY_SOCKET, and with WatchdogSec=
// also WATCHDOG_USEC: NotifyReady() sends READY=1 once start-up is complete, and Kick() must be
// called every Interval() (an lws_sul timer on the loop: if the loop stalls, the kicks stop and
// systemd restarts the service). Outside systemd every call is an OK no-op.
//
// Threading: any thread; the intended use is the event-loop thread.
#pragma once

#include <chrono>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::hal {

class Watchdog {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment once. An invalid
  // WATCHDOG_USEC is logged and treated as "no watchdog".
  Watchdog();

  // True when NOTIFY_SOCKET is set (running under systemd with Type=notify).
  bool notify_enabled() const { return notify_enabled_; }
  // How often to call Kick(): half of WATCHDOG_USEC, as systemd recommends. Zero when no
  // watchdog is configured for this process.
  std::chrono::microseconds Interval() const { return interval_; }

  // READY=1. OK when sent or when not under systemd; the mapped errno otherwise.
  Status NotifyReady();
  // WATCHDOG=1. OK when sent or when no watchdog is configured.
  Status Kick();
  // STOPPING=1, at the start of an orderly shutdown.
  Status NotifyStopping();
  // STATUS=<text>: one line shown by `systemctl status`.
  Status NotifyStatus(std::string_view text);

 private:
  Status Send(const char* state, bool only_with_watchdog);

  bool notify_enabled_ = false;
  std::chrono::microseconds interval_{0};
};

}  // namespace edgewatch::hal
