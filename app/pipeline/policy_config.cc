#include "edgewatch/app/policy_config.h"

#include <cmath>
#include <string_view>

#include "edgewatch/app/schema.h"

namespace edgewatch::app {
namespace {

bool ValidPath(std::string_view path) {
  if (path.empty() || path.size() > kMaxThresholdPathBytes) return false;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    size_t end = dot == std::string_view::npos ? path.size() : dot;
    if (end == start) return false;  // empty segment
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// At most `max` bytes of the valid UTF-8 `s`, cut at a character boundary: error messages must
// stay valid UTF-8 (a cut inside a character was found by tests/fuzz/fuzz_policy).
std::string_view Utf8Prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

const FieldSpec* SpecFor(TopicKind kind, std::string_view path) {
  for (const FieldSpec& spec : SchemaFor(kind)) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

std::string KnownKinds() {
  std::string s;
  for (size_t i = 0; i + 1 < kTopicKindCount; ++i) {  // all but kOther
    if (!s.empty()) s += ", ";
    s += TopicKindName(static_cast<TopicKind>(i));
  }
  return s;
}

Result<std::vector<FieldThreshold>> ParseKind(TopicKind kind, const cJSON* node) {
  std::string where = "suppression." + std::string(TopicKindName(kind));
  if (!cJSON_IsObject(node)) {
    return InvalidArgument(where + " must be an object mapping field paths to thresholds");
  }
  std::vector<FieldThreshold> out;
  for (const cJSON* c = node->child; c != nullptr; c = c->next) {
    std::string_view path = c->string != nullptr ? c->string : "";
    if (!ValidPath(path)) {
      return InvalidArgument(where + ": invalid field path \"" +
                             std::string(Utf8Prefix(path, kMaxThresholdPathBytes)) + "\"");
    }
    std::string key = where + "." + std::string(path);
    if (!cJSON_IsNumber(c) || !std::isfinite(c->valuedouble) || c->valuedouble < 0) {
      return InvalidArgument(key + " must be a number >= 0");
    }
    if (const FieldSpec* spec = SpecFor(kind, path);
        spec != nullptr && spec->type != FieldType::kNumber && spec->type != FieldType::kInteger) {
      return InvalidArgument(key + " is not a numeric field");
    }
    for (const FieldThreshold& t : out) {
      if (t.path == path) return InvalidArgument(key + " is given twice");
    }
    if (out.size() == kMaxThresholdsPerKind) {
      return InvalidArgument(where + " has more than " + std::to_string(kMaxThresholdsPerKind) +
                             " fields");
    }
    out.push_back({std::string(path), c->valuedouble});
  }
  return out;
}

}  // namespace

std::array<std::vector<FieldThreshold>, kTopicKindCount> PolicyConfig::DefaultThresholds() {
  std::array<std::vector<FieldThreshold>, kTopicKindCount> t;
  t[static_cast<size_t>(TopicKind::kTrainingMetrics)] = {{"loss", 0.001}, {"map50", 0.001}};
  t[static_cast<size_t>(TopicKind::kSystemResources)] = {{"cpu_percent", 5.0}};
  return t;
}

PolicyConfig PolicyConfig::NoSuppression() {
  PolicyConfig c;
  for (auto& v : c.thresholds) v.clear();
  return c;
}

Result<PolicyConfig> ParsePolicyConfig(const cJSON* root) {
  PolicyConfig config;
  if (root == nullptr) return config;
  if (!cJSON_IsObject(root)) return InvalidArgument("config must be a JSON object");
  const cJSON* sup = cJSON_GetObjectItemCaseSensitive(root, "suppression");
  if (sup == nullptr || cJSON_IsNull(sup)) return config;
  if (!cJSON_IsObject(sup)) return InvalidArgument("suppression must be an object");

  std::array<bool, kTopicKindCount> seen{};
  for (const cJSON* c = sup->child; c != nullptr; c = c->next) {
    std::string_view name = c->string != nullptr ? c->string : "";
    std::optional<TopicKind> kind = ParseTopicKindName(name);
    if (kind == TopicKind::kOther) {
      return InvalidArgument("suppression.other: opaque topics are never suppressed");
    }
    if (!kind) {
      return InvalidArgument("suppression: unknown topic kind \"" +
                             std::string(Utf8Prefix(name, 64)) + "\" (expected one of " +
                             KnownKinds() + ")");
    }
    size_t index = static_cast<size_t>(*kind);
    if (seen[index]) return InvalidArgument("suppression." + std::string(name) + " is given twice");
    seen[index] = true;
    EW_ASSIGN_OR_RETURN(config.thresholds[index], ParseKind(*kind, c));
  }
  return config;
}

}  // namespace edgewatch::app
