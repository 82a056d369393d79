// edgewatchd's mDNS advertisement without an avahi-daemon (issue 9): with no D-Bus at all, or a
// D-Bus without avahi-daemon (a private dbus-daemon), exactly one log line says so, the gateway
// serves normally, and it shuts down cleanly (exit 0 under ASan: nothing leaked). --no-mdns and
// the config key "mdns": false leave no trace. Losing the bus later changes nothing either.
//
// A real avahi-daemon is not started: it needs the system bus, root and multicast interfaces
// (docs/pairing.md says how to check a real advertisement with avahi-browse).
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <string>

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

void ExpectServes(const DaemonProcess& d) {
  auto r = HttpGet(d.port(), "/api/v1/topics");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->body;
}

void ExpectCleanExit(DaemonProcess& d) {
  ASSERT_TRUE(d.Signal(SIGTERM).ok());
  auto exit = d.Wait(kTimeoutMs);
  ASSERT_TRUE(exit.ok()) << exit.status().ToString();
  EXPECT_TRUE(exit->success()) << exit->ToString() << "\n" << d.ReadStderr();
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

}  // namespace
}  // namespace edgewatch::testing
