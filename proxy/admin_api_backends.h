// BackendProber: is each configured backend (the primary, then the replicas)
// up? Used by /readyz, /api/backends and querylens_backend_up. Runs on the
// admin thread only.
//
// A probe is a complete, polite login: connect, read the greeting, log in
// with the first configured user's backend credentials, send COM_QUIT. A
// greeting-only probe (connect and hang up) would be cheaper, but MariaDB and
// MySQL count every connection that drops during the handshake against
// max_connect_errors (default 100) and then block the proxy's host, which
// periodic health checks of an otherwise idle replica would reach in minutes;
// a successful login also resets that count.
//
// "Up" means the server answered and speaks the protocol: a login that the
// server refuses (access denied, unknown database) still counts as up, with
// the refusal in `error`; no answer, a refused connection, a timeout, or an
// ERR instead of a greeting (too many connections, host blocked) is down.
// Results are cached and a backend is probed at most once per `max_age`, so
// that frequent scrapes cost at most one login per backend per max_age.
//
// The backend monitor (backend_monitor.h) adds its findings to the
// /api/backends answer through BackendsHealthJson below: the probe still
// supplies the server version and the login error code.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/statement_record.h"
#include "proxy/asio.h"
#include "proxy/backend_connection.h"
#include "proxy/backend_health.h"
#include "proxy/worker_context.h"

namespace ql::proxy {

struct BackendStatus {
  std::string name;  // "host:port"
  BackendAddress address;
  analyzer::BackendRole role = analyzer::BackendRole::kNone;
  bool checked = false;      // probed at least once
  bool up = false;
  std::string error;         // why down, or why the login was refused; "" when all went well
  uint16_t error_code = 0;   // the server's ERR code, when it sent one
  std::string version;       // the server's version string, from its greeting
  double probe_seconds = 0;  // how long the last probe took
  int64_t checked_ns = 0;    // wall clock of the last probe
};

class BackendProber {
 public:
  BackendProber(const SharedState& shared, std::chrono::milliseconds timeout,
                std::chrono::milliseconds max_age);

  // Every backend, probing (one after the other) those whose result is older
  // than max_age. Primary first.
  awaitable<std::vector<BackendStatus>> All();
  // The primary only.
  awaitable<BackendStatus> Primary();

 private:
  awaitable<void> Refresh(size_t index);

  const SharedState& shared_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds max_age_;
  std::vector<BackendStatus> backends_;  // fixed size: references stay valid
  std::vector<std::chrono::steady_clock::time_point> last_probe_;
  std::vector<bool> probing_;
};

struct ProxySnapshot;

// Server errors during login that prove the server is there and working
// (access denied, unknown database, expired password): such a backend is up.
bool IsLoginRefusal(uint16_t code);

// GET /api/backends: the fields of BackendsJson (admin_api_json.h), with the
// monitor's latest findings merged per backend (`health` may be null before
// the monitor's first round, or without a monitor):
//   "address": "host:port", "weight", "up" (the monitor's, else the probe's),
//   "usable_for_reads", "read_only", "replication_running" (replicas; null
//   for the primary), "caught_up_with_down_primary" (replicas: serving reads
//   without replicating because the primary is down and the replica applied
//   all it was last seen to have), "lag_seconds" (null when unknown), "last_error" (null
//   when healthy), "checked_at" (the monitor's last check), "checks_failed";
// and at the top level "monitor": {"round": N} | null.
std::string BackendsHealthJson(const ProxySnapshot& snapshot,
                               const std::vector<BackendStatus>& backends,
                               const HealthSnapshotPtr& health);

}  // namespace ql::proxy
