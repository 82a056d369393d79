#include "edgewatch/app/schema.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "edgewatch/base/json.h"

namespace edgewatch::app {
namespace {

JsonPtr Parse(std::string_view text) {
  auto r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " in " << text;
  return r.ok() ? std::move(r).value() : JsonPtr(cJSON_CreateObject());
}

// A valid example per kind, with every optional field present.
struct Example {
  const char* topic;
  const char* data;
};

constexpr Example kStatus = {
    "pipeline/cam1/status",
    R"({"pipeline_id":"cam1","status":"running","detailed_status":{"stats":{"frames":10},
        "nodes":{"detector":{"status":"ok"}},"error_message":"none","last_frame_time":1.5}})"};
constexpr Example kFrame = {
    "pipeline/cam1/frame",
    R"({"pipeline_id":"cam1","frame_data":{"frame_id":7,"timestamp":1700000000123,
        "detections_count":3,"processing_time":21.5,"fps":29.8,"node_results":{"d":{"n":3}}}})"};
constexpr Example kAnalytics = {
    "pipeline/cam1/analytics",
    R"({"pipeline_id":"cam1","analytics":{"node_id":"a1","node_type":"people_analytics",
        "people_count":4,"trend":"up","new_crossings":1,"total_crossings":9,"new_intrusions":0,
        "active_zones":1,"results":{"zones":{}}}})"};
constexpr Example kError = {
    "pipeline/cam1/error",
    R"({"pipeline_id":"cam1","error_message":"stream lost","severity":"high"})"};
constexpr Example kTraining = {
    "training/run1/metrics",
    R"({"epoch":2,"loss":0.4321,"step":1200,"total_epochs":30,"map50":0.61,"map50_95":0.4,
        "precision":0.7,"recall":0.6,"val_loss":0.5,"lr":0.001})"};
constexpr Example kResources = {
    "system/resources",
    R"({"cpu_percent":42.5,"memory_used_bytes":1000,"memory_total_bytes":4000,
        "temperature_c":51.2,"uptime_s":3600})"};

constexpr Example kForecast = {
    "forecast/pipeline/cam1/analytics/people_count",
    R"({"model":"holt_winters","generated_at":1700000000000,"step_ms":1000,"context":60,
        "horizon":3,"level":95,"points":[1,2,3],"lower":[0,1,1],"upper":[2,3,5],
        "lower80":[0.5,1.5,2],"upper80":[1.5,2.5,4],
        "fit":{"alpha":0.5,"beta":0.1,"gamma":0,"phi":0.98,"mae":0.7}})"};

constexpr Example kAll[] = {kStatus, kFrame, kAnalytics, kError, kTraining, kResources, kForecast};

void DeletePath(cJSON* root, std::string_view path) {
  size_t dot = path.rfind('.');
  cJSON* parent = root;
  std::string leaf(path);
  if (dot != std::string_view::npos) {
    parent = const_cast<cJSON*>(FindPath(root, path.substr(0, dot)));
    leaf = std::string(path.substr(dot + 1));
  }
  ASSERT_NE(parent, nullptr) << path;
  cJSON_DeleteItemFromObjectCaseSensitive(parent, leaf.c_str());
}

void ReplacePath(cJSON* root, std::string_view path, cJSON* value) {
  size_t dot = path.rfind('.');
  cJSON* parent = root;
  std::string leaf(path);
  if (dot != std::string_view::npos) {
    parent = const_cast<cJSON*>(FindPath(root, path.substr(0, dot)));
    leaf = std::string(path.substr(dot + 1));
  }
  ASSERT_NE(parent, nullptr) << path;
  ASSERT_TRUE(cJSON_ReplaceItemInObjectCaseSensitive(parent, leaf.c_str(), value)) << path;
}

Status Validate(const Example& e, const std::function<void(cJSON*)>& mutate = {}) {
  JsonPtr data = Parse(e.data);
  if (mutate) mutate(data.get());
  return ValidateTelemetry(e.topic, data.get());
}

TEST(SchemaTest, ValidExamplesPass) {
  for (const Example& e : kAll)
    EXPECT_TRUE(Validate(e).ok()) << e.topic << ": " << Validate(e).ToString();
}

