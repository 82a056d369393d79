#include "edgewatch/app/forecast/forecast_config.h"

#include <gtest/gtest.h>

#include <string>

#include "edgewatch/app/forecast/forecaster.h"
#include "edgewatch/base/json.h"

namespace edgewatch::app::forecast {
namespace {

Result<ForecastConfig> Parse(const std::string& json) {
  auto root = ParseJson(json);
  EXPECT_TRUE(root.ok()) << json;
  if (!root.ok()) return root.status();
  return ParseForecastConfig(root->get());
}

std::string ErrorOf(const std::string& json) {
  auto r = Parse(json);
  EXPECT_FALSE(r.ok()) << json;
  return r.ok() ? "" : r.status().message();
}

TEST(ForecastConfigTest, NoKeyMeansNoForecasts) {
  auto r = Parse("{}");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->enabled());
  auto null_root = ParseForecastConfig(nullptr);
  ASSERT_TRUE(null_root.ok());
  EXPECT_FALSE(null_root->enabled());
}

TEST(ForecastConfigTest, ParsesTheIssueExample) {
  auto r = Parse(R"({"forecasts":[{"source":"pipeline/+/analytics","field":"people_count",
      "context":512,"horizon":96,"every":"10s","season":"auto"}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->specs.size(), 1u);
  const ForecastSpec& s = r->specs[0];
  EXPECT_EQ(s.source, "pipeline/+/analytics");
  EXPECT_EQ(s.field, "people_count");
  EXPECT_EQ(s.context, 512);
  EXPECT_EQ(s.horizon, 96);
  EXPECT_EQ(s.every_ms, 10000);
  EXPECT_EQ(s.season, kSeasonAuto);
  EXPECT_EQ(s.min_points, 10);
  EXPECT_EQ(s.step_ms, 0);
  EXPECT_EQ(s.deadline_ms, 30000);
  EXPECT_EQ(r->test_delay_ms, 0);
}

