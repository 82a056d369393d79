#include "edgewatch/app/forecast/season.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace edgewatch::app::forecast {

int DetectSeason(std::span<const double> y, const SeasonDetectOptions& options) {
  const size_t n = y.size();
  if (n < 8) return 0;
  // Linear detrend (least squares on t = 0..n-1).
  const double tm = static_cast<double>(n - 1) / 2;
  double ym = 0;
  for (double v : y) ym += v;
  ym /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (size_t t = 0; t < n; ++t) {
    const double dt = static_cast<double>(t) - tm;
    sxy += dt * (y[t] - ym);
    sxx += dt * dt;
  }
  const double slope = sxy / sxx;
  std::vector<double> x(n);
  double c0 = 0;
  for (size_t t = 0; t < n; ++t) {
    x[t] = y[t] - ym - slope * (static_cast<double>(t) - tm);
    c0 += x[t] * x[t];
  }
  if (!(c0 > 1e-300) || !std::isfinite(c0)) return 0;

  const size_t max_lag =
      std::min<size_t>(static_cast<size_t>(std::max(options.max_period, 2)), n / 4);
  if (max_lag < 2) return 0;
  const size_t last = std::min(n - 2, 2 * max_lag + 2);
  std::vector<double> r(last + 1, 0.0);
  r[0] = 1;
  for (size_t k = 1; k <= last; ++k) {
    double c = 0;
    for (size_t t = k; t < n; ++t) c += x[t] * x[t - k];
    r[k] = c / c0;
  }

  std::vector<size_t> candidates;
  double best = -1;
  double trough = r[1];
  double sum_sq = r[1] * r[1];  // Σ_{j<k} r(j)², for Bartlett's standard error at lag k
  for (size_t k = 2; k <= max_lag && k < last; ++k) {
    const double se = std::sqrt((1 + 2 * sum_sq) / static_cast<double>(n));
    const bool peak = r[k] > r[k - 1] && r[k] >= r[k + 1];
    if (peak && r[k] >= options.min_acf && r[k] - trough >= options.min_prominence &&
        r[k] >= 2 * se) {
      candidates.push_back(k);
      best = std::max(best, r[k]);
    }
    trough = std::min(trough, r[k]);
    sum_sq += r[k] * r[k];
  }
  for (size_t k : candidates) {
    if (r[k] < 0.8 * best) continue;
    auto score = [&](size_t j) { return r[j] + (2 * j <= last ? r[2 * j] : 0.0); };
    // Long periods have broad peaks: search a neighbourhood that grows with the lag.
    const size_t width = std::max<size_t>(1, k / 16);
    size_t chosen = k;
    for (size_t j = std::max<size_t>(2, k - width); j <= std::min(max_lag, k + width); ++j) {
      if (score(j) > score(chosen)) chosen = j;
    }
    return static_cast<int>(chosen);
  }
  return 0;
}

}  // namespace edgewatch::app::forecast
