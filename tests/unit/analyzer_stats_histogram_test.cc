// LatencyHistogram: bucket geometry, quantile accuracy against exact
// quantiles of random data, exact merging, edge cases, and the cumulative
// counts used for Prometheus buckets.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "analyzer/latency_histogram.h"
#include "gtest/gtest.h"

namespace ql::analyzer {
namespace {

using H = LatencyHistogram;

// The value of rank ceil(q * n) in sorted order: the definition Quantile()
// estimates.
uint64_t ExactQuantile(std::vector<uint64_t> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// Log-uniform durations between lo and hi nanoseconds.
std::vector<uint64_t> LogUniform(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(std::log(lo), std::log(hi));
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = static_cast<uint64_t>(std::exp(exponent(rng)));
  return v;
}

TEST(LatencyHistogram, BucketsTileTheRange) {
  for (size_t i = 0; i + 1 < H::kBucketCount; ++i) {
    ASSERT_EQ(H::BucketUpper(i), H::BucketLower(i + 1)) << i;
    ASSERT_LT(H::BucketLower(i), H::BucketUpper(i)) << i;
    ASSERT_EQ(H::BucketIndex(H::BucketLower(i)), i) << i;
    ASSERT_EQ(H::BucketIndex(H::BucketUpper(i) - 1), i) << i;
    if (i >= H::kSubBuckets) {
      // Log-linear part: width at most 1/16 of the lower edge.
      const uint64_t width = H::BucketUpper(i) - H::BucketLower(i);
      ASSERT_LE(width * 16, H::BucketLower(i)) << i;
    }
  }
  EXPECT_EQ(H::BucketLower(0), 0u);
  EXPECT_EQ(H::BucketIndex(0), 0u);
  EXPECT_EQ(H::BucketIndex(H::kOverflowNs), H::kOverflowBucket);
  EXPECT_EQ(H::BucketIndex(UINT64_MAX), H::kOverflowBucket);
  // The range the proxy cares about, 1 us to 100 s, is tracked with buckets.
  EXPECT_LT(H::BucketIndex(100'000'000'000ull), H::kOverflowBucket);
  EXPECT_EQ(H::kBucketCount, 449u);
}

TEST(LatencyHistogram, QuantilesWithinThreePercentOfExact) {
  // 1 us .. 100 s, log-uniform: every octave gets values.
  const std::vector<uint64_t> values = LogUniform(200000, 1e3, 1e11, 7);
  H h;
  for (uint64_t v : values) h.Record(v);
  for (double q : {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999}) {
    const double exact = static_cast<double>(ExactQuantile(values, q));
    const double got = static_cast<double>(h.Quantile(q));
    EXPECT_LE(std::fabs(got - exact), exact / 32 + 1) << "q=" << q << " exact=" << exact;
  }
  EXPECT_EQ(h.count(), values.size());
}

TEST(LatencyHistogram, QuantilesOfAConcentratedDistribution) {
  // Log-normal around 800 us: most values share a few octaves, the case
  // where a coarse histogram would be visibly wrong.
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> dist(std::log(800e3), 0.6);
  std::vector<uint64_t> values(100000);
  for (auto& v : values) v = static_cast<uint64_t>(dist(rng));
  H h;
  for (uint64_t v : values) h.Record(v);
  for (double q : {0.5, 0.9, 0.95, 0.99}) {
    const double exact = static_cast<double>(ExactQuantile(values, q));
    const double got = static_cast<double>(h.Quantile(q));
    EXPECT_LE(std::fabs(got - exact) / exact, 1.0 / 32) << "q=" << q;
  }
}

TEST(LatencyHistogram, SubMicrosecondValuesHaveAbsoluteError) {
  const std::vector<uint64_t> values = LogUniform(10000, 1, 1000, 3);
  H h;
  for (uint64_t v : values) h.Record(v);
  for (double q : {0.1, 0.5, 0.9}) {
    const double exact = static_cast<double>(ExactQuantile(values, q));
    EXPECT_LE(std::fabs(static_cast<double>(h.Quantile(q)) - exact), 32.0) << q;
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingEverything) {
  const std::vector<uint64_t> values = LogUniform(50000, 50, 5e11, 5);
  H all;
  H parts[3];
  std::mt19937 pick(9);
  for (uint64_t v : values) {
    all.Record(v);
    parts[pick() % 3].Record(v);
  }
  H merged;
  for (const H& p : parts) merged.Merge(p);
  merged.Merge(H());  // empty merges change nothing
  for (size_t i = 0; i < H::kBucketCount; ++i) ASSERT_EQ(merged.bucket(i), all.bucket(i)) << i;
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.sum(), all.sum());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  for (double q : {0.0, 0.5, 0.99, 1.0}) EXPECT_EQ(merged.Quantile(q), all.Quantile(q)) << q;
}

TEST(LatencyHistogram, EdgeCases) {
  H h;
  EXPECT_EQ(h.Quantile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);

  h.Record(123456);  // one value: every quantile is that value exactly
  EXPECT_EQ(h.Quantile(0.0), 123456u);
  EXPECT_EQ(h.Quantile(0.5), 123456u);
  EXPECT_EQ(h.Quantile(1.0), 123456u);

  // Beyond the tracked range the maximum is reported exactly.
  h.Record(300'000'000'000ull);
  EXPECT_EQ(h.Quantile(0.99), 300'000'000'000ull);
  EXPECT_NEAR(static_cast<double>(h.Quantile(0.5)), 123456.0, 123456.0 / 32);
  EXPECT_EQ(h.Quantile(-1), 123456u);
  EXPECT_EQ(h.Quantile(std::nan("")), 123456u);
  EXPECT_EQ(h.Quantile(2), 300'000'000'000ull);
  EXPECT_EQ(h.sum(), 300'000'123'456ull);

  h.Record(0);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_LE(h.Quantile(0.01), 32u);  // the first bucket's midpoint: 32 ns off at most

  h.Clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Quantile(0.5), 0u);
}

TEST(LatencyHistogram, QuantileRanksMatchTheDefinition) {
  // Ten distinct, widely spaced values: the estimate must land on the right
  // one (within its bucket), so the rank arithmetic is checked exactly.
  H h;
  std::vector<uint64_t> values;
  for (int i = 1; i <= 10; ++i) values.push_back(static_cast<uint64_t>(i) * 1'000'000);
  for (uint64_t v : values) h.Record(v);
  for (double q : {0.1, 0.15, 0.5, 0.51, 0.9, 0.95}) {
    const double exact = static_cast<double>(ExactQuantile(values, q));
    EXPECT_NEAR(static_cast<double>(h.Quantile(q)), exact, exact / 32) << q;
  }
}

TEST(LatencyHistogram, CumulativeCountsForPrometheus) {
  H h;
  for (int i = 0; i < 1000; ++i) h.Record(50'000);          // 50 us
  for (int i = 0; i < 500; ++i) h.Record(2'000'000);        // 2 ms
  for (int i = 0; i < 20; ++i) h.Record(700'000'000);       // 0.7 s
  for (int i = 0; i < 3; ++i) h.Record(120'000'000'000ull);  // 120 s, past 60 s
  std::vector<uint64_t> cum(kPrometheusLatencyBuckets.size());
  h.CumulativeCounts(kPrometheusLatencyBuckets, cum);
  auto at = [&](double bound) {
    for (size_t i = 0; i < kPrometheusLatencyBuckets.size(); ++i) {
      if (kPrometheusLatencyBuckets[i] == bound) return cum[i];
    }
    ADD_FAILURE() << "no bound " << bound;
    return uint64_t{0};
  };
  EXPECT_EQ(at(0.0001), 1000u);
  EXPECT_EQ(at(0.001), 1000u);
  EXPECT_EQ(at(0.0025), 1500u);
  EXPECT_EQ(at(0.5), 1500u);
  EXPECT_EQ(at(1), 1520u);
  EXPECT_EQ(at(60), 1520u);
  EXPECT_EQ(h.count(), 1523u);  // the +Inf bucket
}

TEST(LatencyHistogram, CumulativeCountsMisplaceOnlyValuesNearABound) {
  const std::vector<uint64_t> values = LogUniform(100000, 1e4, 1e11, 21);
  H h;
  for (uint64_t v : values) h.Record(v);
  std::vector<uint64_t> cum(kPrometheusLatencyBuckets.size());
  h.CumulativeCounts(kPrometheusLatencyBuckets, cum);
  uint64_t previous = 0;
  for (size_t i = 0; i < kPrometheusLatencyBuckets.size(); ++i) {
    const double bound = kPrometheusLatencyBuckets[i] * 1e9;
    uint64_t exact = 0, near = 0;
    for (uint64_t v : values) {
      exact += static_cast<double>(v) <= bound ? 1 : 0;
      near += std::fabs(static_cast<double>(v) - bound) <= bound / 16 ? 1 : 0;
    }
    const uint64_t diff = cum[i] > exact ? cum[i] - exact : exact - cum[i];
    EXPECT_LE(diff, near) << "bound " << kPrometheusLatencyBuckets[i];
    EXPECT_GE(cum[i], previous);
    previous = cum[i];
  }
}

}  // namespace
}  // namespace ql::analyzer
