#include "edgewatch/app/forecast/holt_winters.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "edgewatch/app/forecast/nelder_mead.h"

namespace edgewatch::app::forecast {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kAlphaMin = 1e-4;
constexpr double kAlphaMax = 1 - 1e-4;
// Ridge added to the normal equations of the initial states (standardised units): keeps them
// solvable when columns are (nearly) collinear, e.g. φ·β ≈ 0 makes b0 barely identifiable.
constexpr double kRidge = 1e-9;
// Starts kept from the grid for Nelder–Mead.
constexpr size_t kStarts = 3;
// Seasons up to this period have their whole initial state solved inside every objective
// evaluation (O(n·m + m³): ~30k flops at m = 12, n = 512; see SolveInitialState). Longer
// seasons alternate between a parameter search (l0, b0 solved exactly, s0 held) and a full
// initial-state solve, for at most kMaxRounds rounds.
constexpr int kFullProfileMaxSeason = 24;
constexpr int kMaxRounds = 4;

struct Scaled {
  double mean = 0;
  double sd = 0;
};

// The search vector u = (α, β, γ', φ) with γ = γ'·(1 − α), so the constraint γ <= 1 − α is a box.
HwParams FromVector(std::span<const double> u) {
  HwParams p;
  p.alpha = u[0];
  p.beta = u[1];
  p.gamma = u[2] * (1 - u[0]);
  p.phi = u[3];
  return p;
}

// One pass of the recursions. `y` null means an all-zero series of length n (the response to an
// initial state alone). Writes the one-step errors to `e`; returns the end state through the
// optional out-parameters.
void Recurse(const double* y, size_t n, const HwParams& p, int m, double l0, double b0,
             const double* s0, double* e, std::vector<double>* s_work, double* l_end = nullptr,
             double* b_end = nullptr) {
  double l = l0;
  double b = b0;
  const double ab = p.alpha * p.beta;
  if (m > 0) {
    s_work->assign(s0, s0 + m);
    double* s = s_work->data();
    size_t j = 0;
    for (size_t t = 0; t < n; ++t) {
      const double st = s[j];
      const double pb = p.phi * b;
      const double err = (y != nullptr ? y[t] : 0.0) - (l + pb + st);
      e[t] = err;
      l = l + pb + p.alpha * err;
      b = pb + ab * err;
      s[j] = st + p.gamma * err;
      if (++j == static_cast<size_t>(m)) j = 0;
    }
  } else {
    for (size_t t = 0; t < n; ++t) {
      const double pb = p.phi * b;
      const double err = (y != nullptr ? y[t] : 0.0) - (l + pb);
      e[t] = err;
      l = l + pb + p.alpha * err;
      b = pb + ab * err;
    }
  }
  if (l_end != nullptr) *l_end = l;
  if (b_end != nullptr) *b_end = b;
}

// Solves the symmetric positive (semi-)definite system A x = r in place by Cholesky, adding
// `ridge` to the diagonal (and more if needed). A is k×k row-major. Returns false only when even
// a large ridge fails (non-finite input).
bool SolveSpd(std::vector<double> a, std::vector<double> r, size_t k, double ridge,
              std::vector<double>* x) {
  for (int attempt = 0; attempt < 6; ++attempt, ridge *= 1000) {
    std::vector<double> c = a;
    for (size_t i = 0; i < k; ++i) c[i * k + i] += ridge;
    bool ok = true;
    for (size_t j = 0; j < k && ok; ++j) {
      double d = c[j * k + j];
      for (size_t q = 0; q < j; ++q) d -= c[j * k + q] * c[j * k + q];
      if (!(d > 0) || !std::isfinite(d)) {
        ok = false;
        break;
      }
      d = std::sqrt(d);
      c[j * k + j] = d;
      for (size_t i = j + 1; i < k; ++i) {
        double v = c[i * k + j];
        for (size_t q = 0; q < j; ++q) v -= c[i * k + q] * c[j * k + q];
        c[i * k + j] = v / d;
      }
    }
    if (!ok) continue;
    std::vector<double> z(r);
    for (size_t i = 0; i < k; ++i) {
      for (size_t q = 0; q < i; ++q) z[i] -= c[i * k + q] * z[q];
      z[i] /= c[i * k + i];
    }
    for (size_t ii = k; ii-- > 0;) {
      for (size_t q = ii + 1; q < k; ++q) z[ii] -= c[q * k + ii] * z[q];
      z[ii] /= c[ii * k + ii];
    }
    *x = std::move(z);
    return true;
  }
  return false;
}

// The fit on the standardised series z.
class Fitter {
 public:
  Fitter(std::span<const double> z, int m, const HwOptions& options)
      : z_(z), n_(z.size()), m_(m), options_(options) {
    e0_.resize(n_);
    el_.resize(n_);
    eb_.resize(n_);
    s0_.assign(static_cast<size_t>(m_), 0.0);
    zero_s_.assign(static_cast<size_t>(m_), 0.0);
    if (m_ > 0) HeuristicSeason();
    full_ = m_ > 0 && m_ <= kFullProfileMaxSeason;
  }

