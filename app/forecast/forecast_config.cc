#include "edgewatch/app/forecast/forecast_config.h"

#include <charconv>
#include <limits>

#include "edgewatch/app/forecast/forecaster.h"
#include "edgewatch/base/json.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::app::forecast {
namespace {

constexpr int64_t kMaxDurationMs = int64_t{24} * 3600 * 1000;

bool ValidFieldPath(std::string_view path) {
  if (path.empty() || path.size() > kMaxFieldPathBytes) return false;
  if (path.find_first_of("/+#") != std::string_view::npos) return false;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    size_t end = dot == std::string_view::npos ? path.size() : dot;
    if (end == start) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Reads an integer member in [min, max] into *out when present.
Status ReadInt(const cJSON* obj, const char* key, const std::string& where, int64_t min,
               int64_t max, int64_t* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (item == nullptr) return OkStatus();
  auto v = GetInt(obj, key);
  if (!v || *v < min || *v > max) {
    return InvalidArgument(where + "." + key + " must be an integer in [" + std::to_string(min) +
                           ", " + std::to_string(max) + "]");
  }
  *out = *v;
  return OkStatus();
}

Status ReadDuration(const cJSON* obj, const char* key, const std::string& where, int64_t min_ms,
                    int64_t* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (item == nullptr) return OkStatus();
  Result<int64_t> ms = InvalidArgument("");
  if (cJSON_IsString(item)) {
    ms = ParseDurationMs(item->valuestring);
  } else if (cJSON_IsNumber(item) && item->valuedouble >= 0 &&
             item->valuedouble <= static_cast<double>(kMaxDurationMs) / 1000) {
    ms = static_cast<int64_t>(item->valuedouble * 1000);
  }
  if (!ms.ok() || *ms < min_ms || *ms > kMaxDurationMs) {
    return InvalidArgument(where + "." + key + " must be a duration >= " + std::to_string(min_ms) +
                           "ms and <= 24h (\"10s\", \"500ms\")");
  }
  *out = *ms;
  return OkStatus();
}

Result<ForecastSpec> ParseSpec(const cJSON* node, const std::string& where) {
  if (!cJSON_IsObject(node)) return InvalidArgument(where + " must be an object");
  static constexpr std::string_view kKeys[] = {"source",   "field",     "context",    "horizon",
                                               "every",    "season",    "min_points", "step",
                                               "deadline", "max_series"};
  for (const cJSON* c = node->child; c != nullptr; c = c->next) {
    std::string_view key = c->string != nullptr ? c->string : "";
    bool known = false;
    for (std::string_view k : kKeys) known = known || k == key;
    if (!known) {
      return InvalidArgument(where + ": unknown key \"" + std::string(key.substr(0, 64)) + "\"");
    }
  }
  ForecastSpec spec;
  auto source = GetString(node, "source");
  if (!source) return InvalidArgument(where + ".source is required (a topic pattern)");
  spec.source = std::string(*source);
  if (Status s = fw::ValidatePattern(spec.source); !s.ok()) {
    return InvalidArgument(where + ".source: " + s.message());
  }
  if (fw::FirstSegment(spec.source) == "forecast") {
    return InvalidArgument(where + ".source: forecasts of forecast/... topics are not allowed");
  }
  auto field = GetString(node, "field");
  if (!field || !ValidFieldPath(*field)) {
    return InvalidArgument(where + ".field is required: a dotted path into the event data, at " +
                           "most " + std::to_string(kMaxFieldPathBytes) + " bytes, no / + #");
  }
  spec.field = std::string(*field);

  int64_t v = spec.context;
  EW_TRY(ReadInt(node, "context", where, 8, kMaxContext, &v));
  spec.context = static_cast<int>(v);
  v = spec.horizon;
  EW_TRY(ReadInt(node, "horizon", where, 1, kMaxHorizon, &v));
  spec.horizon = static_cast<int>(v);
  EW_TRY(ReadDuration(node, "every", where, 100, &spec.every_ms));
  spec.deadline_ms = std::max<int64_t>(30000, spec.every_ms);
  EW_TRY(ReadDuration(node, "deadline", where, 100, &spec.deadline_ms));
  EW_TRY(ReadDuration(node, "step", where, 1, &spec.step_ms));
  v = spec.max_series;
  EW_TRY(ReadInt(node, "max_series", where, 1, kMaxForecastSeries, &v));
  spec.max_series = static_cast<int>(v);

  if (const cJSON* season = cJSON_GetObjectItemCaseSensitive(node, "season")) {
    auto m = GetInt(node, "season");
    if (cJSON_IsString(season) && std::string_view(season->valuestring) == "auto") {
      spec.season = kSeasonAuto;
    } else if (m && (*m == 0 || (*m >= 2 && *m <= kMaxContext))) {
      spec.season = static_cast<int>(*m);
    } else {
      return InvalidArgument(where + ".season must be \"auto\", 0 (none) or a period >= 2");
    }
  }
  if (spec.season > 0 && spec.context < 2 * spec.season + 2) {
    return InvalidArgument(where + ".context must be at least 2 * season + 2 = " +
                           std::to_string(2 * spec.season + 2));
  }
  spec.min_points = spec.season > 0 ? std::max(10, 2 * spec.season + 2) : 10;
  spec.min_points = std::min(spec.min_points, spec.context);
  v = spec.min_points;
  EW_TRY(ReadInt(node, "min_points", where, 3, spec.context, &v));
  spec.min_points = static_cast<int>(v);
  if (spec.season > 0 && spec.min_points < 2 * spec.season + 2) {
    return InvalidArgument(where + ".min_points must be at least 2 * season + 2 = " +
                           std::to_string(2 * spec.season + 2));
  }
  return spec;
}

}  // namespace

Result<int64_t> ParseDurationMs(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12) return InvalidArgument("not a duration");
  int64_t n = 0;
  std::from_chars(text.data(), text.data() + digits, n);
  std::string_view unit = text.substr(digits);
  int64_t scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 3600 * 1000;
  } else {
    return InvalidArgument("unknown duration unit");
  }
  if (n > std::numeric_limits<int64_t>::max() / scale) return InvalidArgument("too long");
  return n * scale;
}

