#include "edgewatch/app/topic_kind.h"

#include <gtest/gtest.h>

namespace edgewatch::app {
namespace {

TEST(TopicKindTest, ClassifiesKnownKinds) {
  std::string_view subject;
  EXPECT_EQ(ClassifyTopic("pipeline/cam1/status", &subject), TopicKind::kPipelineStatus);
  EXPECT_EQ(subject, "cam1");
  EXPECT_EQ(ClassifyTopic("pipeline/cam1/frame", &subject), TopicKind::kPipelineFrame);
  EXPECT_EQ(ClassifyTopic("pipeline/cam-2/analytics", &subject), TopicKind::kPipelineAnalytics);
  EXPECT_EQ(subject, "cam-2");
  EXPECT_EQ(ClassifyTopic("pipeline/x/error", &subject), TopicKind::kPipelineError);
  EXPECT_EQ(ClassifyTopic("training/demo-run/metrics", &subject), TopicKind::kTrainingMetrics);
  EXPECT_EQ(subject, "demo-run");
  EXPECT_EQ(ClassifyTopic("system/resources", &subject), TopicKind::kSystemResources);
  EXPECT_EQ(subject, "");
  EXPECT_EQ(ClassifyTopic("forecast/pipeline/cam1/analytics/people_count", &subject),
            TopicKind::kForecast);
  EXPECT_EQ(subject, "pipeline/cam1/analytics");  // the source topic; the field is the last
  EXPECT_EQ(ClassifyTopic("forecast/a/b", &subject), TopicKind::kForecast);
  EXPECT_EQ(subject, "a");
}

TEST(TopicKindTest, ForecastNeedsASourceAndAField) {
  std::string_view subject = "x";
  EXPECT_EQ(ClassifyTopic("forecast/a", &subject), TopicKind::kOther);
  EXPECT_EQ(ClassifyTopic("forecast", &subject), TopicKind::kOther);
  // Empty source or field: still the kind (structural), with an empty subject the schema rejects.
  EXPECT_EQ(ClassifyTopic("forecast/a/", &subject), TopicKind::kForecast);
  EXPECT_EQ(subject, "");
  EXPECT_EQ(ClassifyTopic("forecast//b", &subject), TopicKind::kForecast);
  EXPECT_EQ(subject, "");
}

TEST(TopicKindTest, EverythingElseIsOther) {
  std::string_view subject = "unchanged?";
  for (const char* t :
       {"pipeline/cam1", "pipeline/cam1/frame/extra", "pipeline/cam1/frames", "Pipeline/cam1/frame",
        "training/run/metric", "training/metrics", "system/resources/x", "system", "system/gateway",
        "forecasts/a/b", "a", "/pipeline/cam1/frame"}) {
    EXPECT_EQ(ClassifyTopic(t, &subject), TopicKind::kOther) << t;
    EXPECT_EQ(subject, "") << t;
  }
}

TEST(TopicKindTest, EmptySubjectIsStillTheKind) {
  // The schema validator rejects the empty id; classification stays structural.
  std::string_view subject = "x";
  EXPECT_EQ(ClassifyTopic("pipeline//frame", &subject), TopicKind::kPipelineFrame);
  EXPECT_EQ(subject, "");
}

TEST(TopicKindTest, NamesAreStableAndRoundTrip) {
  EXPECT_EQ(TopicKindName(TopicKind::kPipelineStatus), "pipeline_status");
  EXPECT_EQ(TopicKindName(TopicKind::kPipelineFrame), "pipeline_frame");
  EXPECT_EQ(TopicKindName(TopicKind::kPipelineAnalytics), "pipeline_analytics");
  EXPECT_EQ(TopicKindName(TopicKind::kPipelineError), "pipeline_error");
  EXPECT_EQ(TopicKindName(TopicKind::kTrainingMetrics), "training_metrics");
  EXPECT_EQ(TopicKindName(TopicKind::kSystemResources), "system_resources");
  EXPECT_EQ(TopicKindName(TopicKind::kForecast), "forecast");
  EXPECT_EQ(TopicKindName(TopicKind::kOther), "other");
  for (size_t i = 0; i < kTopicKindCount; ++i) {
    auto kind = static_cast<TopicKind>(i);
    EXPECT_EQ(ParseTopicKindName(TopicKindName(kind)), kind);
  }
  EXPECT_EQ(ParseTopicKindName("frame"), std::nullopt);
  EXPECT_EQ(ParseTopicKindName(""), std::nullopt);
}

}  // namespace
}  // namespace edgewatch::app
