#include "edgewatch/app/schema.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace edgewatch::app {
namespace {

constexpr double kMaxExactInt = 9007199254740992.0;  // 2^53

// Seed 003, PipelineStatusUpdate.
constexpr FieldSpec kStatus[] = {
    {"pipeline_id", FieldType::kString, true},
    {"status", FieldType::kString, true},
    {"detailed_status", FieldType::kObject, false},
    {"detailed_status.stats", FieldType::kObject, true},
    {"detailed_status.nodes", FieldType::kObject, true},
    {"detailed_status.error_message", FieldType::kString, false},
    {"detailed_status.last_frame_time", FieldType::kNumber, false},
};

// Seed 003, PipelineFrameUpdate.
constexpr FieldSpec kFrame[] = {
    {"pipeline_id", FieldType::kString, true},
    {"frame_data", FieldType::kObject, true},
    {"frame_data.frame_id", FieldType::kInteger, true, 0},
    {"frame_data.timestamp", FieldType::kNumber, true},
    {"frame_data.detections_count", FieldType::kInteger, true, 0},
    {"frame_data.processing_time", FieldType::kNumber, true, 0},
    {"frame_data.fps", FieldType::kNumber, true, 0},
    {"frame_data.node_results", FieldType::kObject, true},
};

// Seed 003, PipelineAnalyticsUpdate.
constexpr FieldSpec kAnalytics[] = {
    {"pipeline_id", FieldType::kString, true},
    {"analytics", FieldType::kObject, true},
    {"analytics.node_id", FieldType::kString, true},
    {"analytics.node_type", FieldType::kString, true},
    {"analytics.people_count", FieldType::kInteger, false, 0},
    {"analytics.trend", FieldType::kString, false},
    {"analytics.new_crossings", FieldType::kInteger, false, 0},
    {"analytics.total_crossings", FieldType::kInteger, false, 0},
    {"analytics.new_intrusions", FieldType::kInteger, false, 0},
    {"analytics.active_zones", FieldType::kInteger, false, 0},
    {"analytics.results", FieldType::kAny, true},
};

// Seed 003, PipelineErrorUpdate.
constexpr FieldSpec kError[] = {
    {"pipeline_id", FieldType::kString, true},
    {"error_message", FieldType::kString, true},
    {"severity", FieldType::kString, true},
};

// Seed 000: loss and mAP50 drive the charts. `epoch` and `loss` are reported on every training
// step; mAP and the other validation figures only exist once a validation pass has run, so they
// are optional.
constexpr FieldSpec kTraining[] = {
    {"epoch", FieldType::kInteger, true, 0},        {"loss", FieldType::kNumber, true},
    {"step", FieldType::kInteger, false, 0},        {"total_epochs", FieldType::kInteger, false, 0},
    {"map50", FieldType::kNumber, false, 0, 1},     {"map50_95", FieldType::kNumber, false, 0, 1},
    {"precision", FieldType::kNumber, false, 0, 1}, {"recall", FieldType::kNumber, false, 0, 1},
    {"val_loss", FieldType::kNumber, false},        {"lr", FieldType::kNumber, false, 0},
};

// system/resources, published by edgewatchd itself from /proc and /sys through the HAL.
// temperature_c exists only where the board has a thermal zone.
constexpr FieldSpec kResources[] = {
    {"cpu_percent", FieldType::kNumber, true, 0, 100},
    {"memory_used_bytes", FieldType::kInteger, true, 0},
    {"memory_total_bytes", FieldType::kInteger, true, 0},
    {"temperature_c", FieldType::kNumber, false},
    {"uptime_s", FieldType::kNumber, false, 0},
};

// Forecast outputs (issue 7; docs/forecasts.md), from edgewatchd's forecaster or from a
// producer's own model. `fit` describes Holt-Winters parameters and is optional for other models.
constexpr int kMaxForecastHorizon = 10000;
constexpr FieldSpec kForecast[] = {
    {"model", FieldType::kString, true},
    {"generated_at", FieldType::kInteger, true, 0},
    {"step_ms", FieldType::kInteger, true, 0},
    {"context", FieldType::kInteger, true, 0},
    {"horizon", FieldType::kInteger, true, 1, kMaxForecastHorizon},
    {"points", FieldType::kArray, true},
    {"lower", FieldType::kArray, true},
    {"upper", FieldType::kArray, true},
    {"lower80", FieldType::kArray, false},
    {"upper80", FieldType::kArray, false},
    {"level", FieldType::kNumber, false, 0, 100},
    {"fit", FieldType::kObject, false},
    {"fit.alpha", FieldType::kNumber, false, 0, 1},
    {"fit.beta", FieldType::kNumber, false, 0, 1},
    {"fit.gamma", FieldType::kNumber, false, 0, 1},
    {"fit.phi", FieldType::kNumber, false, 0, 1},
    {"fit.mae", FieldType::kNumber, false, 0},
};

std::string FormatBound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

std::string RangeMessage(const FieldSpec& spec) {
  std::string m(spec.path);
  bool has_min = spec.min > -1e300;
  bool has_max = spec.max < 1e300;
  if (has_min && has_max) {
    m += " must be between " + FormatBound(spec.min) + " and " + FormatBound(spec.max);
  } else if (has_min) {
    m += " must be >= " + FormatBound(spec.min);
  } else {
    m += " must be <= " + FormatBound(spec.max);
  }
  return m;
}

const char* TypeWord(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "a string";
    case FieldType::kNumber:
      return "a number";
    case FieldType::kInteger:
      return "an integer";
    case FieldType::kObject:
      return "an object";
    case FieldType::kArray:
      return "an array";
    case FieldType::kAny:
      return "a value";
  }
  return "a value";
}