Result<ForecastConfig> ParseForecastConfig(const cJSON* root) {
  ForecastConfig config;
  if (root == nullptr) return config;
  if (!cJSON_IsObject(root)) return InvalidArgument("config must be a JSON object");
  int64_t v = static_cast<int64_t>(config.max_series);
  EW_TRY(ReadInt(root, "forecast_max_series", "config", 1, kMaxForecastSeries, &v));
  config.max_series = static_cast<size_t>(v);
  v = 0;
  EW_TRY(ReadInt(root, "forecast_test_delay_ms", "config", 0, 3600 * 1000, &v));
  config.test_delay_ms = static_cast<int>(v);

  const cJSON* list = cJSON_GetObjectItemCaseSensitive(root, "forecasts");
  if (list == nullptr || cJSON_IsNull(list)) return config;
  if (!cJSON_IsArray(list)) return InvalidArgument("forecasts must be an array of objects");
  size_t i = 0;
  for (const cJSON* c = list->child; c != nullptr; c = c->next, ++i) {
    if (i == kMaxForecastSpecs) {
      return InvalidArgument("forecasts has more than " + std::to_string(kMaxForecastSpecs) +
                             " entries");
    }
    EW_ASSIGN_OR_RETURN(ForecastSpec spec, ParseSpec(c, "forecasts[" + std::to_string(i) + "]"));
    config.specs.push_back(std::move(spec));
  }
  return config;
}

ForecastConfig DemoForecastConfig() {
  ForecastConfig config;
  ForecastSpec spec;
  spec.source = "pipeline/+/analytics";
  spec.field = "people_count";
  spec.context = 300;
  spec.horizon = 60;
  spec.every_ms = 5000;
  spec.season = kSeasonAuto;
  spec.min_points = 20;
  spec.step_ms = 1000;
  spec.deadline_ms = 30000;
  spec.max_series = 8;
  config.specs.push_back(spec);
  return config;
}

}  // namespace edgewatch::app::forecast
