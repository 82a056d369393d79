#include "edgewatch/app/forecast/nelder_mead.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <vector>

namespace edgewatch::app::forecast {
namespace {

using Fn = std::function<double(std::span<const double>)>;

NelderMeadResult Minimize(const Fn& f, std::vector<double> x0, std::vector<double> lo,
                          std::vector<double> hi, NelderMeadOptions o = {}) {
  return MinimizeNelderMead(f, x0, lo, hi, o);
}

TEST(NelderMeadTest, FindsAnInteriorMinimum) {
  Fn bowl = [](std::span<const double> x) {
    return (x[0] - 0.3) * (x[0] - 0.3) + 10 * (x[1] - 0.7) * (x[1] - 0.7);
  };
  NelderMeadResult r = Minimize(bowl, {0.9, 0.1}, {0, 0}, {1, 1});
  EXPECT_TRUE(r.converged);
  EXPECT_NEAR(r.x[0], 0.3, 1e-5);
  EXPECT_NEAR(r.x[1], 0.7, 1e-5);
  EXPECT_LT(r.f, 1e-9);
}

TEST(NelderMeadTest, StopsOnTheBoundWhenTheMinimumIsOutside) {
  // Unconstrained minimum at (2, -1); the box is [0,1]^2, so the answer is the corner (1, 0).
  Fn f = [](std::span<const double> x) {
    return (x[0] - 2) * (x[0] - 2) + (x[1] + 1) * (x[1] + 1);
  };
  NelderMeadResult r = Minimize(f, {0.5, 0.5}, {0, 0}, {1, 1});
  EXPECT_NEAR(r.x[0], 1.0, 1e-6);
  EXPECT_NEAR(r.x[1], 0.0, 1e-6);
  for (double v : r.x) {
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 1.0);
  }
}

TEST(NelderMeadTest, SolvesRosenbrockInABox) {
  Fn rosen = [](std::span<const double> x) {
    return 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1 - x[0]) * (1 - x[0]);
  };
  NelderMeadOptions o;
  o.max_evals = 5000;
  NelderMeadResult r = Minimize(rosen, {-1.2, 1.0}, {-2, -2}, {2, 2}, o);
  EXPECT_NEAR(r.x[0], 1.0, 1e-4);
  EXPECT_NEAR(r.x[1], 1.0, 2e-4);
}

TEST(NelderMeadTest, KeepsFixedCoordinatesAndClampsTheStart) {
  Fn f = [](std::span<const double> x) { return (x[0] - 0.25) * (x[0] - 0.25) + x[1] + x[2]; };
  // x[1] is fixed (lo == hi); x[2]'s start lies outside its box and is clamped to 3.
  NelderMeadResult r = Minimize(f, {0.0, 5.0, 10.0}, {0, 5, 0}, {1, 5, 3});
  EXPECT_NEAR(r.x[0], 0.25, 1e-5);
  EXPECT_EQ(r.x[1], 5.0);
  EXPECT_NEAR(r.x[2], 0.0, 1e-6);
}

TEST(NelderMeadTest, TreatsNanAsInfeasible) {
  Fn f = [](std::span<const double> x) {
    return x[0] < 0.5 ? std::nan("") : (x[0] - 0.6) * (x[0] - 0.6);
  };
  NelderMeadResult r = Minimize(f, {0.9}, {0}, {1});
  EXPECT_NEAR(r.x[0], 0.6, 1e-5);
}

TEST(NelderMeadTest, StopsWhenCancelled) {
  std::atomic<bool> cancel{false};
  int calls = 0;
  Fn f = [&](std::span<const double> x) {
    if (++calls == 10) cancel.store(true);
    return x[0] * x[0];
  };
  NelderMeadOptions o;
  o.cancel = &cancel;
  NelderMeadResult r = Minimize(f, {0.8}, {-1}, {1}, o);
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(calls, 10);  // no evaluation after the flag was seen
}

TEST(NelderMeadTest, IsDeterministic) {
  Fn f = [](std::span<const double> x) {
    return std::sin(3 * x[0]) + std::cos(2 * x[1]) + 0.1 * x[0] * x[1];
  };
  NelderMeadResult a = Minimize(f, {0.4, 0.4}, {-1, -1}, {2, 2});
  NelderMeadResult b = Minimize(f, {0.4, 0.4}, {-1, -1}, {2, 2});
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.f, b.f);
  EXPECT_EQ(a.evals, b.evals);
}

}  // namespace
}  // namespace edgewatch::app::forecast
