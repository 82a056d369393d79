// Logical line levels. Polarity (active-high/low) is applied by the backend from the board file,
// so application code only ever speaks of "active" (LED lit, buzzer sounding, button pressed).
#pragma once

#include <cstdint>
#include <string_view>

namespace edgewatch::hal {

enum class Level : uint8_t {
  kInactive = 0,
  kActive = 1,
};

// "active" or "inactive" (stable: used in JSON state dumps and logs).
constexpr std::string_view LevelName(Level level) {
  return level == Level::kActive ? "active" : "inactive";
}

constexpr Level Invert(Level level) {
  return level == Level::kActive ? Level::kInactive : Level::kActive;
}

}  // namespace edgewatch::hal
