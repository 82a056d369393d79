// edgewatchd under systemd's notify protocol (deploy/edgewatch.service: Type=notify,
// WatchdogSec=): the test plays systemd. It binds the NOTIFY_SOCKET datagram socket, starts the
// real daemon with NOTIFY_SOCKET and WATCHDOG_USEC set, and expects READY=1 first, then
// WATCHDOG=1 kicks from the event loop, and STOPPING=1 after SIGTERM (exit 0). Without
// NOTIFY_SOCKET nothing is sent (the daemon starts as usual). Every wait is for a datagram or the
// process's exit, bounded by a generous deadline; no timing is asserted.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

#include "edgewatch/base/clock.h"
#include "edgewatch/testing/daemon_process.h"

namespace edgewatch::testing {
namespace {

constexpr int kDeadlineMs = 20000;

// The service manager's end of the notify protocol: a bound AF_UNIX datagram socket.
class FakeSystemd {
 public:
  FakeSystemd() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/edgewatch-notify-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) return;
    dir_ = templ;
    path_ = dir_ + "/notify";
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (fd_ < 0 || path_.size() >= sizeof addr.sun_path) return;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~FakeSystemd() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  bool ok() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  // The next datagram, waiting until `deadline_ms` (UnixMillis); nullopt when none came.
  std::optional<std::string> Next(int64_t deadline_ms) {
    while (true) {
      int64_t left = deadline_ms - UnixMillis();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return std::nullopt;
      char buf[512];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n >= 0) return std::string(buf, static_cast<size_t>(n));
    }
  }

  // The next datagram other than STATUS= lines (informational), or nullopt at the deadline.
  std::optional<std::string> NextState(int64_t deadline_ms) {
    while (auto m = Next(deadline_ms)) {
      if (m->rfind("STATUS=", 0) != 0) return m;
    }
    return std::nullopt;
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

TEST(SystemdNotifyTest, ReadyThenWatchdogKicksThenStopping) {
  EW_SKIP_WITHOUT_DAEMON();
  FakeSystemd systemd;
  ASSERT_TRUE(systemd.ok());
  DaemonProcess d;
  DaemonOptions o;
  o.args = {"--no-auth"};
  // 200 ms: edgewatchd kicks every 100 ms (half, as systemd recommends).
  o.env = {{"NOTIFY_SOCKET", systemd.path()}, {"WATCHDOG_USEC", "200000"}};
  ASSERT_TRUE(d.Start(o).ok());

  const int64_t deadline = UnixMillis() + kDeadlineMs;
  EXPECT_EQ(systemd.NextState(deadline), "READY=1");
  // Kicks keep coming from the loop's timer: wait for three of them.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(systemd.NextState(deadline), "WATCHDOG=1") << "kick " << i;
  }
  EXPECT_NE(d.ReadStderr().find("running under systemd (NOTIFY_SOCKET set); watchdog kick every "
                                "100 ms"),
            std::string::npos)
      << d.ReadStderr();

  ASSERT_TRUE(d.Signal(SIGTERM).ok());
  // Kicks may still be queued from before the signal; STOPPING=1 must follow.
  std::optional<std::string> m;
  do {
    m = systemd.NextState(deadline);
  } while (m == "WATCHDOG=1");
  EXPECT_EQ(m, "STOPPING=1");
  auto exit = d.Wait(kDeadlineMs);
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->exited);
  EXPECT_EQ(exit->code, 0);
}

TEST(SystemdNotifyTest, NotifyWithoutWatchdogSendsReadyOnly) {
  EW_SKIP_WITHOUT_DAEMON();
  FakeSystemd systemd;
  ASSERT_TRUE(systemd.ok());
  DaemonProcess d;
  DaemonOptions o;
  o.args = {"--no-auth"};
  o.env = {{"NOTIFY_SOCKET", systemd.path()}};
  ASSERT_TRUE(d.Start(o).ok());
  const int64_t deadline = UnixMillis() + kDeadlineMs;
  EXPECT_EQ(systemd.NextState(deadline), "READY=1");
  ASSERT_TRUE(d.Signal(SIGTERM).ok());
  // No WATCHDOG=1 in between: the next state message is the stop.
  EXPECT_EQ(systemd.NextState(deadline), "STOPPING=1");
  auto exit = d.Wait(kDeadlineMs);
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->code, 0);
}

}  // namespace
}  // namespace edgewatch::testing
