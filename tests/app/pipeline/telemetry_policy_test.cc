#include "edgewatch/app/telemetry_policy.h"

#include <gtest/gtest.h>

#include <string>

#include "edgewatch/base/json.h"

namespace edgewatch::app {
namespace {

using fw::PublishAction;

JsonPtr Parse(std::string_view text) {
  auto r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " in " << text;
  return r.ok() ? std::move(r).value() : JsonPtr(cJSON_CreateObject());
}

// "publish", "suppress" or "error: <message>".
std::string Eval(TelemetryPolicy& p, std::string_view topic, std::string_view data) {
  JsonPtr d = Parse(data);
  auto r = p.Evaluate(topic, d.get());
  if (!r.ok()) return "error: " + r.status().message();
  return *r == PublishAction::kPublish ? "publish" : "suppress";
}

std::string Training(double loss, double map50, int step = 100) {
  return "{\"epoch\":1,\"step\":" + std::to_string(step) + ",\"loss\":" + std::to_string(loss) +
         ",\"map50\":" + std::to_string(map50) + "}";
}

std::string Cpu(double cpu, int64_t used = 1000) {
  return "{\"cpu_percent\":" + std::to_string(cpu) +
         ",\"memory_used_bytes\":" + std::to_string(used) +
         ",\"memory_total_bytes\":100000,\"uptime_s\":" + std::to_string(used) + "}";
}

PolicyConfig Config(std::string_view text) {
  auto root = Parse(text);
  auto c = ParsePolicyConfig(root.get());
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : PolicyConfig{};
}

constexpr char kRun[] = "training/r1/metrics";
constexpr char kRes[] = "system/resources";

TEST(TelemetryPolicyTest, InvalidDataIsRejectedWithTheReason) {
  TelemetryPolicy p;
  EXPECT_EQ(Eval(p, "pipeline/cam1/frame", R"({"pipeline_id":"cam1","frame_data":{}})"),
            "error: frame_data.frame_id is required");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":"x"})"), "error: loss must be a number");
  EXPECT_EQ(Eval(p, "anything/else", "[1]"), "error: data must be a JSON object");
  EXPECT_EQ(p.stats(TopicKind::kPipelineFrame).rejected, 1u);
  EXPECT_EQ(p.stats(TopicKind::kTrainingMetrics).rejected, 1u);
  EXPECT_EQ(p.stats(TopicKind::kOther).rejected, 1u);
  EXPECT_EQ(p.baseline_count(), 0u);
}

TEST(TelemetryPolicyTest, KindsWithoutThresholdsAlwaysPublishAndKeepNoState) {
  TelemetryPolicy p;
  const char* status = R"({"pipeline_id":"cam1","status":"running"})";
  const char* frame = R"({"pipeline_id":"cam1","frame_data":{"frame_id":1,"timestamp":5,
      "detections_count":0,"processing_time":1,"fps":30,"node_results":{}}})";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Eval(p, "pipeline/cam1/status", status), "publish");
    EXPECT_EQ(Eval(p, "pipeline/cam1/frame", frame), "publish");
    EXPECT_EQ(Eval(p, "other/topic", "{}"), "publish");
  }
  EXPECT_EQ(p.baseline_count(), 0u);
  EXPECT_EQ(p.stats(TopicKind::kPipelineStatus).published, 3u);
}

TEST(TelemetryPolicyTest, FirstEventPublishesThenIdenticalIsSuppressed) {
  TelemetryPolicy p;
  EXPECT_EQ(Eval(p, kRun, Training(0.5, 0.2)), "publish");
  EXPECT_EQ(p.baseline_count(), 1u);
  EXPECT_EQ(Eval(p, kRun, Training(0.5, 0.2)), "suppress");
  // Each topic has its own baseline.
  EXPECT_EQ(Eval(p, "training/r2/metrics", Training(0.5, 0.2)), "publish");
  EXPECT_EQ(p.stats(TopicKind::kTrainingMetrics).published, 2u);
  EXPECT_EQ(p.stats(TopicKind::kTrainingMetrics).suppressed, 1u);
}

TEST(TelemetryPolicyTest, DefaultTrainingThresholdsFollowSeed000) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRun, Training(0.5, 0.2)), "publish");
  EXPECT_EQ(Eval(p, kRun, Training(0.5005, 0.2)), "suppress");
  EXPECT_EQ(Eval(p, kRun, Training(0.5, 0.2009)), "suppress");
  EXPECT_EQ(Eval(p, kRun, Training(0.502, 0.2)), "publish");    // loss moved > 0.001
  EXPECT_EQ(Eval(p, kRun, Training(0.502, 0.198)), "publish");  // map50 moved > 0.001
}

