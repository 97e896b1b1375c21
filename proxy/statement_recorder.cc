// Implementation of StatementRecorder.
#include "proxy/statement_recorder.h"

#include "absl/strings/ascii.h"

namespace ql::proxy {

void StatementIdentity::Assign(const analyzer::StatementAnalysis& a) {
  digest = a.digest;
  fingerprint.assign(a.fingerprint);
  statement_class = a.classification.statement_class;
}

StatementRecorder::StatementRecorder(const Config& config, SlowLogWriter* slow_log)
    : digests_(analyzer::DigestStatsOptions{.max_entries = size_t(config.digest_max_entries)}),
      slow_log_(slow_log),
      slow_threshold_ns_(uint64_t(config.slow_query_time_s * 1e9)),
      log_literals_(config.log_literals),
      capture_n_plus_one_(config.n_plus_one),
      read_only_routines_(&config.read_only_routines) {
  if (slow_log_) slow_log_shard_ = slow_log_->AddShard();
  // The N+1 capture's literal summary comes from the analyzer's own pass.
  analyzer_.set_summarize_literals(capture_n_plus_one_);
}

void StatementRecorder::Analyze(std::string_view sql, StatementIdentity* out,
                                analyzer::SqlDialect dialect) {
  const analyzer::StatementAnalysis& a = analyzer_.Analyze(sql, dialect);
  out->Assign(a);
  // The tags are the analyzer's until the next Analyze(): copy them now.
  if (capture_n_plus_one_) out->n_plus_one.Capture(*a.tags, a.literals);
}

void StatementRecorder::Analyze(std::string_view sql, StatementIdentity* out,
                                analyzer::Classification* classification,
                                analyzer::SqlDialect dialect) {
  const analyzer::StatementAnalysis& a = analyzer_.Analyze(sql, dialect);
  out->Assign(a);
  if (capture_n_plus_one_) out->n_plus_one.Capture(*a.tags, a.literals);
  *classification = a.classification;
  // `routine` points into `sql`: decide about it now, then drop the view.
  // Only when the one routine called is: the others were not vouched for.
  if (classification->primary_reasons.Has(analyzer::PrimaryReason::kStoredRoutine) &&
      !classification->routine.empty() && !classification->several_routines &&
      !read_only_routines_->empty()) {
    std::string name = absl::AsciiStrToLower(absl::string_view(classification->routine.data(),
                                                               classification->routine.size()));
    for (const std::string& ro : *read_only_routines_) {
      if (ro != name) continue;
      classification->primary_reasons.Remove(analyzer::PrimaryReason::kStoredRoutine);
      classification->procedural = false;  // vouched for: no side effects to pin for
      if (classification->primary_reasons.empty() &&
          classification->statement_class == analyzer::StatementClass::kPrimaryOnly) {
        classification->statement_class = analyzer::StatementClass::kRead;
      }
      break;
    }
  }
  classification->routine = {};
}

void StatementRecorder::Record(const analyzer::StatementRecord& record, std::string_view text) {
  ++statements_;
  if (log_literals_ && record.command == analyzer::CommandKind::kText) {
    // The digest table keeps the slowest statement as sent as its example.
    analyzer::StatementRecord with_text = record;
    with_text.literal_text = text;
    digests_.Record(with_text);
  } else {
    digests_.Record(record);
  }
  metrics_.OnStatement(record);
  if (slow_log_ && record.total_ns >= slow_threshold_ns_) {
    // Literals stay out of the log unless the operator asked for them.
    slow_log_->Submit(slow_log_shard_, record, log_literals_ ? text : record.fingerprint);
  }
}

}  // namespace ql::proxy