  // True when every evaluation solves the whole initial state (see kFullProfileMaxSeason).
  bool full() const { return full_; }

  // The objective: SSE at `p` with the SSE-optimal initial state (all of it when full(), else
  // l0 and b0 with the current s0). The state is left in *l0, *b0 and s0().
  double Objective(const HwParams& p, double* l0 = nullptr, double* b0 = nullptr) {
    double l = 0, b = 0;
    double sse = full_ ? SolveInitialState(p, &l, &b) : ProfiledSse(p, &l, &b);
    if (l0 != nullptr) *l0 = l;
    if (b0 != nullptr) *b0 = b;
    return sse;
  }

  bool cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
  }
  int evals() const { return evals_; }

  // SSE at `p` with the current s0 and the optimal (l0, b0); stores them in *l0/*b0.
  double ProfiledSse(const HwParams& p, double* l0 = nullptr, double* b0 = nullptr) {
    ++evals_;
    Recurse(z_.data(), n_, p, m_, 0, 0, s0_.data(), e0_.data(), &work_);
    Recurse(nullptr, n_, p, m_, 1, 0, zero_s_.data(), el_.data(), &work_);
    Recurse(nullptr, n_, p, m_, 0, 1, zero_s_.data(), eb_.data(), &work_);
    double a11 = 0, a12 = 0, a22 = 0, r1 = 0, r2 = 0;
    for (size_t t = 0; t < n_; ++t) {
      a11 += el_[t] * el_[t];
      a12 += el_[t] * eb_[t];
      a22 += eb_[t] * eb_[t];
      r1 -= el_[t] * e0_[t];
      r2 -= eb_[t] * e0_[t];
    }
    const double ridge = kRidge * static_cast<double>(n_);
    a11 += ridge;
    a22 += ridge;
    const double det = a11 * a22 - a12 * a12;
    double l = 0, b = 0;
    if (det > 0 && std::isfinite(det)) {
      l = (r1 * a22 - r2 * a12) / det;
      b = (a11 * r2 - a12 * r1) / det;
    } else if (a11 > 0) {
      l = r1 / a11;
    }
    double sse = 0;
    for (size_t t = 0; t < n_; ++t) {
      const double err = e0_[t] + l * el_[t] + b * eb_[t];
      sse += err * err;
    }
    if (l0 != nullptr) *l0 = l;
    if (b0 != nullptr) *b0 = b;
    return std::isfinite(sse) ? sse : kInf;
  }

