// Configuration of the forecasts (the daemon's --config file; docs/forecasts.md):
//
//   "forecasts": [
//     {"source": "pipeline/+/analytics",  // topic pattern; each matching concrete topic gets
//                                         // its own series
//      "field": "people_count",           // dotted path into the event data; a bare name also
//                                         // matches a member of a top-level object
//                                         // ("people_count" finds analytics.people_count)
//      "context": 512,                    // points kept and fitted (8 .. 4096)
//      "horizon": 96,                     // points forecast (1 .. 1024)
//      "every": "10s",                    // how often a series is refitted (>= 100ms), when it
//                                         // has new points
//      "season": "auto",                  // period in points, 0 = none (default), "auto"
//      "min_points": 16,                  // optional: first forecast once this many points
//                                         // (default 10; a fixed season needs 2·season + 2)
//      "step": "1s",                      // optional: spacing of the forecast points (default:
//                                         // the median spacing of the context's events)
//      "deadline": "30s",                 // optional: a job without a result this long after
//                                         // its submission is abandoned (default 30s or every)
//      "max_series": 16}                  // optional: concrete topics this entry may track
//   ],
//   "forecast_max_series": 64,            // optional: all entries together (<= 1024)
//   "forecast_test_delay_ms": 0           // TESTING ONLY: every job first sleeps this long on
//                                         // the worker (interruptible), to prove that a slow
//                                         // job does not stall the loop
//
// Durations: a whole number with a unit ms, s, m or h ("250ms", "10s"), or a bare number of
// seconds. Pure parsing; any thread.
#pragma once

#include <cjson/cJSON.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/base/status.h"

namespace edgewatch::app::forecast {

inline constexpr size_t kMaxForecastSeries = 1024;
inline constexpr size_t kMaxForecastSpecs = 64;
inline constexpr size_t kMaxFieldPathBytes = 128;

struct ForecastSpec {
  std::string source;  // topic pattern (never matches forecast/... topics)
  std::string field;   // dotted path
  int context = 512;
  int horizon = 96;
  int64_t every_ms = 10000;
  int season = 0;  // 0 = none, >= 2 fixed, kSeasonAuto (forecaster.h) = detect
  int min_points = 10;
  int64_t step_ms = 0;  // 0 = estimate from the events' spacing
  int64_t deadline_ms = 30000;
  int max_series = 16;
};

struct ForecastConfig {
  std::vector<ForecastSpec> specs;
  size_t max_series = 64;      // all specs together
  size_t queue_capacity = 16;  // jobs waiting for the worker
  int test_delay_ms = 0;       // testing only (see the file comment)

  bool enabled() const { return !specs.empty(); }
};

// Reads "forecasts", "forecast_max_series" and "forecast_test_delay_ms" from the config root
// object (`root` may be null: no forecasts). Returns InvalidArgument naming the key, e.g.
// "forecasts[0].every must be a duration >= 100ms and <= 24h (\"10s\", \"500ms\")",
// "forecasts[1]: unknown key \"horizn\"".
Result<ForecastConfig> ParseForecastConfig(const cJSON* root);

// The demo's forecasts (`edgewatchd --demo` without a "forecasts" key): people_count of every
// camera, refitted every 5 s from up to 300 points (five minutes at the demo's one analytics
// event per second), 60 points ahead, season "auto"; the first forecast after 20 points, i.e.
// about 20 s after start.
ForecastConfig DemoForecastConfig();

// "250ms" / "10s" / "5m" / "1h" / "30" (seconds) -> milliseconds; InvalidArgument otherwise.
Result<int64_t> ParseDurationMs(std::string_view text);

}  // namespace edgewatch::app::forecast
