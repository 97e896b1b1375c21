// SnapshotCollector: how the admin thread reads the workers' state without a
// lock on the statement path. For each worker it posts a handler to the
// worker's io_context; the handler runs on the worker's own thread, copies
// the metrics shard, the digest table and the session registry into a report
// the handler shares with the collector, and fulfils a promise. The admin
// thread (which may block: it serves only operators) waits for all the
// promises until one common deadline, then merges the reports.
//
// A worker that does not answer in time (busy for seconds, or stopping) is
// left out of the sessions of that answer; for counters and digests, its last
// good report is used instead so that Prometheus counters never go backwards.
// Its handler still runs later and writes only into its own shared report.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/digest_stats.h"
#include "proxy/asio.h"
#include "proxy/metrics_shard.h"
#include "proxy/worker_context.h"

namespace ql::proxy {

// One live client session, as /api/sessions shows it.
struct SessionReport {
  int worker = 0;
  uint32_t id = 0;
  std::string user;  // "" before login
  std::string client_address;
  std::string schema;
  int64_t connected_ns = 0;
  int64_t running_since_ns = 0;  // 0 = idle
  bool running_statement = false;
  // The statement in flight, when running_statement.
  uint64_t digest = 0;
  std::string fingerprint;  // masked; cut to kSessionFingerprintBytes
  analyzer::StatementClass statement_class = analyzer::StatementClass::kUnknown;
  std::string backend;  // "host:port" of the backend connection held, "" = none
  analyzer::BackendRole backend_role = analyzer::BackendRole::kNone;
  std::vector<std::string> pins;  // PinReasonName of each pin
};
inline constexpr size_t kSessionFingerprintBytes = 1024;

// Backend connections held by sessions, by backend ("host:port").
struct BackendConnectionCount {
  std::string backend;
  analyzer::BackendRole role = analyzer::BackendRole::kNone;
  int64_t connections = 0;  // open: in use, being reset, or idle in the pool
  int64_t idle = 0;
  uint64_t wait_timeouts = 0;  // waits for a pool connection that ended in ERR 1040
};

enum CollectPart : unsigned {
  kCollectMetrics = 1,
  kCollectDigests = 2,
  kCollectSessions = 4,
  kCollectNPlusOne = 8,  // the workers' recent N+1 findings
};

// What the collector hands to the exposition and JSON code: every worker's
// parts, merged.
struct ProxySnapshot {
  int workers = 0;
  int workers_missing = 0;  // did not answer before the deadline
  int64_t taken_ns = 0;     // wall clock
  WorkerMetrics metrics;
  analyzer::DigestSnapshot digests;
  std::vector<SessionReport> sessions;  // by worker, then id
  std::vector<BackendConnectionCount> backend_connections;
  // Logged N+1 findings of all workers, newest first, at most kRecentFindings.
  std::vector<RecentFinding> n_plus_one;
};

// Which role a backend "host:port" has in the configuration.
analyzer::BackendRole BackendRoleOf(const SharedState& shared, std::string_view backend);

class SnapshotCollector {
 public:
  SnapshotCollector(std::vector<WorkerHandle> workers, std::chrono::milliseconds timeout);

  // Blocks the calling thread (the admin's) for at most the timeout.
  ProxySnapshot Collect(unsigned parts);

  // Worker answers that missed the deadline, since start.
  uint64_t worker_timeouts() const { return worker_timeouts_; }
  size_t worker_count() const { return workers_.size(); }

 private:
  std::vector<WorkerHandle> workers_;
  std::chrono::milliseconds timeout_;
  std::vector<std::shared_ptr<const WorkerMetrics>> last_metrics_;  // per worker
  std::vector<std::shared_ptr<const analyzer::DigestSnapshot>> last_digests_;  // per worker
  uint64_t worker_timeouts_ = 0;
};

}  // namespace ql::proxy