  // Exact least-squares initial state (l0, b0, s0 with Σ s0 = 0) at `p`; replaces s0_ and
  // returns the SSE. Seasonal models only. O(n·m + m³): the recursions are linear and
  // time-invariant, so the response to s0[j] = 1 is the response to s0[0] = 1 delayed by j steps,
  // and all the seasonal Gram entries come from lagged products of that one response.
  double SolveInitialState(const HwParams& p, double* l0, double* b0) {
    ++evals_;
    const size_t m = static_cast<size_t>(m_);
    const size_t k = m + 1;  // l0, b0, c_0..c_{m-2} with c_j = S_j − S_{m−1} (Σ s0 = 0)
    const size_t n = n_;
    Recurse(z_.data(), n, p, m_, 0, 0, zero_s_.data(), e0_.data(), &work_);
    Recurse(nullptr, n, p, m_, 1, 0, zero_s_.data(), el_.data(), &work_);
    Recurse(nullptr, n, p, m_, 0, 1, zero_s_.data(), eb_.data(), &work_);
    basis_.assign(m, 0.0);
    basis_[0] = 1;
    rs_.resize(n);
    Recurse(nullptr, n, p, m_, 0, 0, basis_.data(), rs_.data(), &work_);

    // q_[d·(n+1) + L] = Σ_{u<L} rs[u]·rs[u+d]; then <S_i, S_j> = q(|i−j|, n − max(i, j)).
    q_.assign(m * (n + 1), 0.0);
    for (size_t d = 0; d < m; ++d) {
      double acc = 0;
      double* q = &q_[d * (n + 1)];
      for (size_t u = 0; u + d < n; ++u) {
        acc += rs_[u] * rs_[u + d];
        q[u + 1] = acc;
      }
    }
    auto ss = [&](size_t i, size_t j) {
      const size_t hi = std::max(i, j);
      return q_[(hi - std::min(i, j)) * (n + 1) + (n - hi)];
    };
    // <v, S_j> for the level, trend and data columns.
    auto cross = [&](const std::vector<double>& v, size_t j) {
      double acc = 0;
      for (size_t t = j; t < n; ++t) acc += v[t] * rs_[t - j];
      return acc;
    };
    std::vector<double> xl(m), xb(m), xe(m);
    for (size_t j = 0; j < m; ++j) {
      xl[j] = cross(el_, j);
      xb[j] = cross(eb_, j);
      xe[j] = cross(e0_, j);
    }
    double ll = 0, lb = 0, bb = 0, le = 0, be = 0;
    for (size_t t = 0; t < n; ++t) {
      ll += el_[t] * el_[t];
      lb += el_[t] * eb_[t];
      bb += eb_[t] * eb_[t];
      le += el_[t] * e0_[t];
      be += eb_[t] * e0_[t];
    }
    std::vector<double> a(k * k, 0.0), r(k, 0.0);
    const size_t last = m - 1;
    a[0] = ll;
    a[1] = a[k] = lb;
    a[k + 1] = bb;
    r[0] = -le;
    r[1] = -be;
    for (size_t i = 0; i + 1 < m; ++i) {
      a[(i + 2) * k] = a[i + 2] = xl[i] - xl[last];
      a[(i + 2) * k + 1] = a[k + i + 2] = xb[i] - xb[last];
      r[i + 2] = -(xe[i] - xe[last]);
      for (size_t j = 0; j <= i; ++j) {
        const double v = ss(i, j) - ss(i, last) - ss(last, j) + ss(last, last);
        a[(i + 2) * k + j + 2] = a[(j + 2) * k + i + 2] = v;
      }
    }
    std::vector<double> x;
    if (!SolveSpd(a, r, k, kRidge * static_cast<double>(n), &x)) return kInf;
    *l0 = x[0];
    *b0 = x[1];
    double sum = 0;
    for (size_t j = 0; j + 1 < m; ++j) {
      s0_[j] = x[j + 2];
      sum += x[j + 2];
    }
    s0_[last] = -sum;
    // SSE from the residuals themselves (no cancellation for near-perfect fits).
    double sse = 0;
    for (size_t t = 0; t < n; ++t) {
      double err = e0_[t] + x[0] * el_[t] + x[1] * eb_[t];
      for (size_t j = 0; j <= std::min(t, last); ++j) err += s0_[j] * rs_[t - j];
      sse += err * err;
    }
    return std::isfinite(sse) ? sse : kInf;
  }