// |delta| <= threshold suppresses; only strictly more publishes (seed 000's `> 0.001`). The
// values here are exact in binary floating point, so the boundary is tested exactly.
TEST(TelemetryPolicyTest, MovingExactlyTheThresholdIsSuppressed) {
  TelemetryPolicy p(Config(R"({"suppression":{"training_metrics":{"loss":0.5}}})"));
  ASSERT_EQ(Eval(p, kRun, R"({"epoch":0,"loss":1.0})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":0,"loss":1.5})"), "suppress");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":0,"loss":0.5})"), "suppress");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":0,"loss":1.5625})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":0,"loss":1.0625})"), "suppress");  // 0.5 below 1.5625
}

TEST(TelemetryPolicyTest, CpuFivePoints) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRes, Cpu(40)), "publish");
  EXPECT_EQ(Eval(p, kRes, Cpu(45)), "suppress");
  EXPECT_EQ(Eval(p, kRes, Cpu(35)), "suppress");
  EXPECT_EQ(Eval(p, kRes, Cpu(45.5)), "publish");
  EXPECT_EQ(Eval(p, kRes, Cpu(41)), "suppress");  // baseline is now 45.5
  EXPECT_EQ(Eval(p, kRes, Cpu(40)), "publish");
}

TEST(TelemetryPolicyTest, BaselineMovesOnlyOnPublish) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRes, Cpu(40)), "publish");
  // Slow drift: each step is small, but the distance from the last PUBLISHED value grows.
  EXPECT_EQ(Eval(p, kRes, Cpu(43)), "suppress");
  EXPECT_EQ(Eval(p, kRes, Cpu(45)), "suppress");
  EXPECT_EQ(Eval(p, kRes, Cpu(47)), "publish");   // 7 points from 40, 2 from the last update
  EXPECT_EQ(Eval(p, kRes, Cpu(43)), "suppress");  // 4 from 47
}

TEST(TelemetryPolicyTest, NonThresholdedNumbersAreIgnored) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRun, Training(0.5, 0.2, 100)), "publish");
  EXPECT_EQ(Eval(p, kRun, Training(0.5, 0.2, 150)), "suppress");  // step changed
  ASSERT_EQ(Eval(p, kRes, Cpu(40, 1000)), "publish");
  EXPECT_EQ(Eval(p, kRes, Cpu(40, 99999)), "suppress");  // memory and uptime changed
}

TEST(TelemetryPolicyTest, ThresholdZeroMakesAnyChangePublish) {
  TelemetryPolicy p(Config(R"({"suppression":{"training_metrics":{"loss":0.001,"epoch":0}}})"));
  ASSERT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5})"), "suppress");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":2,"loss":0.5})"), "publish");
}

TEST(TelemetryPolicyTest, NonNumericChangesAlwaysPublish) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"train"})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"train"})"), "suppress");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"val"})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"val","done":false})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"val","done":true})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"val","done":null})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"val","done":null,"tags":[1]})"),
            "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"val","done":null,"tags":[1,2]})"),
            "publish");  // array length
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"val","done":null,"tags":[3,4]})"),
            "suppress");  // numbers inside arrays are measurements too
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"val","done":null,"tags":["a","b"]})"),
            "publish");  // a value's type changed
}

TEST(TelemetryPolicyTest, KeyOrderDoesNotMatter) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"phase":"a","x":{"k":"v","l":"w"}})"),
            "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"x":{"l":"w","k":"v"},"phase":"a","loss":0.5,"epoch":1})"),
            "suppress");
}

TEST(TelemetryPolicyTest, StatusStringsAreNeverSuppressed) {
  // Even with a threshold configured on a status number, a changed status string publishes.
  TelemetryPolicy p(
      Config(R"({"suppression":{"pipeline_status":{"detailed_status.stats.frames":1000000}}})"));
  const char* running = R"({"pipeline_id":"cam1","status":"running",
      "detailed_status":{"stats":{"frames":10},"nodes":{}}})";
  const char* running_more = R"({"pipeline_id":"cam1","status":"running",
      "detailed_status":{"stats":{"frames":20},"nodes":{}}})";
  const char* degraded = R"({"pipeline_id":"cam1","status":"degraded",
      "detailed_status":{"stats":{"frames":20},"nodes":{}}})";
  const char* with_error = R"({"pipeline_id":"cam1","status":"degraded",
      "detailed_status":{"stats":{"frames":20},"nodes":{},"error_message":"slow"}})";
  ASSERT_EQ(Eval(p, "pipeline/cam1/status", running), "publish");
  EXPECT_EQ(Eval(p, "pipeline/cam1/status", running_more), "suppress");
  EXPECT_EQ(Eval(p, "pipeline/cam1/status", degraded), "publish");
  EXPECT_EQ(Eval(p, "pipeline/cam1/status", with_error), "publish");
}

