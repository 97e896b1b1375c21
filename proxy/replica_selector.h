// ReplicaSelector: a worker's choice of replica for a session that needs
// one. Reads the monitor's latest snapshot, skips replicas this worker saw
// fail since (until the monitor has looked again), and balances either by
// least outstanding work (sessions holding a connection to it, then
// statements in flight there) or by weights (smooth weighted round robin).
// Worker-thread only.
#pragma once

#include <cstdint>
#include <vector>

#include "proxy/backend_health.h"

namespace ql::proxy {

enum class ReplicaSelection : uint8_t { kLeastOutstanding, kWeighted };

class ReplicaSelector {
 public:
  ReplicaSelector(size_t backend_count, ReplicaSelection mode)
      : mode_(mode), held_(backend_count), in_flight_(backend_count),
        suspect_round_(backend_count, 0), suspect_(backend_count, false),
        current_weight_(backend_count, 0) {}

  // May `backend` (an index into the snapshot, 1.. = replicas) take a new read?
  bool Usable(const HealthSnapshot* health, size_t backend) const;
  bool AnyUsable(const HealthSnapshot* health) const;
  // The replica for a new connection, or 0 when none is usable.
  size_t Choose(const HealthSnapshot* health);

  // A read failed there: no new reads until the monitor reported twice more.
  void MarkFailed(const HealthSnapshot* health, size_t backend);

  void Hold(size_t backend) { ++held_[backend]; }
  void Unhold(size_t backend) { if (held_[backend] > 0) --held_[backend]; }
  void StatementStarted(size_t backend) { ++in_flight_[backend]; }
  void StatementEnded(size_t backend) { if (in_flight_[backend] > 0) --in_flight_[backend]; }

 private:
  ReplicaSelection mode_;
  std::vector<uint32_t> held_;
  std::vector<uint32_t> in_flight_;
  std::vector<uint64_t> suspect_round_;
  std::vector<bool> suspect_;
  std::vector<int64_t> current_weight_;
};

}  // namespace ql::proxy