  // Minimises the profiled SSE over the smoothing parameters from `starts`.
  NelderMeadResult Search(const std::vector<std::vector<double>>& starts, int budget) {
    const std::vector<double> lo = {kAlphaMin, 0.0, 0.0, options_.phi_min};
    const std::vector<double> hi = {kAlphaMax, 1.0, m_ > 0 ? 1.0 : 0.0, options_.phi_max};
    NelderMeadOptions nm;
    nm.cancel = options_.cancel;
    nm.max_evals = std::max(50, budget / static_cast<int>(std::max<size_t>(1, starts.size())));
    auto objective = [this](std::span<const double> u) { return Objective(FromVector(u)); };
    NelderMeadResult best;
    best.f = kInf;
    for (const auto& start : starts) {
      NelderMeadResult r = MinimizeNelderMead(objective, start, lo, hi, nm);
      if (r.cancelled) return r;
      if (best.x.empty() || r.f < best.f) best = r;
    }
    return best;
  }

  // Coarse grid over the smoothing parameters; returns the best `kStarts` points, best first.
  std::vector<std::vector<double>> GridStarts() {
    const double alphas[] = {0.05, 0.2, 0.4, 0.6, 0.8, 0.95};
    const double betas[] = {0.01, 0.1, 0.3, 0.7, 1.0};
    std::vector<double> gammas = {0.0};
    if (m_ > 0) gammas = {0.05, 0.3};
    const double phis[] = {options_.phi_min, 0.5 * (options_.phi_min + options_.phi_max),
                           options_.phi_max};
    std::vector<std::pair<double, std::vector<double>>> scored;
    for (double a : alphas) {
      for (double b : betas) {
        for (double g : gammas) {
          for (double ph : phis) {
            if (cancelled()) return {};
            std::vector<double> u = {a, b, g, ph};
            scored.emplace_back(Objective(FromVector(u)), std::move(u));
          }
        }
      }
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::vector<double>> out;
    for (size_t i = 0; i < scored.size() && out.size() < kStarts; ++i) {
      out.push_back(scored[i].second);
    }
    return out;
  }

  const std::vector<double>& s0() const { return s0_; }

 private:
  // Initial season from the first K (2..4) whole cycles: residuals of a straight line, averaged
  // per position and centred.
  void HeuristicSeason() {
    const size_t m = static_cast<size_t>(m_);
    const size_t cycles = std::min<size_t>(n_ / m, 4);
    const size_t len = cycles * m;
    double tm = 0, ym = 0;
    for (size_t t = 0; t < len; ++t) {
      tm += static_cast<double>(t);
      ym += z_[t];
    }
    tm /= static_cast<double>(len);
    ym /= static_cast<double>(len);
    double sxy = 0, sxx = 0;
    for (size_t t = 0; t < len; ++t) {
      sxy += (static_cast<double>(t) - tm) * (z_[t] - ym);
      sxx += (static_cast<double>(t) - tm) * (static_cast<double>(t) - tm);
    }
    const double slope = sxx > 0 ? sxy / sxx : 0;
    std::fill(s0_.begin(), s0_.end(), 0.0);
    for (size_t t = 0; t < len; ++t) {
      s0_[t % m] +=
          (z_[t] - (ym + slope * (static_cast<double>(t) - tm))) / static_cast<double>(cycles);
    }
    const double mean = std::accumulate(s0_.begin(), s0_.end(), 0.0) / static_cast<double>(m);
    for (double& v : s0_) v -= mean;
  }

  std::span<const double> z_;
  size_t n_;
  int m_;
  const HwOptions& options_;
  std::vector<double> e0_, el_, eb_, s0_, zero_s_, work_, basis_, rs_, q_;
  int evals_ = 0;
  bool full_ = false;
};

Status Cancelled() {
  return Unavailable("forecast cancelled");
}

}  // namespace

