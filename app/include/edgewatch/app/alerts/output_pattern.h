// Output patterns on GPIO roles (LED, buzzer, relay) and their arbitration between alerts.
//
// A pattern is steady, blink at a frequency, a single pulse or n pulses. Every request for a
// pattern names a role, a key (the alert id that asked for it), a priority and a maximum
// duration: several alerts may ask for the same role, and the request with the highest priority
// (the most recent among equals) drives the line; the others wait, and the best waiting one takes
// over (restarting its pattern from the beginning) when the driver finishes, expires or is
// stopped. With no request left the line goes inactive.
//
// Patterns run on Scheduler timers (lws timers in the daemon), never threads or sleeps.
// Threading: the event-loop thread only. The chip and scheduler must outlive the AlertOutputs.
#pragma once

#include <cjson/cJSON.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgewatch/app/alerts/scheduler.h"
#include "edgewatch/base/status.h"
#include "edgewatch/hal/chip.h"

namespace edgewatch::app::alerts {

struct Pattern {
  enum class Kind { kSteady, kBlink, kPulse, kPulses };
  Kind kind = Kind::kSteady;
  int64_t on_us = 0;   // blink: half period; pulse: width; pulses: each pulse's width
  int64_t off_us = 0;  // blink: half period; pulses: gap between pulses
  int count = 1;       // pulses: how many (>= 1)
};

// "steady", "blink", "pulse", "pulses".
std::string_view PatternKindName(Pattern::Kind kind);

// Parses the pattern members of an output object (see docs/hardware.md, "Rules"):
//   {"pattern": "steady"}
//   {"pattern": "blink", "hz": 2}                       50 % duty, 0.1..50 Hz
//   {"pattern": "pulse", "width": "500ms"}
//   {"pattern": "pulses", "count": 3, "width": "200ms", "gap": "300ms"}   count 1..1000
// Other members of `obj` are ignored (the caller owns them). InvalidArgument naming the member.
Result<Pattern> ParsePattern(const cJSON* obj);

// Parses "250ms", "30s", "5m", "2h" or a bare number of seconds into microseconds. Whole
// numbers only; 0 is allowed (callers decide). InvalidArgument otherwise.
Result<int64_t> ParseDurationUs(std::string_view text);
// The inverse for messages: "250ms", "30s", "5m", "2h" (largest exact unit).
std::string FormatDurationUs(int64_t us);

class AlertOutputs {
 public:
  AlertOutputs(hal::GpioChip& chip, Scheduler& scheduler);
  ~AlertOutputs();
  AlertOutputs(const AlertOutputs&) = delete;
  AlertOutputs& operator=(const AlertOutputs&) = delete;

  // Requests `pattern` on output `role` for `key`, with `priority` (higher wins), ending at the
  // latest `max_duration_us` (> 0) from now. A request with the same key on the same role is
  // replaced. Returns NotFound / FailedPrecondition from the chip when `role` is not an output
  // of the board, InvalidArgument for a non-positive duration or a malformed pattern.
  Status Start(std::string_view role, std::string_view key, int priority, const Pattern& pattern,
               int64_t max_duration_us);

  // Ends every request of `key` (on every role). Returns how many requests ended.
  int Stop(std::string_view key);
  // Ends every request; every line goes inactive.
  void StopAll();

  // The key whose pattern drives `role` now, or nullopt.
  std::optional<std::string> Driver(std::string_view role) const;
  // Number of live requests (driving or waiting) on every role.
  size_t request_count() const;
  // Set() calls that the backend refused (each is logged by the HAL on error transitions).
  uint64_t set_failures() const { return set_failures_; }

  // Called (loop thread) when a request ends by itself: its finite pattern completed or its
  // maximum duration passed. Not called for Stop()/StopAll().
  std::function<void(const std::string& key, const std::string& role, bool expired)> on_ended;

 private:
  struct Request {
    std::string key;
    int priority = 0;
    uint64_t order = 0;  // start order: the most recent wins among equal priorities
    Pattern pattern;
    TimerId expiry = 0;
  };
  struct Role {
    std::string name;
    hal::DigitalOut* out = nullptr;
    std::vector<Request> requests;
    std::string driver;      // key of the request driving the line; empty when none
    int step = 0;            // position within the driver's pattern
    TimerId step_timer = 0;  // next pattern step
  };

  Role* FindRole(std::string_view role);
  void Resolve(Role& r);
  void RunStep(Role& r);
  void Drive(Role& r, hal::Level level);
  void EndRequest(Role& r, const std::string& key, bool expired);

  hal::GpioChip& chip_;
  Scheduler& scheduler_;
  std::map<std::string, Role, std::less<>> roles_;
  uint64_t next_order_ = 0;
  uint64_t set_failures_ = 0;
};

}  // namespace edgewatch::app::alerts
