// edgewatchd's mDNS advertisement (issue 9).
//
// Without an avahi-daemon: with no D-Bus at all, or a D-Bus without avahi-daemon (a private
// dbus-daemon), exactly one log line says so, the gateway serves normally, and it shuts down
// cleanly (exit 0 under ASan: nothing leaked). --no-mdns and the config key "mdns": false leave
// no trace. Losing the bus later changes nothing either.
//
// With one: a real avahi-daemon needs the system bus, root and multicast interfaces, so
// FakeAvahi (tests/app/discovery/fake_avahi.h) serves avahi-daemon's D-Bus API on the private
// bus, as seen by the real libavahi-client inside edgewatchd: both services with their TXT
// records; a daemon that appears later, disappears and returns; name collisions. docs/pairing.md
// says how to check a real advertisement with avahi-browse.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <vector>

#include "../app/discovery/fake_avahi.h"
#include "../app/discovery/private_bus.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 30000;

int CountMdnsLines(const std::string& log) {
  int n = 0;
  size_t at = 0;
  while ((at = log.find(" mdns ", at)) != std::string::npos) {
    ++n;
    ++at;
  }
  return n;
}

// The daemon answers HTTP: 200, or 401 when authentication is on (no token sent).
void ExpectServes(const DaemonProcess& d, int status = 200) {
  auto r = HttpGet(d.port(), "/api/v1/topics");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, status) << r->body;
}

void ExpectCleanExit(DaemonProcess& d) {
  ASSERT_TRUE(d.Signal(SIGTERM).ok());
  auto exit = d.Wait(kTimeoutMs);
  ASSERT_TRUE(exit.ok()) << exit.status().ToString();
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << d.ReadStderr();
}

// Waits (inotify on the daemon's stderr file, no sleeping) until its log holds `count`
// occurrences of `needle`; false after the failure bound.
bool WaitForLog(const DaemonProcess& d, const std::string& needle, int count = 1) {
  auto occurrences = [&] {
    const std::string log = d.ReadStderr();
    int n = 0;
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  };
  int fd = ::inotify_init1(IN_CLOEXEC);
  if (fd < 0) return false;
  ::inotify_add_watch(fd, (d.temp_dir() + "/stderr.log").c_str(), IN_MODIFY);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  bool ok = false;
  while (!(ok = occurrences() >= count) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) > 0) {  // a write, or recheck each second until the deadline
      char buf[4096];
      (void)::read(fd, buf, sizeof(buf));
    }
  }
  ::close(fd);
  return ok;
}

bool HasTxt(const FakeService& s, const std::string& record) {
  return std::find(s.txt.begin(), s.txt.end(), record) != s.txt.end();
}

// Both services, named `name`, on `port`.
bool BothPublished(const std::vector<FakeService>& v, const std::string& name, int port) {
  bool edgewatch = false, http = false;
  for (const FakeService& s : v) {
    if (s.name != name || s.port != port) continue;
    edgewatch |= s.type == "_edgewatch._tcp";
    http |= s.type == "_http._tcp";
  }
  return edgewatch && http;
}

