// MqttClient: one libmosquitto connection driven by the gateway's lws event loop.
//
// No libmosquitto thread (no mosquitto_loop_start): the connection's socket is adopted into the
// lws loop as a raw file on a private vhost (a dup() of it, which lws closes), readable ->
// mosquitto_loop_read, writeable (requested whenever mosquitto_want_write) ->
// mosquitto_loop_write, and an lws timer runs mosquitto_loop_misc every second (keepalive PINGs,
// the broker's silence). Every libmosquitto callback therefore runs on the loop thread.
//
// Connecting never blocks the loop: each attempt runs on a short-lived worker thread which
// creates a fresh mosquitto instance and calls mosquitto_connect (DNS lookup, TCP connect, TLS
// handshake, CONNECT packet); the connected instance is handed to the loop with Gateway::Post()
// and only then touched there. A failed or lost connection is retried after a backoff doubling
// from 0.5 s to 30 s (reset by a CONNACK). Each connection is a new instance with a clean
// session, so nothing is retransmitted by libmosquitto itself: the owner resends (the uplink's
// outbox). A worker still connecting at Stop() is not waited for: it is told to discard its
// result and never touches the gateway again.
//
// Threading: every method on the loop thread. Start() after Gateway::Start(); Stop() (or the
// destructor) before the gateway is destroyed.
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "edgewatch/app/mqtt/mqtt_config.h"
#include "edgewatch/base/status.h"
#include "edgewatch/fw/gateway.h"
#include "edgewatch/fw/loop.h"

struct mosquitto;
struct mosquitto_message;

namespace edgewatch::app::mqtt {

struct WillMessage {
  std::string topic;  // empty: no will
  std::string payload;
  int qos = 1;
  bool retain = true;
};

struct MqttClientStats {
  uint64_t connect_attempts = 0;
  uint64_t connects = 0;  // CONNACK accepted
  uint64_t disconnects = 0;
  uint64_t connect_failures = 0;
  uint64_t messages_in = 0;
  uint64_t published = 0;
};

class MqttClient {
 public:
  struct Callbacks {
    std::function<void()> on_connected;         // CONNACK accepted
    std::function<void()> on_disconnected;      // after a connection was up
    std::function<void(int mid)> on_published;  // QoS 0 sent / QoS 1 PUBACK
    std::function<void(std::string_view topic, std::string_view payload)> on_message;
  };

  // `role` names the connection in logs ("uplink", "ingest").
  MqttClient(fw::Gateway& gw, BrokerConfig broker, WillMessage will, std::string role,
             Callbacks callbacks);
  ~MqttClient();
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Creates the private vhost and starts the first connection attempt.
  Status Start();
  // Closes the connection (a clean DISCONNECT when connected: the broker then does not publish
  // the will) and stops reconnecting.
  void Stop();

  bool connected() const { return connected_; }
  // Publishes on the current connection. Returns the message id, or Unavailable when not
  // connected, or the libmosquitto error.
  Result<int> Publish(const std::string& topic, std::string_view payload, int qos, bool retain);
  Status Subscribe(const std::string& filter, int qos);
  // True while libmosquitto holds bytes the socket has not accepted yet.
  bool WantWrite() const;

  const MqttClientStats& stats() const { return stats_; }
  const BrokerConfig& broker() const { return broker_; }

  // --- internal: the lws raw-file callback and the connect worker (loop thread) ---
  int OnReadable();
  int OnWriteable();
  void OnClosed();
  static void ConnectCallback(mosquitto* m, void* self, int rc);
  static void DisconnectCallback(mosquitto* m, void* self, int rc);
  static void PublishCallback(mosquitto* m, void* self, int mid);
  static void MessageCallback(mosquitto* m, void* self, const mosquitto_message* msg);

 private:
  struct Attempt;
  void BeginConnect();
  void OnConnectResult(mosquitto* m, int rc, const std::string& error);
  // Tears the connection down (loop thread, outside libmosquitto calls) and schedules a retry.
  void Drop(const char* why);
  void ScheduleReconnect();
  void RequestWrite();
  void Misc();

  fw::Gateway& gw_;
  BrokerConfig broker_;
  WillMessage will_;
  std::string role_;
  Callbacks cb_;
  lws_vhost* vhost_ = nullptr;
  lws_protocols protocols_[2] = {};
  lws* wsi_ = nullptr;
  mosquitto* mosq_ = nullptr;
  std::shared_ptr<Attempt> attempt_;  // the worker of the connection attempt in progress
  bool connected_ = false;
  bool stopped_ = false;
  bool dropping_ = false;
  int64_t backoff_ms_ = 500;
  uint64_t failures_in_outage_ = 0;  // failed attempts since the last CONNACK (log throttling)
  fw::Timer reconnect_timer_;
  fw::Timer misc_timer_;
  fw::Timer drop_timer_;
  MqttClientStats stats_;
};

// Loads libmosquitto once per process (mosquitto_lib_init); any thread.
void EnsureMosquittoLib();

}  // namespace edgewatch::app::mqtt
