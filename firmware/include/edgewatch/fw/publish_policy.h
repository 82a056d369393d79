// PublishPolicy: the application's say over what enters the bus (validation, suppression).
//
// The firmware is domain-free: it knows topics, sequence numbers and JSON objects, not cameras.
// The application (app/pipeline) implements this interface to validate data on the topic kinds it
// knows and to suppress updates that did not change enough. Every event submitted to the gateway
// (ingest socket, internal publishers, MQTT ...) passes through exactly one PublishPolicy.
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::fw {

enum class PublishAction {
  kPublish,   // assign the next seq, store in the topic ring, fan out
  kSuppress,  // do not fan out; still becomes the topic's latest value (re-sent by the refresh)
};

class PublishPolicy {
 public:
  virtual ~PublishPolicy() = default;

  // Decides what to do with `data` (a JSON object) published on the concrete `topic`.
  // Returns InvalidArgument with a short human-readable reason when the data does not fit the
  // topic's schema (the caller turns it into an error line / error reply with code
  // "invalid_data"); otherwise the action. Loop thread only; must not block.
  virtual Result<PublishAction> Evaluate(std::string_view topic, const cJSON* data) = 0;

  // Informs the policy that `data` was published on `topic` without passing through Evaluate()
  // (the periodic refresh of an unchanged topic), so that it can move its baseline.
  // Loop thread only.
  virtual void OnForcedPublish(std::string_view topic, const cJSON* data) = 0;
};

// Publishes everything unchanged; used when no application policy is installed.
class PassThroughPolicy final : public PublishPolicy {
 public:
  Result<PublishAction> Evaluate(std::string_view, const cJSON*) override {
    return PublishAction::kPublish;
  }
  void OnForcedPublish(std::string_view, const cJSON*) override {}
};

}  // namespace edgewatch::fw
