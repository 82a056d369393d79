// MQTT uplink and ingest (issue 10, docs/mqtt.md) with the real edgewatchd and a real Mosquitto
// broker (Debian's /usr/sbin/mosquitto) on a free loopback port, observed by a libmosquitto
// client. Every wait is for an observable event (a message at the broker, an event on a
// WebSocket) bounded by a generous failure deadline; nothing sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/fw/tls/self_signed.h"
#include "edgewatch/testing/daemon_process.h"
#include "edgewatch/testing/http.h"
#include "edgewatch/testing/ingest_test_client.h"
#include "edgewatch/testing/mqtt_broker.h"
#include "edgewatch/testing/mqtt_test_client.h"
#include "edgewatch/testing/ws_test_client.h"

namespace edgewatch::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kTimeoutMs = 20000;
// The daemon retries a refused connection with a backoff that doubles up to 30 s.
constexpr int kReconnectTimeoutMs = 60000;

#define EW_SKIP_WITHOUT_MOSQUITTO()                                                 \
  do {                                                                              \
    if (!MosquittoBroker::BinaryExists()) {                                         \
      GTEST_SKIP() << "mosquitto not installed (scripts/deps.sh test installs it)"; \
    }                                                                               \
  } while (0)

// Looks up a dotted path ("a.b.c") in `root`; null when a step is missing.
const cJSON* FindPath(const cJSON* root, const std::string& path) {
  const cJSON* node = root;
  size_t start = 0;
  while (node != nullptr) {
    size_t dot = path.find('.', start);
    node = cJSON_GetObjectItemCaseSensitive(node, path.substr(start, dot - start).c_str());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return node;
}

// A config file in the daemon's test directory layout (written before Start()).
std::string WriteConfig(const std::string& name, const std::string& json) {
  std::string path = ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid()) + ".json";
  std::ofstream(path, std::ios::trunc) << json;
  return path;
}

std::string ErrorLine(int n) {
  return R"({"topic":"pipeline/cam1/error","data":{"pipeline_id":"cam1","error_message":"e)" +
         std::to_string(n) + R"(","severity":"warning","n":)" + std::to_string(n) + "}}";
}

// The "n" of an uplinked pipeline/cam1/error event envelope, or -1.
int ErrorNumber(const MqttMessage& m) {
  auto j = ParseJson(m.payload);
  if (!j.ok()) return -1;
  const cJSON* data = cJSON_GetObjectItem(j->get(), "data");
  auto n = GetInt(data, "n");
  return n ? static_cast<int>(*n) : -1;
}

// The error numbers received on `topic`, first occurrences only, in arrival order.
std::vector<int> FirstOccurrences(const std::vector<MqttMessage>& msgs, const std::string& topic) {
  std::vector<int> out;
  std::set<int> seen;
  for (const MqttMessage& m : msgs) {
    if (m.topic != topic) continue;
    int n = ErrorNumber(m);
    if (seen.insert(n).second) out.push_back(n);
  }
  return out;
}

bool HasAll(const std::vector<MqttMessage>& msgs, const std::string& topic, int from, int to) {
  std::set<int> got;
  for (const MqttMessage& m : msgs) {
    if (m.topic == topic) got.insert(ErrorNumber(m));
  }
  for (int n = from; n <= to; ++n) {
    if (got.count(n) == 0) return false;
  }
  return true;
}

Status WaitOnline(MqttTestClient& watcher, const std::string& device, const std::string& value) {
  const std::string topic = "edgewatch/" + device + "/online";
  return watcher
      .WaitFor([&](const MqttMessage& m) { return m.topic == topic && m.payload == value; },
               kTimeoutMs)
      .status();
}

// Subscribes a WebSocket client of a --no-auth daemon to `pattern`.
void Subscribe(WsTestClient& ws, const DaemonProcess& d, const std::string& pattern) {
  ASSERT_TRUE(ws.Open(d.port()).ok());
  ASSERT_TRUE(ws.SendText(R"({"op":"subscribe","id":1,"topics":[")" + pattern + R"("]})").ok());
  ASSERT_TRUE(ws.ReceiveType("subscribed", kTimeoutMs).ok());
}

