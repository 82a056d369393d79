#include "edgewatch/app/forecast/season.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace edgewatch::app::forecast {
namespace {

// Deterministic standard normal noise (splitmix64 + Box–Muller), independent of the C++ library.
class Noise {
 public:
  explicit Noise(uint64_t seed) : s_(seed) {}
  double Next() {
    double u1 = (static_cast<double>(Bits() >> 11) + 0.5) / 9007199254740992.0;
    double u2 = (static_cast<double>(Bits() >> 11) + 0.5) / 9007199254740992.0;
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }

 private:
  uint64_t Bits() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t s_;
};

std::vector<double> Seasonal(int n, int period, double amplitude, double noise, double slope,
                             uint64_t seed) {
  Noise rng(seed);
  std::vector<double> y(static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) {
    y[static_cast<size_t>(t)] =
        50 + slope * t + amplitude * std::sin(2 * M_PI * t / period) + noise * rng.Next();
  }
  return y;
}

TEST(SeasonTest, FindsThePeriodOfACleanCycle) {
  EXPECT_EQ(DetectSeason(Seasonal(240, 12, 3, 0, 0, 1)), 12);
  EXPECT_EQ(DetectSeason(Seasonal(200, 7, 3, 0, 0, 1)), 7);
}

TEST(SeasonTest, FindsThePeriodThroughNoiseAndTrend) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    EXPECT_EQ(DetectSeason(Seasonal(512, 24, 3, 1, 0.05, seed)), 24) << seed;
    EXPECT_EQ(DetectSeason(Seasonal(240, 12, 2, 1, -0.2, seed)), 12) << seed;
  }
}

TEST(SeasonTest, FindsANonSinusoidalPattern) {
  const double pattern[] = {0, 0, 5, 9, 5, 0, 0, 0, -2};  // a weekday-like spike, period 9
  std::vector<double> y;
  Noise rng(3);
  for (int t = 0; t < 180; ++t) y.push_back(pattern[t % 9] + 0.5 * rng.Next());
  EXPECT_EQ(DetectSeason(y), 9);
}

TEST(SeasonTest, ReportsNoSeasonForNoiseWalksAndAutocorrelatedNoise) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Noise rng(seed);
    std::vector<double> white, walk, ar1;
    double w = 0, a = 0;
    for (int t = 0; t < 512; ++t) {
      white.push_back(rng.Next());
      w += rng.Next();
      walk.push_back(w);
      a = 0.9 * a + rng.Next();
      ar1.push_back(a);
    }
    EXPECT_EQ(DetectSeason(white), 0) << seed;
    EXPECT_EQ(DetectSeason(walk), 0) << seed;
    EXPECT_EQ(DetectSeason(ar1), 0) << seed;
  }
}

TEST(SeasonTest, NeedsFourCyclesInTheWindow) {
  // A period of 48 in 150 points: fewer than four cycles, so not reported.
  EXPECT_EQ(DetectSeason(Seasonal(150, 48, 3, 0, 0, 1)), 0);
  EXPECT_EQ(DetectSeason(Seasonal(300, 48, 3, 0, 0, 1)), 48);
  SeasonDetectOptions o;
  o.max_period = 10;
  EXPECT_EQ(DetectSeason(Seasonal(240, 12, 3, 0, 0, 1), o), 0);
}

TEST(SeasonTest, DegenerateInputs) {
  EXPECT_EQ(DetectSeason(std::vector<double>{}), 0);
  EXPECT_EQ(DetectSeason(std::vector<double>{1, 2, 3}), 0);
  EXPECT_EQ(DetectSeason(std::vector<double>(100, 4.0)), 0);  // constant
  std::vector<double> line;
  for (int t = 0; t < 100; ++t) line.push_back(2.0 * t);
  EXPECT_EQ(DetectSeason(line), 0);  // a straight line detrends to zero
}

}  // namespace
}  // namespace edgewatch::app::forecast
