// Per-session N+1 detector: routes statements into units, tables and the
// cycle detector, and evaluates a unit when it closes.
#include "analyzer/n_plus_one_detector.h"

#include "analyzer/n_plus_one_rules.h"

namespace ql::analyzer {

NPlusOneDetector::NPlusOneDetector(const NPlusOneOptions& options, FindingGate* gate)
    : options_(options),
      unit_(options_),
      table_(options_.max_fingerprints_per_unit, options_.max_text_bytes),
      cycles_(options_.min_cycle_length, options_.max_cycle_length, options_.min_cycle_repeats,
              options_.max_cycles_per_unit),
      gate_(gate) {}

void NPlusOneDetector::Observe(const NPlusOneInput& in, std::vector<NPlusOneFinding>* out) {
  const UnitBoundary boundary = unit_.BoundaryBefore(in);
  if (boundary != UnitBoundary::kNone) {
    if (unit_.open()) CloseUnit(boundary, out);
    // After Reset() or Poll() closed the unit, that is why this one starts.
    const bool first = boundary == UnitBoundary::kFirst && last_close_ != UnitBoundary::kNone;
    unit_.Start(in, first ? last_close_ : boundary);
  }
  const uint64_t seq = unit_.Add(in);
  holds_memory_ = true;
  const NPlusOneRole role = RoleOf(in);
  if (role == NPlusOneRole::kIgnored) return;
  table_.Add(in, role, seq);
  const bool loop_member = role == NPlusOneRole::kPlainRead ||
                           (role == NPlusOneRole::kSingleRowWrite && options_.detect_write_loops);
  if (loop_member) cycles_.Add(in.digest, in.start_ns, in.duration_ns, seq);
}

void NPlusOneDetector::Reset(std::vector<NPlusOneFinding>* out) {
  if (unit_.open()) CloseUnit(UnitBoundary::kReset, out);
}

void NPlusOneDetector::Poll(int64_t now_ns, std::vector<NPlusOneFinding>* out) {
  const UnitBoundary boundary = unit_.BoundaryAt(now_ns);
  if (boundary != UnitBoundary::kNone) CloseUnit(boundary, out);
  // The tracker keeps the last statement's end after the unit closed.
  if (holds_memory_ && !unit_.open() &&
      now_ns - unit_.last_end_ns() >= options_.release_idle_ns) {
    table_.Release();
    std::vector<const FingerprintEntry*>().swap(order_);
    holds_memory_ = false;
  }
}

void NPlusOneDetector::Close(std::vector<NPlusOneFinding>* out) {
  if (unit_.open()) CloseUnit(UnitBoundary::kSessionEnd, out);
}

void NPlusOneDetector::CloseUnit(UnitBoundary why, std::vector<NPlusOneFinding>* out) {
  cycles_.Finish();
  EvaluateUnit(ClosedUnit{options_, unit_, table_, cycles_}, gate_, &order_, out);
  unit_.Close();
  // The slots stay for the next unit; Poll gives them back once the
  // session has been idle for long.
  table_.Clear();
  cycles_.Clear();
  last_close_ = why;
}

size_t NPlusOneDetector::ApproximateMemoryBytes() const {
  return sizeof(*this) - sizeof(unit_) - sizeof(table_) + unit_.MemoryBytes() +
         table_.MemoryBytes() + order_.capacity() * sizeof(order_[0]);
}

}  // namespace ql::analyzer
