#include "edgewatch/app/alerts/rule.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>
#include <string>
#include <utility>

#include "edgewatch/app/schema.h"
#include "edgewatch/base/json.h"
#include "edgewatch/fw/topic.h"

namespace edgewatch::app::alerts {
namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool IsIdent(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// A tiny cursor over the expression text.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
      ++pos_;
    }
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }
  bool Consume(std::string_view token) {
    SkipSpace();
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  // A word made of identifier characters and dots.
  std::string_view Word() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() && (IsIdent(text_[pos_]) || text_[pos_] == '.')) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  Status Error(std::string_view what) const {
    return InvalidArgument(std::string(what) + " at position " + std::to_string(pos_ + 1) +
                           " of \"" + std::string(text_) + "\"");
  }

  Result<Literal> ParseLiteral() {
    SkipSpace();
    Literal lit;
    if (pos_ >= text_.size()) return Error("expected a value");
    char c = text_[pos_];
    if (c == '\'' || c == '"') {
      size_t end = text_.find(c, pos_ + 1);
      if (end == std::string_view::npos) return Error("unterminated string");
      lit.type = Literal::Type::kString;
      lit.text = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      return lit;
    }
    if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c)) != 0) {
      size_t start = pos_;
      if (c == '+') ++start;
      size_t end = pos_ + 1;
      while (end < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[end])) != 0 || text_[end] == '.' ||
              ((text_[end] == '-' || text_[end] == '+') &&
               (text_[end - 1] == 'e' || text_[end - 1] == 'E')))) {
        ++end;
      }
      std::string num(text_.substr(start, end - start));
      char* stop = nullptr;
      double v = std::strtod(num.c_str(), &stop);
      if (num.empty() || stop != num.c_str() + num.size() || !std::isfinite(v)) {
        return Error("bad number \"" + num + "\"");
      }
      lit.type = Literal::Type::kNumber;
      lit.number = v;
      pos_ = end;
      return lit;
    }
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < text_.size() && (IsIdent(text_[pos_]) || text_[pos_] == '-')) ++pos_;
      std::string_view w = text_.substr(start, pos_ - start);
      if (w == "true" || w == "false") {
        lit.type = Literal::Type::kBool;
        lit.boolean = w == "true";
      } else if (w == "null") {
        lit.type = Literal::Type::kNull;
      } else {
        lit.type = Literal::Type::kString;
        lit.text = std::string(w);
      }
      return lit;
    }
    return Error("expected a value");
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

