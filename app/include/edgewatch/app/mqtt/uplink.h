// MqttUplink: publishes bus events to a (central) MQTT broker.
//
// A bus Subscriber for the configured topic patterns. Each event goes to
// <prefix>/<device_id>/<topic> with the event's JSON envelope as payload
// ({"type":"event","topic","seq","ts","data"}), at the QoS UplinkQos() gives its topic:
//   QoS 1 (alerts, pipeline/<id>/error, system/load_shedding): appended to the on-disk Outbox
//     first and sent from there in order, at most max_inflight unacknowledged; removed when the
//     broker's PUBACK arrives. After a reconnect every message not acknowledged is sent again
//     (at-least-once: a message whose PUBACK was lost arrives twice). When the outbox is full
//     the message is dropped and counted (overflow), logged, and reported to the broker on the
//     next connection as <prefix>/<device_id>/uplink/overflow {"dropped":N,"total":M}. The
//     bus's periodic re-send of an unchanged QoS 1 topic (same data) is not queued again.
//   QoS 0 (everything else: frames, status, resources...): sent while connected, dropped and
//     counted while disconnected or while more than qos0_backlog_bytes wait for the socket.
// The connection's will is <prefix>/<device_id>/online = "false" (retained, QoS 1); on every
// connect "true" is published retained; a graceful Stop() publishes "false" itself.
//
// Threading: loop thread only. Start() after Gateway::Start(); Stop() before the gateway goes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "edgewatch/app/mqtt/mqtt_client.h"
#include "edgewatch/app/mqtt/mqtt_config.h"
#include "edgewatch/app/mqtt/outbox.h"
#include "edgewatch/fw/bus.h"
#include "edgewatch/fw/gateway.h"

namespace edgewatch::app::mqtt {

// The uplink QoS of an edgewatch topic: 1 for alerts and errors, 0 for the rest. Pure.
int UplinkQos(std::string_view topic);

struct UplinkStats {
  uint64_t qos0_sent = 0;
  uint64_t qos0_dropped = 0;  // disconnected or backlog over qos0_backlog_bytes
  uint64_t qos1_queued = 0;
  uint64_t qos1_sent = 0;  // handed to the broker (resends included)
  uint64_t qos1_acked = 0;
  uint64_t qos1_overflow = 0;  // dropped by Append() in this run (Outbox::overflowed() also
                               // counts what a smaller bound dropped at open)
};

class MqttUplink final : public fw::Subscriber {
 public:
  MqttUplink(fw::Gateway& gw, UplinkConfig config, std::unique_ptr<Outbox> outbox);
  ~MqttUplink();
  MqttUplink(const MqttUplink&) = delete;
  MqttUplink& operator=(const MqttUplink&) = delete;

  // Subscribes to the bus and starts connecting. Errors: bad pattern, vhost creation.
  Status Start();
  // Publishes online=false (retained) when connected, disconnects cleanly, leaves the bus.
  void Stop();

  void OnEvent(const fw::FrameRef& event) override;

  const UplinkStats& stats() const { return stats_; }
  const MqttClient& client() const { return *client_; }
  const Outbox& outbox() const { return *outbox_; }
  // Prometheus lines (edgewatch_mqtt_uplink_*).
  std::string MetricsText() const;
  // {"connected":..,"broker":..,"outbox":{..},"sent":{..}} for GET /api/v1/mqtt.
  std::string StatusJson() const;

 private:
  std::string BrokerTopic(std::string_view topic) const;
  void OnConnected();
  void OnDisconnected();
  void OnPublished(int mid);
  void Pump();  // sends queued QoS 1 messages while the window allows

  fw::Gateway& gw_;
  UplinkConfig config_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<MqttClient> client_;
  std::string online_topic_;
  std::map<int, int64_t> inflight_;  // mid -> outbox id (this connection)
  size_t inflight_prefix_ = 0;       // the first N outbox messages are in flight
  uint64_t overflow_reported_ = 0;   // overflow count already reported to the broker
  size_t qos0_unflushed_bytes_ = 0;  // QoS 0 bytes since libmosquitto last had nothing to write
  // QoS 1 topics: the data last queued, so the bus's periodic re-send of an unchanged alert or
  // error is not queued again.
  std::map<std::string, std::string, std::less<>> last_qos1_data_;
  bool subscribed_ = false;
  UplinkStats stats_;
};

}  // namespace edgewatch::app::mqtt
