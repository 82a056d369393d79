// Rule syntax: conditions, evaluation, templates and the "rules" config array with its errors.
#include "edgewatch/app/alerts/rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgewatch/base/json.h"
#include "test_board.h"

namespace edgewatch::app::alerts {
namespace {

using ::testing::HasSubstr;

JsonPtr J(const char* text) {
  auto j = ParseJson(text);
  EXPECT_TRUE(j.ok()) << text;
  return j.ok() ? std::move(j).value() : JsonPtr(cJSON_CreateObject());
}

bool Eval(const char* cond, const char* data) {
  auto c = ParseCondition(cond);
  EXPECT_TRUE(c.ok()) << cond << ": " << c.status().ToString();
  return c.ok() && Evaluate(*c, J(data).get());
}

TEST(ConditionTest, Comparisons) {
  EXPECT_TRUE(Eval("analytics.new_intrusions > 0", R"({"analytics":{"new_intrusions":2}})"));
  EXPECT_FALSE(Eval("analytics.new_intrusions > 0", R"({"analytics":{"new_intrusions":0}})"));
  EXPECT_TRUE(Eval("frame_data.fps < 5", R"({"frame_data":{"fps":4.5}})"));
  EXPECT_FALSE(Eval("frame_data.fps<5", R"({"frame_data":{"fps":5}})"));
  EXPECT_TRUE(Eval("frame_data.fps <= 5", R"({"frame_data":{"fps":5}})"));
  EXPECT_TRUE(Eval("temperature_c >= 80", R"({"temperature_c":80.0})"));
  EXPECT_TRUE(Eval("temperature_c > -1.5e1", R"({"temperature_c":-10})"));
  EXPECT_TRUE(Eval("status == running", R"({"status":"running"})"));
  EXPECT_TRUE(Eval("status == 'running'", R"({"status":"running"})"));
  EXPECT_TRUE(Eval("status != \"running\"", R"({"status":"stopped"})"));
  EXPECT_TRUE(Eval("ok == true", R"({"ok":true})"));
  EXPECT_TRUE(Eval("err == null", R"({"err":null})"));
  EXPECT_TRUE(Eval("count == 3", R"({"count":3})"));
  // Missing fields and wrong types are false, never an error.
  EXPECT_FALSE(Eval("frame_data.fps < 5", R"({"frame_data":{}})"));
  EXPECT_FALSE(Eval("frame_data.fps < 5", R"({"frame_data":{"fps":"slow"}})"));
  EXPECT_FALSE(Eval("a.b > 1", R"({"a":3})"));
  EXPECT_TRUE(Eval("status != running", R"({"status":7})"));
}

TEST(ConditionTest, InSet) {
  EXPECT_TRUE(Eval("severity in [high, critical]", R"({"severity":"critical"})"));
  EXPECT_FALSE(Eval("severity in [high, critical]", R"({"severity":"low"})"));
  EXPECT_TRUE(Eval("code in [1, 2,3]", R"({"code":3})"));
  EXPECT_TRUE(Eval("zone in ['door a', \"gate\"]", R"({"zone":"door a"})"));
  EXPECT_FALSE(Eval("severity in [high]", R"({})"));
}

TEST(ConditionTest, ChangedParses) {
  auto c = ParseCondition("status changed");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, Condition::Kind::kChanged);
  EXPECT_EQ(c->field, "status");
  EXPECT_EQ(FieldValueJson(J(R"({"status":"a"})").get(), "status"), "\"a\"");
  EXPECT_EQ(FieldValueJson(J(R"({})").get(), "status"), "");
}

TEST(ConditionTest, Errors) {
  for (const char* bad : {"", "> 3", "fps", "fps <", "fps < 5 5", "fps > 'a'", "fps >= high",
                          "severity in high", "severity in [high", "severity in [high,]",
                          "x changed now", "1abc > 2", "a..b > 1", "fps ~ 3", "s == 'open"}) {
    EXPECT_FALSE(ParseCondition(bad).ok()) << bad;
  }
  EXPECT_THAT(ParseCondition("fps ~ 3").status().message(), HasSubstr("position 5"));
}

TEST(TemplateTest, FieldsTopicAndRule) {
  auto data = J(R"({"pipeline_id":"cam1","analytics":{"new_intrusions":2,"zone":{"a":1}}})");
  EXPECT_EQ(RenderTemplate("Intrusion on {pipeline_id}: {analytics.new_intrusions} new "
                           "({topic}, rule {rule}) {analytics.zone} {missing} {not a field} {",
                           data.get(), "pipeline/cam1/analytics", "intrusion"),
            "Intrusion on cam1: 2 new (pipeline/cam1/analytics, rule intrusion) {\"a\":1} ? "
            "{not a field} {");
  EXPECT_EQ(RenderTemplate("{x}", nullptr, "t", "r"), "?");
}

constexpr char kGoodRules[] = R"([
  {"id": "intrusion",
   "when": {"topic": "pipeline/+/analytics", "if": "analytics.new_intrusions > 0"},
   "then": {"output": {"role": "alert_led", "pattern": "blink", "hz": 2, "for": "5m",
                       "priority": 10},
            "alert": {"severity": "critical", "message": "Intrusion on {pipeline_id}"},
            "notify": {"users": ["alice"], "scopes": ["alerts"], "title": "Intrusion"}}},
  {"id": "crowd", "when": {"topic": "pipeline/+/analytics",
                           "if": "analytics.people_count > 10", "for": "30s"},
   "then": {"output": [{"role": "buzzer", "pattern": "pulses", "count": 3, "width": "200ms",
                        "gap": "300ms"}, {"role": "relay", "pattern": "steady", "for": "1m"}]}},
  {"id": "stalled", "when": {"topic": "pipeline/+/frame", "if": "frame_data.fps < 5",
                             "for": "10s"},
   "then": {"alert": {"severity": "warning"}}},
  {"id": "pipeline-error", "when": {"topic": "pipeline/+/error",
                                    "if": "severity in [high, critical]"},
   "then": {"alert": {"severity": "error", "message": "{error_message}"}}},
  {"id": "hot", "when": {"topic": "system/resources", "if": "temperature_c > 80"},
   "then": {"output": {"role": "buzzer", "pattern": "pulse", "width": "1s"}}},
  {"id": "silent-cam1", "when": {"topic": "pipeline/cam1/frame", "silent": "30s"},
   "then": {"alert": {"severity": "error", "message": "cam1 stopped reporting"}}},
  {"id": "burst", "when": {"topic": "pipeline/+/analytics", "if": "analytics.new_intrusions > 0",
                           "rate": {"count": 3, "window": "1m"}},
   "then": {"notify": {"scopes": ["alerts"], "type": "warning"}}}
])";