TEST(SchemaTest, MinimalExamplesPass) {
  EXPECT_TRUE(ValidateTelemetry("pipeline/cam1/status",
                                Parse(R"({"pipeline_id":"cam1","status":"starting"})").get())
                  .ok());
  EXPECT_TRUE(
      ValidateTelemetry("pipeline/cam1/analytics",
                        Parse(R"({"pipeline_id":"cam1","analytics":{"node_id":"a","node_type":"t",
                            "results":null}})")
                            .get())
          .ok());
  EXPECT_TRUE(
      ValidateTelemetry("training/r/metrics", Parse(R"({"epoch":0,"loss":2.5})").get()).ok());
  EXPECT_TRUE(ValidateTelemetry("system/resources", Parse(R"({"cpu_percent":0,"memory_used_bytes":0,
                                          "memory_total_bytes":0})")
                                                        .get())
                  .ok());
}

// Every required field, removed in turn, is reported by its dotted path; every optional one may
// be removed.
TEST(SchemaTest, EachMissingFieldIsNamed) {
  for (const Example& e : kAll) {
    TopicKind kind = ClassifyTopic(e.topic);
    for (const FieldSpec& spec : SchemaFor(kind)) {
      Status s = Validate(e, [&](cJSON* d) { DeletePath(d, spec.path); });
      if (spec.required) {
        EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << spec.path;
        EXPECT_EQ(s.message(), std::string(spec.path) + " is required");
      } else {
        EXPECT_TRUE(s.ok()) << spec.path << ": " << s.ToString();
      }
    }
  }
}

// null counts as absent, except for kAny (seed 003's `results: any`).
TEST(SchemaTest, NullIsAbsent) {
  for (const Example& e : kAll) {
    TopicKind kind = ClassifyTopic(e.topic);
    for (const FieldSpec& spec : SchemaFor(kind)) {
      Status s = Validate(e, [&](cJSON* d) { ReplacePath(d, spec.path, cJSON_CreateNull()); });
      if (spec.required && spec.type != FieldType::kAny) {
        EXPECT_EQ(s.message(), std::string(spec.path) + " is required");
      } else {
        EXPECT_TRUE(s.ok()) << spec.path << ": " << s.ToString();
      }
    }
  }
}

TEST(SchemaTest, EachWrongTypeIsNamed) {
  for (const Example& e : kAll) {
    TopicKind kind = ClassifyTopic(e.topic);
    for (const FieldSpec& spec : SchemaFor(kind)) {
      if (spec.type == FieldType::kAny) continue;
      std::string expected;
      Status s = Validate(e, [&](cJSON* d) {
        switch (spec.type) {
          case FieldType::kString:
            ReplacePath(d, spec.path, cJSON_CreateNumber(1));
            expected = " must be a string";
            break;
          case FieldType::kNumber:
            ReplacePath(d, spec.path, cJSON_CreateString("1"));
            expected = " must be a number";
            break;
          case FieldType::kInteger:
            ReplacePath(d, spec.path, cJSON_CreateTrue());
            expected = " must be an integer";
            break;
          case FieldType::kObject:
            ReplacePath(d, spec.path, cJSON_CreateArray());
            expected = " must be an object";
            break;
          case FieldType::kArray:
            ReplacePath(d, spec.path, cJSON_CreateObject());
            expected = " must be an array";
            break;
          case FieldType::kAny:
            break;
        }
      });
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << spec.path;
      EXPECT_EQ(s.message(), std::string(spec.path) + expected);
    }
  }
}

TEST(SchemaTest, IntegersHaveNoFraction) {
  Status s = Validate(
      kFrame, [](cJSON* d) { ReplacePath(d, "frame_data.frame_id", cJSON_CreateNumber(1.5)); });
  EXPECT_EQ(s.message(), "frame_data.frame_id must be an integer");
  s = Validate(kTraining, [](cJSON* d) { ReplacePath(d, "epoch", cJSON_CreateNumber(1e300)); });
  EXPECT_EQ(s.message(), "epoch must be an integer");
}

