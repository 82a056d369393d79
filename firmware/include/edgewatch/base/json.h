// Helpers around cJSON: ownership, bounded parsing, typed field access.
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch {

struct CJsonDeleter {
  void operator()(cJSON* p) const { cJSON_Delete(p); }
};
// Owns a cJSON tree.
using JsonPtr = std::unique_ptr<cJSON, CJsonDeleter>;

struct JsonLimits {
  size_t max_bytes = 64 * 1024;
  int max_depth = 32;
};

// Parses one JSON document from `text` (need not be NUL-terminated). Rejects, with
// InvalidArgument and a short reason: more than `limits.max_bytes`, invalid UTF-8, nesting deeper
// than `limits.max_depth`, syntax errors and trailing garbage.
Result<JsonPtr> ParseJson(std::string_view text, const JsonLimits& limits = {});

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Maximum nesting depth of arrays/objects in `text`, ignoring brackets inside strings; stops
// counting (returns early) once `limit` is exceeded.
int JsonNestingDepth(std::string_view text, int limit);

// Serialises `node` without whitespace.
std::string PrintJson(const cJSON* node);

// Typed field lookups: nullopt when missing or of another type.
std::optional<std::string_view> GetString(const cJSON* obj, const char* key);
std::optional<double> GetNumber(const cJSON* obj, const char* key);
// Integers must be exact (no fraction) and fit in int64.
std::optional<int64_t> GetInt(const cJSON* obj, const char* key);
std::optional<bool> GetBool(const cJSON* obj, const char* key);

}  // namespace edgewatch
