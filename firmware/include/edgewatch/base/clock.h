// Time sources. Any thread.
#pragma once

#include <cstdint>

namespace edgewatch {

// Wall-clock time in Unix milliseconds (event timestamps on the wire).
int64_t UnixMillis();
// Monotonic microseconds (intervals, timeouts, rates); never goes backwards.
int64_t MonotonicMicros();

}  // namespace edgewatch
