// Implementation of StatementRecorder.
#include "proxy/statement_recorder.h"

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
      log_literals_(config.log_literals) {}

void StatementRecorder::Analyze(std::string_view sql, StatementIdentity* out) {
  out->Assign(analyzer_.Analyze(sql));
}

void StatementRecorder::Record(const analyzer::StatementRecord& record, std::string_view text) {
  ++statements_;
  digests_.Record(record);
  metrics_.OnStatement(record);
  if (slow_log_ && record.total_ns >= slow_threshold_ns_) {
    // Literals stay out of the log unless the operator asked for them.
    slow_log_->Submit(record, log_literals_ ? text : record.fingerprint);
  }
}

}  // namespace ql::proxy
