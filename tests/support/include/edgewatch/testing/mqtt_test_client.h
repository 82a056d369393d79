// MqttTestClient: an MQTT client for tests (libmosquitto with its own network thread), which
// records every message it receives so a test can wait for an observable condition (with a
// generous failure deadline) instead of sleeping.
//
//   MqttTestClient sub;
//   ASSERT_TRUE(sub.Connect(broker.port(), "watcher").ok());
//   ASSERT_TRUE(sub.Subscribe("edgewatch/#", 1).ok());
//   auto m = sub.WaitFor([](const MqttMessage& m) { return m.topic == "..."; }, 10000);
//
// Thread-safe: libmosquitto's thread appends, the test thread reads under a mutex.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "edgewatch/base/status.h"

struct mosquitto;
struct mosquitto_message;

namespace edgewatch::testing {

struct MqttMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

class MqttTestClient {
 public:
  MqttTestClient();
  ~MqttTestClient();
  MqttTestClient(const MqttTestClient&) = delete;
  MqttTestClient& operator=(const MqttTestClient&) = delete;

  // Use TLS, trusting the PEM certificate(s) in `ca_file`; Connect() then goes to
  // localhost:`port` and verifies that the broker's certificate names localhost.
  void set_tls_ca(std::string ca_file) { tls_ca_ = std::move(ca_file); }

  // Connects to 127.0.0.1:`port` and waits for the CONNACK. `clean_session` false keeps the
  // session (subscriptions, queued QoS 1 messages) on the broker across reconnects.
  Status Connect(uint16_t port, const std::string& client_id, bool clean_session = true,
                 const std::string& username = "", const std::string& password = "",
                 int timeout_ms = 10000);
  // Subscribes and waits for the SUBACK.
  Status Subscribe(const std::string& filter, int qos, int timeout_ms = 10000);
  // Publishes and waits until it was sent (QoS 0) or acknowledged (QoS 1).
  Status Publish(const std::string& topic, const std::string& payload, int qos = 1,
                 bool retain = false, int timeout_ms = 10000);
  void Disconnect();

  // Waits until a message received so far (or later) satisfies `match`; returns the first one.
  Result<MqttMessage> WaitFor(const std::function<bool(const MqttMessage&)>& match, int timeout_ms);
  // Waits until `done(messages)` holds for everything received; returns a copy.
  Result<std::vector<MqttMessage>> WaitUntil(
      const std::function<bool(const std::vector<MqttMessage>&)>& done, int timeout_ms);
  std::vector<MqttMessage> Messages() const;
  bool connected() const;

 private:
  static void OnConnect(mosquitto*, void* self, int rc);
  static void OnDisconnect(mosquitto*, void* self, int rc);
  static void OnSubscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void OnPublish(mosquitto*, void* self, int mid);
  static void OnMessage(mosquitto*, void* self, const mosquitto_message* msg);

  mosquitto* mosq_ = nullptr;
  bool loop_started_ = false;
  std::string tls_ca_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<MqttMessage> messages_;
  std::vector<int> acked_mids_;
  int connack_ = -1;  // -1: none yet
  bool connected_ = false;
};

}  // namespace edgewatch::testing
