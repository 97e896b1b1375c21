// AdminServer: the HTTP side door (Boost.Beast, loopback by default) that
// operators, Prometheus and orchestrators use. It runs on a thread of its
// own so that a slow scrape never delays a worker; it reads the workers'
// state only through SnapshotCollector (handlers posted to each worker's
// io_context, bounded wait), and probes backends through BackendProber.
//
//   /healthz        200 "ok": the process serves
//   /readyz         200 when the primary answered its last probe, else 503
//   /metrics        Prometheus text exposition (metrics_exposition.h)
//   /api/digests    top digests, JSON (admin_api_json.h)
//   /api/backends   configured backends, health and connections, JSON
//   /api/sessions   live client sessions, JSON
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "proxy/admin_api_backends.h"
#include "proxy/admin_api_collect.h"
#include "proxy/admin_metrics.h"
#include "proxy/asio.h"
#include "proxy/digest_series_ledger.h"
#include "proxy/worker_context.h"

namespace ql::proxy {

class AdminServer {
 public:
  // `health`: the backend monitor's latest snapshot (may be empty).
  AdminServer(const SharedState& shared, std::vector<WorkerHandle> workers,
              std::function<HealthSnapshotPtr()> health = {});
  ~AdminServer();

  // Binds the admin address and starts serving on its own thread.
  absl::Status Start();
  void Stop();
  // Any thread: from now on /readyz answers 503 "draining", so that load
  // balancers send new clients elsewhere during the shutdown drain.
  void StartDraining() { draining_.store(true, std::memory_order_relaxed); }

  struct Reply {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };

 private:
  awaitable<void> Accept();
  awaitable<void> Serve(tcp::socket socket);
  // Answers one GET; `path` without the query string. The views must
  // outlive the call (named locals of the caller: g++ 12 mishandles
  // temporaries with destructors in a co_await expression).
  awaitable<Reply> Route(std::string_view path, std::string_view query);

  const SharedState& shared_;
  SnapshotCollector collector_;
  BackendProber prober_;
  std::function<HealthSnapshotPtr()> health_;
  AdminMetrics metrics_;  // touched by the admin thread only
  DigestSeriesLedger digest_ledger_;  // likewise
  std::atomic<bool> draining_{false};
  asio::io_context io_{1};
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::thread thread_;
};

}  // namespace ql::proxy
