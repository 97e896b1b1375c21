// A mergeable latency histogram with fixed log-linear buckets (the layout
// HdrHistogram popularized): each power-of-two range ("octave") of
// nanoseconds is split into 16 equal sub-buckets, so a bucket is at most 1/16
// of its lower edge wide and the midpoint reported for a quantile is within
// 1/32 (3.125 %) of any value in the bucket. Below 1024 ns the buckets are a
// flat 64 ns wide. Tracked range: 0 to 2^37 ns (about 137 s); longer values
// land in one overflow bucket whose quantiles report the exact maximum.
//
// Fixed array, no allocation, Record() is a few instructions; Merge() adds
// arrays, so per-worker histograms merge exactly (merging equals recording
// everything into one). Not thread-safe: one owner per instance.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>

namespace ql::analyzer {

// Classic Prometheus buckets (seconds, `le` upper bounds, +Inf implied) for
// database statements: sub-millisecond for a local lab up to a minute for
// slow queries; shared/research/profiling.md 7(c) DB_BUCKETS plus 30 and 60.
inline constexpr std::array<double, 18> kPrometheusLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 4;
  static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 16
  static constexpr int kLinearBits = 10;   // [0, 1024 ns) is linear
  static constexpr int kOverflowBits = 37;  // [2^37 ns, inf) is one bucket
  static constexpr size_t kOctaves = kOverflowBits - kLinearBits;  // 27
  static constexpr size_t kBucketCount = kSubBuckets + kOctaves * kSubBuckets + 1;
  static constexpr size_t kOverflowBucket = kBucketCount - 1;
  static constexpr uint64_t kOverflowNs = uint64_t{1} << kOverflowBits;

  void Record(uint64_t ns) {
    ++counts_[BucketIndex(ns)];
    ++count_;
    sum_ += ns;
    if (ns < min_) min_ = ns;
    if (ns > max_) max_ = ns;
  }
  void Merge(const LatencyHistogram& other);
  void Clear() { *this = LatencyHistogram(); }

  // The q-quantile (q in [0, 1]) in nanoseconds: the value of rank
  // ceil(q * count) (1-based) in sorted order, estimated by the midpoint of
  // its bucket and clamped to [min, max]. q <= 0 gives min, q >= 1 max, an
  // empty histogram 0.
  uint64_t Quantile(double q) const;

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }  // nanoseconds
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  uint64_t bucket(size_t index) const { return counts_[index]; }

  // For Prometheus export: out[i] = how many values are <= upper_bounds[i]
  // (seconds, ascending; out must be as long). A bucket that straddles a
  // bound counts toward it when its midpoint is <= the bound, so only values
  // within ~3 % of a bound can be counted on the wrong side. The +Inf bucket
  // is count(). Cumulative counts only grow as values are recorded.
  void CumulativeCounts(std::span<const double> upper_bounds,
                        std::span<uint64_t> out) const;

  // Bucket geometry: the bucket of a value, and a bucket's [lower, upper)
  // edges in nanoseconds (the overflow bucket's upper edge is UINT64_MAX).
  static constexpr size_t BucketIndex(uint64_t ns) {
    if (ns < (uint64_t{1} << kLinearBits)) {
      return static_cast<size_t>(ns >> (kLinearBits - kSubBucketBits));
    }
    const int exponent = 63 - __builtin_clzll(ns);
    if (exponent >= kOverflowBits) return kOverflowBucket;
    const uint64_t sub = (ns >> (exponent - kSubBucketBits)) & (kSubBuckets - 1);
    return static_cast<size_t>(kSubBuckets +
                               (exponent - kLinearBits) * kSubBuckets + sub);
  }
  static constexpr uint64_t BucketLower(size_t index) {
    if (index < kSubBuckets) return index << (kLinearBits - kSubBucketBits);
    if (index >= kOverflowBucket) return kOverflowNs;
    const size_t k = index - kSubBuckets;
    const int exponent = kLinearBits + static_cast<int>(k / kSubBuckets);
    return (kSubBuckets + k % kSubBuckets) << (exponent - kSubBucketBits);
  }
  static constexpr uint64_t BucketUpper(size_t index) {
    if (index >= kOverflowBucket) return std::numeric_limits<uint64_t>::max();
    return BucketLower(index + 1);
  }

 private:
  // Point estimate for a value known to lie in bucket `index`.
  uint64_t Representative(size_t index) const;

  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace ql::analyzer
