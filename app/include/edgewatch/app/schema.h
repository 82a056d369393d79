// Schema validation of event data on the application's topic kinds.
//
// Field names are exactly those of seed 003 (pipeline kinds) and seed 000 (training metrics);
// see app/pipeline/README.md for the full tables. Rules common to every kind:
//   - `data` must be a JSON object (also for kOther, whose content is otherwise opaque);
//   - required fields must be present, non-null (except kAny) and of the declared type;
//   - optional fields may be absent or JSON null (treated as absent: Python producers send None);
//   - unknown extra fields are allowed anywhere;
//   - on a pipeline kind, `pipeline_id` must equal the topic's <id> segment, and the <id>/<run>
//     segment of the topic must not be empty;
//   - on a forecast (docs/forecasts.md): `points`, `lower`, `upper` (and `lower80`/`upper80`
//     when present) are arrays of exactly `horizon` numbers with lower[i] <= upper[i] (and
//     lower80[i] <= upper80[i] when both are present); `horizon` <= 10000; the topic's source and
//     field segments must not be empty. Built-in and external forecasts (a producer's model) pass
//     the same check.
// Error messages name the offending field by its dotted path: "frame_data.fps is required",
// "frame_data.fps must be a number", "cpu_percent must be between 0 and 100".
// Pure functions over immutable tables; any thread.
#pragma once

#include <cjson/cJSON.h>

#include <span>
#include <string_view>

#include "edgewatch/app/topic_kind.h"
#include "edgewatch/base/status.h"

namespace edgewatch::app {

enum class FieldType {
  kString,   // a JSON string
  kNumber,   // any JSON number
  kInteger,  // a JSON number with no fraction, |n| <= 2^53
  kObject,   // a JSON object
  kArray,    // a JSON array (element checks, when any, are kind-specific: see ValidateKind)
  kAny,      // any JSON value, even null, but it must be present (seed 003's `results: any`)
};

struct FieldSpec {
  // Dotted path from the data object ("frame_data.fps"). A nested field is checked only when its
  // parent object is present; parents are listed before their children.
  std::string_view path;
  FieldType type;
  bool required;
  // Inclusive bounds for kNumber/kInteger (ignored for other types).
  double min = -1e300;
  double max = 1e300;
};

// The field table of `kind`, in checking order; empty for kOther.
std::span<const FieldSpec> SchemaFor(TopicKind kind);

// Validates `data` published on `topic` (kind from ClassifyTopic). Returns OK or InvalidArgument
// with a one-line reason naming the field.
Status ValidateTelemetry(std::string_view topic, const cJSON* data);

// Same, for an already classified topic; `subject` is the topic's <id>/<run> segment.
Status ValidateKind(TopicKind kind, std::string_view subject, const cJSON* data);

// Looks up a dotted path ("a.b.c") in `root`; null when any step is missing or not an object.
const cJSON* FindPath(const cJSON* root, std::string_view path);

}  // namespace edgewatch::app
