// Implementation of WorkerMetrics and of the error-code classes.
#include "proxy/metrics_shard.h"

namespace ql::proxy {

ErrorClass ClassifyError(uint16_t code) {
  if (code >= 2000 && code <= 2999) return ErrorClass::kConnection;  // client-library codes
  if (code >= 1152 && code <= 1161) return ErrorClass::kConnection;  // aborted, net read/write
  switch (code) {
    case 1064: case 1065: case 1149: case 1295:
      return ErrorClass::kSyntax;
    case 1022: case 1062: case 1169: case 1586:
      return ErrorClass::kDuplicateKey;
    case 1213:
      return ErrorClass::kDeadlock;
    case 1205:
      return ErrorClass::kLockWaitTimeout;
    case 1044: case 1045: case 1142: case 1143: case 1211: case 1227: case 1370: case 1410:
    case 1698:
      return ErrorClass::kAccessDenied;
    case 1046: case 1049: case 1051: case 1054: case 1091: case 1109: case 1146: case 1193:
    case 1243: case 1305: case 1630:
      return ErrorClass::kUnknownObject;
    case 1048: case 1136: case 1216: case 1217: case 1264: case 1265: case 1292: case 1364:
    case 1365: case 1366: case 1367: case 1406: case 1411: case 1451: case 1452: case 1690:
    case 3819: case 4025:
      return ErrorClass::kData;
    case 1040: case 1043: case 1053: case 1129: case 1130: case 1429: case 1927:
      return ErrorClass::kConnection;
    default:
      return ErrorClass::kOther;
  }
}

std::string_view ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kSyntax: return "syntax";
    case ErrorClass::kDuplicateKey: return "duplicate_key";
    case ErrorClass::kDeadlock: return "deadlock";
    case ErrorClass::kLockWaitTimeout: return "lock_wait_timeout";
    case ErrorClass::kAccessDenied: return "access_denied";
    case ErrorClass::kUnknownObject: return "unknown_object";
    case ErrorClass::kData: return "data";
    case ErrorClass::kConnection: return "connection";
    case ErrorClass::kOther: break;
  }
  return "other";
}

void WorkerMetrics::OnStatement(const analyzer::StatementRecord& r) {
  const size_t role = size_t(r.backend_role) < size_t(kRoleCount) ? size_t(r.backend_role) : 0;
  const size_t cls = size_t(r.statement_class) < size_t(kStatementClassCount)
                         ? size_t(r.statement_class)
                         : size_t(analyzer::StatementClass::kUnknown);
  statements_[role][cls].Record(r.total_ns);
  pool_wait_[role].Record(r.pool_wait_ns);
  if (r.error_code != 0) ++errors_[size_t(ClassifyError(r.error_code))];
  rows_sent_[role] += r.rows_sent;
  rows_affected_[role] += r.rows_affected;
  bytes_to_clients_ += r.bytes_sent;
  bytes_from_clients_ += r.bytes_received;
}

void WorkerMetrics::BackendConnectFailed(std::string_view backend) {
  for (auto& [name, count] : connect_failures_) {
    if (name == backend) {
      ++count;
      return;
    }
  }
  connect_failures_.emplace_back(std::string(backend), 1);
}

std::string_view CausalReadOutcomeName(CausalReadOutcome o) {
  switch (o) {
    case CausalReadOutcome::kReplica: return "replica";
    case CausalReadOutcome::kTimeout: return "timeout";
    case CausalReadOutcome::kNoGtid: return "no_gtid";
    case CausalReadOutcome::kError: return "error";
  }
  return "unknown";
}

std::string_view LoginFailureName(LoginFailure f) {
  switch (f) {
    case LoginFailure::kAccessDenied: return "access_denied";
    case LoginFailure::kHandshake: return "handshake";
    case LoginFailure::kBackend: return "backend";
  }
  return "unknown";
}

void WorkerMetrics::NPlusOneDecision(const analyzer::FindingHead& f,
                                     analyzer::ReportDecision d) {
  ++n_plus_one_decisions_[size_t(d)];
  if (d != analyzer::ReportDecision::kReport && d != analyzer::ReportDecision::kSuppressed) return;
  ++n_plus_one_findings_[size_t(f.kind)][size_t(f.confidence)];
  // Too many statements is a count of the unit, not of repeats.
  if (f.kind == analyzer::FindingKind::kTooManyStatements) return;
  n_plus_one_statements_[size_t(f.kind)] += f.statements;
  n_plus_one_ns_[size_t(f.kind)] += f.total_ns;
}

void WorkerMetrics::Merge(const WorkerMetrics& other) {
  for (size_t role = 0; role < statements_.size(); ++role) {
    for (size_t cls = 0; cls < statements_[role].size(); ++cls) {
      statements_[role][cls].Merge(other.statements_[role][cls]);
    }
    pool_wait_[role].Merge(other.pool_wait_[role]);
    rows_sent_[role] += other.rows_sent_[role];
    rows_affected_[role] += other.rows_affected_[role];
  }
  for (size_t i = 0; i < errors_.size(); ++i) errors_[i] += other.errors_[i];
  bytes_to_clients_ += other.bytes_to_clients_;
  bytes_from_clients_ += other.bytes_from_clients_;
  client_connections_total_ += other.client_connections_total_;
  client_connections_current_ += other.client_connections_current_;
  for (size_t i = 0; i < pins_.size(); ++i) pins_[i] += other.pins_[i];
  for (size_t t = 0; t < routes_.size(); ++t) {
    for (size_t i = 0; i < routes_[t].size(); ++i) routes_[t][i] += other.routes_[t][i];
  }
  read_retries_ += other.read_retries_;
  for (size_t i = 0; i < causal_reads_.size(); ++i) causal_reads_[i] += other.causal_reads_[i];
  for (size_t i = 0; i < login_failures_.size(); ++i) {
    login_failures_[i] += other.login_failures_[i];
  }
  for (size_t k = 0; k < n_plus_one_findings_.size(); ++k) {
    for (size_t c = 0; c < n_plus_one_findings_[k].size(); ++c) {
      n_plus_one_findings_[k][c] += other.n_plus_one_findings_[k][c];
    }
    n_plus_one_statements_[k] += other.n_plus_one_statements_[k];
    n_plus_one_ns_[k] += other.n_plus_one_ns_[k];
  }
  for (size_t i = 0; i < n_plus_one_decisions_.size(); ++i) {
    n_plus_one_decisions_[i] += other.n_plus_one_decisions_[i];
  }
  for (const auto& [name, count] : other.connect_failures_) {
    bool found = false;
    for (auto& [mine, total] : connect_failures_) {
      if (mine == name) {
        total += count;
        found = true;
        break;
      }
    }
    if (!found) connect_failures_.emplace_back(name, count);
  }
}

}  // namespace ql::proxy
