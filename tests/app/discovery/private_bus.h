// PrivateBus: a private dbus-daemon for a test, standing in for the system bus (point
// DBUS_SYSTEM_BUS_ADDRESS at address()). No avahi-daemon joins it, so Avahi clients see "daemon
// not running". Start() waits for the bus to print its address (no sleeps); the destructor kills
// it and removes its directory. Not thread-safe.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "edgewatch/testing/subprocess.h"

namespace edgewatch::testing {

class PrivateBus {
 public:
  static constexpr const char* kDbusDaemon = "/usr/bin/dbus-daemon";
  static bool Available() { return ::access(kDbusDaemon, X_OK) == 0; }

  ~PrivateBus() {
    Stop();
    if (!dir_.empty()) (void)RunCommand({"/bin/rm", "-rf", dir_}, {}, 10000);
  }

  Status Start() {
    char tmpl[] = "/tmp/ew-bus-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return ErrnoToStatus(errno, "mkdtemp");
    dir_ = tmpl;
    const std::string config = dir_ + "/bus.conf";
    {
      std::ofstream f(config);
      f << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
           "<busconfig><type>custom</type><listen>unix:path="
        << dir_
        << "/socket</listen><auth>EXTERNAL</auth>"
           "<policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>"
           "<allow send_destination=\"*\"/><allow receive_sender=\"*\"/></policy></busconfig>\n";
      if (!f.good()) return Internal("cannot write " + config);
    }
    SubprocessOptions o;
    o.argv = {kDbusDaemon, "--config-file=" + config, "--nofork", "--print-address=1"};
    o.stderr_mode = SubprocessOptions::Stdio::kNull;
    EW_TRY(process_.Start(o));
    EW_ASSIGN_OR_RETURN(std::string line, process_.ReadStdoutLine(20000));
    address_ = line;
    return OkStatus();
  }

  // Kills the bus (its clients see the connection hang up) and reaps it.
  void Stop() {
    if (!process_.running()) return;
    (void)process_.Signal(SIGKILL);
    (void)process_.Wait(20000);
  }

  const std::string& address() const { return address_; }

 private:
  std::string dir_, address_;
  Subprocess process_;
};

}  // namespace edgewatch::testing
