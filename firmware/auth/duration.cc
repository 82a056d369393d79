#include "edgewatch/fw/auth/duration.h"

namespace edgewatch::fw::auth {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  constexpr const char* kExpected = "invalid duration (expected e.g. 30d, 12h, 15m, 90s or 3600)";
  if (text.empty()) return InvalidArgument("duration is empty");
  int64_t unit = 1;
  std::string_view digits = text;
  if (!IsDigit(text.back())) {
    switch (text.back()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return InvalidArgument(kExpected);
    }
    digits.remove_suffix(1);
  }
  if (digits.empty()) return InvalidArgument(kExpected);
  int64_t value = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return InvalidArgument(kExpected);
    value = value * 10 + (c - '0');
    if (value > kMaxDurationSeconds) return InvalidArgument("duration longer than 100 years");
  }
  if (value > kMaxDurationSeconds / unit) return InvalidArgument("duration longer than 100 years");
  return value * unit;
}

}  // namespace edgewatch::fw::auth
