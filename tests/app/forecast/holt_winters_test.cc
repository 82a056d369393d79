// Known answers for the forecaster: series whose forecasts are known exactly (constant, straight
// line, pure season), the variance formula by hand, parameter recovery on simulated data, and the
// contract (errors, cancellation, determinism).
#include "edgewatch/app/forecast/holt_winters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <vector>

#include "edgewatch/app/forecast/forecaster.h"

namespace edgewatch::app::forecast {
namespace {

class Noise {  // deterministic N(0,1): splitmix64 + Box–Muller
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

constexpr double kPattern[12] = {1, 3, 7, 4, 2, 0, -1, 2, 5, 6, 3, 1};  // sums to 33

HwFit MustFit(const std::vector<double>& y, const HwOptions& o) {
  auto r = FitHoltWinters(y, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : HwFit{};
}

TEST(HoltWintersTest, ConstantSeriesForecastsTheConstantWithZeroWidth) {
  std::vector<double> y(50, 5.25);
  HwFit fit = MustFit(y, {});
  HwForecast f = ForecastHoltWinters(fit, 10);
  ASSERT_EQ(f.mean.size(), 10u);
  for (size_t h = 0; h < 10; ++h) {
    EXPECT_EQ(f.mean[h], 5.25);
    EXPECT_EQ(f.sd[h], 0.0);
  }
  EXPECT_EQ(fit.sse, 0.0);
  EXPECT_EQ(fit.mae, 0.0);
}

TEST(HoltWintersTest, StraightLineIsExtrapolatedExactlyWithoutDamping) {
  std::vector<double> y;
  for (int t = 0; t < 60; ++t) y.push_back(3 + 0.5 * t);
  HwOptions o;
  o.phi_min = 1;  // undamped (φ = 1): Holt's linear method reproduces a line exactly
  o.phi_max = 1;
  HwFit fit = MustFit(y, o);
  HwForecast f = ForecastHoltWinters(fit, 12);
  for (int h = 1; h <= 12; ++h) {
    EXPECT_NEAR(f.mean[static_cast<size_t>(h - 1)], 3 + 0.5 * (59 + h), 1e-6) << h;
  }
  EXPECT_LT(fit.mae, 1e-6);
}

TEST(HoltWintersTest, StraightLineWithDampingFollowsTheDampedTrend) {
  // With φ <= 0.995 a line cannot be fitted exactly: the SSE optimum is α = β = 1 at φ's upper
  // bound (steady one-step error slope·(1 − φ)), and the forecast is y(n) + slope·(φ + … + φ^h).
  std::vector<double> y;
  for (int t = 0; t < 80; ++t) y.push_back(10 - 2.0 * t);
  HwFit fit = MustFit(y, {});
  EXPECT_NEAR(fit.params.phi, 0.995, 1e-3);
  EXPECT_GT(fit.params.alpha, 0.95);
  HwForecast f = ForecastHoltWinters(fit, 20);
  double phi_sum = 0, phi_pow = 1;
  for (int h = 1; h <= 20; ++h) {
    phi_pow *= fit.params.phi;
    phi_sum += phi_pow;
    const double expected = y.back() - 2.0 * phi_sum;
    EXPECT_NEAR(f.mean[static_cast<size_t>(h - 1)], expected, 0.02 * h) << h;
  }
}

TEST(HoltWintersTest, PureSeasonIsRepeated) {
  std::vector<double> y;
  for (int t = 0; t < 96; ++t) y.push_back(kPattern[t % 12]);
  HwOptions o;
  o.season = 12;
  HwFit fit = MustFit(y, o);
  EXPECT_EQ(fit.season, 12);
  HwForecast f = ForecastHoltWinters(fit, 30);
  for (int h = 1; h <= 30; ++h) {
    EXPECT_NEAR(f.mean[static_cast<size_t>(h - 1)], kPattern[(96 + h - 1) % 12], 1e-6) << h;
  }
  EXPECT_LT(std::sqrt(fit.sigma2), 1e-6);
}

TEST(HoltWintersTest, SeasonOnALineIsExtrapolatedExactlyWithoutDamping) {
  std::vector<double> y;
  for (int t = 0; t < 84; ++t) y.push_back(100 + 0.3 * t + kPattern[t % 12]);
  HwOptions o;
  o.season = 12;
  o.phi_min = 1;
  o.phi_max = 1;
  HwFit fit = MustFit(y, o);
  HwForecast f = ForecastHoltWinters(fit, 24);
  for (int h = 1; h <= 24; ++h) {
    const int t = 84 + h - 1;
    EXPECT_NEAR(f.mean[static_cast<size_t>(h - 1)], 100 + 0.3 * t + kPattern[t % 12], 1e-5) << h;
  }
}

TEST(HoltWintersTest, VarianceFactorsMatchTheClosedForm) {
  // c_j = α + αβ(φ + … + φ^j) + γ[j mod m = 0];  v(h)/σ² = 1 + Σ_{j<h} c_j².
  HwParams p{0.5, 0.2, 0.1, 0.9};
  std::vector<double> v = VarianceFactors(p, 2, 4);
  const double c1 = 0.5 + 0.1 * 0.9;
  const double c2 = 0.5 + 0.1 * (0.9 + 0.81) + 0.1;
  const double c3 = 0.5 + 0.1 * (0.9 + 0.81 + 0.729);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_DOUBLE_EQ(v[0], 1.0);
  EXPECT_DOUBLE_EQ(v[1], 1 + c1 * c1);
  EXPECT_DOUBLE_EQ(v[2], 1 + c1 * c1 + c2 * c2);
  EXPECT_DOUBLE_EQ(v[3], 1 + c1 * c1 + c2 * c2 + c3 * c3);
  // Simple exponential smoothing (β = γ = 0): the textbook 1 + (h − 1)α².
  std::vector<double> ses = VarianceFactors(HwParams{0.3, 0, 0, 0.9}, 0, 5);
  for (int h = 1; h <= 5; ++h)
    EXPECT_NEAR(ses[static_cast<size_t>(h - 1)], 1 + (h - 1) * 0.09, 1e-12);
}

TEST(HoltWintersTest, IntervalsWidenWithTheHorizon) {
  Noise rng(11);
  std::vector<double> y;
  double level = 20;
  for (int t = 0; t < 200; ++t) {
    level += 0.3 * rng.Next();
    y.push_back(level + rng.Next() + 2 * std::sin(2 * M_PI * t / 12));
  }
  ForecastRequest req;
  req.y = y;
  req.horizon = 36;
  req.season = 12;
  auto r = RunForecast(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  double prev95 = 0, prev80 = 0;
  for (size_t h = 0; h < 36; ++h) {
    const double w95 = r->upper[h] - r->lower[h];
    const double w80 = r->upper80[h] - r->lower80[h];
    EXPECT_GE(w95, prev95) << h;
    EXPECT_GE(w80, prev80) << h;
    EXPECT_GT(w95, w80) << h;
    EXPECT_NEAR(r->points[h], (r->upper[h] + r->lower[h]) / 2, 1e-9);
    // Same σ·√v(h), different quantiles: the width ratio is z95 / z80.
    EXPECT_NEAR(w95 / w80, 1.959963984540054 / 1.2815515655446004, 1e-9);
    prev95 = w95;
    prev80 = w80;
  }
  EXPECT_GT(r->upper[35] - r->lower[35], r->upper[0] - r->lower[0]);
}

TEST(HoltWintersTest, RecoversTheParametersOfSimulatedData) {
  // ETS(A,Ad,N) with α = 0.3, β = 0.2 (statsmodels form), φ = 0.9, σ = 1.
  const HwParams truth{0.3, 0.2, 0, 0.9};
  Noise rng(7);
  std::vector<double> y;
  double l = 50, b = 1;
  for (int t = 0; t < 3000; ++t) {
    const double e = rng.Next();
    y.push_back(l + truth.phi * b + e);
    const double pb = truth.phi * b;
    l = l + pb + truth.alpha * e;
    b = pb + truth.alpha * truth.beta * e;
  }
  HwFit fit = MustFit(y, {});
  EXPECT_NEAR(fit.params.alpha, 0.3, 0.05);
  EXPECT_NEAR(std::sqrt(fit.sigma2), 1.0, 0.05);
  // One-step residuals of a well-specified model are the innovations: MAE ≈ σ·√(2/π).
  EXPECT_NEAR(fit.mae, std::sqrt(2 / M_PI), 0.05);
}

TEST(HoltWintersTest, ResidualsAreTheRecursionFromTheFittedInitialState) {
  Noise rng(5);
  std::vector<double> y;
  for (int t = 0; t < 120; ++t) y.push_back(10 + 0.1 * t + kPattern[t % 12] + rng.Next());
  HwOptions o;
  o.season = 12;
  HwFit fit = MustFit(y, o);
  std::vector<double> e = OneStepErrors(y, fit.params, fit.season, fit.initial_level,
                                        fit.initial_trend, fit.initial_seasonal);
  ASSERT_EQ(e.size(), fit.residuals.size());
  double sse = 0;
  for (size_t t = 0; t < e.size(); ++t) {
    EXPECT_NEAR(e[t], fit.residuals[t], 1e-9);
    sse += e[t] * e[t];
  }
  EXPECT_NEAR(sse, fit.sse, 1e-9 * fit.sse);
  double s0 = 0;
  for (double v : fit.initial_seasonal) s0 += v;
  EXPECT_NEAR(s0, 0, 1e-9);  // the initial season is centred
  EXPECT_LE(fit.params.gamma, 1 - fit.params.alpha + 1e-12);
  EXPECT_GE(fit.params.phi, 0.8);
  EXPECT_LE(fit.params.phi, 0.995);
}

TEST(HoltWintersTest, TooShortForTheSeasonDropsIt) {
  std::vector<double> y;
  for (int t = 0; t < 20; ++t) y.push_back(kPattern[t % 12] + 0.01 * t * t);
  HwOptions o;
  o.season = 12;  // needs 2·12 + 2 = 26 points
  HwFit fit = MustFit(y, o);
  EXPECT_EQ(fit.season, 0);
}

TEST(HoltWintersTest, RejectsBadInput) {
  HwOptions o;
  EXPECT_EQ(FitHoltWinters(std::vector<double>{1, 2}, o).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<double> y = {1, 2, 3, std::nan(""), 5};
  EXPECT_EQ(FitHoltWinters(y, o).status().code(), StatusCode::kInvalidArgument);
  y = {1, 2, 3, INFINITY, 5};
  EXPECT_EQ(FitHoltWinters(y, o).status().code(), StatusCode::kInvalidArgument);
  std::vector<double> ok = {1, 2, 3, 4, 5, 6, 7, 8};
  o.season = 1;
  EXPECT_EQ(FitHoltWinters(ok, o).status().code(), StatusCode::kInvalidArgument);
  o.season = 0;
  o.phi_min = 0.99;
  o.phi_max = 0.9;
  EXPECT_EQ(FitHoltWinters(ok, o).status().code(), StatusCode::kInvalidArgument);
  ForecastRequest req;
  req.y = ok;
  req.horizon = 0;
  EXPECT_EQ(RunForecast(req).status().code(), StatusCode::kInvalidArgument);
  req.horizon = kMaxHorizon + 1;
  EXPECT_EQ(RunForecast(req).status().code(), StatusCode::kInvalidArgument);
}

TEST(HoltWintersTest, CancellationStopsTheFit) {
  std::vector<double> y;
  for (int t = 0; t < 100; ++t) y.push_back(std::sin(t * 0.3) + 0.01 * t);
  std::atomic<bool> cancel{true};
  HwOptions o;
  o.cancel = &cancel;
  auto r = FitHoltWinters(y, o);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(HoltWintersTest, IsDeterministic) {
  Noise rng(9);
  std::vector<double> y;
  for (int t = 0; t < 150; ++t) y.push_back(kPattern[t % 12] * 2 + rng.Next());
  ForecastRequest req;
  req.y = y;
  req.horizon = 24;
  req.season = kSeasonAuto;
  auto a = RunForecast(req);
  auto b = RunForecast(req);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->fit.season, 12);
  EXPECT_EQ(a->detected_season, 12);
  EXPECT_EQ(a->points, b->points);
  EXPECT_EQ(a->upper, b->upper);
  EXPECT_EQ(a->fit.params.alpha, b->fit.params.alpha);
}

TEST(HoltWintersTest, NormalQuantiles) {
  EXPECT_NEAR(NormalQuantileTwoSided(0.95), 1.959963984540054, 1e-9);
  EXPECT_NEAR(NormalQuantileTwoSided(0.80), 1.2815515655446004, 1e-9);
  EXPECT_NEAR(NormalQuantileTwoSided(0.99), 2.5758293035489004, 1e-9);
}

TEST(ForecasterTest, JsonHasTheIssueSchema) {
  std::vector<double> y;
  for (int t = 0; t < 40; ++t) y.push_back(t % 5);
  ForecastRequest req;
  req.y = y;
  req.horizon = 3;
  auto r = RunForecast(req);
  ASSERT_TRUE(r.ok());
  ForecastMeta meta{1700000000000, 1000, 1700000001000, "pipeline/cam1/analytics", "people_count"};
  std::string json = ForecastToJson(*r, meta);
  for (const char* key :
       {"\"model\":\"holt_winters\"", "\"generated_at\":1700000000000", "\"step_ms\":1000",
        "\"start_ts\":1700000001000", "\"context\":40", "\"horizon\":3", "\"points\":[",
        "\"lower\":[", "\"upper\":[", "\"lower80\":[", "\"upper80\":[",
        "\"fit\":{\"alpha\":", "\"beta\":", "\"gamma\":", "\"phi\":", "\"mae\":", "\"level\":95",
        "\"source\":\"pipeline/cam1/analytics\"", "\"field\":\"people_count\""}) {
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  }
  EXPECT_EQ(RoundSignificant(3.14159265358979), 3.141593);
  EXPECT_EQ(RoundSignificant(0), 0);
}

}  // namespace
}  // namespace edgewatch::app::forecast
