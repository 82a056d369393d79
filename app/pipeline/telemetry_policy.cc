#include "edgewatch/app/telemetry_policy.h"

#include <cmath>
#include <limits>
#include <utility>

#include "edgewatch/app/schema.h"
#include "edgewatch/base/log.h"

namespace edgewatch::app {
namespace {

constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashBytes(std::string_view s) {  // FNV-1a
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Hashes the "rest" of a JSON tree: structure, key names and non-numeric values. Numbers
// contribute only their presence (type tag), except that a thresholded number contributes
// nothing at all (it is compared numerically instead). Object members combine in an
// order-independent way, so re-ordered keys do not count as a change.
class RestHasher {
 public:
  explicit RestHasher(const std::vector<std::vector<std::string>>& paths) : paths_(paths) {
    stack_.reserve(8);
  }

  uint64_t Hash(const cJSON* root) { return Node(root, /*on_path=*/true); }

 private:
  // `on_path`: the node is reachable from the root through object members only, so `stack_`
  // holds its dotted path and it may be a thresholded field.
  uint64_t Node(const cJSON* node, bool on_path) {
    if (cJSON_IsNumber(node)) return Mix(1);
    if (cJSON_IsString(node)) {
      return Mix(2 ^ HashBytes(node->valuestring != nullptr ? node->valuestring : ""));
    }
    if (cJSON_IsTrue(node)) return Mix(3);
    if (cJSON_IsFalse(node)) return Mix(4);
    if (cJSON_IsNull(node)) return Mix(5);
    if (cJSON_IsArray(node)) {
      uint64_t h = Mix(6);
      for (const cJSON* c = node->child; c != nullptr; c = c->next) {
        h = Mix(h ^ Node(c, false));
      }
      return h;
    }
    if (cJSON_IsObject(node)) {
      uint64_t sum = 0;
      for (const cJSON* c = node->child; c != nullptr; c = c->next) {
        std::string_view key = c->string != nullptr ? c->string : "";
        if (on_path) stack_.push_back(key);
        bool skip = on_path && cJSON_IsNumber(c) && IsThresholded();
        if (!skip) sum += Mix(HashBytes(key) ^ Mix(Node(c, on_path)));
        if (on_path) stack_.pop_back();
      }
      return Mix(7 ^ sum);
    }
    return Mix(8);  // cJSON_Raw / invalid: not produced by the parser
  }

  bool IsThresholded() const {
    for (const auto& p : paths_) {
      if (p.size() != stack_.size()) continue;
      bool same = true;
      for (size_t i = 0; i < p.size() && same; ++i) same = p[i] == stack_[i];
      if (same) return true;
    }
    return false;
  }

  const std::vector<std::vector<std::string>>& paths_;
  std::vector<std::string_view> stack_;
};

}  // namespace

TelemetryPolicy::TelemetryPolicy(PolicyConfig config) : config_(std::move(config)) {
  for (size_t k = 0; k < kTopicKindCount; ++k) {
    for (const FieldThreshold& t : config_.thresholds[k]) {
      std::vector<std::string> segs;
      std::string_view p = t.path;
      while (true) {
        size_t dot = p.find('.');
        segs.emplace_back(p.substr(0, dot));
        if (dot == std::string_view::npos) break;
        p.remove_prefix(dot + 1);
      }
      split_paths_[k].push_back(std::move(segs));
    }
  }
}

TelemetryPolicy::Baseline TelemetryPolicy::Fingerprint(TopicKind kind, const cJSON* data) const {
  const std::vector<FieldThreshold>& thresholds = config_.For(kind);
  Baseline b;
  b.values.reserve(thresholds.size());
  for (const FieldThreshold& t : thresholds) {
    const cJSON* item = FindPath(data, t.path);
    b.values.push_back(cJSON_IsNumber(item) ? item->valuedouble : kAbsent);
  }
  b.rest_hash = RestHasher(split_paths_[static_cast<size_t>(kind)]).Hash(data);
  return b;
}

bool TelemetryPolicy::Significant(TopicKind kind, const Baseline& old_b,
                                  const Baseline& new_b) const {
  if (old_b.rest_hash != new_b.rest_hash) return true;
  const std::vector<FieldThreshold>& thresholds = config_.For(kind);
  for (size_t i = 0; i < thresholds.size(); ++i) {
    double a = old_b.values[i];
    double b = new_b.values[i];
    bool a_absent = std::isnan(a);
    bool b_absent = std::isnan(b);
    if (a_absent && b_absent) continue;
    if (a_absent != b_absent) return true;
    if (std::fabs(b - a) > thresholds[i].threshold) return true;
  }
  return false;
}

void TelemetryPolicy::Remember(std::string_view topic, Baseline b) {
  auto it = baselines_.find(topic);
  if (it != baselines_.end()) {
    it->second = std::move(b);
    return;
  }
  if (baselines_.size() >= config_.max_baselines) {
    EW_DEBUG("policy", "baseline table full (%zu); %.*s is always published", config_.max_baselines,
             static_cast<int>(topic.size()), topic.data());
    return;
  }
  baselines_.emplace(std::string(topic), std::move(b));
}

Result<fw::PublishAction> TelemetryPolicy::Evaluate(std::string_view topic, const cJSON* data) {
  std::string_view subject;
  TopicKind kind = ClassifyTopic(topic, &subject);
  PolicyKindStats& stats = stats_[static_cast<size_t>(kind)];
  if (Status s = ValidateKind(kind, subject, data); !s.ok()) {
    ++stats.rejected;
    return s;
  }
  if (config_.For(kind).empty()) {
    ++stats.published;
    return fw::PublishAction::kPublish;
  }
  Baseline b = Fingerprint(kind, data);
  auto it = baselines_.find(topic);
  if (it == baselines_.end()) {
    Remember(topic, std::move(b));
    ++stats.published;
    return fw::PublishAction::kPublish;
  }
  if (Significant(kind, it->second, b)) {
    it->second = std::move(b);
    ++stats.published;
    return fw::PublishAction::kPublish;
  }
  ++stats.suppressed;
  return fw::PublishAction::kSuppress;
}

void TelemetryPolicy::OnForcedPublish(std::string_view topic, const cJSON* data) {
  if (!cJSON_IsObject(data)) return;
  TopicKind kind = ClassifyTopic(topic);
  if (config_.For(kind).empty()) return;
  Remember(topic, Fingerprint(kind, data));
}

void TelemetryPolicy::Forget(std::string_view topic) {
  auto it = baselines_.find(topic);
  if (it != baselines_.end()) baselines_.erase(it);
}

}  // namespace edgewatch::app
