// The finding rules, applied to a closed unit of work. All thresholds come
// from NPlusOneOptions; the defaults are those of issue 5.
//
//  n_plus_one      a plain read (not a locking read) with >= min_repeats
//                  executions, >= min_distinct_values distinct filter value
//                  sets (pages of one query are one set), and either
//                  >= min_total_ns in total or >= min_repeats_fast
//                  executions; not batch work (statements with >=
//                  batch_min_literals literals, e.g. IN-list chunks, or more
//                  than batch_max_avg_rows rows on average).
//  duplicate       a plain read whose exact value set ran >= min_duplicates
//                  times; reported next to an n_plus_one of the same
//                  statement (the fix differs: reuse, not batch).
//  repeated_cycle  a primitive sequence of min..max_cycle_length statements
//                  run >= min_cycle_repeats times back to back, passing the
//                  time gate (min_total_ns, or min_repeats_fast statements),
//                  with some member reading per-object values (more than one
//                  distinct value set).
//  write_loop      (detect_write_loops) a single-row INSERT/UPDATE/DELETE
//                  with >= min_repeats executions passing the time gate.
//  too_many_statements  more than max_unit_statements statements, listing
//                  the top_fingerprints most repeated.
//
// The parent of a repeated statement is the read that ran just before its
// first execution. When that read returned at most one row and itself
// repeats (the previous lookup of the same loop, e.g. the category lookup
// before the first tag lookup), the parent's own parent is taken instead,
// up to 8 steps: a one-row lookup cannot be what the loop iterates. The
// parent's rows are its rows summed over the unit (a parent that is itself
// a loop, like the items of each order, fed all its rows to the inner loop).
// Confidence: see n_plus_one_finding.h.
#pragma once

#include <vector>

#include "analyzer/n_plus_one_cycles.h"
#include "analyzer/n_plus_one_finding.h"
#include "analyzer/n_plus_one_options.h"
#include "analyzer/n_plus_one_unit.h"
#include "analyzer/n_plus_one_unit_table.h"

namespace ql::analyzer {

struct ClosedUnit {
  const NPlusOneOptions& options;
  const UnitTracker& unit;
  const UnitTable& table;
  const CycleDetector& cycles;  // Finish() already called
};

// Appends the unit's findings to *out in a stable order: per fingerprint in
// order of first execution (n_plus_one, duplicate, write_loop), then cycles,
// then too_many_statements. Silenced findings are included, marked.
// `gate` (may be null) is asked before each finding is built and may take
// it over (FindingGate). `order` is scratch owned by the caller, so that a
// unit without findings, or with only findings the gate takes, allocates
// nothing once the scratch has grown to the table's size.
void EvaluateUnit(const ClosedUnit& closed, FindingGate* gate,
                  std::vector<const FingerprintEntry*>* order, std::vector<NPlusOneFinding>* out);

}  // namespace ql::analyzer
