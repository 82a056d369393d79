// A bounded, deterministic Nelder–Mead minimiser for the few smoothing parameters of the
// forecaster (app/forecast/holt_winters.cc). No allocation per iteration beyond the simplex.
//
// Bounds: every trial point is projected onto the box [lo, hi] (coordinate-wise clamp). A
// coordinate with lo == hi is held fixed. Projection can flatten the simplex against a face of
// the box, so after convergence the search restarts from the best point with a fresh simplex
// until a restart no longer improves the value (at most `max_restarts` times) — the usual remedy
// for Nelder–Mead's premature collapse.
//
// Determinism: the same objective, start and options give bit-identical results (ties in the
// simplex ordering are broken by vertex index, no randomness).
//
// Pure function; any thread. `objective` is called on the calling thread only.
#pragma once

#include <atomic>
#include <functional>
#include <span>
#include <vector>

namespace edgewatch::app::forecast {

struct NelderMeadOptions {
  int max_evals = 2000;       // objective evaluations over all restarts
  double ftol = 1e-10;        // converged when the simplex values spread by <= ftol * (|f| + 1e-12)
  double xtol = 1e-8;         // ... and every vertex is within xtol (relative to the box width)
  double initial_step = 0.1;  // initial simplex edge, as a fraction of each box width
  int max_restarts = 3;
  // Checked before every evaluation; when it becomes true the search stops and returns the best
  // point so far with `cancelled` set. May be null. Not owned.
  const std::atomic<bool>* cancel = nullptr;
};

struct NelderMeadResult {
  std::vector<double> x;  // best point found (inside the box)
  double f = 0;           // objective at x
  int evals = 0;
  bool converged = false;  // the tolerances were met (rather than max_evals or cancellation)
  bool cancelled = false;
};

// Minimises `objective` over the box [lo, hi] from `x0` (clamped into the box first). The three
// spans must have the same non-zero size and lo[i] <= hi[i]. The objective may return +inf (or
// NaN, treated as +inf) for points it considers infeasible.
NelderMeadResult MinimizeNelderMead(const std::function<double(std::span<const double>)>& objective,
                                    std::span<const double> x0, std::span<const double> lo,
                                    std::span<const double> hi, const NelderMeadOptions& options);

}  // namespace edgewatch::app::forecast