TEST(ParseRulesTest, TheDocumentedExamples) {
  hal::BoardSpec board = testing::TestBoard();
  auto rules = ParseRules(J(kGoodRules).get(), &board);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 7u);
  const Rule& intrusion = (*rules)[0];
  EXPECT_EQ(intrusion.topic, "pipeline/+/analytics");
  ASSERT_EQ(intrusion.outputs.size(), 1u);
  EXPECT_EQ(intrusion.outputs[0].pattern.kind, Pattern::Kind::kBlink);
  EXPECT_EQ(intrusion.outputs[0].pattern.on_us, 250000);
  EXPECT_EQ(intrusion.outputs[0].max_duration_us, 300 * 1000000LL);
  EXPECT_EQ(intrusion.outputs[0].priority, 10);
  ASSERT_TRUE(intrusion.notify.has_value());
  EXPECT_EQ(intrusion.notify->type, "error");  // from severity critical
  EXPECT_EQ(intrusion.notify->title, "Intrusion");
  const Rule& crowd = (*rules)[1];
  EXPECT_EQ(crowd.for_us, 30 * 1000000LL);
  ASSERT_EQ(crowd.outputs.size(), 2u);
  EXPECT_EQ(crowd.outputs[0].max_duration_us, 300 * 1000000LL);  // the default "for"
  EXPECT_EQ(crowd.outputs[1].max_duration_us, 60 * 1000000LL);
  EXPECT_EQ((*rules)[2].alert.message, "Rule stalled fired on {topic}");
  EXPECT_EQ((*rules)[3].condition.kind, Condition::Kind::kIn);
  EXPECT_EQ((*rules)[5].silent_us, 30 * 1000000LL);
  EXPECT_EQ((*rules)[6].rate_count, 3);
  EXPECT_EQ((*rules)[6].rate_window_us, 60 * 1000000LL);
  EXPECT_EQ((*rules)[6].notify->title, "burst");
  // Without a board, roles are not checked.
  EXPECT_TRUE(ParseRules(J(kGoodRules).get()).ok());
}

