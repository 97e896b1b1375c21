// Incremental detection of back-to-back repeated statement sequences.
#include "analyzer/n_plus_one_cycles.h"

#include <algorithm>

namespace ql::analyzer {
namespace {

// True when pattern[0..p) is not a shorter sequence repeated (period d | p).
bool Primitive(const std::array<uint64_t, kMaxCycleLength>& pattern, uint32_t p) {
  for (uint32_t d = 1; d < p; ++d) {
    if (p % d != 0) continue;
    bool periodic = true;
    for (uint32_t i = d; i < p && periodic; ++i) periodic = pattern[i] == pattern[i - d];
    if (periodic) return false;
  }
  return true;
}

}  // namespace

CycleDetector::CycleDetector(uint32_t min_length, uint32_t max_length, uint32_t min_repeats,
                             size_t max_runs)
    : min_length_(std::clamp<uint32_t>(min_length, 2, kMaxCycleLength)),
      max_length_(std::clamp<uint32_t>(max_length, 2, kMaxCycleLength)),
      min_repeats_(std::max<uint32_t>(min_repeats, 2)),
      max_runs_(std::min(max_runs, kMaxRuns)) {}

void CycleDetector::Clear() {
  added_ = 0;
  periods_ = {};
  run_count_ = 0;
  dropped_ = 0;
}

void CycleDetector::Add(uint64_t digest, int64_t start_ns, uint64_t duration_ns, uint64_t seq) {
  ring_[added_ % kRing] = Item{digest, start_ns, duration_ns, seq};
  ++added_;
  const int64_t end_ns = start_ns + static_cast<int64_t>(duration_ns);
  for (uint32_t p = min_length_; p <= max_length_; ++p) {
    Period& period = periods_[p];
    if (added_ <= p || Back(0).digest != Back(p).digest) {
      if (period.matched > 0) EndRun(p);
      continue;
    }
    if (period.matched == 0) {
      // The run starts with the p statements before this one.
      const Item& first = Back(p);
      period.first_seq = first.seq;
      period.first_start_ns = first.start_ns;
      period.total_ns = 0;
      period.max_ns = 0;
      for (uint32_t k = p; k >= 1; --k) {
        const Item& item = Back(k);
        period.pattern[p - k] = item.digest;
        period.total_ns += item.duration_ns;
        period.max_ns = std::max(period.max_ns, item.duration_ns);
      }
    }
    ++period.matched;
    period.total_ns += duration_ns;
    period.max_ns = std::max(period.max_ns, duration_ns);
    period.last_end_ns = end_ns;
  }
}

void CycleDetector::Finish() {
  for (uint32_t p = min_length_; p <= max_length_; ++p) {
    if (periods_[p].matched > 0) EndRun(p);
  }
}

void CycleDetector::EndRun(uint32_t p) {
  Period& period = periods_[p];
  const uint64_t repeats = (period.matched + p) / p;
  if (repeats >= min_repeats_ && Primitive(period.pattern, p)) Keep(period, p, repeats);
  period.matched = 0;
}

void CycleDetector::Keep(const Period& period, uint32_t p, uint64_t repeats) {
  // Statements and time cover the whole run, a partial last round (the
  // loop ended mid-way) included; "repeats" counts full rounds only.
  const uint64_t statements = period.matched + p;
  for (size_t i = 0; i < run_count_; ++i) {
    CycleRun& run = runs_[i];
    if (run.length != p ||
        !std::equal(run.digests.begin(), run.digests.begin() + p, period.pattern.begin())) {
      continue;
    }
    run.repeats += repeats;
    run.statements += statements;
    run.total_ns += period.total_ns;
    run.max_ns = std::max(run.max_ns, period.max_ns);
    run.last_end_ns = std::max(run.last_end_ns, period.last_end_ns);
    return;
  }
  if (run_count_ >= max_runs_) {
    ++dropped_;
    return;
  }
  CycleRun& run = runs_[run_count_++];
  run = CycleRun{};
  std::copy(period.pattern.begin(), period.pattern.begin() + p, run.digests.begin());
  run.length = p;
  run.repeats = repeats;
  run.statements = statements;
  run.total_ns = period.total_ns;
  run.max_ns = period.max_ns;
  run.first_start_ns = period.first_start_ns;
  run.last_end_ns = period.last_end_ns;
  run.first_seq = period.first_seq;
}

}  // namespace ql::analyzer