// Waits for the event on `topic` and returns its data.
JsonPtr ReceiveEvent(WsTestClient& ws, const std::string& topic) {
  auto ev = ws.ReceiveJsonUntil(
      [&](const cJSON& j) {
        auto type = GetString(&j, "type");
        auto t = GetString(&j, "topic");
        return type && *type == "event" && t && *t == topic;
      },
      kTimeoutMs);
  EXPECT_TRUE(ev.ok()) << topic << ": " << ev.status().message();
  if (!ev.ok()) return nullptr;
  return JsonPtr(cJSON_Duplicate(cJSON_GetObjectItem(ev->get(), "data"), true));
}

TEST(MqttTest, UplinkPublishesMatchingTopicsWithQosByKindAndOnlineTrue) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_MOSQUITTO();
  MosquittoBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  MqttTestClient watcher;
  ASSERT_TRUE(watcher.Connect(broker.port(), "watcher").ok());
  ASSERT_TRUE(watcher.Subscribe("edgewatch/#", 1).ok());

  DaemonProcess d;
  std::string config = WriteConfig("uplink", R"({"mqtt":{"device_id":"dev3"}})");
  ASSERT_TRUE(d.Start({.args = {"--no-auth", "--refresh-s", "0", "--config", config, "--mqtt",
                                "mqtt://127.0.0.1:" + std::to_string(broker.port())}})
                  .ok());
  ASSERT_TRUE(WaitOnline(watcher, "dev3", "true").ok());

  IngestTestClient producer;
  ASSERT_TRUE(producer.Connect(d.ingest_path()).ok());
  // Not matched by the default patterns (pipeline/#, alerts, system/#): never uplinked.
  ASSERT_TRUE(
      producer.WriteLine(R"({"topic":"training/run1/metrics","data":{"epoch":1,"loss":0.5}})")
          .ok());
  ASSERT_TRUE(producer
                  .WriteLine(R"({"topic":"pipeline/cam1/frame","data":{"pipeline_id":"cam1",)"
                             R"("frame_data":{"frame_id":7,"timestamp":1,"detections_count":0,)"
                             R"("processing_time":1,"fps":30,"node_results":{}}}})")
                  .ok());
  ASSERT_TRUE(producer.WriteLine(ErrorLine(1)).ok());

  auto frame = watcher.WaitFor(
      [](const MqttMessage& m) { return m.topic == "edgewatch/dev3/pipeline/cam1/frame"; },
      kTimeoutMs);
  ASSERT_TRUE(frame.ok()) << frame.status().message();
  EXPECT_EQ(frame->qos, 0);  // frames: QoS 0
  auto env = ParseJson(frame->payload);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*GetString(env->get(), "type"), "event");
  EXPECT_EQ(*GetString(env->get(), "topic"), "pipeline/cam1/frame");
  EXPECT_EQ(*GetInt(env->get(), "seq"), 1);
  EXPECT_EQ(*GetInt(cJSON_GetObjectItem(cJSON_GetObjectItem(env->get(), "data"), "frame_data"),
                    "frame_id"),
            7);

  auto error = watcher.WaitFor(
      [](const MqttMessage& m) { return m.topic == "edgewatch/dev3/pipeline/cam1/error"; },
      kTimeoutMs);
  ASSERT_TRUE(error.ok()) << error.status().message();
  EXPECT_EQ(error->qos, 1);  // errors: QoS 1
  EXPECT_EQ(ErrorNumber(*error), 1);

  for (const MqttMessage& m : watcher.Messages()) {
    EXPECT_THAT(m.topic, ::testing::Not(HasSubstr("training"))) << m.topic;
  }
  // The retained online flag is what a late subscriber sees first.
  MqttTestClient late;
  ASSERT_TRUE(late.Connect(broker.port(), "late").ok());
  ASSERT_TRUE(late.Subscribe("edgewatch/dev3/online", 1).ok());
  auto online = late.WaitFor([](const MqttMessage&) { return true; }, kTimeoutMs);
  ASSERT_TRUE(online.ok());
  EXPECT_EQ(online->payload, "true");
  EXPECT_TRUE(online->retain);

  auto metrics = HttpGet(d.port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body, HasSubstr("edgewatch_mqtt_uplink_connected 1"));
  EXPECT_THAT(metrics->body, HasSubstr("edgewatch_mqtt_uplink_qos1_queued_total 1"));
  EXPECT_THAT(metrics->body,
              HasSubstr("edgewatch_connections_max"));  // the gateway's own lines are kept
}

