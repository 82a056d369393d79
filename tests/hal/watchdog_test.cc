// Watchdog: sd_notify messages arrive on a NOTIFY_SOCKET the test owns; without systemd every call
// is a no-op.
#include "edgewatch/hal/watchdog.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "test_util.h"

namespace edgewatch::hal {
namespace {

using ::edgewatch::hal::testing::TempDir;

// Saves and restores the variables the watchdog reads (tests in one process share them).
class hal_watchdog : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : kVars) {
      const char* v = std::getenv(name);
      saved_.push_back(v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (size_t i = 0; i < std::size(kVars); ++i) {
      if (saved_[i]) {
        ::setenv(kVars[i], saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(kVars[i]);
      }
    }
    if (sock_ >= 0) ::close(sock_);
  }

  // Binds a datagram socket in a temp dir and points NOTIFY_SOCKET at it.
  void ListenAsSystemd() {
    std::string path = dir_.path() + "/notify";
    sock_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(sock_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }

  // The next datagram, if one is already queued (never waits: sd_notify's send is synchronous).
  std::optional<std::string> Received() {
    char buf[256];
    ssize_t n = ::recv(sock_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }

  static constexpr const char* kVars[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"};
  std::vector<std::optional<std::string>> saved_;
  TempDir dir_;
  int sock_ = -1;
};

TEST_F(hal_watchdog, NoOpOutsideSystemd) {
  Watchdog w;
  EXPECT_FALSE(w.notify_enabled());
  EXPECT_EQ(w.Interval().count(), 0);
  EXPECT_TRUE(w.NotifyReady().ok());
  EXPECT_TRUE(w.Kick().ok());
  EXPECT_TRUE(w.NotifyStatus("idle").ok());
  EXPECT_TRUE(w.NotifyStopping().ok());
}

TEST_F(hal_watchdog, NotifiesReadyAndKicksAtHalfTheTimeout) {
  ListenAsSystemd();
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  Watchdog w;
  EXPECT_TRUE(w.notify_enabled());
  EXPECT_EQ(w.Interval(), std::chrono::microseconds(1'500'000));

  ASSERT_TRUE(w.NotifyReady().ok());
  EXPECT_EQ(Received(), "READY=1");
  ASSERT_TRUE(w.Kick().ok());
  EXPECT_EQ(Received(), "WATCHDOG=1");
  ASSERT_TRUE(w.NotifyStatus("serving 3 clients\nsecond line").ok());
  EXPECT_EQ(Received(), "STATUS=serving 3 clients");
  ASSERT_TRUE(w.NotifyStopping().ok());
  EXPECT_EQ(Received(), "STOPPING=1");
  EXPECT_EQ(Received(), std::nullopt);
}

TEST_F(hal_watchdog, NotifyWithoutWatchdogDoesNotKick) {
  ListenAsSystemd();
  Watchdog w;
  EXPECT_EQ(w.Interval().count(), 0);
  ASSERT_TRUE(w.NotifyReady().ok());
  EXPECT_EQ(Received(), "READY=1");
  ASSERT_TRUE(w.Kick().ok());
  EXPECT_EQ(Received(), std::nullopt);
}

TEST_F(hal_watchdog, WatchdogForAnotherProcessIsIgnored) {
  ListenAsSystemd();
  ::setenv("WATCHDOG_USEC", "3000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  Watchdog w;
  EXPECT_EQ(w.Interval().count(), 0);
}

TEST_F(hal_watchdog, InvalidTimeoutIsIgnored) {
  ListenAsSystemd();
  ::setenv("WATCHDOG_USEC", "soon", 1);
  Watchdog w;
  EXPECT_EQ(w.Interval().count(), 0);
  EXPECT_TRUE(w.Kick().ok());
  EXPECT_EQ(Received(), std::nullopt);
}

TEST_F(hal_watchdog, UnreachableSocketIsAnError) {
  ::setenv("NOTIFY_SOCKET", (dir_.path() + "/nobody-listens").c_str(), 1);
  Watchdog w;
  Status s = w.NotifyReady();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.code(), StatusCode::kInternal) << s.ToString();
}

}  // namespace
}  // namespace edgewatch::hal
