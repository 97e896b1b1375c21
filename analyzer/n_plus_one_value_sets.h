// Fixed-size counters of literal-value sets, one pair per fingerprint of a
// unit of work: how many distinct sets of values a fingerprint ran with (the
// N+1 test: "more than one"), and how often the most repeated exact set ran
// (the duplicate test). Inputs are the 64-bit hashes of n_plus_one_literals.h;
// nothing is allocated and the size never grows, whatever the loop.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace ql::analyzer {

// Exact up to kExact distinct hashes; beyond that an estimate by linear
// counting over a 512-bit bitmap (within a few percent up to ~1000 sets).
class DistinctCounter {
 public:
  static constexpr size_t kExact = 32;

  void Clear() { *this = DistinctCounter{}; }

  void Add(uint64_t hash) {
    // Spread the hash before taking 9 bits: callers' hashes are XXH64 output
    // already, but the bitmap must not depend on that.
    const uint64_t mixed = hash * 0x9E3779B97F4A7C15ULL;
    const unsigned bit = static_cast<unsigned>(mixed >> 55);  // 0..511
    bitmap_[bit / 64] |= uint64_t{1} << (bit % 64);
    if (overflow_) return;
    for (size_t i = 0; i < n_; ++i) {
      if (exact_[i] == hash) return;
    }
    if (n_ < kExact) {
      exact_[n_++] = hash;
    } else {
      overflow_ = true;
    }
  }

  bool estimated() const { return overflow_; }

  uint64_t Count() const {
    if (!overflow_) return n_;
    size_t zeros = 0;
    for (uint64_t word : bitmap_) zeros += 64 - static_cast<size_t>(__builtin_popcountll(word));
    constexpr double m = 512.0;
    // All bits set: the estimate is unbounded; report the bitmap's limit.
    const double estimate =
        zeros == 0 ? m * std::log(m) : -m * std::log(static_cast<double>(zeros) / m);
    const uint64_t rounded = static_cast<uint64_t>(estimate + 0.5);
    return rounded > kExact ? rounded : kExact + 1;  // more than kExact were seen
  }

 private:
  std::array<uint64_t, kExact> exact_{};
  std::array<uint64_t, 8> bitmap_{};
  uint8_t n_ = 0;
  bool overflow_ = false;
};

// Executions per exact value set, for the first kSlots sets seen; later sets
// are not counted (a duplicate among the first sets is found regardless).
class RepeatCounter {
 public:
  static constexpr size_t kSlots = 16;

  void Clear() { *this = RepeatCounter{}; }

  void Add(uint64_t hash) {
    for (size_t i = 0; i < n_; ++i) {
      if (hashes_[i] == hash) {
        if (counts_[i] < UINT32_MAX) ++counts_[i];
        return;
      }
    }
    if (n_ < kSlots) {
      hashes_[n_] = hash;
      counts_[n_] = 1;
      ++n_;
    }
  }

  // The most executions of one exact value set.
  uint32_t MaxCount() const {
    uint32_t best = 0;
    for (size_t i = 0; i < n_; ++i) best = counts_[i] > best ? counts_[i] : best;
    return best;
  }

 private:
  std::array<uint64_t, kSlots> hashes_{};
  std::array<uint32_t, kSlots> counts_{};
  uint8_t n_ = 0;
};

}  // namespace ql::analyzer
