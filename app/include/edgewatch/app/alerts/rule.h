// Alert rules: the "rules" array of the daemon's config file (syntax in docs/hardware.md).
//
//   {"id": "intrusion",
//    "when": {"topic": "pipeline/+/analytics", "if": "analytics.new_intrusions > 0"},
//    "then": {"output": {"role": "alert_led", "pattern": "blink", "hz": 2, "for": "5m"},
//             "alert": {"severity": "critical", "message": "Intrusion on {pipeline_id}"},
//             "notify": {"users": ["alice"], "title": "Intrusion"}}}
//
// `when` is a topic pattern and one trigger: a condition on a field of the event's data
// (comparison, `in [...]`, `changed`), optionally sustained `for` a duration or counted over a
// `rate` window, or `silent` (no event on a matching topic for a duration). `then` drives output
// patterns, raises an alert (published on `alerts`) and notifies users or scopes.
//
// Parsing and condition evaluation are pure functions; any thread.
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/app/alerts/output_pattern.h"
#include "edgewatch/base/status.h"
#include "edgewatch/hal/board.h"

namespace edgewatch::app::alerts {

// A literal in a condition: number, string, true/false or null.
struct Literal {
  enum class Type { kNumber, kString, kBool, kNull };
  Type type = Type::kNull;
  double number = 0;
  std::string text;  // kString
  bool boolean = false;
};

struct Condition {
  enum class Kind {
    kAlways,   // no "if": every event matches (for rate and silent rules)
    kCompare,  // field OP literal
    kIn,       // field in [literal, ...]
    kChanged,  // field changed (compared with the previous event on the same topic)
  };
  enum class Op { kGt, kGe, kLt, kLe, kEq, kNe };
  Kind kind = Kind::kAlways;
  std::string field;  // dotted path into the event's data ("frame_data.fps")
  Op op = Op::kEq;
  Literal value;             // kCompare
  std::vector<Literal> set;  // kIn
  std::string text;          // as written, for messages
};

// Parses an "if" expression:
//   <path> (>|>=|<|<=|==|!=) <literal>     numbers compare numerically; == and != also compare
//                                          strings, booleans and null
//   <path> in [<literal>, ...]             string or number membership
//   <path> changed                         any change of the value (JSON equality)
// <path> is a dotted field path ([A-Za-z_][A-Za-z0-9_]* segments); <literal> is a number,
// true, false, null, a 'single' or "double" quoted string, or a bare word (a string: high).
// InvalidArgument with the position of the problem.
Result<Condition> ParseCondition(std::string_view text);

// Evaluates a kAlways/kCompare/kIn condition on `data` (a JSON object). A missing field, or a
// field of a type the operator cannot compare (a string with >, an object), is false.
// kChanged conditions are evaluated by the caller with FieldValueJson (they need history).
bool Evaluate(const Condition& condition, const cJSON* data);

// The field's value serialised as compact JSON, or "" when absent. For `changed` and templates.
std::string FieldValueJson(const cJSON* data, std::string_view path);

struct OutputAction {
  std::string role;
  Pattern pattern;
  int priority = 0;                              // higher wins; -1000..1000
  int64_t max_duration_us = 5 * 60 * 1000000LL;  // "for"; every pattern ends by itself
};

struct AlertAction {
  std::string severity = "warning";  // "info" | "warning" | "error" | "critical"
  std::string message;               // template: {field.path}, {topic}, {rule}
};

struct NotifyAction {
  std::vector<std::string> users;   // token subjects
  std::vector<std::string> scopes;  // topic patterns: everyone who may read them
  std::string type;     // "info" | "success" | "warning" | "error"; default from severity
  std::string title;    // template; default: the rule id
  std::string message;  // template; default: the alert's message
};

struct Rule {
  std::string id;     // [a-z0-9_-], 1..64, unique
  std::string topic;  // topic pattern
  Condition condition;
  int64_t for_us = 0;          // sustained: the condition held this long (0 = at once)
  int rate_count = 0;          // rate: this many matching events...
  int64_t rate_window_us = 0;  // ...within this window (0 = no rate)
  int64_t silent_us = 0;       // silent producer: no event for this long (0 = not silent)
  std::vector<OutputAction> outputs;
  AlertAction alert;
  std::optional<NotifyAction> notify;
};

// Parses the "rules" array. When `board` is given, every output role must be an output line of
// that board (a typo must fail at start-up, not when the alert fires). InvalidArgument naming the
// rule and member: `rules[2] (stalled).when.for: expected a duration such as "250ms" ...`.
Result<std::vector<Rule>> ParseRules(const cJSON* rules, const hal::BoardSpec* board = nullptr);

// Fills `tmpl`: "{a.b}" becomes the field's value (strings without quotes, other values as
// JSON), "{topic}" and "{rule}" the topic and rule id; an unknown field becomes "?". A "{" with
// no closing "}" is kept as is.
std::string RenderTemplate(std::string_view tmpl, const cJSON* data, std::string_view topic,
                           std::string_view rule);

}  // namespace edgewatch::app::alerts
