// One N+1 detector finding: what repeated, how often and for how long, the
// statement whose rows drove the loop (the parent), where in the application
// it happened (sqlcommenter call site) and what to change. A plain value that
// owns its strings: it outlives the session's buffers and the unit of work
// it came from. Formatting is in n_plus_one_format.h, deduplication and the
// allow-list in n_plus_one_reporter.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/statement_record.h"

namespace ql::analyzer {

enum class FindingKind : uint8_t {
  kNPlusOne,           // one plain read per object, with different values
  kDuplicate,          // the same read with exactly the same values, again
  kRepeatedCycle,      // a sequence of 2..8 statements repeated per object
  kWriteLoop,          // single-row INSERT/UPDATE/DELETE per object (opt-in)
  kTooManyStatements,  // the unit ran more statements than allowed
};
inline constexpr int kFindingKindCount = 5;

// high: the parent returned at least as many rows as there were repeats
//       (each repeat can be one of its rows: the textbook loop), and always
//       for duplicates and too-many (those are counted facts);
// medium: the parent returned several rows, but fewer than the repeats
//       (nested loops, or several lookups per row);
// low: no parent in the unit, or it returned at most one row (the objects
//       came from somewhere the proxy did not see: a cache, a previous unit).
enum class Confidence : uint8_t { kLow, kMedium, kHigh };
inline constexpr int kConfidenceCount = 3;

constexpr std::string_view FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kNPlusOne: return "n_plus_one";
    case FindingKind::kDuplicate: return "duplicate";
    case FindingKind::kRepeatedCycle: return "repeated_cycle";
    case FindingKind::kWriteLoop: return "write_loop";
    case FindingKind::kTooManyStatements: return "too_many_statements";
  }
  return "unknown";
}

constexpr std::string_view ConfidenceName(Confidence c) {
  switch (c) {
    case Confidence::kHigh: return "high";
    case Confidence::kMedium: return "medium";
    case Confidence::kLow: break;
  }
  return "low";
}

// A fingerprint listed with a finding: the members of a repeated cycle (in
// cycle order), or the most repeated fingerprints of a too-many unit.
struct RelatedFingerprint {
  uint64_t digest = 0;
  uint64_t count = 0;  // executions in the unit
  std::string text;    // masked; "" when the unit could not keep it
};

struct NPlusOneFinding {
  FindingKind kind = FindingKind::kNPlusOne;
  Confidence confidence = Confidence::kLow;

  // Repetition. count: executions of the fingerprint in the unit (cycles:
  // full repetitions of the sequence; too-many: statements in the unit).
  uint64_t count = 0;
  uint64_t statements = 0;          // statements behind `count` (cycles: count x length)
  uint64_t distinct_values = 0;     // distinct value sets (pages of one query count once)
  bool distinct_estimated = false;  // more sets than tracked exactly; an estimate
  uint64_t max_identical = 0;       // most executions with exactly the same values
  uint64_t rows_sent = 0;           // by the repeated statements, summed

  // Time (monotonic ns): first start to last end, and the repeats' durations.
  int64_t first_start_ns = 0;
  int64_t last_end_ns = 0;
  uint64_t total_ns = 0;
  uint64_t max_ns = 0;
  uint64_t unit_db_ns = 0;  // all statements of the unit
  uint64_t unit_statements = 0;

  // The repeated statement (too-many: the most repeated one).
  uint64_t digest = 0;
  std::string fingerprint;
  std::vector<std::string> tables;  // tables it reads or writes (allow-list)

  // The statement that preceded the repeats with a different fingerprint.
  bool has_parent = false;
  uint64_t parent_digest = 0;
  std::string parent_fingerprint;
  uint64_t parent_rows = 0;

  // Where.
  BackendRole backend = BackendRole::kNone;
  bool backend_mixed = false;  // the repeats went to both primary and replica
  std::string schema;
  std::string user;
  uint64_t session_id = 0;
  std::string route;
  std::string controller;
  std::string framework;
  std::string action;
  std::string app_name;
  std::string traceparent;

  std::string suggestion;  // worded as a suggestion; "" when none applies
  std::vector<RelatedFingerprint> related;

  // Set along the way: the call site carried querylens_ignore (the
  // reporter drops it), and how many equal findings the reporter held back
  // since the last one it let through.
  bool silenced = false;
  uint64_t suppressed = 0;

  uint64_t span_ns() const {
    return last_end_ns > first_start_ns ? static_cast<uint64_t>(last_end_ns - first_start_ns) : 0;
  }
  uint64_t avg_ns() const { return statements == 0 ? 0 : total_ns / statements; }
  // Share of the unit's database time spent in the repeats, 0..1.
  double unit_share() const {
    return unit_db_ns == 0 ? 0.0 : static_cast<double>(total_ns) / static_cast<double>(unit_db_ns);
  }
};

// What deduplication and the metrics need of a finding, known before any of
// its text is copied: the rules build this first, so that a finding the
// reporter would only count costs no allocation (FindingGate).
struct FindingHead {
  FindingKind kind = FindingKind::kNPlusOne;
  Confidence confidence = Confidence::kLow;
  uint64_t statements = 0;
  uint64_t total_ns = 0;
  bool silenced = false;
  uint64_t digest = 0;
  bool has_parent = false;
  uint64_t parent_digest = 0;
  // The call site; views into the unit (or the finding) it came from.
  std::string_view route;
  std::string_view controller;
  std::string_view action;
  std::string_view app_name;
};

FindingHead HeadOf(const NPlusOneFinding& f);

// Asked by the rules (EvaluateUnit) before a finding is built. Skip()
// returning true means the gate has fully dealt with the finding (counted
// it as a repeat within the deduplication interval), so it is not built.
class FindingGate {
 public:
  virtual bool Skip(const FindingHead& head) = 0;

 protected:
  ~FindingGate() = default;
};

}  // namespace ql::analyzer
