// LatencyHistogram: log-linear buckets (HdrHistogram-like, ~0.8 % relative precision) over
// non-negative integer values, e.g. nanoseconds from 1 ns to ~73 years. Recording is a few
// instructions and allocation-free after construction. Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgewatch::cli::bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(uint64_t value);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The value at quantile q in [0, 1] (the upper bound of its bucket, clamped to max()); 0 when
  // empty.
  uint64_t Quantile(double q) const;

 private:
  static constexpr int kSubBits = 7;  // 128 linear sub-buckets per power of two
  static size_t IndexOf(uint64_t v);
  static uint64_t UpperBoundOf(size_t index);

  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  unsigned __int128 sum_ = 0;
};

}  // namespace edgewatch::cli::bench
