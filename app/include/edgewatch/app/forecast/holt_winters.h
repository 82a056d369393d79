// Holt-Winters exponential smoothing with an additive damped trend and an optional additive
// season — ETS(A,Ad,N) / ETS(A,Ad,A) in Hyndman et al.'s taxonomy — fitted by minimising the
// sum of squared one-step-ahead errors over the given window.
//
// The model (m = season period, 0 = no season; statsmodels' ExponentialSmoothing uses the same
// parametrisation, so fitted values are comparable):
//   forecast  ŷ(t)   = l(t-1) + φ·b(t-1) + s(t-m)                  e(t) = y(t) − ŷ(t)
//   level     l(t)   = α·(y(t) − s(t-m)) + (1−α)·(l(t-1) + φ·b(t-1))  = l(t-1) + φ·b(t-1) + α·e(t)
//   trend     b(t)   = β·(l(t) − l(t-1)) + (1−β)·φ·b(t-1)             = φ·b(t-1) + α·β·e(t)
//   season    s(t)   = γ·(y(t) − l(t-1) − φ·b(t-1)) + (1−γ)·s(t-m)     = s(t-m) + γ·e(t)
//   h steps   ŷ(n+h) = l(n) + (φ + φ² + … + φ^h)·b(n) + s(n+h−m·k), k = ⌈h/m⌉
//
// Fitting. Parameters live in the usual region: 0 < α < 1, 0 ≤ β ≤ 1, 0 ≤ γ ≤ 1 − α,
// φ_min ≤ φ ≤ φ_max. The initial states (l0, b0, s0[0..m-1] with Σ s0 = 0) enter the one-step
// errors linearly, so for given smoothing parameters the SSE-optimal initial states are a linear
// least-squares solution: l0 and b0 are solved exactly inside every objective evaluation, and
// (seasonal models) the whole initial state is re-solved between rounds of the parameter search,
// which alternates until the SSE stops improving. The smoothing parameters are searched by a
// bounded Nelder–Mead (nelder_mead.h) from the best few points of a coarse grid. The data are
// standardised first (the model is equivariant under y → a + c·y), so tolerances do not depend
// on units. Everything is deterministic: same input, same output, bit for bit.
//
// Prediction intervals: Gaussian, with the residual variance σ² = SSE / (n − k) (k = number of
// estimated parameters and initial states) and the analytic h-step variance of the model
// (Hyndman et al. 2008, class 1):  v(h) = σ²·(1 + Σ_{j=1}^{h−1} c_j²),
// c_j = α + α·β·(φ + … + φ^j) + γ·[j mod m = 0]. v(h) never decreases with h: intervals widen.
//
// Pure functions; any thread. Cost: O(n) per objective evaluation (a few thousand at most),
// plus O(n·m² + m³) per seasonal re-solve.
#pragma once

#include <atomic>
#include <cstddef>
#include <span>
#include <vector>

#include "edgewatch/base/status.h"

namespace edgewatch::app::forecast {

struct HwParams {
  double alpha = 0.5;
  double beta = 0.1;
  double gamma = 0.0;  // 0 and unused without a season
  double phi = 0.98;
};

struct HwOptions {
  int season = 0;  // period m in points; 0 = no season. m = 1 is invalid.
  // Damping bounds: statsmodels' defaults, so the benchmark compares the same parameter space.
  double phi_min = 0.8;
  double phi_max = 0.995;
  int max_evals = 4000;  // objective evaluations over the whole fit
  // Set from another thread to abandon the fit: FitHoltWinters then returns Unavailable
  // ("cancelled") within one objective evaluation. May be null. Not owned.
  const std::atomic<bool>* cancel = nullptr;
};

// A fitted model: parameters and the state after the last observation.
struct HwFit {
  HwParams params;
  int season = 0;                // period used (0: none)
  size_t n = 0;                  // observations fitted
  double level = 0;              // l(n)
  double trend = 0;              // b(n)
  std::vector<double> seasonal;  // size `season`; seasonal[t % season] is s for a future time t
  double sse = 0;                // sum of squared one-step errors over the window
  double mae = 0;                // mean absolute one-step error
  double sigma2 = 0;             // residual variance used for the intervals
  int evals = 0;                 // objective evaluations spent
  // The initial state the fit chose and the one-step errors e(0..n-1) it leaves.
  double initial_level = 0;
  double initial_trend = 0;
  std::vector<double> initial_seasonal;
  std::vector<double> residuals;
};

struct HwForecast {
  std::vector<double> mean;  // ŷ(n+1) .. ŷ(n+horizon)
  std::vector<double> sd;    // standard deviation of each step's forecast error, √v(h)
};

// Fits the model to `y` (oldest first). Errors:
//   InvalidArgument — a non-finite value, season == 1 or < 0, phi bounds outside (0, 1] or
//                     reversed, or fewer than 3 points;
//   Unavailable     — cancelled through options.cancel.
// A season that needs more data than `y` holds (n < 2·m + 2) is dropped (fit.season = 0): the
// caller reports what was used. A constant series is fitted exactly (σ² = 0).
Result<HwFit> FitHoltWinters(std::span<const double> y, const HwOptions& options);

// Point forecasts and their standard deviations for steps 1..horizon (horizon >= 1).
HwForecast ForecastHoltWinters(const HwFit& fit, int horizon);

// v(h)/σ² for h = 1..horizon (the first is 1). Exposed for tests.
std::vector<double> VarianceFactors(const HwParams& params, int season, int horizon);

// Runs the recursions with fixed parameters and initial state (l0, b0, s0; s0 empty or of size
// `season`) over `y`; returns the one-step errors e(0..n-1). Exposed for tests and the
// benchmark driver.
std::vector<double> OneStepErrors(std::span<const double> y, const HwParams& params, int season,
                                  double l0, double b0, std::span<const double> s0);

// Standard normal quantile for a two-sided interval of `level` (0.80 -> 1.2816, 0.95 -> 1.9600).
double NormalQuantileTwoSided(double level);

}  // namespace edgewatch::app::forecast
