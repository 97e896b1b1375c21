// WorkerMetrics: one worker's share of the proxy's Prometheus counters and
// histograms. Each worker owns one (inside its StatementRecorder) and updates
// it with plain, unsynchronized arithmetic on its own thread; nothing on the
// statement path is shared with another worker. The admin thread never reads
// a shard in place: it asks the worker, on the worker's thread, for a copy
// (see admin_api_collect.h), and adds the copies up with Merge().
//
// The label sets are fixed and small (backend role x statement class, nine
// error classes), so the number of series a shard can produce is bounded by
// construction. Metrics that later issues bring (routing decisions, pins,
// replica lag, N+1 findings) get their own fields here, recorded the same way,
// and their own families in metrics_exposition.cc.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzer/latency_histogram.h"
#include "analyzer/n_plus_one_finding.h"
#include "analyzer/n_plus_one_reporter.h"
#include "analyzer/statement_classifier.h"
#include "analyzer/statement_record.h"
#include "proxy/route_planner.h"

namespace ql::proxy {

inline constexpr int kStatementClassCount = int(analyzer::StatementClass::kUnknown) + 1;
inline constexpr int kRoleCount = analyzer::kBackendRoleCount;

// What kind of failure an ERR packet reports, for
// querylens_statement_errors_total{class}. The mapping from MySQL/MariaDB
// error codes (ClassifyError, metrics_shard.cc) is:
//   syntax             1064 parse error, 1065 empty query, 1149 syntax error,
//                      1295 not supported in the prepared statement protocol
//   duplicate_key      1022, 1062, 1169, 1586 (duplicate entry / key)
//   deadlock           1213
//   lock_wait_timeout  1205
//   access_denied      1044, 1045, 1142, 1143, 1227, 1370, 1698;
//                      1211 (may not create users), 1410 (not allowed to GRANT)
//   unknown_object     1046 no database selected, 1049 unknown database,
//                      1051 unknown table, 1054 unknown column, 1091 can't drop
//                      (no such column/key), 1109 unknown table, 1146 no such
//                      table, 1193 unknown system variable, 1305 no such
//                      routine, 1243 unknown prepared statement handler,
//                      1630 function does not exist
//   data               1048 column cannot be null, 1136 value count mismatch,
//                      1216/1217/1451/1452 foreign key violations, 1264 out of
//                      range, 1265 truncated, 1292 incorrect value, 1364 no
//                      default, 1365 division by 0, 1366 incorrect value for
//                      column, 1367 illegal value, 1406 data too long, 1411
//                      wrong value for type, 1690 value out of range, 3819
//                      and 4025 CHECK constraint violated
//   connection         1040 too many connections, 1043 bad handshake, 1053
//                      server shutdown, 1129/1130 host blocked / not allowed,
//                      1152-1161 aborted connection and network errors, 1429
//                      can't connect (the proxy's backend-unreachable error),
//                      1927 connection killed (the proxy's backend-lost error),
//                      and every client-library code 2000-2999
//   other              everything else (including 1317 interrupted, 1290
//                      read-only, 1969 max_statement_time exceeded)
enum class ErrorClass : uint8_t {
  kSyntax,
  kDuplicateKey,
  kDeadlock,
  kLockWaitTimeout,
  kAccessDenied,
  kUnknownObject,
  kData,
  kConnection,
  kOther,
};
inline constexpr int kErrorClassCount = int(ErrorClass::kOther) + 1;

// What became of a read that had to wait for the session's last write
// (--causal-reads), for querylens_causal_reads_total{outcome}.
enum class CausalReadOutcome : uint8_t {
  kReplica,  // the replica caught up within the timeout and served it
  kTimeout,  // it did not: the primary served it
  kNoGtid,   // the write's GTID was unknown: the primary served it
  kError,    // the wait failed: the primary served it
};
inline constexpr int kCausalReadOutcomeCount = 4;
std::string_view CausalReadOutcomeName(CausalReadOutcome o);

// Why a client's login (handshake or COM_CHANGE_USER) failed, for
// querylens_client_login_failures_total{reason}.
enum class LoginFailure : uint8_t {
  kAccessDenied,  // unknown user or wrong password (ERR 1045), or TLS required (3159)
  kHandshake,     // not a MySQL handshake, malformed, TLS failed, or the client left / timed out
  kBackend,       // the server refused the session (unknown database, 1044) or was down
};
inline constexpr int kLoginFailureCount = 3;
std::string_view LoginFailureName(LoginFailure f);

ErrorClass ClassifyError(uint16_t code);
std::string_view ErrorClassName(ErrorClass c);  // "syntax", "duplicate_key", ...

class WorkerMetrics {
 public:
  // Plain value: copied out to the admin thread and merged there.
  WorkerMetrics() = default;

  // One finished statement (called by StatementRecorder::Record).
  void OnStatement(const analyzer::StatementRecord& r);

