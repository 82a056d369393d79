#include "edgewatch/app/mqtt/ingest.h"

#include <mosquitto.h>

#include "edgewatch/base/clock.h"
#include "edgewatch/base/json.h"
#include "edgewatch/base/json_writer.h"
#include "edgewatch/base/log.h"

namespace edgewatch::app::mqtt {

MqttIngest::MqttIngest(fw::Gateway& gw, IngestConfig config) : gw_(gw), config_(std::move(config)) {
  MqttClient::Callbacks cb;
  cb.on_connected = [this] { OnConnected(); };
  cb.on_message = [this](std::string_view topic, std::string_view payload) {
    OnMessage(topic, payload);
  };
  client_ =
      std::make_unique<MqttClient>(gw_, config_.broker, WillMessage{}, "ingest", std::move(cb));
}

MqttIngest::~MqttIngest() {
  Stop();
}

Status MqttIngest::Start() {
  return client_->Start();
}

void MqttIngest::Stop() {
  client_->Stop();
}

const char* MqttIngest::SourceName(Source s) {
  switch (s) {
    case kDeepStream:
      return "deepstream";
    case kFrigateEvents:
      return "frigate_events";
    case kFrigateStats:
      return "frigate_stats";
    default:
      return "unknown";
  }
}

MqttIngest::Source MqttIngest::Classify(std::string_view topic) const {
  if (!config_.frigate_prefix.empty()) {
    if (topic == config_.frigate_prefix + "/events") return kFrigateEvents;
    if (topic == config_.frigate_prefix + "/stats") return kFrigateStats;
  }
  for (const std::string& f : config_.deepstream_topics) {
    bool match = false;
    if (mosquitto_topic_matches_sub(f.c_str(), std::string(topic).c_str(), &match) ==
            MOSQ_ERR_SUCCESS &&
        match) {
      return kDeepStream;
    }
  }
  return kUnknown;
}

void MqttIngest::OnConnected() {
  // A fresh clean session each time: subscribe again.
  for (const std::string& f : config_.deepstream_topics) {
    if (Status s = client_->Subscribe(f, 0); !s.ok()) {
      EW_WARN("mqtt", "ingest: %s", s.message().c_str());
    }
  }
  if (!config_.frigate_prefix.empty()) {
    for (const char* leaf : {"/events", "/stats"}) {
      if (Status s = client_->Subscribe(config_.frigate_prefix + leaf, 0); !s.ok()) {
        EW_WARN("mqtt", "ingest: %s", s.message().c_str());
      }
    }
  }
}

void MqttIngest::Count(Source s, const std::string& topic, const std::string& reason,
                       bool malformed) {
  uint64_t n = malformed ? ++stats_[s].malformed : ++stats_[s].rejected;
  if (n == 1 || n % 100 == 0) {
    EW_WARN("mqtt", "ingest: %s payload on %s %s (%llu so far): %s", SourceName(s), topic.c_str(),
            malformed ? "is malformed" : "was refused", static_cast<unsigned long long>(n),
            reason.c_str());
  }
}

void MqttIngest::OnMessage(std::string_view topic_view, std::string_view payload) {
  Source source = Classify(topic_view);
  ++stats_[source].messages;
  std::string topic(topic_view);
  if (source == kUnknown) return;
  int64_t now = UnixMillis();
  Result<std::vector<MappedEvent>> mapped =
      source == kDeepStream      ? MapDeepStream(payload, now, &rates_)
      : source == kFrigateEvents ? MapFrigateEvent(payload, now)
                                 : MapFrigateStats(payload, now);
  if (!mapped.ok()) {
    Count(source, topic, mapped.status().message(), true);
    return;
  }
  for (const MappedEvent& e : *mapped) {
    auto data = ParseJson(e.data);
    if (!data.ok()) {  // cannot happen: the mappers write valid JSON
      Count(source, topic, "internal: " + data.status().message(), true);
      continue;
    }
    Status s = gw_.Submit(e.topic, data->get(), e.ts_ms);
    if (!s.ok()) {
      Count(source, topic, e.topic + ": " + s.message(), false);
      continue;
    }
    ++stats_[source].events;
  }
}

std::string MqttIngest::MetricsText() const {
  std::string out;
  auto family = [&](const char* name, const char* help, uint64_t IngestSourceStats::*field) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
    for (int s = 0; s < kSourceCount; ++s) {
      out += std::string(name) + "{source=\"" + SourceName(static_cast<Source>(s)) + "\"} " +
             std::to_string(stats_[s].*field) + "\n";
    }
  };
  out +=
      "# HELP edgewatch_mqtt_ingest_connected 1 while connected to the ingest broker\n"
      "# TYPE edgewatch_mqtt_ingest_connected gauge\nedgewatch_mqtt_ingest_connected " +
      std::to_string(client_->connected() ? 1 : 0) + "\n";
  family("edgewatch_mqtt_ingest_messages_total", "Broker messages received",
         &IngestSourceStats::messages);
  family("edgewatch_mqtt_ingest_events_total", "Events submitted from broker messages",
         &IngestSourceStats::events);
  family("edgewatch_mqtt_ingest_malformed_total", "Broker payloads skipped as malformed",
         &IngestSourceStats::malformed);
  family("edgewatch_mqtt_ingest_rejected_total", "Mapped events refused by the gateway",
         &IngestSourceStats::rejected);
  return out;
}

std::string MqttIngest::StatusJson() const {
  JsonWriter w;
  w.BeginObject().Key("connected").Bool(client_->connected());
  w.Key("broker").String(config_.broker.Describe());
  w.Key("sources").BeginObject();
  for (int s = 0; s < kSourceCount; ++s) {
    w.Key(SourceName(static_cast<Source>(s))).BeginObject();
    w.Key("messages").Uint(stats_[s].messages).Key("events").Uint(stats_[s].events);
    w.Key("malformed").Uint(stats_[s].malformed).Key("rejected").Uint(stats_[s].rejected);
    w.EndObject();
  }
  w.EndObject().EndObject();
  return w.Take();
}

}  // namespace edgewatch::app::mqtt