TEST(DiscoveryTest, NoDbusIsOneLogLine) {
  EW_SKIP_WITHOUT_DAEMON();
  DaemonProcess d;
  Status s = d.Start({.args = {"--no-auth"},
                      .env = {{"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/ew-bus"}}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectServes(d);
  const std::string log = d.ReadStderr();
  EXPECT_EQ(CountMdnsLines(log), 1) << log;
  EXPECT_NE(log.find("not advertising on mDNS until avahi-daemon runs"), std::string::npos) << log;
  ExpectCleanExit(d);
  EXPECT_EQ(CountMdnsLines(d.ReadStderr()), 1) << d.ReadStderr();
}

TEST(DiscoveryTest, DbusWithoutAvahiIsOneLogLineAndLosingTheBusChangesNothing) {
  EW_SKIP_WITHOUT_DAEMON();
  if (!PrivateBus::Available()) GTEST_SKIP() << "dbus-daemon not installed";
  PrivateBus bus;
  Status s = bus.Start();
  ASSERT_TRUE(s.ok()) << s.ToString();
  DaemonProcess d;
  s = d.Start({.args = {"--no-auth"}, .env = {{"DBUS_SYSTEM_BUS_ADDRESS", bus.address()}}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectServes(d);
  std::string log = d.ReadStderr();
  EXPECT_EQ(CountMdnsLines(log), 1) << log;
  EXPECT_NE(log.find("avahi-daemon is not running"), std::string::npos) << log;

  bus.Stop();  // the client's D-Bus connection hangs up under it
  ExpectServes(d);
  ExpectServes(d);
  ExpectCleanExit(d);
  log = d.ReadStderr();
  EXPECT_EQ(CountMdnsLines(log), 1) << log;
}

TEST(DiscoveryTest, NoMdnsFlagAndConfigKey) {
  EW_SKIP_WITHOUT_DAEMON();
  {
    DaemonProcess d;
    Status s = d.Start({.args = {"--no-auth", "--no-mdns"},
                        .env = {{"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/ew-bus"}}});
    ASSERT_TRUE(s.ok()) << s.ToString();
    ExpectServes(d);
    ExpectCleanExit(d);
    EXPECT_EQ(CountMdnsLines(d.ReadStderr()), 0) << d.ReadStderr();
  }
  {
    DaemonProcess d;
    // The config file is written into a scratch directory next to the test's daemon dirs.
    char tmpl[] = "/tmp/ew-disc-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string config = std::string(tmpl) + "/config.json";
    {
      std::ofstream f(config);
      f << R"({"mdns": false, "mdns_name": "unused"})";
    }
    Status s = d.Start({.args = {"--no-auth", "--config", config},
                        .env = {{"DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/ew-bus"}}});
    ASSERT_TRUE(s.ok()) << s.ToString();
    ExpectServes(d);
    ExpectCleanExit(d);
    EXPECT_EQ(CountMdnsLines(d.ReadStderr()), 0) << d.ReadStderr();
    (void)RunCommand({"/bin/rm", "-rf", tmpl}, {}, kTimeoutMs);
  }
}

class DiscoveryAvahiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EW_SKIP_WITHOUT_DAEMON();
    if (!PrivateBus::Available()) GTEST_SKIP() << "dbus-daemon not installed";
    Status s = bus_.Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Status StartDaemon(DaemonProcess& d, std::vector<std::string> args) {
    return d.Start({.args = std::move(args), .env = {{"DBUS_SYSTEM_BUS_ADDRESS", bus_.address()}}});
  }
  PrivateBus bus_;
  static constexpr std::chrono::milliseconds kWait{kTimeoutMs};
};

TEST_F(DiscoveryAvahiTest, PublishesBothServicesWithTheirTxtRecords) {
  FakeAvahi avahi;
  ASSERT_TRUE(avahi.Start(bus_.address()).ok());
  DaemonProcess d;
  Status s = StartDaemon(d, {"--mdns-name", "edge test"});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(
      avahi.WaitFor([&](const auto& v) { return BothPublished(v, "edge test", d.port()); }, kWait))
      << d.ReadStderr();
  for (const FakeService& svc : avahi.Established()) {
    EXPECT_TRUE(HasTxt(svc, "board=generic-x86_64")) << svc.type;
    EXPECT_TRUE(HasTxt(svc, "path=/")) << svc.type;
    EXPECT_TRUE(HasTxt(svc, "ws=/ws")) << svc.type;
    EXPECT_TRUE(HasTxt(svc, "tls=0")) << svc.type;
    EXPECT_TRUE(HasTxt(svc, "auth=token")) << svc.type;
    EXPECT_TRUE(std::any_of(svc.txt.begin(), svc.txt.end(),
                            [](const std::string& t) { return t.rfind("version=", 0) == 0; }));
  }
  EXPECT_EQ(avahi.Established().size(), 2u);
  ASSERT_TRUE(WaitForLog(d, "advertising \"edge test\" as _edgewatch._tcp and _http._tcp on port " +
                                std::to_string(d.port())))
      << d.ReadStderr();
  ExpectServes(d, 401);
  ExpectCleanExit(d);
  EXPECT_EQ(CountMdnsLines(d.ReadStderr()), 1) << d.ReadStderr();
}

TEST_F(DiscoveryAvahiTest, AdvertisesWhenAvahiAppearsAndAgainWhenItReturns) {
  DaemonProcess d;
  Status s = StartDaemon(d, {"--no-auth", "--mdns-name", "late"});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(d.ReadStderr().find("avahi-daemon is not running"), std::string::npos);
  ExpectServes(d);

  FakeAvahi first;
  ASSERT_TRUE(first.Start(bus_.address()).ok());
  ASSERT_TRUE(
      first.WaitFor([&](const auto& v) { return BothPublished(v, "late", d.port()); }, kWait))
      << d.ReadStderr();
  for (const FakeService& svc : first.Established()) EXPECT_TRUE(HasTxt(svc, "auth=none"));
  ASSERT_TRUE(WaitForLog(d, "advertising \"late\"")) << d.ReadStderr();

  first.Stop();  // avahi-daemon goes away
  ASSERT_TRUE(WaitForLog(d, "avahi-daemon went away")) << d.ReadStderr();
  ExpectServes(d);
  FakeAvahi second;  // and comes back
  ASSERT_TRUE(second.Start(bus_.address()).ok());
  ASSERT_TRUE(
      second.WaitFor([&](const auto& v) { return BothPublished(v, "late", d.port()); }, kWait))
      << d.ReadStderr();
  ASSERT_TRUE(WaitForLog(d, "advertising \"late\"", 2)) << d.ReadStderr();
  ExpectServes(d);
  ExpectCleanExit(d);
  // not running, advertising, went away, advertising: one line per change.
  EXPECT_EQ(CountMdnsLines(d.ReadStderr()), 4) << d.ReadStderr();
}

TEST_F(DiscoveryAvahiTest, NameCollisionsTakeTheAlternativeName) {
  FakeAvahi avahi;
  // "edge" is taken locally (AddService fails); "edge #2" collides on the network after the
  // commit; "edge #3" is free.
  ASSERT_TRUE(
      avahi.Start(bus_.address(), {.taken = {"edge"}, .collide_on_commit = {"edge #2"}}).ok());
  DaemonProcess d;
  Status s = StartDaemon(d, {"--no-auth", "--mdns-name", "edge"});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(
      avahi.WaitFor([&](const auto& v) { return BothPublished(v, "edge #3", d.port()); }, kWait))
      << d.ReadStderr();
  EXPECT_EQ(avahi.Established().size(), 2u);
  ASSERT_TRUE(WaitForLog(d, "advertising \"edge #3\"")) << d.ReadStderr();
  const std::string log = d.ReadStderr();
  EXPECT_NE(log.find("service name \"edge\" is taken: using \"edge #2\""), std::string::npos)
      << log;
  EXPECT_NE(log.find("service name \"edge #2\" is taken on the network: using \"edge #3\""),
            std::string::npos)
      << log;
  ExpectCleanExit(d);
}

}  // namespace
}  // namespace edgewatch::testing