std::string RuleError(const std::string& rule_json, const hal::BoardSpec* board = nullptr) {
  auto r = ParseRules(J(("[" + rule_json + "]").c_str()).get(), board);
  return r.ok() ? "OK" : r.status().message();
}

TEST(ParseRulesTest, ErrorsNameTheRuleAndMember) {
  const std::string then = R"("then": {"alert": {}})";
  EXPECT_THAT(RuleError(R"({"when": {"topic": "a", "if": "x > 1"}, )" + then + "}"),
              HasSubstr("rules[0].id"));
  EXPECT_THAT(RuleError(R"({"id": "Bad Id", "when": {"topic": "a", "if": "x > 1"}, )" + then + "}"),
              HasSubstr("rules[0].id"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a/#/b", "if": "x > 1"}, )" + then + "}"),
              HasSubstr("rules[0] (r).when.topic"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x >"}, )" + then + "}"),
              HasSubstr("when.if"));
  EXPECT_THAT(
      RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1", "fro": "1s"}, )" + then + "}"),
      HasSubstr("unknown member \"fro\""));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1", "for": "soon"}, )" +
                        then + "}"),
              HasSubstr("when.for"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a"}, )" + then + "}"),
              HasSubstr("needs \"if\", \"rate\" or \"silent\""));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1", "for": "1s",
                           "silent": "1s"}, )" +
                        then + "}"),
              HasSubstr("exclude each other"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1", "silent": "1s"}, )" +
                        then + "}"),
              HasSubstr("a \"silent\" rule has no \"if\""));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x changed", "for": "1s"}, )" +
                        then + "}"),
              HasSubstr("cannot be sustained"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "rate": {"count": 0,
                           "window": "1s"}}, )" +
                        then + "}"),
              HasSubstr("when.rate.count"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1"}})"),
              HasSubstr("then: required"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1"},
                           "then": {"alert": {"severity": "meh"}}})"),
              HasSubstr("then.alert.severity"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1"},
                           "then": {"notify": {"title": "t"}}})"),
              HasSubstr("needs \"users\" or \"scopes\""));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1"},
                           "then": {"notify": {"users": ["a/b"]}}})"),
              HasSubstr("then.notify.users"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1"},
                           "then": {"output": {"role": "alert_led", "pattern": "blink"}}})"),
              HasSubstr("then.output: blink"));
  hal::BoardSpec board = testing::TestBoard();
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1"},
                           "then": {"output": {"role": "siren", "pattern": "steady"}}})",
                        &board),
              HasSubstr("board test has no role \"siren\" (outputs: alert_led, buzzer, relay)"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1"},
                           "then": {"output": [{"role": "ack_button", "pattern": "steady"}]}})",
                        &board),
              HasSubstr("then.output[0].role: \"ack_button\" is an input"));
  EXPECT_THAT(RuleError(R"({"id": "r", "when": {"topic": "a", "if": "x > 1"}, )" + then +
                        R"(}, {"id": "r", "when": {"topic": "b", "if": "x > 1"}, )" + then + "}"),
              HasSubstr("rules[1].id: duplicate id \"r\""));
  EXPECT_THAT(ParseRules(J(R"({})").get()).status().message(), HasSubstr("expected an array"));
}

}  // namespace
}  // namespace edgewatch::app::alerts
