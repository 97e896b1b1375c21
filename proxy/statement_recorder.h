// StatementRecorder: a worker's sink for finished statements. It owns the
// worker's analyzer (fingerprint, digest, class in one pass), digest
// statistics and metrics shard (WorkerMetrics), and hands slow statements to
// the process's SlowLogWriter. Only its worker thread touches it; readers
// (the admin thread) get copies made on that thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/digest_stats.h"
#include "analyzer/statement_analyzer.h"
#include "analyzer/statement_record.h"
#include "proxy/config.h"
#include "proxy/metrics_shard.h"
#include "proxy/n_plus_one_capture.h"
#include "proxy/slow_log_writer.h"

namespace ql::proxy {

// What a session keeps about the statement it is running: copied out of the
// analyzer at once, since another session on the worker may analyze next.
struct StatementIdentity {
  uint64_t digest = 0;
  std::string fingerprint;  // reused buffer: no allocation once warm
  analyzer::StatementClass statement_class = analyzer::StatementClass::kUnknown;
  // For the N+1 detector (only with --n-plus-one on): literal summary and
  // call site. For a prepared statement, the prepared text's (the bound
  // values are added after the response, from the execute packet).
  NPlusOneCapture n_plus_one;

  void Assign(const analyzer::StatementAnalysis& a);
};

class StatementRecorder {
 public:
  StatementRecorder(const Config& config, SlowLogWriter* slow_log);

  // With --n-plus-one on, also fills out->n_plus_one. `dialect`: how the
  // session's sql_mode reads quotes and backslashes.
  void Analyze(std::string_view sql, StatementIdentity* out, analyzer::SqlDialect dialect = {});
  // Also the full classification, with --read-only-routine applied.
  void Analyze(std::string_view sql, StatementIdentity* out,
               analyzer::Classification* classification, analyzer::SqlDialect dialect = {});
  // `text` is the statement as sent, shown in the slow log only with --log-literals.
  void Record(const analyzer::StatementRecord& record, std::string_view text);

  const analyzer::DigestStatsTable& digests() const { return digests_; }
  uint64_t statements() const { return statements_; }
  // The worker's metrics shard; also counts connections and backend failures.
  WorkerMetrics& metrics() { return metrics_; }
  const WorkerMetrics& metrics() const { return metrics_; }

 private:
  analyzer::StatementAnalyzer analyzer_;
  analyzer::DigestStatsTable digests_;
  WorkerMetrics metrics_;
  SlowLogWriter* slow_log_;  // null when no --slow-log
  SlowLogWriter::Shard* slow_log_shard_ = nullptr;  // this worker's queue
  uint64_t slow_threshold_ns_;
  bool log_literals_;
  uint64_t statements_ = 0;
  bool capture_n_plus_one_;
  const std::vector<std::string>* read_only_routines_;  // lower-case, from the config
};

}  // namespace ql::proxy
