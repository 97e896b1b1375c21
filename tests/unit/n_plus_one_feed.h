// NPlusOneFeed: how the N+1 tests run SQL text into a detector: analyze the
// text, fill the statement record with the server's answer, and build the
// detector's input with MakeNPlusOneInput (which the proxy's worker uses
// too, with the literals and call site it captured). One copy, so that every
// test follows a change to that path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/n_plus_one_detector.h"
#include "analyzer/n_plus_one_input.h"
#include "analyzer/n_plus_one_literals.h"
#include "analyzer/statement_analyzer.h"
#include "analyzer/statement_record.h"

namespace ql::analyzer::testutil {

// What the server answered, and how long the statement took.
struct Answer {
  uint64_t rows_sent = 1;
  uint64_t rows_affected = 0;
  uint16_t error_code = 0;
  uint64_t total_ns = 300'000;
};

class NPlusOneFeed {
 public:
  // Identity every statement carries (schema, user, session, backend).
  StatementRecord base;

  // The detector's input for `sql`, starting at `start_ns` (monotonic). Its
  // views point into this feed's analyzer: use it before the next call.
  NPlusOneInput Input(const std::string& sql, const Answer& answer, int64_t start_ns) {
    const StatementAnalysis& a = analyzer_.Analyze(sql);
    StatementRecord r = base;
    r.digest = a.digest;
    r.fingerprint = a.fingerprint;
    r.statement_class = a.classification.statement_class;
    r.rows_sent = answer.rows_sent;
    r.rows_affected = answer.rows_affected;
    r.error_code = answer.error_code;
    r.total_ns = answer.total_ns;
    return MakeNPlusOneInput(r, *a.tags, SummarizeLiterals(sql), start_ns);
  }

  // `detector` observes `sql`; returns when the statement ended.
  int64_t Observe(NPlusOneDetector& detector, const std::string& sql, const Answer& answer,
                  int64_t start_ns, std::vector<NPlusOneFinding>* out) {
    const NPlusOneInput in = Input(sql, answer, start_ns);
    detector.Observe(in, out);
    return in.end_ns();
  }

  StatementAnalyzer& analyzer() { return analyzer_; }

 private:
  StatementAnalyzer analyzer_;
};

}  // namespace ql::analyzer::testutil
