// BackendHealth: what the backend monitor last learned about each server,
// published as an immutable snapshot. The monitor thread builds a new
// snapshot after every round and hands a shared_ptr to each worker through
// its io_context, so workers read their own copy without locks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analyzer/statement_record.h"  // BackendRole
#include "proxy/backend_connection.h"

namespace ql::proxy {

struct BackendHealth {
  BackendAddress address;
  analyzer::BackendRole role = analyzer::BackendRole::kReplica;
  uint32_t weight = 1;
  bool up = false;                   // the last connect + ping worked
  bool read_only = false;            // @@read_only
  bool replication_running = false;  // replica: IO and SQL threads both running
  // Replica: the primary is down and this replica applied everything the
  // primary was last seen to have: it serves reads without replicating.
  bool caught_up_with_down_primary = false;
  double lag_seconds = -1;           // replica: Seconds_Behind_Master or heartbeat; -1 unknown
  // Replica: may take new reads (up, replicating, lag within the limit, and
  // healthy for enough consecutive checks). Always false for the primary.
  bool usable_for_reads = false;
  std::string last_error;            // why it is not usable; empty when healthy
  int64_t checked_at_ns = 0;         // wall clock of the last check, Unix epoch
  uint64_t checks_failed = 0;        // since start
};

struct HealthSnapshot {
  uint64_t round = 0;  // increases with every published snapshot
  // [0] is the primary, then the replicas in configuration order.
  std::vector<BackendHealth> backends;
};

using HealthSnapshotPtr = std::shared_ptr<const HealthSnapshot>;

}  // namespace ql::proxy
