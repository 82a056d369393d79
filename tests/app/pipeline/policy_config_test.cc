#include "edgewatch/app/policy_config.h"

#include <gtest/gtest.h>

#include <string>

#include "edgewatch/base/json.h"

namespace edgewatch::app {
namespace {

Result<PolicyConfig> ParseText(std::string_view text) {
  auto root = ParseJson(text);
  EXPECT_TRUE(root.ok()) << text;
  if (!root.ok()) return root.status();
  return ParsePolicyConfig(root->get());
}

std::string Error(std::string_view text) {
  auto r = ParseText(text);
  EXPECT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
  return r.status().message();
}

void ExpectDefaults(const PolicyConfig& c) {
  const auto& training = c.For(TopicKind::kTrainingMetrics);
  ASSERT_EQ(training.size(), 2u);
  EXPECT_EQ(training[0].path, "loss");
  EXPECT_DOUBLE_EQ(training[0].threshold, 0.001);
  EXPECT_EQ(training[1].path, "map50");
  EXPECT_DOUBLE_EQ(training[1].threshold, 0.001);
  const auto& res = c.For(TopicKind::kSystemResources);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].path, "cpu_percent");
  EXPECT_DOUBLE_EQ(res[0].threshold, 5.0);
  for (TopicKind k :
       {TopicKind::kPipelineStatus, TopicKind::kPipelineFrame, TopicKind::kPipelineAnalytics,
        TopicKind::kPipelineError, TopicKind::kOther}) {
    EXPECT_TRUE(c.For(k).empty()) << TopicKindName(k);
  }
}

TEST(PolicyConfigTest, DefaultsAreSeed000s) {
  ExpectDefaults(PolicyConfig{});
  auto null_root = ParsePolicyConfig(nullptr);
  ASSERT_TRUE(null_root.ok());
  ExpectDefaults(*null_root);
  auto empty = ParseText("{}");
  ASSERT_TRUE(empty.ok());
  ExpectDefaults(*empty);
  auto null_sup = ParseText(R"({"suppression":null,"other_setting":1})");
  ASSERT_TRUE(null_sup.ok());
  ExpectDefaults(*null_sup);
}

TEST(PolicyConfigTest, NoSuppressionHasNoThresholds) {
  PolicyConfig c = PolicyConfig::NoSuppression();
  for (const auto& v : c.thresholds) EXPECT_TRUE(v.empty());
}

TEST(PolicyConfigTest, AKindListedReplacesItsDefaults) {
  auto r = ParseText(R"({"suppression":{
      "training_metrics":{"loss":0.01},
      "pipeline_frame":{"frame_data.fps":1.5,"frame_data.processing_time":0}}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& training = r->For(TopicKind::kTrainingMetrics);
  ASSERT_EQ(training.size(), 1u);  // map50 is gone: replaced, not merged
  EXPECT_EQ(training[0].path, "loss");
  EXPECT_DOUBLE_EQ(training[0].threshold, 0.01);
  const auto& frame = r->For(TopicKind::kPipelineFrame);
  ASSERT_EQ(frame.size(), 2u);
  EXPECT_EQ(frame[0].path, "frame_data.fps");
  EXPECT_DOUBLE_EQ(frame[0].threshold, 1.5);
  EXPECT_EQ(frame[1].path, "frame_data.processing_time");
  EXPECT_DOUBLE_EQ(frame[1].threshold, 0);
  // Kinds not listed keep their defaults.
  ASSERT_EQ(r->For(TopicKind::kSystemResources).size(), 1u);
}