TEST(TelemetryPolicyTest, DottedPathThresholds) {
  TelemetryPolicy p(Config(R"({"suppression":{"pipeline_frame":{"frame_data.fps":1}}})"));
  auto frame = [](int id, double fps, const char* model) {
    return "{\"pipeline_id\":\"cam1\",\"frame_data\":{\"frame_id\":" + std::to_string(id) +
           ",\"timestamp\":" + std::to_string(1000 + id) +
           ",\"detections_count\":3,\"processing_time\":20,\"fps\":" + std::to_string(fps) +
           ",\"node_results\":{\"detector\":{\"model\":\"" + model + "\"}}}}";
  };
  const char* t = "pipeline/cam1/frame";
  ASSERT_EQ(Eval(p, t, frame(1, 30, "yolo")), "publish");
  EXPECT_EQ(Eval(p, t, frame(2, 30.5, "yolo")), "suppress");
  EXPECT_EQ(Eval(p, t, frame(3, 29, "yolo")), "suppress");
  EXPECT_EQ(Eval(p, t, frame(4, 28.5, "yolo")), "publish");
  EXPECT_EQ(Eval(p, t, frame(5, 28.5, "rtdetr")), "publish");
}

TEST(TelemetryPolicyTest, ThresholdedFieldAppearingOrDisappearingPublishes) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5})"), "suppress");  // absent in both
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"map50":0.1})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"map50":0.1})"), "suppress");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5})"), "publish");
  EXPECT_EQ(Eval(p, kRun, R"({"epoch":1,"loss":0.5,"map50":null})"), "publish");  // null != absent
}

TEST(TelemetryPolicyTest, ForcedPublishMovesTheBaseline) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRes, Cpu(40)), "publish");
  EXPECT_EQ(Eval(p, kRes, Cpu(44)), "suppress");
  // The bus's refresh re-sends the latest value (44): it becomes the baseline.
  JsonPtr latest = Parse(Cpu(44));
  p.OnForcedPublish(kRes, latest.get());
  EXPECT_EQ(Eval(p, kRes, Cpu(48)), "suppress");  // 4 from 44 (8 from 40 would publish)
  EXPECT_EQ(Eval(p, kRes, Cpu(38.5)), "publish");
}

TEST(TelemetryPolicyTest, ForcedPublishOnANewTopicCreatesItsBaseline) {
  TelemetryPolicy p;
  JsonPtr data = Parse(Cpu(40));
  p.OnForcedPublish(kRes, data.get());
  EXPECT_EQ(p.baseline_count(), 1u);
  EXPECT_EQ(Eval(p, kRes, Cpu(41)), "suppress");
  // Ignored for kinds without thresholds and for non-objects.
  JsonPtr frame = Parse(R"({"pipeline_id":"cam1"})");
  p.OnForcedPublish("pipeline/cam1/frame", frame.get());
  JsonPtr arr = Parse("[]");
  p.OnForcedPublish(kRun, arr.get());
  p.OnForcedPublish(kRun, nullptr);
  EXPECT_EQ(p.baseline_count(), 1u);
}

TEST(TelemetryPolicyTest, ForgetDropsTheBaseline) {
  TelemetryPolicy p;
  ASSERT_EQ(Eval(p, kRes, Cpu(40)), "publish");
  ASSERT_EQ(Eval(p, kRes, Cpu(40)), "suppress");
  p.Forget(kRes);
  p.Forget("never/seen");
  EXPECT_EQ(p.baseline_count(), 0u);
  EXPECT_EQ(Eval(p, kRes, Cpu(40)), "publish");  // first event again
}

TEST(TelemetryPolicyTest, BaselineTableIsBounded) {
  PolicyConfig c;
  c.max_baselines = 2;
  TelemetryPolicy p(c);
  for (int run = 0; run < 5; ++run) {
    std::string topic = "training/run" + std::to_string(run) + "/metrics";
    EXPECT_EQ(Eval(p, topic, Training(0.5, 0.2)), "publish");
    // Runs beyond the table's capacity are never suppressed (no baseline to compare with).
    EXPECT_EQ(Eval(p, topic, Training(0.5, 0.2)), run < 2 ? "suppress" : "publish") << topic;
  }
  EXPECT_EQ(p.baseline_count(), 2u);
  // Forgetting frees a slot.
  p.Forget("training/run0/metrics");
  EXPECT_EQ(Eval(p, "training/run4/metrics", Training(0.5, 0.2)), "publish");
  EXPECT_EQ(Eval(p, "training/run4/metrics", Training(0.5, 0.2)), "suppress");
}

TEST(TelemetryPolicyTest, NoSuppressionConfigPublishesEverythingValid) {
  TelemetryPolicy p(PolicyConfig::NoSuppression());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Eval(p, kRes, Cpu(40)), "publish");
  EXPECT_EQ(Eval(p, kRes, R"({"cpu_percent":400})"),
            "error: cpu_percent must be between 0 and 100");
  EXPECT_EQ(p.baseline_count(), 0u);
}

TEST(TelemetryPolicyTest, UsableThroughThePublishPolicyInterface) {
  TelemetryPolicy concrete;
  fw::PublishPolicy& p = concrete;
  JsonPtr d = Parse(Cpu(10));
  auto r = p.Evaluate(kRes, d.get());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, PublishAction::kPublish);
}

}  // namespace
}  // namespace edgewatch::app
