// One pass: every token goes to the fingerprinter and to the classifier.
#include "analyzer/statement_analyzer.h"

namespace ql::analyzer {

const StatementAnalysis& StatementAnalyzer::Analyze(std::string_view sql,
                                                    SqlDialect dialect) {
  ParseSqlCommenter(sql, &tags_);
  fingerprinter_.Begin(&fingerprint_);
  classifier_.Begin();
  SqlTokenizer tokenizer(sql, dialect);
  Token token;
  while (tokenizer.Next(&token)) {
    fingerprinter_.Feed(token);
    classifier_.Feed(token);
  }
  fingerprinter_.Finish();
  result_.classification = classifier_.Finish();
  result_.fingerprint = fingerprint_;
  result_.digest = DigestId(fingerprint_);
  result_.fingerprint_truncated = fingerprinter_.truncated();
  result_.tags = &tags_;
  return result_;
}

}  // namespace ql::analyzer