TEST(PolicyConfigTest, AnEmptyKindTurnsSuppressionOff) {
  auto r = ParseText(R"({"suppression":{"system_resources":{}}})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->For(TopicKind::kSystemResources).empty());
  EXPECT_EQ(r->For(TopicKind::kTrainingMetrics).size(), 2u);
}

TEST(PolicyConfigTest, FieldsOutsideTheSchemaAreAllowed) {
  // Extra fields are allowed in data, so they may be thresholded too.
  auto r = ParseText(R"({"suppression":{"training_metrics":{"gpu.mem_gb":0.5}}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->For(TopicKind::kTrainingMetrics)[0].path, "gpu.mem_gb");
}

TEST(PolicyConfigTest, ErrorsNameTheKey) {
  EXPECT_EQ(Error("[]"), "config must be a JSON object");
  EXPECT_EQ(Error(R"({"suppression":[]})"), "suppression must be an object");
  EXPECT_EQ(Error(R"({"suppression":5})"), "suppression must be an object");
  EXPECT_EQ(Error(R"({"suppression":{"frames":{}}})"),
            "suppression: unknown topic kind \"frames\" (expected one of pipeline_status, "
            "pipeline_frame, pipeline_analytics, pipeline_error, training_metrics, "
            "system_resources, forecast)");
  EXPECT_EQ(Error(R"({"suppression":{"other":{"x":1}}})"),
            "suppression.other: opaque topics are never suppressed");
  EXPECT_EQ(Error(R"({"suppression":{"training_metrics":0.001}})"),
            "suppression.training_metrics must be an object mapping field paths to thresholds");
  EXPECT_EQ(Error(R"({"suppression":{"training_metrics":{"loss":-0.1}}})"),
            "suppression.training_metrics.loss must be a number >= 0");
  EXPECT_EQ(Error(R"({"suppression":{"training_metrics":{"loss":"0.1"}}})"),
            "suppression.training_metrics.loss must be a number >= 0");
  EXPECT_EQ(Error(R"({"suppression":{"training_metrics":{"loss":null}}})"),
            "suppression.training_metrics.loss must be a number >= 0");
  EXPECT_EQ(Error(R"({"suppression":{"training_metrics":{"loss":1e999}}})"),
            "suppression.training_metrics.loss must be a number >= 0");
  EXPECT_EQ(Error(R"({"suppression":{"pipeline_frame":{"frame_data..fps":1}}})"),
            "suppression.pipeline_frame: invalid field path \"frame_data..fps\"");
  EXPECT_EQ(Error(R"({"suppression":{"pipeline_frame":{"":1}}})"),
            "suppression.pipeline_frame: invalid field path \"\"");
  EXPECT_EQ(Error(R"({"suppression":{"pipeline_frame":{".fps":1}}})"),
            "suppression.pipeline_frame: invalid field path \".fps\"");
  EXPECT_EQ(Error(R"({"suppression":{"pipeline_frame":{"fps.":1}}})"),
            "suppression.pipeline_frame: invalid field path \"fps.\"");
  EXPECT_EQ(Error(R"({"suppression":{"pipeline_status":{"status":1}}})"),
            "suppression.pipeline_status.status is not a numeric field");
  EXPECT_EQ(Error(R"({"suppression":{"pipeline_frame":{"frame_data":1}}})"),
            "suppression.pipeline_frame.frame_data is not a numeric field");
  EXPECT_EQ(Error(R"({"suppression":{"training_metrics":{"loss":1,"loss":2}}})"),
            "suppression.training_metrics.loss is given twice");
  EXPECT_EQ(Error(R"({"suppression":{"training_metrics":{},"training_metrics":{}}})"),
            "suppression.training_metrics is given twice");
}

TEST(PolicyConfigTest, BoundsTheNumberAndLengthOfFields) {
  std::string many = R"({"suppression":{"training_metrics":{)";
  for (size_t i = 0; i <= kMaxThresholdsPerKind; ++i) {
    if (i > 0) many += ",";
    many += "\"f" + std::to_string(i) + "\":1";
  }
  many += "}}}";
  EXPECT_EQ(Error(many), "suppression.training_metrics has more than 32 fields");

  std::string long_path(kMaxThresholdPathBytes + 1, 'a');
  std::string text = R"({"suppression":{"training_metrics":{")" + long_path + R"(":1}}})";
  EXPECT_EQ(Error(text).rfind("suppression.training_metrics: invalid field path", 0), 0u);

  // A long path is quoted cut at a character boundary, so the message stays valid UTF-8 (found
  // by fuzz_policy: 127 ASCII bytes then a 2-byte character used to be cut in half).
  std::string utf8_path = std::string(kMaxThresholdPathBytes - 1, 'a') + "\xc3\xa9" + "tail";
  std::string utf8_text = R"({"suppression":{"training_metrics":{")" + utf8_path + R"(":1}}})";
  std::string error = Error(utf8_text);
  EXPECT_TRUE(IsValidUtf8(error)) << error;
  EXPECT_EQ(error, "suppression.training_metrics: invalid field path \"" +
                       std::string(kMaxThresholdPathBytes - 1, 'a') + "\"");
  // The same for an unknown kind's name (quoted up to 64 bytes).
  std::string kind = std::string(63, 'k') + "\xc3\xa9";
  error = Error(R"({"suppression":{")" + kind + R"(":{}}})");
  EXPECT_TRUE(IsValidUtf8(error)) << error;
  EXPECT_EQ(error.rfind("suppression: unknown topic kind \"" + std::string(63, 'k') + "\" (", 0),
            0u);
}

}  // namespace
}  // namespace edgewatch::app