bool ValidPath(std::string_view path) {
  if (path.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view seg = path.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (seg.empty() || !IsIdentStart(seg[0])) return false;
    for (char c : seg) {
      if (!IsIdent(c)) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool LiteralEquals(const Literal& lit, const cJSON* v) {
  switch (lit.type) {
    case Literal::Type::kNumber:
      return cJSON_IsNumber(v) && v->valuedouble == lit.number;
    case Literal::Type::kString:
      return cJSON_IsString(v) && v->valuestring != nullptr && lit.text == v->valuestring;
    case Literal::Type::kBool:
      return cJSON_IsBool(v) && (cJSON_IsTrue(v) != 0) == lit.boolean;
    case Literal::Type::kNull:
      return cJSON_IsNull(v);
  }
  return false;
}

// --- rule parsing -------------------------------------------------------------------------

class RuleParser {
 public:
  explicit RuleParser(std::string prefix) : prefix_(std::move(prefix)) {}

  Status Err(std::string_view member, std::string_view message) const {
    std::string where = member.empty() ? prefix_ : prefix_ + "." + std::string(member);
    return InvalidArgument(where + ": " + std::string(message));
  }
  // Unknown members are errors: a misspelt "for" must not silently mean "at once".
  Status OnlyKeys(const cJSON* obj, std::string_view where,
                  std::initializer_list<std::string_view> keys) const {
    for (const cJSON* c = obj->child; c != nullptr; c = c->next) {
      std::string_view k = c->string != nullptr ? c->string : "";
      bool known = false;
      for (std::string_view allowed : keys) known = known || k == allowed;
      if (!known) return Err(where, "unknown member \"" + std::string(k) + "\"");
    }
    return OkStatus();
  }
  Result<int64_t> Duration(const cJSON* obj, const char* key, std::string_view where) const {
    const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(item)) {
      return Err(std::string(where) + "." + key, "expected a duration string such as \"30s\"");
    }
    auto d = ParseDurationUs(item->valuestring);
    if (!d.ok()) return Err(std::string(where) + "." + key, d.status().message());
    if (*d <= 0) return Err(std::string(where) + "." + key, "must be greater than 0");
    return *d;
  }
  Result<std::vector<std::string>> Strings(const cJSON* obj, const char* key,
                                           std::string_view where) const {
    std::vector<std::string> out;
    const cJSON* arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (arr == nullptr) return out;
    if (!cJSON_IsArray(arr)) return Err(std::string(where) + "." + key, "expected an array");
    const cJSON* c;
    cJSON_ArrayForEach(c, arr) {
      if (!cJSON_IsString(c) || c->valuestring[0] == '\0') {
        return Err(std::string(where) + "." + key, "expected non-empty strings");
      }
      out.emplace_back(c->valuestring);
    }
    return out;
  }

 private:
  std::string prefix_;
};

bool ValidRuleId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ValidSeverity(std::string_view s) {
  return s == "info" || s == "warning" || s == "error" || s == "critical";
}
bool ValidNotificationType(std::string_view s) {
  return s == "info" || s == "success" || s == "warning" || s == "error";
}

Result<OutputAction> ParseOutput(const RuleParser& p, const cJSON* o, const std::string& where,
                                 const hal::BoardSpec* board) {
  if (!cJSON_IsObject(o)) return p.Err(where, "expected an object");
  EW_TRY(
      p.OnlyKeys(o, where, {"role", "pattern", "hz", "width", "gap", "count", "for", "priority"}));
  OutputAction out;
  auto role = GetString(o, "role");
  if (!role || role->empty()) return p.Err(where + ".role", "required (e.g. \"alert_led\")");
  out.role = std::string(*role);
  if (board != nullptr) {
    auto it = board->lines.find(out.role);
    if (it == board->lines.end()) {
      std::string roles;
      for (const auto& [name, line] : board->lines) {
        if (line.direction != hal::Direction::kOutput) continue;
        roles += (roles.empty() ? "" : ", ") + name;
      }
      return p.Err(where + ".role", "board " + board->name + " has no role \"" + out.role +
                                        "\" (outputs: " + roles + ")");
    }
    if (it->second.direction != hal::Direction::kOutput) {
      return p.Err(where + ".role", "\"" + out.role + "\" is an input on board " + board->name);
    }
  }
  auto pattern = ParsePattern(o);
  if (!pattern.ok()) return p.Err(where, pattern.status().message());
  out.pattern = *pattern;
  if (cJSON_GetObjectItemCaseSensitive(o, "for") != nullptr) {
    EW_ASSIGN_OR_RETURN(out.max_duration_us, p.Duration(o, "for", where));
  }
  if (cJSON_GetObjectItemCaseSensitive(o, "priority") != nullptr) {
    auto prio = GetInt(o, "priority");
    if (!prio || *prio < -1000 || *prio > 1000) {
      return p.Err(where + ".priority", "expected an integer from -1000 to 1000");
    }
    out.priority = static_cast<int>(*prio);
  }
  return out;
}

Result<Rule> ParseRule(const cJSON* r, size_t index, const hal::BoardSpec* board) {
  std::string prefix = "rules[" + std::to_string(index) + "]";
  if (!cJSON_IsObject(r)) return InvalidArgument(prefix + ": expected an object");
  Rule rule;
  auto id = GetString(r, "id");
  if (!id || !ValidRuleId(*id)) {
    return InvalidArgument(prefix + ".id: required, 1-64 characters of a-z 0-9 _ -");
  }
  rule.id = std::string(*id);
  RuleParser p(prefix + " (" + rule.id + ")");
  EW_TRY(p.OnlyKeys(r, "", {"id", "when", "then"}));

  // when
  const cJSON* when = cJSON_GetObjectItemCaseSensitive(r, "when");
  if (!cJSON_IsObject(when)) return p.Err("when", "required object");
  EW_TRY(p.OnlyKeys(when, "when", {"topic", "if", "for", "rate", "silent"}));
  auto topic = GetString(when, "topic");
  if (!topic) return p.Err("when.topic", "required topic pattern");
  if (Status s = fw::ValidatePattern(*topic); !s.ok()) return p.Err("when.topic", s.message());
  rule.topic = std::string(*topic);
  if (const cJSON* cond = cJSON_GetObjectItemCaseSensitive(when, "if")) {
    if (!cJSON_IsString(cond)) return p.Err("when.if", "expected a string");
    auto c = ParseCondition(cond->valuestring);
    if (!c.ok()) return p.Err("when.if", c.status().message());
    rule.condition = std::move(c).value();
  }
  if (cJSON_GetObjectItemCaseSensitive(when, "for") != nullptr) {
    EW_ASSIGN_OR_RETURN(rule.for_us, p.Duration(when, "for", "when"));
  }
  if (const cJSON* rate = cJSON_GetObjectItemCaseSensitive(when, "rate")) {
    if (!cJSON_IsObject(rate))
      return p.Err("when.rate", "expected {\"count\": N, \"window\": \"60s\"}");
    EW_TRY(p.OnlyKeys(rate, "when.rate", {"count", "window"}));
    auto count = GetInt(rate, "count");
    if (!count || *count < 1 || *count > 100000) {
      return p.Err("when.rate.count", "expected an integer from 1 to 100000");
    }
    rule.rate_count = static_cast<int>(*count);
    EW_ASSIGN_OR_RETURN(rule.rate_window_us, p.Duration(rate, "window", "when.rate"));
  }
  if (cJSON_GetObjectItemCaseSensitive(when, "silent") != nullptr) {
    EW_ASSIGN_OR_RETURN(rule.silent_us, p.Duration(when, "silent", "when"));
  }
  int triggers = (rule.for_us > 0) + (rule.rate_count > 0) + (rule.silent_us > 0);
  if (triggers > 1) return p.Err("when", "\"for\", \"rate\" and \"silent\" exclude each other");
  if (rule.silent_us > 0 && rule.condition.kind != Condition::Kind::kAlways) {
    return p.Err("when", "a \"silent\" rule has no \"if\"");
  }
  if (rule.condition.kind == Condition::Kind::kAlways && rule.silent_us == 0 &&
      rule.rate_count == 0) {
    return p.Err("when", "needs \"if\", \"rate\" or \"silent\"");
  }
  if (rule.condition.kind == Condition::Kind::kChanged && rule.for_us > 0) {
    return p.Err("when.for", "\"changed\" is momentary and cannot be sustained");
  }

  // then
  const cJSON* then = cJSON_GetObjectItemCaseSensitive(r, "then");
  if (!cJSON_IsObject(then)) return p.Err("then", "required object");
  EW_TRY(p.OnlyKeys(then, "then", {"output", "alert", "notify"}));
  if (const cJSON* out = cJSON_GetObjectItemCaseSensitive(then, "output")) {
    if (cJSON_IsArray(out)) {
      int i = 0;
      const cJSON* o;
      cJSON_ArrayForEach(o, out) {
        EW_ASSIGN_OR_RETURN(OutputAction a,
                            ParseOutput(p, o, "then.output[" + std::to_string(i++) + "]", board));
        rule.outputs.push_back(std::move(a));
      }
    } else {
      EW_ASSIGN_OR_RETURN(OutputAction a, ParseOutput(p, out, "then.output", board));
      rule.outputs.push_back(std::move(a));
    }
  }
  const cJSON* alert = cJSON_GetObjectItemCaseSensitive(then, "alert");
  if (alert != nullptr) {
    if (!cJSON_IsObject(alert)) return p.Err("then.alert", "expected an object");
    EW_TRY(p.OnlyKeys(alert, "then.alert", {"severity", "message"}));
    if (auto sev = GetString(alert, "severity")) {
      if (!ValidSeverity(*sev)) {
        return p.Err("then.alert.severity",
                     "expected \"info\", \"warning\", \"error\" or \"critical\"");
      }
      rule.alert.severity = std::string(*sev);
    }
    if (auto msg = GetString(alert, "message")) rule.alert.message = std::string(*msg);
  }
  if (rule.alert.message.empty()) {
    rule.alert.message = "Rule " + rule.id + " fired on {topic}";
  }
  if (const cJSON* n = cJSON_GetObjectItemCaseSensitive(then, "notify")) {
    if (!cJSON_IsObject(n)) return p.Err("then.notify", "expected an object");
    EW_TRY(p.OnlyKeys(n, "then.notify", {"users", "scopes", "type", "title", "message"}));
    NotifyAction na;
    EW_ASSIGN_OR_RETURN(na.users, p.Strings(n, "users", "then.notify"));
    EW_ASSIGN_OR_RETURN(na.scopes, p.Strings(n, "scopes", "then.notify"));
    for (const std::string& s : na.scopes) {
      if (Status v = fw::ValidatePattern(s); !v.ok()) {
        return p.Err("then.notify.scopes", s + ": " + v.message());
      }
    }
    for (const std::string& u : na.users) {
      if (Status v = fw::ValidateTopicName("notifications/" + u);
          !v.ok() || u.find('/') != std::string::npos) {
        return p.Err("then.notify.users", "\"" + u + "\" cannot be a topic segment");
      }
    }
    if (na.users.empty() && na.scopes.empty()) {
      return p.Err("then.notify", "needs \"users\" or \"scopes\"");
    }
    if (auto t = GetString(n, "type")) {
      if (!ValidNotificationType(*t)) {
        return p.Err("then.notify.type",
                     "expected \"info\", \"success\", \"warning\" or \"error\"");
      }
      na.type = std::string(*t);
    } else {
      const std::string& sev = rule.alert.severity;
      na.type = sev == "critical" || sev == "error" ? "error" : sev;
    }
    na.title = std::string(GetString(n, "title").value_or(rule.id));
    na.message = std::string(GetString(n, "message").value_or(""));
    rule.notify = std::move(na);
  }
  return rule;
}

}  // namespace

Result<Condition> ParseCondition(std::string_view text) {
  Condition c;
  c.text = std::string(text);
  Lexer lx(text);
  std::string_view path = lx.Word();
  if (!ValidPath(path)) return lx.Error("expected a field path such as frame_data.fps");
  c.field = std::string(path);
  if (lx.Consume(">=")) {
    c.op = Condition::Op::kGe;
  } else if (lx.Consume("<=")) {
    c.op = Condition::Op::kLe;
  } else if (lx.Consume("==")) {
    c.op = Condition::Op::kEq;
  } else if (lx.Consume("!=")) {
    c.op = Condition::Op::kNe;
  } else if (lx.Consume(">")) {
    c.op = Condition::Op::kGt;
  } else if (lx.Consume("<")) {
    c.op = Condition::Op::kLt;
  } else {
    std::string_view w = lx.Word();
    if (w == "changed") {
      c.kind = Condition::Kind::kChanged;
      if (!lx.AtEnd()) return lx.Error("unexpected text after \"changed\"");
      return c;
    }
    if (w != "in") return lx.Error("expected an operator (> >= < <= == !=), \"in\" or \"changed\"");
    if (!lx.Consume("[")) return lx.Error("expected '[' after \"in\"");
    c.kind = Condition::Kind::kIn;
    while (true) {
      EW_ASSIGN_OR_RETURN(Literal lit, lx.ParseLiteral());
      c.set.push_back(std::move(lit));
      if (lx.Consume(",")) continue;
      if (lx.Consume("]")) break;
      return lx.Error("expected ',' or ']'");
    }
    if (!lx.AtEnd()) return lx.Error("unexpected text after ']'");
    return c;
  }
  c.kind = Condition::Kind::kCompare;
  EW_ASSIGN_OR_RETURN(c.value, lx.ParseLiteral());
  bool ordering = c.op != Condition::Op::kEq && c.op != Condition::Op::kNe;
  if (ordering && c.value.type != Literal::Type::kNumber) {
    return lx.Error("> >= < <= compare numbers only");
  }
  if (!lx.AtEnd()) return lx.Error("unexpected text");
  return c;
}

bool Evaluate(const Condition& c, const cJSON* data) {
  if (c.kind == Condition::Kind::kAlways) return true;
  const cJSON* v = FindPath(data, c.field);
  if (v == nullptr) return false;
  switch (c.kind) {
    case Condition::Kind::kAlways:
    case Condition::Kind::kChanged:
      return c.kind == Condition::Kind::kAlways;
    case Condition::Kind::kIn:
      for (const Literal& lit : c.set) {
        if (LiteralEquals(lit, v)) return true;
      }
      return false;
    case Condition::Kind::kCompare:
      break;
  }
  switch (c.op) {
    case Condition::Op::kEq:
      return LiteralEquals(c.value, v);
    case Condition::Op::kNe:
      return !LiteralEquals(c.value, v);
    default:
      break;
  }
  if (!cJSON_IsNumber(v)) return false;
  const double x = v->valuedouble, y = c.value.number;
  switch (c.op) {
    case Condition::Op::kGt:
      return x > y;
    case Condition::Op::kGe:
      return x >= y;
    case Condition::Op::kLt:
      return x < y;
    case Condition::Op::kLe:
      return x <= y;
    default:
      return false;
  }
}

std::string FieldValueJson(const cJSON* data, std::string_view path) {
  const cJSON* v = FindPath(data, path);
  return v == nullptr ? std::string() : PrintJson(v);
}

Result<std::vector<Rule>> ParseRules(const cJSON* rules, const hal::BoardSpec* board) {
  if (!cJSON_IsArray(rules)) return InvalidArgument("rules: expected an array");
  std::vector<Rule> out;
  std::set<std::string> ids;
  size_t i = 0;
  const cJSON* r;
  cJSON_ArrayForEach(r, rules) {
    EW_ASSIGN_OR_RETURN(Rule rule, ParseRule(r, i, board));
    if (!ids.insert(rule.id).second) {
      return InvalidArgument("rules[" + std::to_string(i) + "].id: duplicate id \"" + rule.id +
                             "\"");
    }
    out.push_back(std::move(rule));
    ++i;
  }
  return out;
}

std::string RenderTemplate(std::string_view tmpl, const cJSON* data, std::string_view topic,
                           std::string_view rule) {
  std::string out;
  out.reserve(tmpl.size() + 32);
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    if (open == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    size_t close = tmpl.find('}', open + 1);
    if (close == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    out.append(tmpl.substr(i, open - i));
    std::string_view name = tmpl.substr(open + 1, close - open - 1);
    if (name == "topic") {
      out.append(topic);
    } else if (name == "rule") {
      out.append(rule);
    } else if (!ValidPath(name)) {
      out.append(tmpl.substr(open, close - open + 1));  // not a placeholder: keep it
    } else {
      const cJSON* v = data != nullptr ? FindPath(data, name) : nullptr;
      if (v == nullptr) {
        out.append("?");
      } else if (cJSON_IsString(v)) {
        out.append(v->valuestring);
      } else {
        out.append(PrintJson(v));
      }
    }
    i = close + 1;
  }
  return out;
}

}  // namespace edgewatch::app::alerts
