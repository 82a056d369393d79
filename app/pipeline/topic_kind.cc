#include "edgewatch/app/topic_kind.h"

#include <array>

namespace edgewatch::app {
namespace {

constexpr std::array<std::string_view, kTopicKindCount> kNames = {
    "pipeline_status",  "pipeline_frame",   "pipeline_analytics", "pipeline_error",
    "training_metrics", "system_resources", "forecast",           "other",
};

}  // namespace

TopicKind ClassifyTopic(std::string_view topic, std::string_view* subject) {
  if (subject != nullptr) *subject = {};
  if (topic == "system/resources") return TopicKind::kSystemResources;
  if (topic.starts_with("forecast/")) {
    // forecast/<source topic...>/<field>: at least three segments.
    size_t last = topic.rfind('/');
    if (last <= 8) return TopicKind::kOther;  // only "forecast/<x>"
    // An empty field segment yields an empty subject, which the schema validator rejects.
    if (subject != nullptr && last + 1 < topic.size()) *subject = topic.substr(9, last - 9);
    return TopicKind::kForecast;
  }

  // Exactly three segments: <root>/<subject>/<leaf>.
  size_t first = topic.find('/');
  if (first == std::string_view::npos) return TopicKind::kOther;
  size_t second = topic.find('/', first + 1);
  if (second == std::string_view::npos) return TopicKind::kOther;
  if (topic.find('/', second + 1) != std::string_view::npos) return TopicKind::kOther;
  std::string_view root = topic.substr(0, first);
  std::string_view middle = topic.substr(first + 1, second - first - 1);
  std::string_view leaf = topic.substr(second + 1);

  TopicKind kind = TopicKind::kOther;
  if (root == "pipeline") {
    if (leaf == "status") {
      kind = TopicKind::kPipelineStatus;
    } else if (leaf == "frame") {
      kind = TopicKind::kPipelineFrame;
    } else if (leaf == "analytics") {
      kind = TopicKind::kPipelineAnalytics;
    } else if (leaf == "error") {
      kind = TopicKind::kPipelineError;
    }
  } else if (root == "training" && leaf == "metrics") {
    kind = TopicKind::kTrainingMetrics;
  }
  if (kind != TopicKind::kOther && subject != nullptr) *subject = middle;
  return kind;
}

std::string_view TopicKindName(TopicKind kind) {
  return kNames[static_cast<size_t>(kind)];
}

std::optional<TopicKind> ParseTopicKindName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<TopicKind>(i);
  }
  return std::nullopt;
}

}  // namespace edgewatch::app