TEST(MqttTest, BrokerKilledAndRestartedLosesNoQos1MessageAndKeepsOrder) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_MOSQUITTO();
  MosquittoBroker broker;
  ASSERT_TRUE(broker.SetUsers({{"watcher", "w-pass"}, {"edge", "e-pass"}}).ok());
  ASSERT_TRUE(broker.Start().ok());
  auto watcher = std::make_unique<MqttTestClient>();
  ASSERT_TRUE(watcher->Connect(broker.port(), "watcher", true, "watcher", "w-pass").ok());
  ASSERT_TRUE(watcher->Subscribe("edgewatch/dev1/#", 1).ok());

  DaemonProcess d;
  std::string pass_file = ::testing::TempDir() + "/edge-pass-" + std::to_string(::getpid());
  std::ofstream(pass_file, std::ios::trunc) << "e-pass\n";
  std::string config =
      WriteConfig("restart", R"({"mqtt":{"device_id":"dev1","username":"edge","password_file":")" +
                                 pass_file + R"("}})");
  ASSERT_TRUE(d.Start({.args = {"--no-auth", "--refresh-s", "0", "--config", config, "--mqtt",
                                "mqtt://127.0.0.1:" + std::to_string(broker.port())}})
                  .ok());
  ASSERT_TRUE(WaitOnline(*watcher, "dev1", "true").ok());
  WsTestClient ws;
  Subscribe(ws, d, "pipeline/cam1/error");
  IngestTestClient producer;
  ASSERT_TRUE(producer.Connect(d.ingest_path()).ok());

  const std::string topic = "edgewatch/dev1/pipeline/cam1/error";
  constexpr int kBefore = 10, kTotal = 40;
  for (int n = 1; n <= kBefore; ++n) ASSERT_TRUE(producer.WriteLine(ErrorLine(n)).ok());
  ASSERT_TRUE(
      watcher
          ->WaitUntil([&](const auto& msgs) { return HasAll(msgs, topic, 1, kBefore); }, kTimeoutMs)
          .ok());

  // The broker dies mid-stream; the stream goes on.
  ASSERT_TRUE(broker.Kill().ok());
  watcher.reset();
  for (int n = kBefore + 1; n <= kTotal; ++n) ASSERT_TRUE(producer.WriteLine(ErrorLine(n)).ok());
  // Every event went through the bus (and so into the uplink's outbox) once the WebSocket client
  // has the last one.
  for (int n = 1; n <= kTotal; ++n) {
    JsonPtr data = ReceiveEvent(ws, "pipeline/cam1/error");
    ASSERT_NE(data, nullptr);
    ASSERT_EQ(*GetInt(data.get(), "n"), n);
  }

  // The broker comes back, first letting only the watcher in, so it is subscribed before the
  // gateway can deliver anything; then the gateway's user is added (SIGHUP re-reads the file).
  ASSERT_TRUE(broker.SetUsers({{"watcher", "w-pass"}}).ok());
  ASSERT_TRUE(broker.Restart().ok());
  MqttTestClient watcher2;
  ASSERT_TRUE(watcher2.Connect(broker.port(), "watcher2", true, "watcher", "w-pass").ok());
  ASSERT_TRUE(watcher2.Subscribe("edgewatch/dev1/#", 1).ok());
  ASSERT_TRUE(broker.SetUsers({{"watcher", "w-pass"}, {"edge", "e-pass"}}).ok());

  auto all =
      watcher2.WaitUntil([&](const auto& msgs) { return HasAll(msgs, topic, kBefore + 1, kTotal); },
                         kReconnectTimeoutMs);
  ASSERT_TRUE(all.ok()) << all.status().message();
  // In order and without gaps. A message the broker received before it died but whose PUBACK
  // was lost is sent again (at-least-once): such duplicates of 1..kBefore may come first.
  std::vector<int> order = FirstOccurrences(*all, topic);
  std::vector<int> after;
  for (int n : order) {
    if (n > kBefore) after.push_back(n);
  }
  std::vector<int> expected;
  for (int n = kBefore + 1; n <= kTotal; ++n) expected.push_back(n);
  EXPECT_EQ(after, expected);
  ASSERT_TRUE(WaitOnline(watcher2, "dev1", "true").ok());

  auto status = HttpGet(d.port(), "/api/v1/mqtt");
  ASSERT_TRUE(status.ok());
  auto j = status->Json();
  ASSERT_TRUE(j.ok()) << status->body;
  const cJSON* uplink = cJSON_GetObjectItem(j->get(), "uplink");
  EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(uplink, "connected")));
  EXPECT_GE(*GetInt(uplink, "disconnects"), 1);
  EXPECT_EQ(*GetInt(cJSON_GetObjectItem(uplink, "outbox"), "overflow"), 0);
  // Credentials never reach the logs.
  EXPECT_THAT(d.ReadStderr(), ::testing::Not(HasSubstr("e-pass")));
}

