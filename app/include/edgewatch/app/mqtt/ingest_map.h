// Mapping of broker payloads onto edgewatch topics (docs/mqtt.md, "Ingest", field by field).
//
//   DeepStream nvmsgbroker, minimal schema (version "4.0", "objects" strings)
//                                         -> pipeline/<sensorId>/frame
//   DeepStream full schema ("object" / "event" records)
//                                         -> pipeline/<sensor.id>/analytics
//   Frigate <prefix>/events               -> pipeline/<after.camera>/analytics
//   Frigate <prefix>/stats                -> pipeline/<camera>/status, one per camera
//
// Pure functions: the result depends only on the arguments (DeepStream frame rates are derived
// from the previous frame of the same sensor, kept by the caller in a FrameRateTracker). Each
// returns the events to submit, or InvalidArgument naming what is malformed. The data objects
// satisfy the seed-003 schemas (app/pipeline/schema.h). Any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/json.h"
#include "edgewatch/base/status.h"

namespace edgewatch::app::mqtt {

struct MappedEvent {
  std::string topic;  // an edgewatch topic, e.g. "pipeline/cam1/frame"
  std::string data;   // serialised JSON object
  int64_t ts_ms = 0;  // event time (unix ms)
};

// Frames per second per sensor from successive (frame id, time) pairs.
class FrameRateTracker {
 public:
  // Returns the rate implied by this frame and the sensor's previous one (0 for the first frame,
  // after a restart of the frame ids, or when time did not advance), and remembers this frame.
  double Update(const std::string& sensor, int64_t frame_id, int64_t ts_ms);

 private:
  struct Last {
    int64_t frame_id;
    int64_t ts_ms;
  };
  std::map<std::string, Last> last_;  // bounded by the caller's sensor count (64 max)
};

// "2026-05-01T12:00:00.123Z" / "...+02:00" / without fraction -> unix ms; InvalidArgument else.
Result<int64_t> ParseIsoTimestampMs(std::string_view text);

// A DeepStream payload of either schema (told apart by "objects" vs "object"/"event").
// `now_ms` is used when the payload has no @timestamp.
Result<std::vector<MappedEvent>> MapDeepStream(std::string_view payload, int64_t now_ms,
                                               FrameRateTracker* rates);

// Frigate's <prefix>/events payload ({"type","before","after"}).
Result<std::vector<MappedEvent>> MapFrigateEvent(std::string_view payload, int64_t now_ms);

// Frigate's <prefix>/stats payload (cameras at the top level, Frigate <= 0.13, or under
// "cameras", 0.14+; detectors under "detectors").
Result<std::vector<MappedEvent>> MapFrigateStats(std::string_view payload, int64_t now_ms);

}  // namespace edgewatch::app::mqtt