TEST(SchemaTest, RangesAreChecked) {
  struct Case {
    const Example& e;
    const char* path;
    double value;
    const char* message;
  };
  const Case cases[] = {
      {kResources, "cpu_percent", 100.5, "cpu_percent must be between 0 and 100"},
      {kResources, "cpu_percent", -1, "cpu_percent must be between 0 and 100"},
      {kResources, "memory_used_bytes", -1, "memory_used_bytes must be >= 0"},
      {kResources, "uptime_s", -0.5, "uptime_s must be >= 0"},
      {kFrame, "frame_data.fps", -1, "frame_data.fps must be >= 0"},
      {kFrame, "frame_data.frame_id", -1, "frame_data.frame_id must be >= 0"},
      {kFrame, "frame_data.processing_time", -0.1, "frame_data.processing_time must be >= 0"},
      {kFrame, "frame_data.detections_count", -2, "frame_data.detections_count must be >= 0"},
      {kAnalytics, "analytics.people_count", -1, "analytics.people_count must be >= 0"},
      {kTraining, "map50", 1.2, "map50 must be between 0 and 1"},
      {kTraining, "epoch", -1, "epoch must be >= 0"},
      {kForecast, "horizon", 0, "horizon must be between 1 and 10000"},
      {kForecast, "fit.phi", 1.5, "fit.phi must be between 0 and 1"},
      {kForecast, "generated_at", -5, "generated_at must be >= 0"},
  };
  for (const Case& c : cases) {
    Status s =
        Validate(c.e, [&](cJSON* d) { ReplacePath(d, c.path, cJSON_CreateNumber(c.value)); });
    EXPECT_EQ(s.message(), c.message) << c.path;
  }
  // Bounds are inclusive; negative losses and temperatures are legitimate.
  EXPECT_TRUE(Validate(kResources, [](cJSON* d) {
                ReplacePath(d, "cpu_percent", cJSON_CreateNumber(100));
                ReplacePath(d, "temperature_c", cJSON_CreateNumber(-20));
              }).ok());
  EXPECT_TRUE(Validate(kTraining, [](cJSON* d) {
                ReplacePath(d, "loss", cJSON_CreateNumber(-3));
                ReplacePath(d, "map50", cJSON_CreateNumber(1));
              }).ok());
}

TEST(SchemaTest, MemoryUsedCannotExceedTotal) {
  Status s = Validate(
      kResources, [](cJSON* d) { ReplacePath(d, "memory_used_bytes", cJSON_CreateNumber(4001)); });
  EXPECT_EQ(s.message(), "memory_used_bytes must not exceed memory_total_bytes");
}

TEST(SchemaTest, PipelineIdMustMatchTopic) {
  for (const Example& e : {kStatus, kFrame, kAnalytics, kError}) {
    JsonPtr data = Parse(e.data);
    std::string topic(e.topic);
    topic.replace(topic.find("cam1"), 4, "cam2");
    Status s = ValidateTelemetry(topic, data.get());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << topic;
    EXPECT_EQ(s.message(), "pipeline_id must equal the topic's pipeline id \"cam2\"");
  }
}

TEST(SchemaTest, EmptySubjectIsRejected) {
  JsonPtr data = Parse(R"({"pipeline_id":"","error_message":"x","severity":"low"})");
  EXPECT_EQ(ValidateTelemetry("pipeline//error", data.get()).message(),
            "the topic's pipeline id segment is empty");
  EXPECT_EQ(ValidateTelemetry("training//metrics", Parse(kTraining.data).get()).message(),
            "the topic's run segment is empty");
}

TEST(SchemaTest, ExtraFieldsAreAllowed) {
  EXPECT_TRUE(Validate(kFrame, [](cJSON* d) {
                cJSON_AddStringToObject(d, "camera_model", "imx477");
                cJSON_AddNumberToObject(const_cast<cJSON*>(FindPath(d, "frame_data")), "gpu", 3);
              }).ok());
  EXPECT_TRUE(
      Validate(kTraining, [](cJSON* d) { cJSON_AddStringToObject(d, "phase", "val"); }).ok());
}

TEST(SchemaTest, NestedOptionalObjectChecksItsChildrenOnlyWhenPresent) {
  EXPECT_TRUE(Validate(kStatus, [](cJSON* d) { DeletePath(d, "detailed_status"); }).ok());
  EXPECT_EQ(Validate(kStatus, [](cJSON* d) { DeletePath(d, "detailed_status.stats"); }).message(),
            "detailed_status.stats is required");
}