TEST(MqttTest, OutboxOverflowIsCountedAndReportedOnReconnect) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_MOSQUITTO();
  MosquittoBroker broker;
  // The gateway's user is not let in yet: everything QoS 1 waits in the outbox (bound: 5).
  ASSERT_TRUE(broker.SetUsers({{"watcher", "w-pass"}}).ok());
  ASSERT_TRUE(broker.Start().ok());
  MqttTestClient watcher;
  ASSERT_TRUE(watcher.Connect(broker.port(), "watcher", true, "watcher", "w-pass").ok());
  ASSERT_TRUE(watcher.Subscribe("edgewatch/dev5/#", 1).ok());

  DaemonProcess d;
  std::string pass_file = ::testing::TempDir() + "/edge-pass5-" + std::to_string(::getpid());
  std::ofstream(pass_file, std::ios::trunc) << "e-pass\n";
  std::string config =
      WriteConfig("overflow", R"({"mqtt":{"device_id":"dev5","username":"edge","password_file":")" +
                                  pass_file + R"(","outbox_max_messages":5}})");
  ASSERT_TRUE(d.Start({.args = {"--no-auth", "--refresh-s", "0", "--config", config, "--mqtt",
                                "mqtt://127.0.0.1:" + std::to_string(broker.port())}})
                  .ok());
  WsTestClient ws;
  Subscribe(ws, d, "pipeline/cam1/error");
  IngestTestClient producer;
  ASSERT_TRUE(producer.Connect(d.ingest_path()).ok());
  constexpr int kTotal = 8, kBound = 5;
  for (int n = 1; n <= kTotal; ++n) ASSERT_TRUE(producer.WriteLine(ErrorLine(n)).ok());
  for (int n = 1; n <= kTotal; ++n) ASSERT_NE(ReceiveEvent(ws, "pipeline/cam1/error"), nullptr);

  auto metrics = HttpGet(d.port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body, HasSubstr("edgewatch_mqtt_uplink_outbox_overflow_total 3"));
  EXPECT_THAT(metrics->body, HasSubstr("edgewatch_mqtt_uplink_outbox_messages 5"));
  EXPECT_THAT(metrics->body, HasSubstr("edgewatch_mqtt_uplink_connected 0"));
  EXPECT_THAT(d.ReadStderr(), HasSubstr("outbox full"));

  // Let the gateway in.
  ASSERT_TRUE(broker.SetUsers({{"watcher", "w-pass"}, {"edge", "e-pass"}}).ok());
  const std::string topic = "edgewatch/dev5/pipeline/cam1/error";
  auto got = watcher.WaitUntil(
      [&](const auto& msgs) {
        bool report = false;
        for (const MqttMessage& m : msgs) report |= m.topic == "edgewatch/dev5/uplink/overflow";
        return report && HasAll(msgs, topic, 1, kBound);
      },
      kReconnectTimeoutMs);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(FirstOccurrences(*got, topic), (std::vector<int>{1, 2, 3, 4, 5}));
  for (const MqttMessage& m : *got) {
    if (m.topic != "edgewatch/dev5/uplink/overflow") continue;
    auto j = ParseJson(m.payload);
    ASSERT_TRUE(j.ok()) << m.payload;
    EXPECT_EQ(*GetInt(j->get(), "dropped"), kTotal - kBound);
    EXPECT_EQ(*GetInt(j->get(), "total"), kTotal - kBound);
  }
}

