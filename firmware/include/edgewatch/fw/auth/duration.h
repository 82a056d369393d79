// Durations written by people (CLI flags such as `edgewatch token --ttl 30d`). Pure; any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "edgewatch/base/status.h"

namespace edgewatch::fw::auth {

// The largest duration ParseDuration accepts: 100 years of 365 days, in seconds.
inline constexpr int64_t kMaxDurationSeconds = int64_t{100} * 365 * 24 * 3600;

// Parses a non-negative whole number of seconds, optionally followed by exactly one unit:
// "90s" (seconds), "15m" (minutes), "12h" (hours), "30d" (days); "3600" means seconds.
// Returns the duration in seconds, or InvalidArgument for anything else: empty, a sign,
// whitespace, a fraction, an unknown or upper-case unit, combined units ("1h30m"), or more than
// kMaxDurationSeconds. "0" and "0d" are valid (callers decide whether zero makes sense).
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace edgewatch::fw::auth
