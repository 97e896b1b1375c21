// LatencyHistogram: merging, quantiles and the Prometheus view. Recording is
// inline in the header; everything here walks the bucket array and runs at
// read time (admin requests, scrapes), never per statement.
#include "analyzer/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace ql::analyzer {

// The layout must tile the number line: each bucket starts where the last
// ended, and the last regular bucket ends at the overflow threshold.
static_assert(LatencyHistogram::BucketLower(LatencyHistogram::kSubBuckets) ==
              uint64_t{1} << LatencyHistogram::kLinearBits);
static_assert(LatencyHistogram::BucketUpper(LatencyHistogram::kOverflowBucket - 1) ==
              LatencyHistogram::kOverflowNs);
static_assert(LatencyHistogram::BucketIndex(LatencyHistogram::kOverflowNs - 1) ==
              LatencyHistogram::kOverflowBucket - 1);
static_assert(LatencyHistogram::BucketIndex(1500) == 16 + 7);  // [1472, 1536)

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::Representative(size_t index) const {
  // The overflow bucket has no useful midpoint; the maximum is exact there
  // and the clamp below brings it back inside [min, max] anyway.
  if (index == kOverflowBucket) return max_;
  const uint64_t lower = BucketLower(index);
  const uint64_t mid = lower + (BucketUpper(index) - lower) / 2;
  return std::clamp(mid, min_, max_);
}

uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) return min_;  // also NaN
  if (q >= 1) return max_;
  // Rank of the wanted value, 1-based; the nudge keeps q*count that should
  // be an integer (0.5 * 10) from rounding up past it.
  double wanted = std::ceil(q * static_cast<double>(count_) - 1e-9);
  uint64_t rank = wanted < 1 ? 1 : static_cast<uint64_t>(wanted);
  if (rank > count_) rank = count_;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return Representative(i);
  }
  return max_;
}

void LatencyHistogram::CumulativeCounts(std::span<const double> upper_bounds,
                                        std::span<uint64_t> out) const {
  const size_t n = std::min(upper_bounds.size(), out.size());
  size_t bucket = 0;
  uint64_t running = 0;
  for (size_t b = 0; b < n; ++b) {
    const double bound_ns = upper_bounds[b] * 1e9;
    // Add every bucket whose midpoint is within this bound; the walk
    // continues where the previous bound stopped (bounds ascend).
    while (bucket < kOverflowBucket) {
      const uint64_t lower = BucketLower(bucket);
      const double mid = static_cast<double>(lower) +
                         static_cast<double>(BucketUpper(bucket) - lower) / 2;
      if (mid > bound_ns) break;
      running += counts_[bucket];
      ++bucket;
    }
    out[b] = running;
  }
}

}  // namespace ql::analyzer