std::vector<double> OneStepErrors(std::span<const double> y, const HwParams& params, int season,
                                  double l0, double b0, std::span<const double> s0) {
  std::vector<double> e(y.size());
  std::vector<double> s(static_cast<size_t>(std::max(season, 0)), 0.0);
  if (season > 0 && s0.size() == s.size()) s.assign(s0.begin(), s0.end());
  std::vector<double> work;
  Recurse(y.data(), y.size(), params, std::max(season, 0), l0, b0, s.data(), e.data(), &work);
  return e;
}

Result<HwFit> FitHoltWinters(std::span<const double> y, const HwOptions& options) {
  const size_t n = y.size();
  if (n < 3) return InvalidArgument("need at least 3 points, got " + std::to_string(n));
  if (options.season < 0 || options.season == 1) {
    return InvalidArgument("season must be 0 (none) or >= 2");
  }
  if (!(options.phi_min > 0 && options.phi_min <= options.phi_max && options.phi_max <= 1)) {
    return InvalidArgument("phi bounds must satisfy 0 < phi_min <= phi_max <= 1");
  }
  double sum = 0;
  for (double v : y) {
    if (!std::isfinite(v)) return InvalidArgument("the series contains a non-finite value");
    sum += v;
  }
  Scaled sc;
  sc.mean = sum / static_cast<double>(n);
  double ss = 0;
  for (double v : y) ss += (v - sc.mean) * (v - sc.mean);
  sc.sd = std::sqrt(ss / static_cast<double>(n));

  int m = options.season;
  if (m > 0 && n < 2 * static_cast<size_t>(m) + 2) m = 0;

  HwFit fit;
  fit.n = n;
  fit.season = m;
  fit.seasonal.assign(static_cast<size_t>(m), 0.0);
  if (!(sc.sd > 1e-12 * std::max(1.0, std::fabs(sc.mean)))) {
    // Constant (to rounding): the model reproduces it exactly with any parameters.
    fit.params = HwParams{0.5, 0.0, 0.0, options.phi_max};
    fit.level = sc.mean;
    fit.initial_level = sc.mean;
    fit.initial_seasonal.assign(static_cast<size_t>(m), 0.0);
    fit.residuals.assign(n, 0.0);
    return fit;
  }

  std::vector<double> z(n);
  for (size_t t = 0; t < n; ++t) z[t] = (y[t] - sc.mean) / sc.sd;

  Fitter fitter(z, m, options);
  std::vector<std::vector<double>> starts = fitter.GridStarts();
  if (fitter.cancelled()) return Cancelled();
  int budget = options.max_evals - fitter.evals();
  const bool alternate = m > 0 && !fitter.full();
  NelderMeadResult best = fitter.Search(starts, alternate ? budget / 2 : budget);
  if (best.cancelled || fitter.cancelled()) return Cancelled();

  HwParams p = FromVector(best.x);
  double l0 = 0, b0 = 0;
  double sse = fitter.Objective(p, &l0, &b0);  // leaves the state of `p` in the fitter
  if (alternate) {
    sse = fitter.SolveInitialState(p, &l0, &b0);
    for (int round = 1; round < kMaxRounds; ++round) {
      int left = options.max_evals - fitter.evals();
      if (left < 100) break;
      NelderMeadResult r = fitter.Search({best.x}, left / (kMaxRounds - round));
      if (r.cancelled || fitter.cancelled()) return Cancelled();
      HwParams q = FromVector(r.x);
      double ql0 = 0, qb0 = 0;
      double qsse = fitter.SolveInitialState(q, &ql0, &qb0);
      if (!(qsse < sse)) {
        // The re-solve used q; put the state back at p.
        sse = fitter.SolveInitialState(p, &l0, &b0);
        break;
      }
      const bool small = qsse > sse * (1 - 1e-7);
      best = r;
      p = q;
      l0 = ql0;
      b0 = qb0;
      sse = qsse;
      if (small) break;
    }
  }
  if (!std::isfinite(sse)) return Internal("the fit diverged");

  // Final pass in standardised units: residuals and end state.
  std::vector<double> e(n), work;
  double l_end = 0, b_end = 0;
  Recurse(z.data(), n, p, m, l0, b0, fitter.s0().data(), e.data(), &work, &l_end, &b_end);
  double sse_z = 0, sae_z = 0;
  for (double v : e) {
    sse_z += v * v;
    sae_z += std::fabs(v);
  }
  const int k = 3 + (m > 0 ? 1 : 0) + 2 + (m > 0 ? m - 1 : 0);
  const double dof =
      static_cast<double>(n) - k >= 1 ? static_cast<double>(n) - k : static_cast<double>(n);
  fit.params = p;
  fit.level = sc.mean + sc.sd * l_end;
  fit.trend = sc.sd * b_end;
  for (int j = 0; j < m; ++j) {
    fit.seasonal[static_cast<size_t>(j)] = sc.sd * work[static_cast<size_t>(j)];
  }
  fit.sse = sse_z * sc.sd * sc.sd;
  fit.mae = sae_z / static_cast<double>(n) * sc.sd;
  fit.sigma2 = fit.sse / dof;
  fit.evals = fitter.evals();
  fit.initial_level = sc.mean + sc.sd * l0;
  fit.initial_trend = sc.sd * b0;
  fit.initial_seasonal.resize(static_cast<size_t>(m));
  for (int j = 0; j < m; ++j) {
    fit.initial_seasonal[static_cast<size_t>(j)] = sc.sd * fitter.s0()[static_cast<size_t>(j)];
  }
  fit.residuals.resize(n);
  for (size_t t = 0; t < n; ++t) fit.residuals[t] = sc.sd * e[t];
  return fit;
}

