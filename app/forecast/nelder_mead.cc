#include "edgewatch/app/forecast/nelder_mead.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace edgewatch::app::forecast {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The search runs over the free coordinates only (lo < hi); fixed ones are re-inserted for the
// objective.
class Search {
 public:
  Search(const std::function<double(std::span<const double>)>& objective,
         std::span<const double> x0, std::span<const double> lo, std::span<const double> hi,
         const NelderMeadOptions& options)
      : objective_(objective), options_(options), full_(x0.begin(), x0.end()) {
    for (size_t i = 0; i < full_.size(); ++i) {
      full_[i] = std::clamp(full_[i], lo[i], hi[i]);
      if (lo[i] < hi[i]) {
        free_.push_back(i);
        lo_.push_back(lo[i]);
        hi_.push_back(hi[i]);
      }
    }
  }

  NelderMeadResult Run() {
    NelderMeadResult r;
    std::vector<double> best(free_.size());
    for (size_t k = 0; k < free_.size(); ++k) best[k] = full_[free_[k]];
    double best_f = Eval(best);
    if (free_.empty()) {
      r.x = full_;
      r.f = best_f;
      r.evals = evals_;
      r.converged = !cancelled_;
      r.cancelled = cancelled_;
      return r;
    }
    bool converged = false;
    for (int round = 0; round <= options_.max_restarts; ++round) {
      double before = best_f;
      converged = Simplex(&best, &best_f);
      if (cancelled_ || evals_ >= options_.max_evals) break;
      // A restart that does not improve by more than the tolerance ends the search.
      if (round > 0 && !(best_f < before - options_.ftol * (std::fabs(before) + 1e-12))) break;
    }
    for (size_t k = 0; k < free_.size(); ++k) full_[free_[k]] = best[k];
    r.x = full_;
    r.f = best_f;
    r.evals = evals_;
    r.converged = converged && !cancelled_;
    r.cancelled = cancelled_;
    return r;
  }

 private:
  double Eval(const std::vector<double>& v) {
    if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) {
      cancelled_ = true;
      return kInf;
    }
    ++evals_;
    for (size_t k = 0; k < free_.size(); ++k) full_[free_[k]] = v[k];
    double f = objective_(full_);
    return std::isnan(f) ? kInf : f;
  }

  void Clamp(std::vector<double>* v) const {
    for (size_t k = 0; k < v->size(); ++k) (*v)[k] = std::clamp((*v)[k], lo_[k], hi_[k]);
  }

  // One Nelder–Mead run from `*best`; updates it with the best vertex. Returns true when the
  // tolerances were met.
  bool Simplex(std::vector<double>* best, double* best_f) {
    const size_t n = free_.size();
    std::vector<std::vector<double>> v(n + 1, *best);
    std::vector<double> f(n + 1, kInf);
    f[0] = *best_f;
    for (size_t k = 0; k < n; ++k) {
      double step = options_.initial_step * (hi_[k] - lo_[k]);
      // Step inward when the start sits on (or near) the upper bound.
      v[k + 1][k] = (v[0][k] + step <= hi_[k]) ? v[0][k] + step : v[0][k] - step;
      Clamp(&v[k + 1]);
      f[k + 1] = Eval(v[k + 1]);
      if (cancelled_) return false;
    }
    std::vector<size_t> order(n + 1);
    std::vector<double> centroid(n), xr(n), xe(n), xc(n);
    bool converged = false;
    while (!cancelled_ && evals_ < options_.max_evals) {
      std::iota(order.begin(), order.end(), size_t{0});
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return f[a] < f[b]; });
      const size_t lo_i = order[0];
      const size_t hi_i = order[n];
      const size_t second = order[n - 1];

      // Convergence: values and vertices both close to the best.
      double spread = f[hi_i] - f[lo_i];
      bool f_ok = std::isfinite(spread) && spread <= options_.ftol * (std::fabs(f[lo_i]) + 1e-12);
      double size = 0;
      for (size_t j = 0; j <= n; ++j) {
        for (size_t k = 0; k < n; ++k) {
          size = std::max(size, std::fabs(v[j][k] - v[lo_i][k]) / (hi_[k] - lo_[k]));
        }
      }
      if (f_ok && size <= options_.xtol) {
        converged = true;
        break;
      }
      if (size == 0) break;  // fully collapsed (e.g. flattened on a corner): let a restart decide

      std::fill(centroid.begin(), centroid.end(), 0.0);
      for (size_t j = 0; j <= n; ++j) {
        if (j == hi_i) continue;
        for (size_t k = 0; k < n; ++k) centroid[k] += v[j][k];
      }
      for (size_t k = 0; k < n; ++k) centroid[k] /= static_cast<double>(n);

      for (size_t k = 0; k < n; ++k) xr[k] = centroid[k] + (centroid[k] - v[hi_i][k]);
      Clamp(&xr);
      double fr = Eval(xr);
      if (fr < f[lo_i]) {
        for (size_t k = 0; k < n; ++k) xe[k] = centroid[k] + 2.0 * (centroid[k] - v[hi_i][k]);
        Clamp(&xe);
        double fe = Eval(xe);
        if (fe < fr) {
          v[hi_i] = xe;
          f[hi_i] = fe;
        } else {
          v[hi_i] = xr;
          f[hi_i] = fr;
        }
        continue;
      }
      if (fr < f[second]) {
        v[hi_i] = xr;
        f[hi_i] = fr;
        continue;
      }
      bool outside = fr < f[hi_i];
      for (size_t k = 0; k < n; ++k) {
        xc[k] = outside ? centroid[k] + 0.5 * (xr[k] - centroid[k])
                        : centroid[k] + 0.5 * (v[hi_i][k] - centroid[k]);
      }
      Clamp(&xc);
      double fc = Eval(xc);
      if (outside ? fc <= fr : fc < f[hi_i]) {
        v[hi_i] = xc;
        f[hi_i] = fc;
        continue;
      }
      // Shrink towards the best vertex.
      for (size_t j = 0; j <= n; ++j) {
        if (j == lo_i) continue;
        for (size_t k = 0; k < n; ++k) v[j][k] = v[lo_i][k] + 0.5 * (v[j][k] - v[lo_i][k]);
        f[j] = Eval(v[j]);
        if (cancelled_) break;
      }
    }
    size_t arg = 0;
    for (size_t j = 1; j <= n; ++j) {
      if (f[j] < f[arg]) arg = j;
    }
    if (f[arg] < *best_f) {
      *best = v[arg];
      *best_f = f[arg];
    }
    return converged;
  }

  const std::function<double(std::span<const double>)>& objective_;
  const NelderMeadOptions& options_;
  std::vector<double> full_;
  std::vector<size_t> free_;
  std::vector<double> lo_, hi_;
  int evals_ = 0;
  bool cancelled_ = false;
};

}  // namespace

NelderMeadResult MinimizeNelderMead(const std::function<double(std::span<const double>)>& objective,
                                    std::span<const double> x0, std::span<const double> lo,
                                    std::span<const double> hi, const NelderMeadOptions& options) {
  return Search(objective, x0, lo, hi, options).Run();
}

}  // namespace edgewatch::app::forecast
