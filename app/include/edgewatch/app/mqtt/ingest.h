// MqttIngest: subscribes to a (local) broker's DeepStream and Frigate topics and submits the
// mapped events (ingest_map.h) to the gateway like any producer, through the publish policy.
//
// Malformed payloads (not JSON, missing fields, or refused by the seed-003 schema) are counted
// per source and skipped; the first of each source, then every 100th, is logged with the reason
// and the broker topic (never the payload).
//
// Threading: loop thread only. Start() after Gateway::Start(); Stop() before the gateway goes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edgewatch/app/mqtt/ingest_map.h"
#include "edgewatch/app/mqtt/mqtt_client.h"
#include "edgewatch/app/mqtt/mqtt_config.h"
#include "edgewatch/fw/gateway.h"

namespace edgewatch::app::mqtt {

struct IngestSourceStats {
  uint64_t messages = 0;   // received on this source's topics
  uint64_t events = 0;     // submitted and accepted by the gateway
  uint64_t malformed = 0;  // skipped: the payload could not be mapped
  uint64_t rejected = 0;   // skipped: the gateway refused the mapped event
};

class MqttIngest {
 public:
  MqttIngest(fw::Gateway& gw, IngestConfig config);
  ~MqttIngest();
  MqttIngest(const MqttIngest&) = delete;
  MqttIngest& operator=(const MqttIngest&) = delete;

  Status Start();
  void Stop();

  enum Source { kDeepStream = 0, kFrigateEvents, kFrigateStats, kUnknown, kSourceCount };
  static const char* SourceName(Source s);
  // Which source a broker topic belongs to (pure given the configuration).
  Source Classify(std::string_view topic) const;

  const IngestSourceStats& stats(Source s) const { return stats_[s]; }
  const MqttClient& client() const { return *client_; }
  std::string MetricsText() const;
  std::string StatusJson() const;

  // The message handler (public for the client callback): maps and submits.
  void OnMessage(std::string_view topic, std::string_view payload);

 private:
  void OnConnected();
  void Count(Source s, const std::string& topic, const std::string& reason, bool malformed);

  fw::Gateway& gw_;
  IngestConfig config_;
  std::unique_ptr<MqttClient> client_;
  FrameRateTracker rates_;
  IngestSourceStats stats_[kSourceCount];
};

}  // namespace edgewatch::app::mqtt
