// BackendMonitor: checks the primary and every replica once per
// --monitor-interval on a thread of its own, and publishes what it learned
// as an immutable HealthSnapshot (backend_health.h) after every round.
//
// Each backend keeps one monitor connection (re-opened when it breaks). A
// check, bounded as a whole by --connect-timeout, is: COM_PING, SELECT
// @@read_only, and for a replica its replication state: SHOW SLAVE STATUS
// (both threads running, Seconds_Behind_Master) or, with --heartbeat-table,
// the age of the newest pt-heartbeat row. On MariaDB the lag is also
// bounded from below by GTIDs (gtid_position_history.h): the primary's
// @@gtid_binlog_pos each round, the replica's @@gtid_slave_pos. All backends
// are checked in parallel.
//
// A replica is usable for reads when it is up, both replication threads run,
// its lag is known and within --max-replication-lag, and it has passed
// --monitor-healthy-checks consecutive good checks since it was last
// unusable: one bad check removes it at once, coming back takes N good ones,
// so a flapping replica does not take and drop traffic every second. The
// primary is never usable for reads. last_error says why, in words meant for
// whoever is on call. Transitions are logged once, not every round.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proxy/admin_api_collect.h"
#include "proxy/asio.h"
#include "proxy/backend_connection.h"
#include "proxy/backend_health.h"
#include "proxy/gtid_position_history.h"
#include "proxy/worker_context.h"

namespace ql::proxy {

// What one check found, before hysteresis.
struct CheckFindings {
  bool up = false;
  bool read_only = false;
  bool replication_running = false;
  // Replica: its IO thread is not connected (or Seconds_Behind_Master is
  // NULL), but it applied every GTID the primary was last seen to have, so
  // lag_seconds bounds what it can miss: what the primary wrote since then.
  bool lag_bounded_without_replication = false;
  // ... and that is because the primary is down.
  bool caught_up_with_down_primary = false;
  double lag_seconds = -1;  // -1 unknown
  std::string error;        // why the check is not good; empty when it is
};

// Applies one check's findings to a backend's health (hysteresis included).
// `good_streak` counts consecutive good checks and is updated. Pure: the
// monitor's rule in one place.
void ApplyFindings(const CheckFindings& f, int healthy_checks_needed, double max_lag_s,
                   int& good_streak, BackendHealth& h);

class BackendMonitor {
 public:
  using Publish = std::function<void(HealthSnapshotPtr)>;

  BackendMonitor(const SharedState& shared, Publish publish);
  ~BackendMonitor();
  BackendMonitor(const BackendMonitor&) = delete;
  BackendMonitor& operator=(const BackendMonitor&) = delete;

  // Starts the thread; the first round runs at once.
  absl::Status Start();
  // Closes the monitor connections, stops the thread and joins it.
  void Stop();

  // The last published snapshot (null before the first round ends). Any thread.
  HealthSnapshotPtr Latest() const;

 private:
  struct Target {
    BackendHealth health;
    std::unique_ptr<BackendConnection> connection;
    int good_streak = 0;
    bool busy = false;         // a check is running
    bool no_gtid_variables = false;  // the server has no MariaDB GTID variables (MySQL)
    std::string logged_state;  // what was last logged, to log changes only
  };

  awaitable<void> Loop();
  awaitable<void> Check(size_t index, uint64_t generation);
  awaitable<CheckFindings> Probe(Target& t);
  // A MariaDB GTID position variable of t's server; nullopt if unavailable.
  awaitable<std::optional<GtidPosition>> ReadGtidPosition(Target& t, std::string_view variable,
                                                          Clock::time_point deadline);
  // A replica whose IO thread is not connected (reconnecting, or lag NULL)
  // but that applied every GTID the primary had when the monitor last saw
  // it can miss only what the primary wrote since: its lag is at most the
  // time since then, or, with the primary down, the time from then until
  // the primary's first failed check (nothing newer can be written). Sets
  // that bound and clears f.error. MariaDB GTIDs only (not with a heartbeat).
  awaitable<void> BoundLagWithoutReplication(Target& t, Clock::time_point deadline,
                                             CheckFindings& f);
  // After a check of the primary: notes when it went down.
  void NotePrimaryHealth(const Target& t);
  void LogTransition(Target& t);
  void CloseConnections();

  const SharedState& shared_;
  Publish publish_;
  BackendLogin login_;
  std::chrono::milliseconds check_timeout_;
  std::vector<Target> targets_;
  GtidPositionHistory primary_gtids_;  // the primary's positions, for replica lag
  Clock::time_point primary_observed_at_{};  // the last time primary_gtids_ got a position
  Clock::time_point primary_down_since_{};   // first failed primary check after that
  uint64_t round_ = 0;       // snapshots published
  uint64_t generation_ = 0;  // rounds started; a late check must not count for a newer round
  size_t pending_ = 0;       // checks of the current round still running
  bool stopping_ = false;    // monitor thread only

  mutable std::mutex mu_;
  HealthSnapshotPtr latest_;  // guarded by mu_

  // Declared last: destroyed first, while the targets its handlers may
  // reference still exist.
  asio::io_context io_{1};
  asio::steady_timer round_timer_{io_};
  asio::steady_timer interval_timer_{io_};
  std::thread thread_;
};

// Creates the monitor, wires its snapshots into every worker's
// WorkerContext::health (posted to each worker's io_context) and starts it.
absl::StatusOr<std::unique_ptr<BackendMonitor>> StartBackendMonitor(
    const SharedState& shared, const std::vector<WorkerHandle>& workers);

}  // namespace ql::proxy
