// Implementation of SnapshotCollector.
#include "proxy/admin_api_collect.h"

#include <algorithm>
#include <future>

#include "proxy/client_session.h"

namespace ql::proxy {
namespace {

struct WorkerReport {
  WorkerMetrics metrics;
  analyzer::DigestSnapshot digests;
  std::vector<SessionReport> sessions;
  std::vector<BackendConnectionCount> backend_connections;
  std::vector<RecentFinding> n_plus_one;
};

struct Pending {
  std::promise<void> done;
  WorkerReport report;
};

// Cuts at a UTF-8 character boundary at or below `max` bytes.
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

void AddBackendConnection(std::vector<BackendConnectionCount>& counts,
                          const BackendConnectionCount& add) {
  for (auto& c : counts) {
    if (c.backend == add.backend) {
      c.connections += add.connections;
      c.idle += add.idle;
      c.wait_timeouts += add.wait_timeouts;
      return;
    }
  }
  counts.push_back(add);
}

// Runs on the worker's thread.
void FillReport(const WorkerContext& ctx, unsigned parts, WorkerReport* out) {
  if (parts & kCollectMetrics) out->metrics = ctx.recorder.metrics();
  if (parts & kCollectDigests) ctx.recorder.digests().SnapshotInto(&out->digests);
  // Backend connections open in the worker's pool (held by sessions, being
  // reset, or idle).
  if ((parts & (kCollectMetrics | kCollectSessions)) && ctx.pool) {
    for (size_t b = 0; b < ctx.pool->backend_count(); ++b) {
      const PoolCounts c = ctx.pool->counts(b);
      const std::string name = ctx.pool->address(b).Name();
      AddBackendConnection(out->backend_connections,
                           {name, BackendRoleOf(ctx.shared, name), int64_t(c.in_use + c.idle),
                            int64_t(c.idle), c.wait_timeouts});
    }
  }
  if (parts & kCollectNPlusOne) ctx.n_plus_one.CopyRecent(&out->n_plus_one);
  if (parts & kCollectSessions) {
    out->sessions.reserve(ctx.sessions.size());
    for (const auto& [id, e] : ctx.sessions.entries()) {
      SessionReport s;
      s.worker = ctx.worker_index;
      s.id = id;
      const SessionRefs& r = e.refs;
      if (r.user != nullptr && *r.user != nullptr) s.user = (*r.user)->name;
      if (r.client_address != nullptr) s.client_address = *r.client_address;
      if (r.schema != nullptr) s.schema = *r.schema;
      s.connected_ns = e.connected_ns;
      s.running_since_ns = e.running_since_ns;
      s.running_statement = e.running_statement && e.running_since_ns != 0;
      if (s.running_statement && r.statement != nullptr) {
        s.digest = r.statement->digest;
        s.fingerprint.assign(CutUtf8(r.statement->fingerprint, kSessionFingerprintBytes));
        s.statement_class = r.statement->statement_class;
      }
      const BackendConnection* backend =
          r.session != nullptr ? r.session->ShownBackend(e.running_since_ns != 0) : nullptr;
      if (backend != nullptr) {
        s.backend = backend->address().Name();
        s.backend_role = BackendRoleOf(ctx.shared, s.backend);
      }
      if (r.pins != nullptr) {
        for (int i = 0; i < kPinReasonCount; ++i) {
          if (r.pins->Has(PinReason(i))) s.pins.emplace_back(PinReasonName(PinReason(i)));
        }
      }
      out->sessions.push_back(std::move(s));
    }
  }
}

}  // namespace

analyzer::BackendRole BackendRoleOf(const SharedState& shared, std::string_view backend) {
  if (backend == shared.primary.Name()) return analyzer::BackendRole::kPrimary;
  for (const HostPort& r : shared.config.replicas) {
    if (BackendAddress{r.host, r.port}.Name() == backend) return analyzer::BackendRole::kReplica;
  }
  return analyzer::BackendRole::kNone;
}

SnapshotCollector::SnapshotCollector(std::vector<WorkerHandle> workers,
                                     std::chrono::milliseconds timeout)
    : workers_(std::move(workers)),
      timeout_(timeout),
      last_metrics_(workers_.size()),
      last_digests_(workers_.size()) {}

ProxySnapshot SnapshotCollector::Collect(unsigned parts) {
  ProxySnapshot snap;
  snap.workers = int(workers_.size());
  snap.taken_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::vector<std::shared_ptr<Pending>> pending;
  std::vector<std::future<void>> futures;
  pending.reserve(workers_.size());
  futures.reserve(workers_.size());
  for (const WorkerHandle& w : workers_) {
    auto p = std::make_shared<Pending>();
    futures.push_back(p->done.get_future());
    pending.push_back(p);
    asio::post(*w.io, [p, ctx = w.context, parts] {
      FillReport(*ctx, parts, &p->report);
      p->done.set_value();
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (size_t i = 0; i < workers_.size(); ++i) {
    const bool answered = futures[i].wait_until(deadline) == std::future_status::ready;
    if (!answered) {
      ++snap.workers_missing;
      ++worker_timeouts_;
      if ((parts & kCollectMetrics) && last_metrics_[i]) snap.metrics.Merge(*last_metrics_[i]);
      if ((parts & kCollectDigests) && last_digests_[i]) snap.digests.Merge(*last_digests_[i]);
      continue;
    }
    // The worker is done with the report: the admin thread owns it now.
    WorkerReport& r = pending[i]->report;
    if (parts & kCollectMetrics) {
      snap.metrics.Merge(r.metrics);
      last_metrics_[i] = std::make_shared<const WorkerMetrics>(std::move(r.metrics));
    }
    if (parts & kCollectDigests) {
      // Kept for a scrape this worker misses: its digests would otherwise
      // drop out and come back as growth (digest_series_ledger.h).
      auto kept = std::make_shared<const analyzer::DigestSnapshot>(std::move(r.digests));
      snap.digests.Merge(*kept);
      last_digests_[i] = std::move(kept);
    }
    for (auto& s : r.sessions) snap.sessions.push_back(std::move(s));
    for (auto& f : r.n_plus_one) snap.n_plus_one.push_back(std::move(f));
    for (const auto& c : r.backend_connections) {
      AddBackendConnection(snap.backend_connections, c);
    }
  }
  // Newest first across workers (equal times: the later of one worker first).
  std::sort(snap.n_plus_one.begin(), snap.n_plus_one.end(),
            [](const RecentFinding& a, const RecentFinding& b) {
              if (a.reported_ns != b.reported_ns) return a.reported_ns > b.reported_ns;
              if (a.worker != b.worker) return a.worker < b.worker;
              return a.sequence > b.sequence;
            });
  if (snap.n_plus_one.size() > kRecentFindings) snap.n_plus_one.resize(kRecentFindings);
  std::sort(snap.sessions.begin(), snap.sessions.end(),
            [](const SessionReport& a, const SessionReport& b) {
              return a.worker != b.worker ? a.worker < b.worker : a.id < b.id;
            });
  return snap;
}

}  // namespace ql::proxy