TEST(MqttTest, QueuedMessagesSurviveADaemonRestart) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_MOSQUITTO();
  MosquittoBroker broker;
  ASSERT_TRUE(broker.SetUsers({{"watcher", "w-pass"}}).ok());  // the gateway is refused
  ASSERT_TRUE(broker.Start().ok());
  std::string state = ::testing::TempDir() + "/ew-mqtt-state-XXXXXX";
  ASSERT_NE(::mkdtemp(state.data()), nullptr);
  std::string pass_file = state + "/edge.pass";
  std::ofstream(pass_file, std::ios::trunc) << "e-pass\n";
  std::string config =
      WriteConfig("persist", R"({"mqtt":{"device_id":"dev6","username":"edge","password_file":")" +
                                 pass_file + R"("}})");
  DaemonOptions opts{
      .args = {"--no-auth", "--refresh-s", "0", "--state-dir", state, "--config", config, "--mqtt",
               "mqtt://127.0.0.1:" + std::to_string(broker.port())},
      .default_state_dir = false};
  {
    DaemonProcess d;
    ASSERT_TRUE(d.Start(opts).ok());
    WsTestClient ws;
    Subscribe(ws, d, "pipeline/cam1/error");
    IngestTestClient producer;
    ASSERT_TRUE(producer.Connect(d.ingest_path()).ok());
    for (int n = 1; n <= 3; ++n) ASSERT_TRUE(producer.WriteLine(ErrorLine(n)).ok());
    for (int n = 1; n <= 3; ++n) ASSERT_NE(ReceiveEvent(ws, "pipeline/cam1/error"), nullptr);
    ASSERT_TRUE(d.Signal(SIGTERM).ok());  // the outbox writer finishes before the exit
    auto exit = d.Wait(kTimeoutMs);
    ASSERT_TRUE(exit.ok());
    EXPECT_TRUE(exit->success()) << exit->ToString();
  }
  MqttTestClient watcher;
  ASSERT_TRUE(watcher.Connect(broker.port(), "watcher", true, "watcher", "w-pass").ok());
  ASSERT_TRUE(watcher.Subscribe("edgewatch/dev6/#", 1).ok());
  ASSERT_TRUE(broker.SetUsers({{"watcher", "w-pass"}, {"edge", "e-pass"}}).ok());
  DaemonProcess again;
  ASSERT_TRUE(again.Start(opts).ok());
  const std::string topic = "edgewatch/dev6/pipeline/cam1/error";
  auto got = watcher.WaitUntil([&](const auto& msgs) { return HasAll(msgs, topic, 1, 3); },
                               kReconnectTimeoutMs);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(FirstOccurrences(*got, topic), (std::vector<int>{1, 2, 3}));
  EXPECT_THAT(again.ReadStderr(), HasSubstr("3 QoS 1 messages from the previous run"));
  std::error_code ec;
  std::filesystem::remove_all(state, ec);
}