TEST(SchemaTest, ForecastArraysHaveTheHorizonsLengthAndOrderedBands) {
  Status s = Validate(kForecast, [](cJSON* d) {
    cJSON_DeleteItemFromArray(cJSON_GetObjectItemCaseSensitive(d, "upper"), 0);
  });
  EXPECT_EQ(s.message(), "upper must have horizon (3) values, has 2");
  s = Validate(kForecast, [](cJSON* d) {
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(d, "points"), 1,
                             cJSON_CreateString("2"));
  });
  EXPECT_EQ(s.message(), "points must hold numbers");
  s = Validate(kForecast, [](cJSON* d) {
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(d, "lower"), 1,
                             cJSON_CreateNumber(3.5));
  });
  EXPECT_EQ(s.message(), "lower[1] must not exceed upper[1]");
  s = Validate(kForecast, [](cJSON* d) {
    cJSON_ReplaceItemInArray(cJSON_GetObjectItemCaseSensitive(d, "upper80"), 2,
                             cJSON_CreateNumber(1));
  });
  EXPECT_EQ(s.message(), "lower80[2] must not exceed upper80[2]");
  s = Validate(kForecast, [](cJSON* d) { ReplacePath(d, "horizon", cJSON_CreateNumber(4)); });
  EXPECT_EQ(s.message(), "points must have horizon (4) values, has 3");
}

TEST(SchemaTest, ExternalModelsPassWithoutHoltWintersFit) {
  // A producer's own model (e.g. TTM-R2 on the GPU) publishes the same schema without `fit`.
  EXPECT_TRUE(ValidateTelemetry("forecast/sensors/line1/temp/value",
                                Parse(R"({"model":"granite-ttm-r2","generated_at":1,"step_ms":60000,
                                    "context":512,"horizon":2,"points":[20.5,20.7],
                                    "lower":[19,19.1],"upper":[22,22.4]})")
                                    .get())
                  .ok());
}

TEST(SchemaTest, ForecastTopicNeedsSourceAndField) {
  for (const char* topic : {"forecast//people_count", "forecast/pipeline/cam1/analytics/"}) {
    EXPECT_EQ(ValidateTelemetry(topic, Parse(kForecast.data).get()).message(),
              "forecast topics are forecast/<source topic>/<field>: the source or the field is "
              "empty")
        << topic;
  }
}

TEST(SchemaTest, DataMustBeAnObjectEvenOnOtherTopics) {
  EXPECT_TRUE(ValidateTelemetry("custom/x/y", Parse(R"({"anything":[1,"two"]})").get()).ok());
  EXPECT_TRUE(ValidateTelemetry("pipeline/cam1", Parse("{}").get()).ok());
  for (const char* topic :
       {"custom/x/y", "pipeline/cam1/frame", "system/resources", "forecast/x/y"}) {
    EXPECT_EQ(ValidateTelemetry(topic, Parse("[1,2]").get()).message(),
              "data must be a JSON object");
    EXPECT_EQ(ValidateTelemetry(topic, Parse("\"s\"").get()).message(),
              "data must be a JSON object");
    EXPECT_EQ(ValidateTelemetry(topic, nullptr).message(), "data must be a JSON object");
  }
}

TEST(SchemaTest, FindPathWalksObjectsOnly) {
  JsonPtr d = Parse(R"({"a":{"b":{"c":1}},"arr":[{"x":1}]})");
  ASSERT_NE(FindPath(d.get(), "a.b.c"), nullptr);
  EXPECT_EQ(FindPath(d.get(), "a.b.c")->valuedouble, 1);
  EXPECT_EQ(FindPath(d.get(), "a.x"), nullptr);
  EXPECT_EQ(FindPath(d.get(), "a.b.c.d"), nullptr);
  EXPECT_EQ(FindPath(d.get(), "arr.x"), nullptr);
  EXPECT_EQ(FindPath(d.get(), "A"), nullptr);  // case-sensitive
}

}  // namespace
}  // namespace edgewatch::app
