// TelemetryPolicy: the application's PublishPolicy — schema validation plus change-based
// suppression.
//
// Evaluate(topic, data):
//   1. Validates `data` for the topic's kind (schema.h). Invalid -> InvalidArgument(reason).
//   2. Kinds without thresholds (PolicyConfig) -> kPublish, and no state is kept.
//   3. The first event of a topic (no baseline) -> kPublish.
//   4. Otherwise the update is compared with the topic's baseline = the last PUBLISHED data
//      (published through Evaluate, or re-sent by the bus's refresh and reported through
//      OnForcedPublish). It is kSuppress only when BOTH
//        a. every thresholded field moved by at most its threshold: |new - old| <= threshold
//           (seed 000 publishes when a value moved by MORE than 0.001 / 5 points; equality is
//           suppressed). A thresholded field that appears, disappears or stops being a number
//           counts as moved; absent in both counts as unchanged;
//        b. the rest of the object is unchanged, where "the rest" means its structure (keys,
//           array lengths, value types) and every non-numeric value (strings, booleans, null).
//           Numbers that are NOT thresholded are deliberately ignored: they are counters and
//           measurements that change on every update (step, epoch, memory_used_bytes,
//           uptime_s) and would otherwise defeat suppression. Give such a field a threshold of 0
//           to make any change of it publish.
//      So a status string, a trend, a severity or a new key always publishes.
//   A suppressed update does not move the baseline, so slow drift accumulates until it exceeds
//   the threshold. (The bus still keeps a suppressed update as the topic's latest value and
//   re-sends it at least every refresh interval; that re-send calls OnForcedPublish.)
//
// Memory: one baseline per topic of a thresholded kind, at most PolicyConfig::max_baselines,
// each holding the thresholded numbers and a 64-bit hash of the rest. Forget(topic) drops one.
//
// Thread: loop thread only (not thread-safe). Never blocks.
#pragma once

#include <cjson/cJSON.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgewatch/app/policy_config.h"
#include "edgewatch/app/topic_kind.h"
#include "edgewatch/fw/publish_policy.h"

namespace edgewatch::app {

// Counters per topic kind, for metrics and diagnostics.
struct PolicyKindStats {
  uint64_t published = 0;
  uint64_t suppressed = 0;
  uint64_t rejected = 0;
};

class TelemetryPolicy final : public fw::PublishPolicy {
 public:
  explicit TelemetryPolicy(PolicyConfig config = {});

  // See the file comment. `topic` is a concrete topic name already validated by the caller.
  // A kPublish result moves the topic's baseline: the caller is expected to publish the data.
  Result<fw::PublishAction> Evaluate(std::string_view topic, const cJSON* data) override;

  // `data` (the topic's latest value) was re-sent without Evaluate(): it becomes the baseline.
  // Ignored for kinds without thresholds and for non-objects.
  void OnForcedPublish(std::string_view topic, const cJSON* data) override;

  // Drops the baseline of `topic` (its next event publishes). No-op when there is none.
  void Forget(std::string_view topic);

  const PolicyConfig& config() const { return config_; }
  size_t baseline_count() const { return baselines_.size(); }
  const PolicyKindStats& stats(TopicKind kind) const { return stats_[static_cast<size_t>(kind)]; }

 private:
  struct Baseline {
    uint64_t rest_hash = 0;
    // One per threshold of the kind, in config order; NaN when the field was absent or not a
    // number (JSON cannot carry NaN, so this is unambiguous).
    std::vector<double> values;
  };

  Baseline Fingerprint(TopicKind kind, const cJSON* data) const;
  bool Significant(TopicKind kind, const Baseline& old_b, const Baseline& new_b) const;
  // Stores `b` for `topic` unless the table is full and the topic is new.
  void Remember(std::string_view topic, Baseline b);

  struct TopicHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  PolicyConfig config_;
  // Per kind, each threshold's path split at '.', in config order.
  std::array<std::vector<std::vector<std::string>>, kTopicKindCount> split_paths_;
  std::unordered_map<std::string, Baseline, TopicHash, std::equal_to<>> baselines_;
  std::array<PolicyKindStats, kTopicKindCount> stats_{};
};

}  // namespace edgewatch::app