TEST(MqttTest, UplinkOverTlsVerifiesTheBrokerByName) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_MOSQUITTO();
  std::string dir = ::testing::TempDir() + "/ew-mqtt-tls-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  // The broker's certificate names localhost; the gateway trusts exactly it (its own CA).
  auto cert = fw::tls::LoadOrCreateSelfSigned(dir + "/broker", {"localhost", {"localhost"}, {}},
                                              UnixMillis() / 1000);
  ASSERT_TRUE(cert.ok()) << cert.status().message();
  MosquittoBroker broker;
  broker.SetTls(cert->cert_path, cert->key_path);
  ASSERT_TRUE(broker.Start().ok());
  MqttTestClient watcher;
  watcher.set_tls_ca(cert->cert_path);  // connects to localhost over TLS, verifying the name
  ASSERT_TRUE(watcher.Connect(broker.port(), "watcher").ok());
  ASSERT_TRUE(watcher.Subscribe("edgewatch/dev7/#", 1).ok());
  DaemonProcess d;
  std::string config = WriteConfig(
      "tls", R"({"mqtt":{"device_id":"dev7","tls":{"ca":")" + cert->cert_path + R"("}}})");
  ASSERT_TRUE(d.Start({.args = {"--no-auth", "--refresh-s", "0", "--config", config, "--mqtt",
                                "mqtts://localhost:" + std::to_string(broker.port())}})
                  .ok());
  ASSERT_TRUE(WaitOnline(watcher, "dev7", "true").ok());
  IngestTestClient producer;
  ASSERT_TRUE(producer.Connect(d.ingest_path()).ok());
  ASSERT_TRUE(producer.WriteLine(ErrorLine(1)).ok());
  auto error = watcher.WaitFor(
      [](const MqttMessage& m) { return m.topic == "edgewatch/dev7/pipeline/cam1/error"; },
      kTimeoutMs);
  ASSERT_TRUE(error.ok()) << error.status().message();
  EXPECT_EQ(ErrorNumber(*error), 1);

  // A gateway trusting another CA refuses this broker: the handshake fails, nothing is sent.
  auto other = fw::tls::LoadOrCreateSelfSigned(dir + "/other", {"localhost", {"localhost"}, {}},
                                               UnixMillis() / 1000);
  ASSERT_TRUE(other.ok());
  DaemonProcess wrong;
  std::string wrong_config = WriteConfig(
      "tls-wrong", R"({"mqtt":{"device_id":"dev8","tls":{"ca":")" + other->cert_path + R"("}}})");
  ASSERT_TRUE(wrong
                  .Start({.args = {"--no-auth", "--config", wrong_config, "--mqtt",
                                   "mqtts://localhost:" + std::to_string(broker.port())}})
                  .ok());
  ASSERT_TRUE(broker.WaitForLog("alert unknown ca", kTimeoutMs).ok());
  EXPECT_THAT(broker.Log(), ::testing::Not(HasSubstr("as edgewatch-dev8-uplink")));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(MqttTest, WillPublishesOnlineFalseWhenTheDaemonIsKilled) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_MOSQUITTO();
  MosquittoBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  MqttTestClient watcher;
  ASSERT_TRUE(watcher.Connect(broker.port(), "watcher").ok());
  ASSERT_TRUE(watcher.Subscribe("edgewatch/dev2/online", 1).ok());

  DaemonProcess d;
  std::string config = WriteConfig("will", R"({"mqtt":{"device_id":"dev2"}})");
  ASSERT_TRUE(d.Start({.args = {"--no-auth", "--refresh-s", "0", "--config", config, "--mqtt",
                                "mqtt://127.0.0.1:" + std::to_string(broker.port())}})
                  .ok());
  ASSERT_TRUE(WaitOnline(watcher, "dev2", "true").ok());
  ASSERT_TRUE(d.Signal(SIGKILL).ok());
  ASSERT_TRUE(WaitOnline(watcher, "dev2", "false").ok());
  // Retained: what a dashboard subscribing later sees.
  MqttTestClient late;
  ASSERT_TRUE(late.Connect(broker.port(), "late").ok());
  ASSERT_TRUE(late.Subscribe("edgewatch/dev2/online", 1).ok());
  auto m = late.WaitFor([](const MqttMessage&) { return true; }, kTimeoutMs);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->payload, "false");
  EXPECT_TRUE(m->retain);
}

