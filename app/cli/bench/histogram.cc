#include "bench/histogram.h"

#include <algorithm>
#include <cmath>

namespace edgewatch::cli::bench {

// Values below 2^kSubBits have a bucket each; above, each power of two [2^e, 2^(e+1)) is split
// into 2^kSubBits equal sub-buckets.
size_t LatencyHistogram::IndexOf(uint64_t v) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (v < kSub) return static_cast<size_t>(v);
  int e = 63 - __builtin_clzll(v);  // >= kSubBits
  int shift = e - kSubBits;
  uint64_t sub = (v >> shift) - kSub;  // [0, kSub)
  return static_cast<size_t>(kSub + static_cast<uint64_t>(shift) * kSub + sub);
}

uint64_t LatencyHistogram::UpperBoundOf(size_t index) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (index < kSub) return index;
  uint64_t shift = (index - kSub) / kSub;
  uint64_t sub = (index - kSub) % kSub;
  uint64_t lower = (kSub + sub) << shift;
  return lower + ((uint64_t{1} << shift) - 1);
}

LatencyHistogram::LatencyHistogram() : buckets_(IndexOf(UINT64_MAX) + 1, 0) {}

void LatencyHistogram::Record(uint64_t value) {
  ++buckets_[IndexOf(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += value;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::clamp(UpperBoundOf(i), min_, max_);
  }
  return max_;
}

}  // namespace edgewatch::cli::bench
