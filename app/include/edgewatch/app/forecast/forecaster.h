// The built-in forecaster as one call: season resolution ("auto" → season.h), Holt-Winters fit
// (holt_winters.h), point forecasts and the 80 % / 95 % prediction intervals; and the output
// object of `forecast/<source topic>/<field>` events (docs/forecasts.md).
//
// Used by the worker thread (forecast_worker.h) and by the `edgewatch-forecast` tool that the
// accuracy benchmark drives (bench/forecast_accuracy.py). Pure functions; any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/app/forecast/holt_winters.h"
#include "edgewatch/base/status.h"

namespace edgewatch::app::forecast {

inline constexpr int kSeasonAuto = -1;
// `lower`/`upper` carry this interval; `lower80`/`upper80` the inner one.
inline constexpr double kOuterLevel = 0.95;
inline constexpr double kInnerLevel = 0.80;
inline constexpr int kMaxHorizon = 1024;
inline constexpr int kMaxContext = 4096;

struct ForecastRequest {
  std::vector<double> y;  // oldest first
  int horizon = 1;        // 1 .. kMaxHorizon
  int season = 0;         // period in points, 0 = none, kSeasonAuto = detect
  HwOptions hw;           // hw.season is overwritten from `season`
};

struct ForecastResult {
  HwFit fit;                   // fit.season is the period actually used
  std::vector<double> points;  // horizon values
  std::vector<double> lower;   // 95 %
  std::vector<double> upper;
  std::vector<double> lower80;  // 80 %
  std::vector<double> upper80;
  int detected_season = 0;  // what "auto" detected (0 when not auto or nothing found)
};

// Errors: InvalidArgument (bad horizon, season, or data; see FitHoltWinters), Unavailable when
// `cancel` was set (the job was abandoned), Internal if the forecast is not finite.
Result<ForecastResult> RunForecast(const ForecastRequest& request,
                                   const std::atomic<bool>* cancel = nullptr);

// What the event carries besides the forecast itself.
struct ForecastMeta {
  int64_t generated_at_ms = 0;  // when the forecast was made (unix ms)
  int64_t step_ms = 0;          // spacing of the forecast points
  int64_t start_ms = 0;         // time of points[0] (last observation + step_ms)
  std::string source;           // the source topic
  std::string field;            // the forecast field (dotted path)
};

// The event data object (compact JSON), values rounded to 7 significant digits:
// {"model":"holt_winters","generated_at":..,"step_ms":..,"start_ts":..,"context":n,"horizon":h,
//  "season":m,"level":95,"points":[..],"lower":[..],"upper":[..],"lower80":[..],"upper80":[..],
//  "fit":{"alpha":..,"beta":..,"gamma":..,"phi":..,"mae":..,"sigma":..},"source":"..","field":".."}
std::string ForecastToJson(const ForecastResult& result, const ForecastMeta& meta);

// Rounds to `digits` significant digits (keeps 0 and non-finite values as they are).
double RoundSignificant(double v, int digits = 7);

}  // namespace edgewatch::app::forecast
