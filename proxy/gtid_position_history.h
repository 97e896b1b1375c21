// GtidPositionHistory: when the primary had written which MariaDB GTID
// position (@@gtid_binlog_pos), as the backend monitor saw it each round.
// A replica's applied position (@@gtid_slave_pos) then bounds its lag from
// below, whatever Seconds_Behind_Master says: if it has not applied a
// position the primary had reached when first seen at time t, it misses a
// write older than t. Seconds_Behind_Master alone says 0 while a restarted
// replica's IO thread is still fetching what it missed (its SQL thread has
// nothing to apply yet): the monitor gave such a replica reads half a
// minute behind. Pure logic; the monitor thread owns one.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace ql::proxy {

// A GTID position: the last sequence number per replication domain
// ("0-1-100,1-2-50" is domain 0 at 100, domain 1 at 50), sorted by domain.
using GtidPosition = std::vector<std::pair<uint32_t, uint64_t>>;

// nullopt when `text` is not a GTID position list (an empty one is empty).
std::optional<GtidPosition> ParseGtidPosition(std::string_view text);

// `applied` has every domain of `target` at or past target's sequence
// number; with `only_applied_domains`, domains `applied` lacks are skipped.
bool GtidReached(const GtidPosition& applied, const GtidPosition& target,
                 bool only_applied_domains = false);

class GtidPositionHistory {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxEntries = 512;

  // The primary's position at `at`; kept when it moved since the last one.
  void Observe(const GtidPosition& position, Clock::time_point at);

  // At least how many seconds a replica that applied `applied` is behind at
  // `now`: 0 when it reached the newest position seen; nullopt before any
  // observation. Only the domains in `applied` count.
  std::optional<double> LagAtLeast(const GtidPosition& applied, Clock::time_point now) const;

 private:
  struct Seen {
    GtidPosition position;
    Clock::time_point first_seen;
  };
  std::deque<Seen> seen_;  // oldest first
};

}  // namespace ql::proxy