TEST(ForecastConfigTest, ParsesEveryKey) {
  auto r = Parse(R"({"forecast_max_series":5,"forecast_test_delay_ms":2000,
      "forecasts":[{"source":"a/#","field":"x.y","context":100,"horizon":10,"every":"500ms",
      "season":12,"min_points":40,"step":"2s","deadline":"1m","max_series":3},
      {"source":"b","field":"v","every":90,"season":0}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->max_series, 5u);
  EXPECT_EQ(r->test_delay_ms, 2000);
  ASSERT_EQ(r->specs.size(), 2u);
  const ForecastSpec& a = r->specs[0];
  EXPECT_EQ(a.every_ms, 500);
  EXPECT_EQ(a.season, 12);
  EXPECT_EQ(a.min_points, 40);
  EXPECT_EQ(a.step_ms, 2000);
  EXPECT_EQ(a.deadline_ms, 60000);
  EXPECT_EQ(a.max_series, 3);
  EXPECT_EQ(r->specs[1].every_ms, 90000);
  EXPECT_EQ(r->specs[1].deadline_ms, 90000);  // default deadline: max(30 s, every)
}

TEST(ForecastConfigTest, FixedSeasonRaisesTheDefaultMinimum) {
  auto r = Parse(R"({"forecasts":[{"source":"a","field":"v","season":24}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->specs[0].min_points, 50);
}

TEST(ForecastConfigTest, Errors) {
  EXPECT_EQ(ErrorOf(R"({"forecasts":{}})"), "forecasts must be an array of objects");
  EXPECT_EQ(ErrorOf(R"({"forecasts":[1]})"), "forecasts[0] must be an object");
  EXPECT_EQ(ErrorOf(R"({"forecasts":[{"source":"a","field":"v","horizn":3}]})"),
            "forecasts[0]: unknown key \"horizn\"");
  EXPECT_NE(ErrorOf(R"({"forecasts":[{"field":"v"}]})").find("forecasts[0].source is required"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(R"({"forecasts":[{"source":"a/#/b","field":"v"}]})").find("forecasts[0].source"),
      std::string::npos);
  EXPECT_NE(ErrorOf(R"({"forecasts":[{"source":"forecast/#","field":"v"}]})")
                .find("forecasts of forecast/... topics are not allowed"),
            std::string::npos);
  for (const char* field : {R"("")", R"("a..b")", R"("a/b")", R"(".a")", "3"}) {
    std::string json = std::string(R"({"forecasts":[{"source":"a","field":)") + field + "}]}";
    EXPECT_NE(ErrorOf(json).find("forecasts[0].field is required"), std::string::npos) << json;
  }
  EXPECT_EQ(ErrorOf(R"({"forecasts":[{"source":"a","field":"v","context":7}]})"),
            "forecasts[0].context must be an integer in [8, 4096]");
  EXPECT_EQ(ErrorOf(R"({"forecasts":[{"source":"a","field":"v","horizon":1025}]})"),
            "forecasts[0].horizon must be an integer in [1, 1024]");
  for (const char* every :
       {R"("10")", R"("10S")", R"("1.5s")", R"("-1s")", R"("50ms")", R"("")", R"("2d")", "true"}) {
    if (std::string(every) == R"("10")") continue;  // a bare number is seconds: valid
    std::string json =
        std::string(R"({"forecasts":[{"source":"a","field":"v","every":)") + every + "}]}";
    EXPECT_NE(ErrorOf(json).find("forecasts[0].every must be a duration >= 100ms"),
              std::string::npos)
        << json;
  }
  EXPECT_EQ(ErrorOf(R"({"forecasts":[{"source":"a","field":"v","season":1}]})"),
            "forecasts[0].season must be \"auto\", 0 (none) or a period >= 2");
  EXPECT_EQ(ErrorOf(R"({"forecasts":[{"source":"a","field":"v","season":"weekly"}]})"),
            "forecasts[0].season must be \"auto\", 0 (none) or a period >= 2");
  EXPECT_EQ(ErrorOf(R"({"forecasts":[{"source":"a","field":"v","season":12,"context":20}]})"),
            "forecasts[0].context must be at least 2 * season + 2 = 26");
  EXPECT_EQ(ErrorOf(R"({"forecasts":[{"source":"a","field":"v","season":12,"min_points":20}]})"),
            "forecasts[0].min_points must be at least 2 * season + 2 = 26");
  EXPECT_EQ(ErrorOf(R"({"forecasts":[{"source":"a","field":"v","min_points":600}]})"),
            "forecasts[0].min_points must be an integer in [3, 512]");
  EXPECT_EQ(ErrorOf(R"({"forecast_max_series":0})"),
            "config.forecast_max_series must be an integer in [1, 1024]");
  EXPECT_EQ(ErrorOf(R"({"forecast_test_delay_ms":-1})"),
            "config.forecast_test_delay_ms must be an integer in [0, 3600000]");
}

TEST(ForecastConfigTest, Durations) {
  EXPECT_EQ(*ParseDurationMs("250ms"), 250);
  EXPECT_EQ(*ParseDurationMs("10s"), 10000);
  EXPECT_EQ(*ParseDurationMs("5m"), 300000);
  EXPECT_EQ(*ParseDurationMs("1h"), 3600000);
  EXPECT_EQ(*ParseDurationMs("30"), 30000);
  for (const char* bad : {"", "s", "1.5s", "-1s", "10S", "1h30m", " 1s", "1 s", "1d"}) {
    EXPECT_FALSE(ParseDurationMs(bad).ok()) << bad;
  }
}

TEST(ForecastConfigTest, DemoForecastsPeopleCountSoon) {
  ForecastConfig c = DemoForecastConfig();
  ASSERT_EQ(c.specs.size(), 1u);
  EXPECT_EQ(c.specs[0].source, "pipeline/+/analytics");
  EXPECT_EQ(c.specs[0].field, "people_count");
  // One analytics event per second in the demo: the first forecast within the first minute.
  EXPECT_LE(c.specs[0].min_points + c.specs[0].every_ms / 1000, 60);
}

}  // namespace
}  // namespace edgewatch::app::forecast
