// libFuzzer target for the suppression configuration (edgewatch::app::ParsePolicyConfig).
//
// The input is parsed as JSON (a non-JSON input is passed as a null root, which means "defaults")
// and its "suppression" member is parsed. Beyond "no crash, no sanitizer report", it traps when
// an invariant breaks: a refusal is InvalidArgument with a non-empty, valid UTF-8 message; an
// accepted config has at most kMaxThresholdsPerKind thresholds per kind, each with a non-empty
// path of at most kMaxThresholdPathBytes and a finite threshold >= 0, none for the kind "other".
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edgewatch/app/policy_config.h"
#include "edgewatch/base/json.h"

namespace {

namespace app = edgewatch::app;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = edgewatch::ParseJson(text, edgewatch::JsonLimits{1 << 20, 32});
  const cJSON* root = json.ok() ? json->get() : nullptr;
  edgewatch::Result<app::PolicyConfig> config = app::ParsePolicyConfig(root);
  if (!config.ok()) {
    Check(root != nullptr);
    Check(config.status().code() == edgewatch::StatusCode::kInvalidArgument);
    Check(!config.status().message().empty());
    Check(edgewatch::IsValidUtf8(config.status().message()));
    return 0;
  }
  for (size_t k = 0; k < app::kTopicKindCount; ++k) {
    const auto& list = config->thresholds[k];
    Check(list.size() <= app::kMaxThresholdsPerKind);
    if (static_cast<app::TopicKind>(k) == app::TopicKind::kOther) Check(list.empty());
    for (const app::FieldThreshold& t : list) {
      Check(!t.path.empty() && t.path.size() <= app::kMaxThresholdPathBytes);
      Check(std::isfinite(t.threshold) && t.threshold >= 0);
    }
  }
  return 0;
}
