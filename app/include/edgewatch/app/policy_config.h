// Configuration of change-based suppression (seed 000: "send an update only on a significant
// change").
//
// Config JSON (the daemon's --config file; every part optional):
//
//   "suppression": {
//     "training_metrics": {"loss": 0.001, "map50": 0.001},
//     "system_resources": {"cpu_percent": 5},
//     "pipeline_frame":   {"frame_data.fps": 1}
//   }
//
// Keys of "suppression" are topic-kind names (TopicKindName(); "other" is not allowed: opaque
// topics are never suppressed). Each value maps a field's dotted path to an absolute threshold
// (a finite number >= 0; 0 means "any change of this number publishes"). A kind listed here
// REPLACES that kind's defaults entirely ({} turns suppression off for the kind); kinds not listed
// keep their defaults. The semantics are in telemetry_policy.h.
#pragma once

#include <cjson/cJSON.h>

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "edgewatch/app/topic_kind.h"
#include "edgewatch/base/status.h"

namespace edgewatch::app {

struct FieldThreshold {
  std::string path;  // dotted path into the data object, e.g. "frame_data.fps"
  double threshold;  // absolute, >= 0
};

inline constexpr size_t kMaxThresholdsPerKind = 32;
inline constexpr size_t kMaxThresholdPathBytes = 128;

struct PolicyConfig {
  // Per kind (indexed by TopicKind), the thresholded fields. Defaults (seed 000):
  // training_metrics loss 0.001 and map50 0.001; system_resources cpu_percent 5; nothing else.
  std::array<std::vector<FieldThreshold>, kTopicKindCount> thresholds = DefaultThresholds();
  // Most topics that keep a suppression baseline at once; a topic beyond this is always
  // published (suppression is an optimisation, never a reason to lose an update). Matches the
  // bus's default max_topics.
  size_t max_baselines = 1024;

  const std::vector<FieldThreshold>& For(TopicKind kind) const {
    return thresholds[static_cast<size_t>(kind)];
  }

  static std::array<std::vector<FieldThreshold>, kTopicKindCount> DefaultThresholds();
  // A config with no thresholds at all: validation only.
  static PolicyConfig NoSuppression();
};

// Reads the optional "suppression" member of the config root object `root` (may be null: the
// defaults). Returns InvalidArgument naming the offending key, e.g.
// "suppression.training_metrics.loss must be a number >= 0",
// "suppression: unknown topic kind \"foo\"", "suppression.system_resources.status is not a
// numeric field". Any thread.
Result<PolicyConfig> ParsePolicyConfig(const cJSON* root);

}  // namespace edgewatch::app