std::vector<double> VarianceFactors(const HwParams& params, int season, int horizon) {
  std::vector<double> v(static_cast<size_t>(std::max(horizon, 0)));
  double acc = 1;
  double phi_pow = 1, phi_sum = 0;
  for (int h = 1; h <= horizon; ++h) {
    v[static_cast<size_t>(h - 1)] = acc;
    // c_h, used from step h + 1 on.
    phi_pow *= params.phi;
    phi_sum += phi_pow;
    double c = params.alpha + params.alpha * params.beta * phi_sum;
    if (season > 0 && h % season == 0) c += params.gamma;
    acc += c * c;
  }
  return v;
}

HwForecast ForecastHoltWinters(const HwFit& fit, int horizon) {
  HwForecast f;
  if (horizon < 1) return f;
  f.mean.resize(static_cast<size_t>(horizon));
  f.sd.resize(static_cast<size_t>(horizon));
  std::vector<double> v = VarianceFactors(fit.params, fit.season, horizon);
  double phi_pow = 1, phi_sum = 0;
  for (int h = 1; h <= horizon; ++h) {
    phi_pow *= fit.params.phi;
    phi_sum += phi_pow;
    double s = 0;
    if (fit.season > 0) {
      s = fit.seasonal[(fit.n + static_cast<size_t>(h) - 1) % static_cast<size_t>(fit.season)];
    }
    f.mean[static_cast<size_t>(h - 1)] = fit.level + phi_sum * fit.trend + s;
    f.sd[static_cast<size_t>(h - 1)] = std::sqrt(fit.sigma2 * v[static_cast<size_t>(h - 1)]);
  }
  return f;
}

double NormalQuantileTwoSided(double level) {
  // Acklam's rational approximation of the inverse normal CDF, refined by one Halley step.
  const double p = 1 - (1 - level) / 2;
  if (!(p > 0.5 && p < 1)) return 0;
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  double x;
  if (p <= 0.97575) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace edgewatch::app::forecast
