// Repeated cycles: a sequence of 2..8 fingerprints that runs again and again
// back to back, the wire-level signature of a loop that touches several
// relations per object (for each product: its category, then its tags).
// Sentry calls this MN+1.
//
// Detection is incremental and needs only the last max_length statements:
// for every period p, `matched[p]` counts consecutive statements equal to
// the one p positions earlier. A run of r repetitions of a p-sequence has
// matched = p * (r - 1). When the run breaks (or the unit closes) it is kept
// if it has at least min_repeats repetitions and its sequence is primitive:
// not one fingerprint repeated (that is a plain N+1) and not a shorter
// sequence twice over (ABAB also matches with p = 4; only p = 2 reports).
//
// The caller feeds only the statements that can be part of a loop (plain
// reads, and single-row writes when write loops are on); others in between
// (SAVEPOINT, SET ...) neither extend nor break a run. Runs of the same
// sequence within one unit are merged; at most max_runs are kept.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace ql::analyzer {

inline constexpr size_t kMaxCycleLength = 8;

struct CycleRun {
  std::array<uint64_t, kMaxCycleLength> digests{};  // the sequence, in order
  uint32_t length = 0;
  uint64_t repeats = 0;     // full repetitions
  uint64_t statements = 0;  // statements in the run(s)
  uint64_t total_ns = 0;
  uint64_t max_ns = 0;
  int64_t first_start_ns = 0;
  int64_t last_end_ns = 0;
  uint64_t first_seq = 0;
};

class CycleDetector {
 public:
  static constexpr size_t kMaxRuns = 16;

  // Lengths are clamped to 2..kMaxCycleLength, max_runs to kMaxRuns.
  CycleDetector(uint32_t min_length, uint32_t max_length, uint32_t min_repeats, size_t max_runs);

  void Clear();
  void Add(uint64_t digest, int64_t start_ns, uint64_t duration_ns, uint64_t seq);
  // Ends the runs in progress (at unit close); Add may not follow before Clear.
  void Finish();

  size_t run_count() const { return run_count_; }
  const CycleRun& run(size_t i) const { return runs_[i]; }
  uint64_t dropped_runs() const { return dropped_; }

 private:
  struct Item {
    uint64_t digest = 0;
    int64_t start_ns = 0;
    uint64_t duration_ns = 0;
    uint64_t seq = 0;
  };
  struct Period {
    uint64_t matched = 0;
    uint64_t total_ns = 0;
    uint64_t max_ns = 0;
    int64_t first_start_ns = 0;
    int64_t last_end_ns = 0;
    uint64_t first_seq = 0;
    std::array<uint64_t, kMaxCycleLength> pattern{};
  };
  static constexpr size_t kRing = 2 * kMaxCycleLength;

  const Item& Back(size_t k) const { return ring_[(added_ - 1 - k) % kRing]; }  // k = 0: newest
  void EndRun(uint32_t p);
  void Keep(const Period& period, uint32_t p, uint64_t repeats);

  uint32_t min_length_;
  uint32_t max_length_;
  uint32_t min_repeats_;
  size_t max_runs_;
  std::array<Item, kRing> ring_{};
  uint64_t added_ = 0;
  std::array<Period, kMaxCycleLength + 1> periods_{};
  std::array<CycleRun, kMaxRuns> runs_{};
  size_t run_count_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace ql::analyzer
