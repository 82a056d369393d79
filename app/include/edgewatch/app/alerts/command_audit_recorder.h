// CommandAuditRecorder: keeps every operator command's audit event (topic `audit/commands`,
// published by the gateway's command router) in the SQLite store, next to the alerts.
//
// Threading: a bus subscriber; OnEvent runs on the loop thread and only queues a store write
// (AlertStore::Write never blocks). A write the store refuses (queue full) or fails is counted
// and logged once per burst; the topic ring still holds the event.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "edgewatch/app/store/alert_store.h"
#include "edgewatch/fw/bus.h"

namespace edgewatch::app::alerts {

// Parses one audit event's data object (docs/protocol.md, "Audit"). nullopt when a required
// field (from, target, name, ok, result) is missing or the JSON is malformed.
std::optional<store::CommandAuditRecord> ParseCommandAudit(std::string_view data_json,
                                                           int64_t ts_ms);

class CommandAuditRecorder final : public fw::Subscriber {
 public:
  struct Stats {
    uint64_t stored = 0;     // rows committed
    uint64_t dropped = 0;    // refused by a full queue or failed to commit
    uint64_t malformed = 0;  // events that did not parse
  };

  // `store` must outlive the recorder.
  explicit CommandAuditRecorder(store::AlertStore& store) : store_(store) {}

  // Loop thread.
  void OnEvent(const fw::FrameRef& event) override;
  const Stats& stats() const { return stats_; }

 private:
  store::AlertStore& store_;
  Stats stats_;
};

}  // namespace edgewatch::app::alerts