Status CheckField(const cJSON* data, const FieldSpec& spec) {
  // A nested field is checked only when its parent object is there (an earlier row checked the
  // parent's own presence and type).
  std::string_view leaf = spec.path;
  const cJSON* parent = data;
  size_t dot = spec.path.rfind('.');
  if (dot != std::string_view::npos) {
    parent = FindPath(data, spec.path.substr(0, dot));
    // Absent or null (an optional parent); any other non-object was rejected by its own row.
    if (!cJSON_IsObject(parent)) return OkStatus();
    leaf = spec.path.substr(dot + 1);
  }
  const cJSON* item = nullptr;
  for (const cJSON* c = parent->child; c != nullptr; c = c->next) {
    if (c->string != nullptr && leaf == c->string) {
      item = c;
      break;
    }
  }
  bool absent = item == nullptr || (cJSON_IsNull(item) && spec.type != FieldType::kAny);
  if (absent) {
    if (spec.required) return InvalidArgument(std::string(spec.path) + " is required");
    return OkStatus();
  }
  bool type_ok = false;
  switch (spec.type) {
    case FieldType::kString:
      type_ok = cJSON_IsString(item) && item->valuestring != nullptr;
      break;
    case FieldType::kNumber:
      type_ok = cJSON_IsNumber(item);
      break;
    case FieldType::kInteger:
      type_ok = cJSON_IsNumber(item) && std::floor(item->valuedouble) == item->valuedouble &&
                std::fabs(item->valuedouble) <= kMaxExactInt;
      break;
    case FieldType::kObject:
      type_ok = cJSON_IsObject(item);
      break;
    case FieldType::kArray:
      type_ok = cJSON_IsArray(item);
      break;
    case FieldType::kAny:
      type_ok = true;
      break;
  }
  if (!type_ok) {
    return InvalidArgument(std::string(spec.path) + " must be " + TypeWord(spec.type));
  }
  if (spec.type == FieldType::kNumber || spec.type == FieldType::kInteger) {
    double v = item->valuedouble;
    if (!(v >= spec.min && v <= spec.max)) return InvalidArgument(RangeMessage(spec));
  }
  return OkStatus();
}

