// The analyzer's entry point for the proxy's statement path: one tokenizer
// pass over a statement feeds the fingerprinter, the classifier and, when
// asked for (the N+1 detector's input), the literal hasher; the sqlcommenter
// tags are read from the comment at either end. Everything
// lands in buffers owned by this object and reused for the next statement.
//
// Usage (one StatementAnalyzer per worker thread):
//   const StatementAnalysis& a = analyzer.Analyze(sql, dialect);
//   a.fingerprint, a.digest, a.classification, a.tags ...
// The result (and the views in it, including classification.routine, which
// points into `sql`) is valid until the next Analyze() call or until `sql`
// goes away, whichever is first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/fingerprint.h"
#include "analyzer/n_plus_one_literals.h"
#include "analyzer/sql_tokenizer.h"
#include "analyzer/sqlcommenter.h"
#include "analyzer/statement_classifier.h"

namespace ql::analyzer {

struct StatementAnalysis {
  std::string_view fingerprint;
  uint64_t digest = 0;
  bool fingerprint_truncated = false;
  Classification classification;
  const SqlCommenterTags* tags = nullptr;  // never null after Analyze()
  // The statement's literal summary (as SummarizeLiterals gives it), only
  // with set_summarize_literals(true); else zero.
  LiteralSummary literals;
};

class StatementAnalyzer {
 public:
  explicit StatementAnalyzer(FingerprintOptions options = {})
      : fingerprinter_(options) {}

  const StatementAnalysis& Analyze(std::string_view sql, SqlDialect dialect = {});

  // Also summarize the literals in the same pass (off by default: it costs
  // a few comparisons per token).
  void set_summarize_literals(bool on) { summarize_literals_ = on; }

 private:
  Fingerprinter fingerprinter_;
  LiteralHasher literal_hasher_;
  bool summarize_literals_ = false;
  StatementClassifier classifier_;
  SqlCommenterTags tags_;
  std::string fingerprint_;
  StatementAnalysis result_;
};

}  // namespace ql::analyzer
