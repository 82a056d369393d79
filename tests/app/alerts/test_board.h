// Shared by the alerts tests: an in-memory board with the four standard roles plus a second LED,
// and a SimChip whose clock is a FakeScheduler's, so recorded GPIO history carries scheduler time.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "edgewatch/app/alerts/scheduler.h"
#include "edgewatch/hal/board.h"
#include "edgewatch/hal/sim_chip.h"

namespace edgewatch::app::alerts::testing {

inline hal::BoardSpec TestBoard() {
  auto board = hal::ParseBoard(R"({
    "name": "test", "gpio": {"backend": "sim"},
    "lines": {
      "alert_led":  {"offset": 0, "direction": "out"},
      "buzzer":     {"offset": 1, "direction": "out"},
      "relay":      {"offset": 2, "direction": "out", "active": "low"},
      "ack_button": {"offset": 3, "direction": "in", "active": "low", "bias": "pull-up",
                     "edge": "falling", "debounce_ms": 20}
    },
    "budget": {"memory_mb": 16, "max_connections": 10}})");
  EXPECT_TRUE(board.ok()) << board.status().ToString();
  return board.ok() ? *board : hal::BoardSpec();
}

inline std::unique_ptr<hal::SimChip> OpenSimChip(const FakeScheduler& sched) {
  hal::SimChip::Options o;
  o.clock_ns = [&sched] { return sched.NowUs() * 1000; };
  auto chip = hal::SimChip::Open(TestBoard(), o);
  EXPECT_TRUE(chip.ok()) << chip.status().ToString();
  return chip.ok() ? std::move(chip).value() : nullptr;
}

// (level, time in ms since `origin_us`) pairs of a role's recorded history.
inline std::vector<std::pair<hal::Level, int64_t>> Timeline(const hal::SimChip& chip,
                                                            std::string_view role,
                                                            int64_t origin_us) {
  std::vector<std::pair<hal::Level, int64_t>> out;
  for (const hal::SimSet& s : chip.TimedHistory(role)) {
    out.emplace_back(s.level, (s.timestamp_ns / 1000 - origin_us) / 1000);
  }
  return out;
}

}  // namespace edgewatch::app::alerts::testing