// The arrays of a forecast: each of `horizon` numbers, and the bands ordered. The table already
// checked presence, types and the horizon's range.
Status CheckForecastArrays(const cJSON* data) {
  const size_t horizon =
      static_cast<size_t>(cJSON_GetObjectItemCaseSensitive(data, "horizon")->valuedouble);
  const char* const names[] = {"points", "lower", "upper", "lower80", "upper80"};
  const cJSON* arrays[5] = {};
  for (size_t i = 0; i < 5; ++i) {
    const cJSON* a = cJSON_GetObjectItemCaseSensitive(data, names[i]);
    if (!cJSON_IsArray(a)) continue;  // optional and absent (or null)
    size_t n = 0;
    for (const cJSON* c = a->child; c != nullptr; c = c->next, ++n) {
      if (!cJSON_IsNumber(c)) return InvalidArgument(std::string(names[i]) + " must hold numbers");
    }
    if (n != horizon) {
      return InvalidArgument(std::string(names[i]) + " must have horizon (" +
                             std::to_string(horizon) + ") values, has " + std::to_string(n));
    }
    arrays[i] = a;
  }
  for (size_t band = 1; band <= 3; band += 2) {
    if (arrays[band] == nullptr || arrays[band + 1] == nullptr) continue;
    const cJSON* lo = arrays[band]->child;
    const cJSON* hi = arrays[band + 1]->child;
    for (size_t i = 0; lo != nullptr; lo = lo->next, hi = hi->next, ++i) {
      if (!(lo->valuedouble <= hi->valuedouble)) {
        return InvalidArgument(std::string(names[band]) + "[" + std::to_string(i) +
                               "] must not exceed " + names[band + 1] + "[" + std::to_string(i) +
                               "]");
      }
    }
  }
  return OkStatus();
}

}  // namespace

std::span<const FieldSpec> SchemaFor(TopicKind kind) {
  switch (kind) {
    case TopicKind::kPipelineStatus:
      return kStatus;
    case TopicKind::kPipelineFrame:
      return kFrame;
    case TopicKind::kPipelineAnalytics:
      return kAnalytics;
    case TopicKind::kPipelineError:
      return kError;
    case TopicKind::kTrainingMetrics:
      return kTraining;
    case TopicKind::kSystemResources:
      return kResources;
    case TopicKind::kForecast:
      return kForecast;
    case TopicKind::kOther:
      break;
  }
  return {};
}

const cJSON* FindPath(const cJSON* root, std::string_view path) {
  const cJSON* node = root;
  while (true) {
    if (!cJSON_IsObject(node)) return nullptr;
    size_t dot = path.find('.');
    std::string_view key = path.substr(0, dot);
    const cJSON* next = nullptr;
    for (const cJSON* c = node->child; c != nullptr; c = c->next) {
      if (c->string != nullptr && key == c->string) {
        next = c;
        break;
      }
    }
    if (next == nullptr || dot == std::string_view::npos) return next;
    node = next;
    path.remove_prefix(dot + 1);
  }
}

Status ValidateKind(TopicKind kind, std::string_view subject, const cJSON* data) {
  if (!cJSON_IsObject(data)) return InvalidArgument("data must be a JSON object");
  bool pipeline = kind == TopicKind::kPipelineStatus || kind == TopicKind::kPipelineFrame ||
                  kind == TopicKind::kPipelineAnalytics || kind == TopicKind::kPipelineError;
  if (pipeline && subject.empty()) {
    return InvalidArgument("the topic's pipeline id segment is empty");
  }
  if (kind == TopicKind::kTrainingMetrics && subject.empty()) {
    return InvalidArgument("the topic's run segment is empty");
  }
  if (kind == TopicKind::kForecast && subject.empty()) {
    return InvalidArgument(
        "forecast topics are forecast/<source topic>/<field>: the source or the field is empty");
  }
  for (const FieldSpec& spec : SchemaFor(kind)) EW_TRY(CheckField(data, spec));

  if (pipeline) {
    // Present and a string: checked by the table.
    std::string_view id = cJSON_GetObjectItemCaseSensitive(data, "pipeline_id")->valuestring;
    if (id != subject) {
      return InvalidArgument("pipeline_id must equal the topic's pipeline id \"" +
                             std::string(subject) + "\"");
    }
  }
  if (kind == TopicKind::kForecast) EW_TRY(CheckForecastArrays(data));
  if (kind == TopicKind::kSystemResources) {
    double used = cJSON_GetObjectItemCaseSensitive(data, "memory_used_bytes")->valuedouble;
    double total = cJSON_GetObjectItemCaseSensitive(data, "memory_total_bytes")->valuedouble;
    if (used > total) {
      return InvalidArgument("memory_used_bytes must not exceed memory_total_bytes");
    }
  }
  return OkStatus();
}

Status ValidateTelemetry(std::string_view topic, const cJSON* data) {
  std::string_view subject;
  TopicKind kind = ClassifyTopic(topic, &subject);
  return ValidateKind(kind, subject, data);
}

}  // namespace edgewatch::app
