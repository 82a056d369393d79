// `edgewatch bench` against the real edgewatchd (auth on, a token minted from the daemon's
// secret): a smoke test of the load generator that `make bench` relies on. It checks counts and
// the JSON report's shape, never timings: 20 subscribers, a few hundred events at a fixed rate
// and saturating with a bounded window, every delivery accounted for, no loss.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/subprocess.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 60000;  // failure bound for one bench run
constexpr int kSubscribers = 20;
constexpr int kEvents = 300;

std::string Cli() {
  return BuiltToolPath("EDGEWATCH_CLI", "app/cli/edgewatch");
}

const cJSON* Obj(const cJSON* o, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(o, key);
  EXPECT_NE(v, nullptr) << "missing member " << key;
  return v;
}

int64_t Int(const cJSON* o, const char* key) {
  auto v = GetInt(o, key);
  EXPECT_TRUE(v.has_value()) << "missing integer " << key;
  return v.value_or(-1);
}

class BenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(Cli().c_str(), X_OK), 0) << "edgewatch CLI not built: " << Cli();
    EW_SKIP_WITHOUT_DAEMON();
    // Auth stays on (the default). 20 connections at once exceed the per-address burst.
    Status s = daemon_.Start({.args = {"--conn-burst", "1000", "--conn-rate", "1000"}});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Runs `edgewatch bench --json` against the daemon with `extra` flags.
  Subprocess::Output Bench(std::vector<std::string> extra) {
    std::vector<std::string> argv = {Cli(),
                                     "bench",
                                     "--json",
                                     "--url",
                                     daemon_.ws_url(),
                                     "--ingest",
                                     daemon_.ingest_path(),
                                     "--secret-file",
                                     daemon_.state_dir() + "/jwt.secret",
                                     "--server-pid",
                                     std::to_string(daemon_.pid()),
                                     "--settle-ms",
                                     "100"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = RunCommand(argv, {}, kTimeoutMs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : Subprocess::Output{};
  }

  // Checks a complete, loss-free run of kEvents events to kSubscribers subscribers.
  void ExpectLossFree(const Subprocess::Output& r, const char* mode) {
    ASSERT_TRUE(r.exit.success()) << r.exit.ToString() << "\n" << r.err << "\n" << r.out;
    auto parsed = ParseJson(r.out, JsonLimits{1 << 20, 16});
    ASSERT_TRUE(parsed.ok()) << "not one JSON object: " << r.out;
    const cJSON* j = parsed->get();
    EXPECT_EQ(GetString(j, "tool"), "edgewatch bench");
    EXPECT_EQ(GetString(j, "protocol"), "edgewatch");
    EXPECT_EQ(GetString(j, "mode"), mode);
    EXPECT_TRUE(cJSON_IsNull(Obj(j, "fatal")));
    const cJSON* connect = Obj(j, "connect");
    EXPECT_EQ(Int(connect, "ready"), kSubscribers);
    EXPECT_EQ(Int(connect, "failed"), 0);
    EXPECT_GT(Int(Obj(connect, "per_connection_us"), "max"), 0);
    EXPECT_EQ(Int(Obj(j, "publish"), "events"), kEvents);
    EXPECT_EQ(Int(Obj(j, "publish"), "rejected"), 0);
    const cJSON* d = Obj(j, "delivery");
    EXPECT_EQ(Int(d, "expected"), kSubscribers * kEvents);
    EXPECT_EQ(Int(d, "received"), kSubscribers * kEvents);
    EXPECT_EQ(Int(d, "lost"), 0);
    EXPECT_EQ(Int(d, "duplicates"), 0);
    EXPECT_EQ(Int(d, "seq_gaps"), 0);
    EXPECT_EQ(Int(d, "subscribers_with_loss"), 0);
    EXPECT_EQ(Int(d, "subscribers_closed"), 0);
    const cJSON* lat = Obj(j, "latency_us");
    EXPECT_EQ(Int(lat, "count"), kSubscribers * kEvents);
    EXPECT_LE(GetNumber(lat, "p50").value_or(-1), GetNumber(lat, "p99").value_or(-2));
    EXPECT_LE(GetNumber(lat, "p99").value_or(-1), GetNumber(lat, "max").value_or(-2));
    const cJSON* server = Obj(j, "server");
    ASSERT_TRUE(cJSON_IsObject(server)) << r.out;
    EXPECT_EQ(Int(server, "pid"), daemon_.pid());
    EXPECT_GT(Int(Obj(server, "rss_kib"), "connected"), 0);
    EXPECT_TRUE(GetNumber(server, "cpu_us_per_delivery").has_value());
    EXPECT_TRUE(GetNumber(Obj(j, "client"), "cpu_ms").has_value());
  }

  DaemonProcess daemon_;
};

TEST_F(BenchTest, FixedRateDeliversEveryEvent) {
  auto r = Bench({"--subscribers", std::to_string(kSubscribers), "--count", std::to_string(kEvents),
                  "--rate", "1000"});
  ExpectLossFree(r, "rate");
}

TEST_F(BenchTest, SaturatedWithWindowDeliversEveryEventInBatches) {
  // Two topics through a wildcard, batch frames on: the window and the batch parser.
  auto r = Bench({"--subscribers", std::to_string(kSubscribers), "--count", std::to_string(kEvents),
                  "--window", "8", "--topics", "2", "--batch"});
  ExpectLossFree(r, "saturate");
}

TEST_F(BenchTest, StalledSubscriberIsLeftOutOfTheDeliveryFigures) {
  // Subscriber 0 never reads once subscribed; the other kSubscribers lose nothing and are the
  // only ones counted (make bench-peers' slow-consumer scenario).
  auto r = Bench({"--subscribers", std::to_string(kSubscribers + 1), "--slow-subscribers", "1",
                  "--count", std::to_string(kEvents), "--rate", "1000"});
  ASSERT_TRUE(r.exit.success()) << r.exit.ToString() << "\n" << r.err << "\n" << r.out;
  auto parsed = ParseJson(r.out, JsonLimits{1 << 20, 16});
  ASSERT_TRUE(parsed.ok()) << r.out;
  const cJSON* j = parsed->get();
  EXPECT_EQ(Int(j, "slow_subscribers"), 1);
  EXPECT_EQ(Int(Obj(j, "connect"), "ready"), kSubscribers + 1);
  const cJSON* d = Obj(j, "delivery");
  EXPECT_EQ(Int(d, "expected"), kSubscribers * kEvents);
  EXPECT_EQ(Int(d, "received"), kSubscribers * kEvents);
  EXPECT_EQ(Int(d, "lost"), 0);
  EXPECT_EQ(Int(d, "subscribers_with_loss"), 0);
  EXPECT_EQ(Int(Obj(j, "latency_us"), "count"), kSubscribers * kEvents);
}

TEST_F(BenchTest, IdleRunReportsFootprintOnly) {
  auto r = Bench({"--subscribers", "5"});
  ASSERT_TRUE(r.exit.success()) << r.exit.ToString() << "\n" << r.err;
  auto parsed = ParseJson(r.out, JsonLimits{1 << 20, 16});
  ASSERT_TRUE(parsed.ok()) << r.out;
  EXPECT_EQ(Int(Obj(parsed->get(), "connect"), "ready"), 5);
  EXPECT_EQ(Int(Obj(parsed->get(), "publish"), "events"), 0);
  EXPECT_TRUE(GetNumber(Obj(parsed->get(), "server"), "rss_per_connection_bytes").has_value());
}

TEST_F(BenchTest, RefusedTokenFailsEveryConnection) {
  auto r = Bench({"--subscribers", "3", "--count", "10", "--token", "not.a.token"});
  EXPECT_EQ(r.exit.code, 1) << r.exit.ToString() << "\n" << r.err;
  auto parsed = ParseJson(r.out, JsonLimits{1 << 20, 16});
  ASSERT_TRUE(parsed.ok()) << r.out << r.err;
  const cJSON* connect = Obj(parsed->get(), "connect");
  EXPECT_EQ(Int(connect, "failed"), 3);
  std::string errors = PrintJson(Obj(connect, "errors"));
  EXPECT_NE(errors.find("4401"), std::string::npos) << errors;
}

}  // namespace
}  // namespace edgewatch::testing