TEST(MqttTest, GracefulStopPublishesOnlineFalse) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_MOSQUITTO();
  MosquittoBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  MqttTestClient watcher;
  ASSERT_TRUE(watcher.Connect(broker.port(), "watcher").ok());
  ASSERT_TRUE(watcher.Subscribe("edgewatch/dev4/online", 1).ok());
  DaemonProcess d;
  std::string config = WriteConfig("stop", R"({"mqtt":{"device_id":"dev4"}})");
  ASSERT_TRUE(d.Start({.args = {"--no-auth", "--refresh-s", "0", "--config", config, "--mqtt",
                                "mqtt://127.0.0.1:" + std::to_string(broker.port())}})
                  .ok());
  ASSERT_TRUE(WaitOnline(watcher, "dev4", "true").ok());
  ASSERT_TRUE(d.Signal(SIGTERM).ok());
  auto exit = d.Wait(kTimeoutMs);
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->success()) << exit->ToString();
  ASSERT_TRUE(WaitOnline(watcher, "dev4", "false").ok());
}

TEST(MqttTest, IngestMapsDeepStreamAndFrigateAndCountsMalformedPayloads) {
  EW_SKIP_WITHOUT_DAEMON();
  EW_SKIP_WITHOUT_MOSQUITTO();
  MosquittoBroker broker;
  ASSERT_TRUE(broker.Start().ok());
  MqttTestClient nvr;  // plays DeepStream's nvmsgbroker and Frigate
  ASSERT_TRUE(nvr.Connect(broker.port(), "nvr").ok());
  // Retained, so the gateway gets it as soon as its subscriptions are in place: the probe tells
  // the test when that is (frigate/stats is subscribed last).
  ASSERT_TRUE(nvr.Publish("frigate/stats",
                          R"({"probe":{"camera_fps":1,"process_fps":1,"detection_fps":0}})", 1,
                          true)
                  .ok());

  DaemonProcess d;
  ASSERT_TRUE(d.Start({.args = {"--no-auth", "--refresh-s", "0", "--mqtt-ingest",
                                "mqtt://127.0.0.1:" + std::to_string(broker.port())}})
                  .ok());
  WsTestClient ws;
  Subscribe(ws, d, "pipeline/#");
  ASSERT_NE(ReceiveEvent(ws, "pipeline/probe/status"), nullptr);

  // Larger than the gateway's Maximum Packet Size (MQTT 5): the broker never sends it.
  ASSERT_TRUE(nvr.Publish("deepstream/cam1", std::string(100 * 1024, ' '), 1).ok());
  // Malformed payloads first: each is counted and skipped, and what follows still flows.
  ASSERT_TRUE(nvr.Publish("deepstream/cam1", "{\"version\":\"4.0\",\"objects\":", 1).ok());
  ASSERT_TRUE(nvr.Publish("deepstream/cam1", R"({"version":"4.0","id":1,"objects":[]})", 1).ok());
  ASSERT_TRUE(nvr.Publish("frigate/events", R"({"type":"new","after":{"camera":"x"}})", 1).ok());
  ASSERT_TRUE(nvr.Publish("deepstream/cam1",
                          R"({"version":"4.0","id":300,"@timestamp":"2026-05-01T12:00:00.000Z",)"
                          R"("sensorId":"cam1","objects":["5|10|20|110|220|person",)"
                          R"("6|300|40|380|200|car"]})",
                          1)
                  .ok());
  ASSERT_TRUE(
      nvr.Publish("deepstream/entrance",
                  R"({"messageid":"m1","@timestamp":"2026-05-01T12:00:01.000Z",)"
                  R"("sensor":{"id":"entrance"},"analyticsModule":{"id":"lpr"},)"
                  R"("object":{"id":"9","vehicle":{"license":"AB 123"},)"
                  R"("bbox":{"topleftx":1,"toplefty":2,"bottomrightx":3,"bottomrighty":4}},)"
                  R"("event":{"id":"ev1","type":"entry"}})",
                  1)
          .ok());
  ASSERT_TRUE(nvr.Publish("frigate/events",
                          R"({"type":"new","before":{},"after":{"id":"1.5-abc","camera":"yard",)"
                          R"("frame_time":1777636802.5,"label":"person","score":0.8,)"
                          R"("top_score":0.9,"box":[1,2,3,4],"current_zones":["gate"]}})",
                          1)
                  .ok());
  ASSERT_TRUE(nvr.Publish("frigate/stats",
                          R"({"cameras":{"yard":{"camera_fps":5,"process_fps":5,)"
                          R"("detection_fps":1.2,"skipped_fps":0}},)"
                          R"("detectors":{"coral":{"inference_speed":9.5}}})",
                          1)
                  .ok());

  JsonPtr frame = ReceiveEvent(ws, "pipeline/cam1/frame");
  ASSERT_NE(frame, nullptr);
  EXPECT_EQ(*GetInt(FindPath(frame.get(), "frame_data"), "frame_id"), 300);
  EXPECT_EQ(*GetInt(FindPath(frame.get(), "frame_data"), "detections_count"), 2);
  EXPECT_EQ(*GetInt(FindPath(frame.get(), "frame_data"), "timestamp"), 1777636800000);
  const cJSON* dets = FindPath(frame.get(), "frame_data.node_results.deepstream.detections");
  ASSERT_EQ(cJSON_GetArraySize(dets), 2);
  EXPECT_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(dets, 1), "label")->valuestring, "car");

  JsonPtr lpr = ReceiveEvent(ws, "pipeline/entrance/analytics");
  ASSERT_NE(lpr, nullptr);
  EXPECT_STREQ(FindPath(lpr.get(), "analytics.results.event.type")->valuestring, "entry");
  EXPECT_STREQ(FindPath(lpr.get(), "analytics.results.object.attributes.license")->valuestring,
               "AB 123");

  JsonPtr yard_event = ReceiveEvent(ws, "pipeline/yard/analytics");
  ASSERT_NE(yard_event, nullptr);
  EXPECT_STREQ(FindPath(yard_event.get(), "analytics.results.label")->valuestring, "person");
  EXPECT_STREQ(FindPath(yard_event.get(), "analytics.node_type")->valuestring, "frigate_event");

  JsonPtr yard_status = ReceiveEvent(ws, "pipeline/yard/status");
  ASSERT_NE(yard_status, nullptr);
  EXPECT_DOUBLE_EQ(FindPath(yard_status.get(), "detailed_status.stats.detection_fps")->valuedouble,
                   1.2);
  EXPECT_DOUBLE_EQ(
      FindPath(yard_status.get(), "detailed_status.stats.inference_speed")->valuedouble, 9.5);

  // The malformed payloads came first on the same connection: they are counted by now.
  auto metrics = HttpGet(d.port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body,
              HasSubstr("edgewatch_mqtt_ingest_malformed_total{source=\"deepstream\"} 2"));
  EXPECT_THAT(metrics->body,
              HasSubstr("edgewatch_mqtt_ingest_malformed_total{source=\"frigate_events\"} 1"));
  EXPECT_THAT(metrics->body,
              HasSubstr("edgewatch_mqtt_ingest_events_total{source=\"deepstream\"} 2"));
  EXPECT_THAT(metrics->body, HasSubstr("edgewatch_mqtt_ingest_connected 1"));
  EXPECT_THAT(d.ReadStderr(), HasSubstr("deepstream payload on deepstream/cam1 is malformed"));
}

}  // namespace
}  // namespace edgewatch::testing
