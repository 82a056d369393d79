#include "edgewatch/app/alerts/output_pattern.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "edgewatch/base/json.h"
#include "edgewatch/base/log.h"

namespace edgewatch::app::alerts {
namespace {

constexpr int64_t kMsUs = 1000;
constexpr int64_t kSecUs = 1000 * kMsUs;
// Longest accepted duration: 30 days (outputs and rule windows are far shorter in practice).
constexpr int64_t kMaxDurationUs = int64_t{30} * 24 * 3600 * kSecUs;

Result<int64_t> DurationMember(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (item == nullptr) return NotFound(std::string("\"") + key + "\" is required");
  if (!cJSON_IsString(item)) {
    return InvalidArgument(std::string("\"") + key +
                           "\" must be a duration string such as \"500ms\"");
  }
  auto d = ParseDurationUs(item->valuestring);
  if (!d.ok()) return InvalidArgument(std::string("\"") + key + "\": " + d.status().message());
  if (*d <= 0) return InvalidArgument(std::string("\"") + key + "\" must be greater than 0");
  return *d;
}

}  // namespace

std::string_view PatternKindName(Pattern::Kind kind) {
  switch (kind) {
    case Pattern::Kind::kSteady:
      return "steady";
    case Pattern::Kind::kBlink:
      return "blink";
    case Pattern::Kind::kPulse:
      return "pulse";
    case Pattern::Kind::kPulses:
      return "pulses";
  }
  return "steady";
}

Result<int64_t> ParseDurationUs(std::string_view text) {
  std::string_view digits = text;
  int64_t unit = kSecUs;
  auto ends_with = [&](std::string_view suffix) {
    return digits.size() > suffix.size() && digits.substr(digits.size() - suffix.size()) == suffix;
  };
  if (ends_with("ms")) {
    unit = kMsUs;
    digits.remove_suffix(2);
  } else if (ends_with("s")) {
    digits.remove_suffix(1);
  } else if (ends_with("m")) {
    unit = 60 * kSecUs;
    digits.remove_suffix(1);
  } else if (ends_with("h")) {
    unit = 3600 * kSecUs;
    digits.remove_suffix(1);
  }
  int64_t n = 0;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size() || n < 0 ||
      n > kMaxDurationUs / unit) {
    return InvalidArgument(
        "expected a duration such as \"250ms\", \"30s\", \"5m\" or \"2h\" (at most 30 days), got "
        "\"" +
        std::string(text) + "\"");
  }
  return n * unit;
}

std::string FormatDurationUs(int64_t us) {
  if (us % (3600 * kSecUs) == 0 && us != 0) return std::to_string(us / (3600 * kSecUs)) + "h";
  if (us % (60 * kSecUs) == 0 && us != 0) return std::to_string(us / (60 * kSecUs)) + "m";
  if (us % kSecUs == 0) return std::to_string(us / kSecUs) + "s";
  if (us % kMsUs == 0) return std::to_string(us / kMsUs) + "ms";
  return std::to_string(us) + "us";
}

Result<Pattern> ParsePattern(const cJSON* obj) {
  Pattern p;
  auto name = GetString(obj, "pattern");
  if (!name) {
    return InvalidArgument(
        "\"pattern\" is required: \"steady\", \"blink\", \"pulse\" or \"pulses\"");
  }
  if (*name == "steady") {
    p.kind = Pattern::Kind::kSteady;
  } else if (*name == "blink") {
    p.kind = Pattern::Kind::kBlink;
    auto hz = GetNumber(obj, "hz");
    if (!hz || !std::isfinite(*hz) || *hz < 0.1 || *hz > 50) {
      return InvalidArgument("blink: \"hz\" must be a number from 0.1 to 50");
    }
    int64_t period = static_cast<int64_t>(std::llround(static_cast<double>(kSecUs) / *hz));
    p.on_us = period / 2;
    p.off_us = period - p.on_us;
  } else if (*name == "pulse") {
    p.kind = Pattern::Kind::kPulse;
    EW_ASSIGN_OR_RETURN(p.on_us, DurationMember(obj, "width"));
  } else if (*name == "pulses") {
    p.kind = Pattern::Kind::kPulses;
    auto count = GetInt(obj, "count");
    if (!count || *count < 1 || *count > 1000) {
      return InvalidArgument("pulses: \"count\" must be an integer from 1 to 1000");
    }
    p.count = static_cast<int>(*count);
    EW_ASSIGN_OR_RETURN(p.on_us, DurationMember(obj, "width"));
    EW_ASSIGN_OR_RETURN(p.off_us, DurationMember(obj, "gap"));
  } else {
    return InvalidArgument(
        "\"pattern\" must be \"steady\", \"blink\", \"pulse\" or \"pulses\", got \"" +
        std::string(*name) + "\"");
  }
  return p;
}

AlertOutputs::AlertOutputs(hal::GpioChip& chip, Scheduler& scheduler)
    : chip_(chip), scheduler_(scheduler) {}

AlertOutputs::~AlertOutputs() {
  for (auto& [name, r] : roles_) {
    scheduler_.Cancel(r.step_timer);
    for (Request& q : r.requests) scheduler_.Cancel(q.expiry);
  }
}

AlertOutputs::Role* AlertOutputs::FindRole(std::string_view role) {
  auto it = roles_.find(role);
  return it == roles_.end() ? nullptr : &it->second;
}

