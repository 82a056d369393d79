#include "edgewatch/app/mqtt/uplink.h"

#include "edgewatch/app/topic_kind.h"
#include "edgewatch/base/clock.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"
#include "edgewatch/fw/frame.h"

namespace edgewatch::app::mqtt {

int UplinkQos(std::string_view topic) {
  if (topic == "alerts") return 1;
  if (ClassifyTopic(topic) == TopicKind::kPipelineError) return 1;
  return 0;
}

MqttUplink::MqttUplink(fw::Gateway& gw, UplinkConfig config, std::unique_ptr<Outbox> outbox)
    : gw_(gw), config_(std::move(config)), outbox_(std::move(outbox)) {
  online_topic_ = config_.prefix + "/" + config_.device_id + "/online";
  MqttClient::Callbacks cb;
  cb.on_connected = [this] { OnConnected(); };
  cb.on_disconnected = [this] { OnDisconnected(); };
  cb.on_published = [this](int mid) { OnPublished(mid); };
  client_ = std::make_unique<MqttClient>(
      gw_, config_.broker, WillMessage{online_topic_, "false", 1, true}, "uplink", std::move(cb));
}

MqttUplink::~MqttUplink() {
  Stop();
}

Status MqttUplink::Start() {
  for (const std::string& p : config_.topics) {
    auto r = gw_.bus().Subscribe(this, p);
    if (!r.ok()) {
      gw_.bus().RemoveSubscriber(this);
      return InvalidArgument("mqtt.topics '" + p + "': " + r.status().message());
    }
  }
  subscribed_ = true;
  if (outbox_->loaded() > 0) {
    EW_INFO("mqtt", "uplink: %llu QoS 1 messages from the previous run wait in the outbox",
            static_cast<unsigned long long>(outbox_->loaded()));
  }
  return client_->Start();
}

void MqttUplink::Stop() {
  if (subscribed_) {
    gw_.bus().RemoveSubscriber(this);
    subscribed_ = false;
  }
  if (client_->connected()) (void)client_->Publish(online_topic_, "false", 1, true);
  client_->Stop();
}

std::string MqttUplink::BrokerTopic(std::string_view topic) const {
  std::string t;
  t.reserve(config_.prefix.size() + config_.device_id.size() + topic.size() + 2);
  t.append(config_.prefix).append("/").append(config_.device_id).append("/").append(topic);
  return t;
}

void MqttUplink::OnEvent(const fw::FrameRef& event) {
  if (event->topic == nullptr) return;
  const std::string& topic = event->topic->name();
  std::string_view payload = event->payload();
  if (UplinkQos(topic) == 1) {
    auto last = last_qos1_data_.find(topic);
    if (last != last_qos1_data_.end() && last->second == event->data()) return;  // a re-send
    if (!outbox_->Append(BrokerTopic(topic), std::string(payload))) {
      ++stats_.qos1_overflow;
      if (stats_.qos1_overflow == 1 || stats_.qos1_overflow % 100 == 0) {
        EW_WARN("mqtt",
                "uplink: outbox full (%zu messages, %zu bytes): dropped a QoS 1 message on %s; "
                "%llu dropped so far (reported to the broker on reconnect)",
                outbox_->pending().size(), outbox_->bytes(), topic.c_str(),
                static_cast<unsigned long long>(stats_.qos1_overflow));
      }
      return;
    }
    if (last != last_qos1_data_.end()) {
      last->second.assign(event->data());
    } else {
      last_qos1_data_.emplace(topic, std::string(event->data()));
    }
    ++stats_.qos1_queued;
    Pump();
    return;
  }
  if (!client_->connected()) {
    ++stats_.qos0_dropped;
    return;
  }
  if (!client_->WantWrite()) qos0_unflushed_bytes_ = 0;
  if (qos0_unflushed_bytes_ + payload.size() > config_.qos0_backlog_bytes) {
    ++stats_.qos0_dropped;
    return;
  }
  if (client_->Publish(BrokerTopic(topic), payload, 0, false).ok()) {
    ++stats_.qos0_sent;
    qos0_unflushed_bytes_ += payload.size();
  } else {
    ++stats_.qos0_dropped;
  }
}

void MqttUplink::Pump() {
  const auto& pending = outbox_->pending();
  while (client_->connected() && inflight_.size() < static_cast<size_t>(config_.max_inflight) &&
         inflight_prefix_ < pending.size()) {
    const Outbox::Message& m = pending[inflight_prefix_];
    auto mid = client_->Publish(m.topic, m.payload, 1, false);
    if (!mid.ok()) return;
    inflight_[*mid] = m.id;
    ++inflight_prefix_;
    ++stats_.qos1_sent;
  }
}

void MqttUplink::OnConnected() {
  inflight_.clear();
  inflight_prefix_ = 0;
  qos0_unflushed_bytes_ = 0;
  (void)client_->Publish(online_topic_, "true", 1, true);
  uint64_t overflow = outbox_->overflowed();
  if (overflow > overflow_reported_) {
    JsonWriter w;
    w.BeginObject()
        .Key("dropped")
        .Uint(overflow - overflow_reported_)
        .Key("total")
        .Uint(overflow)
        .Key("ts")
        .Int(UnixMillis())
        .EndObject();
    if (client_->Publish(BrokerTopic("uplink/overflow"), w.Take(), 1, false).ok()) {
      EW_WARN("mqtt", "uplink: reported %llu QoS 1 messages dropped while the outbox was full",
              static_cast<unsigned long long>(overflow - overflow_reported_));
      overflow_reported_ = overflow;
    }
  }
  if (!outbox_->pending().empty()) {
    EW_INFO("mqtt", "uplink: sending %zu queued QoS 1 messages", outbox_->pending().size());
  }
  Pump();
}

void MqttUplink::OnDisconnected() {
  inflight_.clear();
  inflight_prefix_ = 0;
  qos0_unflushed_bytes_ = 0;
}

void MqttUplink::OnPublished(int mid) {
  auto it = inflight_.find(mid);
  if (it == inflight_.end()) return;  // QoS 0, online, overflow report
  int64_t id = it->second;
  inflight_.erase(it);
  outbox_->Remove(id);
  if (inflight_prefix_ > 0) --inflight_prefix_;
  ++stats_.qos1_acked;
  Pump();
}

std::string MqttUplink::MetricsText() const {
  std::string out;
  auto line = [&](const char* name, const char* type, const char* help, uint64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(v) + "\n";
  };
  const MqttClientStats& c = client_->stats();
  line("edgewatch_mqtt_uplink_connected", "gauge", "1 while connected to the uplink broker",
       client_->connected() ? 1 : 0);
  line("edgewatch_mqtt_uplink_connects_total", "counter", "Accepted connections (CONNACK)",
       c.connects);
  line("edgewatch_mqtt_uplink_connect_failures_total", "counter", "Failed connection attempts",
       c.connect_failures);
  line("edgewatch_mqtt_uplink_disconnects_total", "counter", "Connections lost", c.disconnects);
  line("edgewatch_mqtt_uplink_qos0_sent_total", "counter", "QoS 0 messages published",
       stats_.qos0_sent);
  line("edgewatch_mqtt_uplink_qos0_dropped_total", "counter",
       "QoS 0 messages dropped (disconnected or socket backlog)", stats_.qos0_dropped);
  line("edgewatch_mqtt_uplink_qos1_queued_total", "counter", "QoS 1 messages queued in the outbox",
       stats_.qos1_queued);
  line("edgewatch_mqtt_uplink_qos1_acked_total", "counter", "QoS 1 messages acknowledged",
       stats_.qos1_acked);
  line("edgewatch_mqtt_uplink_outbox_overflow_total", "counter",
       "QoS 1 messages dropped because the outbox was full", outbox_->overflowed());
  line("edgewatch_mqtt_uplink_outbox_messages", "gauge", "QoS 1 messages waiting in the outbox",
       outbox_->pending().size());
  line("edgewatch_mqtt_uplink_outbox_bytes", "gauge", "Bytes waiting in the outbox (memory too)",
       outbox_->bytes());
  line("edgewatch_mqtt_uplink_outbox_disk_errors_total", "counter", "Failed outbox disk writes",
       outbox_->disk_errors());
  return out;
}

std::string MqttUplink::StatusJson() const {
  JsonWriter w;
  w.BeginObject().Key("connected").Bool(client_->connected());
  w.Key("broker").String(config_.broker.Describe());
  w.Key("online_topic").String(online_topic_);
  w.Key("outbox").BeginObject();
  w.Key("messages").Uint(outbox_->pending().size()).Key("bytes").Uint(outbox_->bytes());
  w.Key("max_messages").Uint(config_.outbox_max_messages);
  w.Key("max_bytes").Uint(config_.outbox_max_bytes);
  w.Key("overflow").Uint(outbox_->overflowed());
  w.Key("inflight").Uint(inflight_.size()).EndObject();
  w.Key("qos0_sent").Uint(stats_.qos0_sent).Key("qos0_dropped").Uint(stats_.qos0_dropped);
  w.Key("qos1_queued").Uint(stats_.qos1_queued).Key("qos1_acked").Uint(stats_.qos1_acked);
  w.Key("connects").Uint(client_->stats().connects);
  w.Key("disconnects").Uint(client_->stats().disconnects);
  w.EndObject();
  return w.Take();
}

}  // namespace edgewatch::app::mqtt
