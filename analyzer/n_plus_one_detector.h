// The N+1 detector of one client session: statements go in as they finish,
// findings come out when a unit of work closes. Pure logic, one object per
// session, driven from the session's own worker thread (no locks, no I/O,
// no clock: every time is passed in).
//
// Flow per statement (Observe):
//   1. if the statement cannot join the open unit (n_plus_one_unit.h: trace
//      id / route change, idle gap, age), the unit closes and its findings
//      (n_plus_one_rules.h) are appended to *out, then a new unit starts;
//   2. the statement is counted in the unit and, unless it is session or
//      transaction control, in the unit's fingerprint table
//      (n_plus_one_unit_table.h), which also records parents;
//   3. plain reads (and single-row writes when write loops are on) feed the
//      cycle detector (n_plus_one_cycles.h).
// Reset() is COM_RESET_CONNECTION / COM_CHANGE_USER; Close() the end of the
// session; Poll(now) lets a timer close a unit that went idle, so the last
// request on a persistent connection reports without waiting for the next.
//
// Findings still need the reporter (n_plus_one_reporter.h: allow-list,
// silencing, deduplication across sessions) before they are logged.
//
// Memory per session is bounded whatever the traffic: the fingerprint table
// has max_fingerprints_per_unit slots of a fixed-size record (about 0.7 KB)
// plus its text (at most max_text_bytes, whose buffer may keep up to twice
// that), the cycle detector is fixed-size (3.6 KB), and the unit keeps a few
// call-site strings of at most max_tag_bytes. With the defaults that is at
// most about 220 KB, reached only by a unit with 128 distinct long
// statements; a request with 20 statement shapes uses about 30 KB. A new
// unit reuses the last one's table: no allocation per statement or per
// unit, unless a finding is built. A session that ran no statement for
// release_idle_ns gives the table back at its next Poll, so an idle
// session holds about 5 KB.
// ApproximateMemoryBytes() reports the current figure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "analyzer/n_plus_one_cycles.h"
#include "analyzer/n_plus_one_finding.h"
#include "analyzer/n_plus_one_input.h"
#include "analyzer/n_plus_one_options.h"
#include "analyzer/n_plus_one_unit.h"
#include "analyzer/n_plus_one_unit_table.h"

namespace ql::analyzer {

class NPlusOneDetector {
 public:
  // `gate` (may be null; must outlive the detector) is asked before each
  // finding is built (FindingGate): the proxy's sink lets the reporter drop
  // repeats it would only count, so they cost no allocation.
  explicit NPlusOneDetector(const NPlusOneOptions& options = {}, FindingGate* gate = nullptr);
  NPlusOneDetector(const NPlusOneDetector&) = delete;
  NPlusOneDetector& operator=(const NPlusOneDetector&) = delete;

  // One finished statement of this session.
  void Observe(const NPlusOneInput& in, std::vector<NPlusOneFinding>* out);
  // COM_RESET_CONNECTION or COM_CHANGE_USER: the open unit ends.
  void Reset(std::vector<NPlusOneFinding>* out);
  // Closes the open unit if it is idle or too old at `now_ns` (monotonic);
  // gives the table's memory back once the session has been idle for
  // release_idle_ns.
  void Poll(int64_t now_ns, std::vector<NPlusOneFinding>* out);
  // The session ended.
  void Close(std::vector<NPlusOneFinding>* out);

  const NPlusOneOptions& options() const { return options_; }
  bool unit_open() const { return unit_.open(); }
  // Whether Poll has anything to do: a unit to close or memory to give back.
  bool wants_poll() const { return unit_.open() || holds_memory_; }
  uint64_t units_started() const { return unit_.units_started(); }
  // Why the open (or last) unit started, and why the last one closed.
  UnitBoundary unit_started_by() const { return unit_.started_by(); }
  UnitBoundary last_close_reason() const { return last_close_; }
  uint64_t unit_statements() const { return unit_.statements(); }
  size_t tracked_fingerprints() const { return table_.size(); }
  uint64_t untracked_statements() const { return table_.untracked(); }

  size_t ApproximateMemoryBytes() const;

 private:
  void CloseUnit(UnitBoundary why, std::vector<NPlusOneFinding>* out);

  NPlusOneOptions options_;
  UnitTracker unit_;
  UnitTable table_;
  CycleDetector cycles_;
  FindingGate* gate_;
  std::vector<const FingerprintEntry*> order_;  // the rules' scratch, reused
  UnitBoundary last_close_ = UnitBoundary::kNone;
  bool holds_memory_ = false;  // the table has slots to give back
};

}  // namespace ql::analyzer
