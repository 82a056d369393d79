#include "edgewatch/fw/auth/duration.h"

#include <gtest/gtest.h>

namespace edgewatch::fw::auth {
namespace {

TEST(DurationTest, ParsesUnits) {
  struct Case {
    const char* text;
    int64_t seconds;
  };
  const Case cases[] = {{"30d", 30 * 86400}, {"12h", 12 * 3600}, {"15m", 15 * 60}, {"90s", 90},
                        {"3600", 3600},      {"0", 0},           {"0d", 0},        {"007m", 420}};
  for (const Case& c : cases) {
    Result<int64_t> r = ParseDuration(c.text);
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().ToString();
    EXPECT_EQ(*r, c.seconds) << c.text;
  }
}

TEST(DurationTest, AcceptsUpToTheLimit) {
  Result<int64_t> r = ParseDuration("36500d");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, kMaxDurationSeconds);
}

TEST(DurationTest, RejectsEverythingElse) {
  for (const char* bad : {"", "d", "s", "-5", "+5", " 5", "5 ", "5x", "5D", "1.5h", "1h30m", "5ms",
                          "36501d", "99999999999999999999", "3153600001", "1e3"}) {
    Result<int64_t> r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace edgewatch::fw::auth
