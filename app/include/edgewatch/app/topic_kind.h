// Topic kinds: which of the application's schemas a concrete topic name falls under.
//
//   pipeline/<id>/status     -> kPipelineStatus     (seed 003 PipelineStatusUpdate)
//   pipeline/<id>/frame      -> kPipelineFrame      (seed 003 PipelineFrameUpdate)
//   pipeline/<id>/analytics  -> kPipelineAnalytics  (seed 003 PipelineAnalyticsUpdate)
//   pipeline/<id>/error      -> kPipelineError      (seed 003 PipelineErrorUpdate)
//   training/<run>/metrics   -> kTrainingMetrics    (seed 000)
//   system/resources         -> kSystemResources
//   forecast/<source...>/<field> -> kForecast       (issue 7 forecast output; docs/forecasts.md)
//   anything else            -> kOther (opaque: any JSON object passes)
//
// Classification is purely structural: exactly three segments for the pipeline and training
// kinds (the middle one is the subject and may be empty here; the schema validator rejects an
// empty subject), exactly "system/resources" for the resources kind. "pipeline/cam1/frame/x" and
// "pipeline/cam1" are kOther. A forecast topic has at least three segments, the first being
// "forecast"; its subject is the source topic (everything between the first and the last '/',
// which may itself contain '/'), the last segment the field. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace edgewatch::app {

enum class TopicKind {
  kPipelineStatus = 0,
  kPipelineFrame,
  kPipelineAnalytics,
  kPipelineError,
  kTrainingMetrics,
  kSystemResources,
  kForecast,
  kOther,
};

inline constexpr size_t kTopicKindCount = static_cast<size_t>(TopicKind::kOther) + 1;

// Classifies the concrete topic name `topic`. When `subject` is not null it receives the <id> or
// <run> segment (a view into `topic`), or an empty view for kSystemResources and kOther.
TopicKind ClassifyTopic(std::string_view topic, std::string_view* subject = nullptr);

// Stable names used in configuration, logs and metrics labels: "pipeline_status",
// "pipeline_frame", "pipeline_analytics", "pipeline_error", "training_metrics",
// "system_resources", "forecast", "other".
std::string_view TopicKindName(TopicKind kind);

// Inverse of TopicKindName; nullopt for anything else.
std::optional<TopicKind> ParseTopicKindName(std::string_view name);

}  // namespace edgewatch::app