Status AlertOutputs::Start(std::string_view role, std::string_view key, int priority,
                           const Pattern& pattern, int64_t max_duration_us) {
  if (max_duration_us <= 0) return InvalidArgument("the maximum duration must be positive");
  bool timed = pattern.kind != Pattern::Kind::kSteady;
  if ((timed && pattern.on_us <= 0) ||
      ((pattern.kind == Pattern::Kind::kBlink || pattern.kind == Pattern::Kind::kPulses) &&
       pattern.off_us <= 0) ||
      pattern.count < 1) {
    return InvalidArgument("malformed pattern");
  }
  Role* r = FindRole(role);
  if (r == nullptr) {
    EW_ASSIGN_OR_RETURN(hal::DigitalOut * out, chip_.Output(role));
    Role fresh;
    fresh.name = std::string(role);
    fresh.out = out;
    r = &roles_.emplace(fresh.name, std::move(fresh)).first->second;
  }
  // Replace an earlier request of the same key on this role.
  for (auto it = r->requests.begin(); it != r->requests.end(); ++it) {
    if (it->key != key) continue;
    scheduler_.Cancel(it->expiry);
    if (r->driver == key) r->driver.clear();
    r->requests.erase(it);
    break;
  }
  Request q;
  q.key = std::string(key);
  q.priority = priority;
  q.order = ++next_order_;
  q.pattern = pattern;
  std::string role_name = r->name;
  std::string key_copy = q.key;
  q.expiry = scheduler_.After(max_duration_us, [this, role_name, key_copy] {
    Role* rr = FindRole(role_name);
    if (rr == nullptr) return;
    for (Request& req : rr->requests) {
      if (req.key == key_copy) req.expiry = 0;  // this timer has fired
    }
    EndRequest(*rr, key_copy, /*expired=*/true);
  });
  r->requests.push_back(std::move(q));
  Resolve(*r);
  return OkStatus();
}

int AlertOutputs::Stop(std::string_view key) {
  int stopped = 0;
  for (auto& [name, r] : roles_) {
    auto it = std::find_if(r.requests.begin(), r.requests.end(),
                           [&](const Request& q) { return q.key == key; });
    if (it == r.requests.end()) continue;
    scheduler_.Cancel(it->expiry);
    if (r.driver == key) r.driver.clear();
    r.requests.erase(it);
    ++stopped;
    Resolve(r);
  }
  return stopped;
}

void AlertOutputs::StopAll() {
  for (auto& [name, r] : roles_) {
    for (Request& q : r.requests) scheduler_.Cancel(q.expiry);
    r.requests.clear();
    r.driver.clear();
    Resolve(r);
  }
}

std::optional<std::string> AlertOutputs::Driver(std::string_view role) const {
  auto it = roles_.find(role);
  if (it == roles_.end() || it->second.driver.empty()) return std::nullopt;
  return it->second.driver;
}

size_t AlertOutputs::request_count() const {
  size_t n = 0;
  for (const auto& [name, r] : roles_) n += r.requests.size();
  return n;
}

void AlertOutputs::EndRequest(Role& r, const std::string& key, bool expired) {
  auto it = std::find_if(r.requests.begin(), r.requests.end(),
                         [&](const Request& q) { return q.key == key; });
  if (it == r.requests.end()) return;
  scheduler_.Cancel(it->expiry);
  if (r.driver == key) r.driver.clear();
  r.requests.erase(it);
  Resolve(r);
  if (on_ended) {
    std::string role = r.name;
    std::string k = key;
    on_ended(k, role, expired);
  }
}

void AlertOutputs::Resolve(Role& r) {
  const Request* best = nullptr;
  for (const Request& q : r.requests) {
    if (best == nullptr || q.priority > best->priority ||
        (q.priority == best->priority && q.order > best->order)) {
      best = &q;
    }
  }
  if (best != nullptr && best->key == r.driver) return;  // unchanged: keep its phase
  scheduler_.Cancel(r.step_timer);
  r.step_timer = 0;
  r.step = 0;
  if (best == nullptr) {
    r.driver.clear();
    Drive(r, hal::Level::kInactive);
    return;
  }
  r.driver = best->key;
  RunStep(r);
}

// Applies step `r.step` of the driver's pattern and schedules the next one. Even steps are "on"
// (active), odd steps "off".
void AlertOutputs::RunStep(Role& r) {
  auto it = std::find_if(r.requests.begin(), r.requests.end(),
                         [&](const Request& q) { return q.key == r.driver; });
  if (it == r.requests.end()) return;
  const Pattern& p = it->pattern;
  const bool on = r.step % 2 == 0;
  Drive(r, on ? hal::Level::kActive : hal::Level::kInactive);
  int64_t next_us = 0;
  switch (p.kind) {
    case Pattern::Kind::kSteady:
      return;
    case Pattern::Kind::kBlink:
      next_us = on ? p.on_us : p.off_us;
      break;
    case Pattern::Kind::kPulse:
    case Pattern::Kind::kPulses: {
      const int pulses = p.kind == Pattern::Kind::kPulse ? 1 : p.count;
      if (!on && r.step / 2 + 1 >= pulses) {
        // The last pulse has ended: the pattern is complete.
        std::string key = r.driver;
        EndRequest(r, key, /*expired=*/false);
        return;
      }
      next_us = on ? p.on_us : p.off_us;
      break;
    }
  }
  std::string role_name = r.name;
  r.step_timer = scheduler_.After(next_us, [this, role_name] {
    Role* rr = FindRole(role_name);
    if (rr == nullptr) return;
    rr->step_timer = 0;
    // Blink alternates forever; the bound keeps the counter small (pulses use < 2000 steps).
    rr->step = (rr->step + 1) % 2000000;
    RunStep(*rr);
  });
}

void AlertOutputs::Drive(Role& r, hal::Level level) {
  if (r.out->level() == level) return;
  Status s = r.out->Set(level);
  if (!s.ok()) ++set_failures_;
}

}  // namespace edgewatch::app::alerts
