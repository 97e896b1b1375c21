// One pass: every token goes to the fingerprinter, the classifier and, when
// asked for, the literal hasher.
#include "analyzer/statement_analyzer.h"

namespace ql::analyzer {

const StatementAnalysis& StatementAnalyzer::Analyze(std::string_view sql,
                                                    SqlDialect dialect) {
  ParseSqlCommenter(sql, &tags_);
  fingerprinter_.Begin(&fingerprint_);
  classifier_.Begin();
  SqlTokenizer tokenizer(sql, dialect);
  Token token;
  if (summarize_literals_) {
    literal_hasher_.Begin();
    while (tokenizer.Next(&token)) {
      fingerprinter_.Feed(token);
      classifier_.Feed(token);
      literal_hasher_.Feed(token);
    }
    result_.literals = literal_hasher_.Finish();
  } else {
    while (tokenizer.Next(&token)) {
      fingerprinter_.Feed(token);
      classifier_.Feed(token);
    }
    result_.literals = LiteralSummary{};
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
