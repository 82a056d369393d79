// `edgewatch bench --protocol mqtt` against a real Mosquitto broker with a WebSocket listener (the
// peer of make bench-peers, configured like bench/peers/mosquitto.conf.in): every subscriber
// subscribes at QoS 0, every event published over MQTT/WS reaches every subscriber. Counts only,
// never timings. Skips when mosquitto is not installed (scripts/deps.sh test installs it).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "edgewatch/base/json.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/subprocess.h"

namespace edgewatch::testing {
namespace {

constexpr int kTimeoutMs = 60000;  // failure bound for one bench run and for the broker start

std::string Mosquitto() {
  const char* env = std::getenv("MOSQUITTO");
  return env != nullptr ? env : "/usr/sbin/mosquitto";
}

uint16_t FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

// True once a TCP connection to 127.0.0.1:port succeeds (the broker's WebSocket listener is up),
// retried until the deadline or the broker exits.
bool WaitListening(uint16_t port, Subprocess& broker, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline && broker.running()) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    if (ok) return true;
    ::poll(nullptr, 0, 20);  // retry interval while the broker starts, not a synchronisation
  }
  return false;
}

class BenchPeersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cli_ = BuiltToolPath("EDGEWATCH_CLI", "app/cli/edgewatch");
    ASSERT_EQ(::access(cli_.c_str(), X_OK), 0) << "edgewatch CLI not built: " << cli_;
    if (::access(Mosquitto().c_str(), X_OK) != 0) GTEST_SKIP() << "mosquitto not installed";
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/ew-bench-mqtt-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    // As bench/peers/mosquitto.conf.in: 2.0.11 needs a plain listener beside the WebSocket one,
    // and binds WebSocket listeners to an interface.
    mqtt_port_ = FreeLoopbackPort();
    ws_port_ = FreeLoopbackPort();
    ASSERT_NE(mqtt_port_, 0);
    ASSERT_NE(ws_port_, 0);
    std::ofstream conf(dir_ + "/mosquitto.conf");
    conf << "per_listener_settings false\nallow_anonymous true\npersistence false\nuser root\n"
         << "log_dest stderr\nlog_type error\nlog_type warning\n"
         << "listener " << mqtt_port_ << " 127.0.0.1\n"
         << "listener " << ws_port_ << " lo\nprotocol websockets\n";
    conf.close();
    SubprocessOptions o;
    o.argv = {Mosquitto(), "-c", dir_ + "/mosquitto.conf"};
    o.stdout_mode = SubprocessOptions::Stdio::kNull;
    o.stderr_mode = SubprocessOptions::Stdio::kFile;
    o.stderr_path = dir_ + "/mosquitto.log";
    Status s = broker_.Start(o);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_TRUE(WaitListening(ws_port_, broker_, kTimeoutMs)) << BrokerLog();
  }

  void TearDown() override {
    if (broker_.running()) {
      (void)broker_.Signal(SIGTERM);
      (void)broker_.Wait(10000);
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::string BrokerLog() const {
    std::ifstream in(dir_ + "/mosquitto.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  Subprocess::Output Bench(std::vector<std::string> extra) {
    std::vector<std::string> argv = {cli_,
                                     "bench",
                                     "--json",
                                     "--protocol",
                                     "mqtt",
                                     "--url",
                                     "ws://127.0.0.1:" + std::to_string(ws_port_) + "/mqtt",
                                     "--server-pid",
                                     std::to_string(broker_.pid()),
                                     "--settle-ms",
                                     "100"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = RunCommand(argv, {}, kTimeoutMs);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : Subprocess::Output{};
  }

  std::string cli_, dir_;
  uint16_t mqtt_port_ = 0, ws_port_ = 0;
  Subprocess broker_;
};

int64_t IntAt(const cJSON* root, const char* object, const char* key) {
  const cJSON* o = cJSON_GetObjectItemCaseSensitive(root, object);
  auto v = GetInt(o, key);
  EXPECT_TRUE(v.has_value()) << object << "." << key;
  return v.value_or(-1);
}

TEST_F(BenchPeersTest, MqttOverWebSocketDeliversEveryEventToEverySubscriber) {
  // Two topics under the bench/# filter, several PUBLISHes per WebSocket message at times.
  auto r = Bench({"--subscribers", "10", "--topics", "2", "--count", "200", "--rate", "2000"});
  ASSERT_TRUE(r.exit.success()) << r.exit.ToString() << "\n" << r.err << "\n" << BrokerLog();
  auto parsed = ParseJson(r.out, JsonLimits{1 << 20, 16});
  ASSERT_TRUE(parsed.ok()) << r.out;
  const cJSON* j = parsed->get();
  EXPECT_EQ(GetString(j, "protocol"), "mqtt");
  EXPECT_TRUE(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "fatal")));
  EXPECT_EQ(IntAt(j, "connect", "ready"), 10);
  EXPECT_EQ(IntAt(j, "publish", "events"), 200);
  EXPECT_EQ(IntAt(j, "delivery", "expected"), 2000);
  EXPECT_EQ(IntAt(j, "delivery", "received"), 2000);
  EXPECT_EQ(IntAt(j, "delivery", "lost"), 0);
  EXPECT_EQ(IntAt(j, "delivery", "duplicates"), 0);
  EXPECT_EQ(IntAt(j, "latency_us", "count"), 2000);
}

TEST_F(BenchPeersTest, MqttSubscriptionToOneTopicReceivesOnlyThatTopic) {
  auto r = Bench({"--subscribers", "4", "--topics", "2", "--pattern", "bench/1", "--count", "100",
                  "--window", "8"});
  ASSERT_TRUE(r.exit.success()) << r.exit.ToString() << "\n" << r.err << "\n" << BrokerLog();
  auto parsed = ParseJson(r.out, JsonLimits{1 << 20, 16});
  ASSERT_TRUE(parsed.ok()) << r.out;
  // 50 of the 100 events are on bench/1: 4 x 50 deliveries, none of bench/0.
  EXPECT_EQ(IntAt(parsed->get(), "delivery", "expected"), 200);
  EXPECT_EQ(IntAt(parsed->get(), "delivery", "received"), 200);
  EXPECT_EQ(IntAt(parsed->get(), "delivery", "lost"), 0);
}

}  // namespace
}  // namespace edgewatch::testing