  // Client connections, counted by the worker's accept loop (server.cc).
  void ClientConnected() {
    ++client_connections_total_;
    ++client_connections_current_;
  }
  void ClientDisconnected() { --client_connections_current_; }
  void LoginFailed(LoginFailure f) { ++login_failures_[size_t(f)]; }
  uint64_t login_failures(LoginFailure f) const { return login_failures_[size_t(f)]; }

  // A backend connection attempt that failed (connect, TLS or login), by the
  // backend's "host:port". The set of backends is fixed by the configuration,
  // so this stays a handful of entries.
  void BackendConnectFailed(std::string_view backend);

  // Routing: a session pinned to the primary (once per reason and session),
  // a replica read retried on the primary, a causal read's outcome.
  void SessionPinned(PinReason r) { ++pins_[size_t(r)]; }
  void Routed(const RouteChoice& c) { ++routes_[c.replica ? 1 : 0][size_t(c.reason)]; }
  uint64_t routes(bool replica, RouteReason r) const { return routes_[replica ? 1 : 0][size_t(r)]; }
  void ReadRetried() { ++read_retries_; }
  void CausalRead(CausalReadOutcome o) { ++causal_reads_[size_t(o)]; }
  uint64_t pins(PinReason r) const { return pins_[size_t(r)]; }
  uint64_t read_retries() const { return read_retries_; }
  uint64_t causal_reads(CausalReadOutcome o) const { return causal_reads_[size_t(o)]; }

  // N+1 findings (n_plus_one_sink.cc): every finding is counted by the
  // reporter's decision; reported and suppressed (deduplicated) ones by kind
  // and confidence, with the statements and time of their repeats.
  void NPlusOneDecision(const analyzer::FindingHead& f, analyzer::ReportDecision d);
  uint64_t n_plus_one_findings(analyzer::FindingKind k, analyzer::Confidence c) const {
    return n_plus_one_findings_[size_t(k)][size_t(c)];
  }
  uint64_t n_plus_one_statements(analyzer::FindingKind k) const {
    return n_plus_one_statements_[size_t(k)];
  }
  uint64_t n_plus_one_ns(analyzer::FindingKind k) const { return n_plus_one_ns_[size_t(k)]; }
  uint64_t n_plus_one_decisions(analyzer::ReportDecision d) const {
    return n_plus_one_decisions_[size_t(d)];
  }

  void Merge(const WorkerMetrics& other);

  const analyzer::LatencyHistogram& statements(analyzer::BackendRole role,
                                               analyzer::StatementClass c) const {
    return statements_[size_t(role)][size_t(c)];
  }
  const analyzer::LatencyHistogram& pool_wait(analyzer::BackendRole role) const {
    return pool_wait_[size_t(role)];
  }
  uint64_t errors(ErrorClass c) const { return errors_[size_t(c)]; }
  uint64_t rows_sent(analyzer::BackendRole role) const { return rows_sent_[size_t(role)]; }
  uint64_t rows_affected(analyzer::BackendRole role) const {
    return rows_affected_[size_t(role)];
  }
  uint64_t bytes_to_clients() const { return bytes_to_clients_; }
  uint64_t bytes_from_clients() const { return bytes_from_clients_; }
  uint64_t client_connections_total() const { return client_connections_total_; }
  int64_t client_connections_current() const { return client_connections_current_; }
  const std::vector<std::pair<std::string, uint64_t>>& connect_failures() const {
    return connect_failures_;
  }

 private:
  // Latency of every statement by the role that answered it and its class;
  // the histogram's count is the statement counter.
  std::array<std::array<analyzer::LatencyHistogram, kStatementClassCount>, kRoleCount>
      statements_{};
  std::array<analyzer::LatencyHistogram, kRoleCount> pool_wait_{};
  std::array<uint64_t, kErrorClassCount> errors_{};
  std::array<uint64_t, kRoleCount> rows_sent_{};
  std::array<uint64_t, kRoleCount> rows_affected_{};
  uint64_t bytes_to_clients_ = 0;
  uint64_t bytes_from_clients_ = 0;
  uint64_t client_connections_total_ = 0;
  int64_t client_connections_current_ = 0;
  std::array<uint64_t, kLoginFailureCount> login_failures_{};
  std::vector<std::pair<std::string, uint64_t>> connect_failures_;  // backend -> count
  std::array<uint64_t, kPinReasonCount> pins_{};
  std::array<std::array<uint64_t, kRouteReasonCount>, 2> routes_{};  // [replica][reason]
  uint64_t read_retries_ = 0;
  std::array<uint64_t, kCausalReadOutcomeCount> causal_reads_{};
  std::array<std::array<uint64_t, analyzer::kConfidenceCount>, analyzer::kFindingKindCount>
      n_plus_one_findings_{};
  std::array<uint64_t, analyzer::kFindingKindCount> n_plus_one_statements_{};
  std::array<uint64_t, analyzer::kFindingKindCount> n_plus_one_ns_{};
  std::array<uint64_t, 4> n_plus_one_decisions_{};  // by ReportDecision
};

}  // namespace ql::proxy
