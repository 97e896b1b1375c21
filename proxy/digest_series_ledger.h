// DigestSeriesLedger: keeps the per-digest counters of /metrics monotonic
// from one scrape to the next. /metrics exposes the top digests by total
// time as their own series and sums the rest as digest="other". Computed
// afresh each time, "other" went backwards whenever a digest climbed into
// the top (its counts left "other"), and a digest's series went backwards
// when one worker's table evicted it. Prometheus reads both as counter
// resets, and rate() spikes.
//
// The ledger accounts in increments instead. At each scrape every
// (digest, schema) pair's growth since the previous scrape goes to its own
// series if it is in the top now, else to "other". Growth the tables no
// longer show (statements of entries evicted since) goes to "other". A
// series that leaves the top disappears; if it comes back it starts again
// from its growth since the previous scrape (a counter reset, which
// Prometheus handles). A pair first seen in the top gets its whole count.
// Pure logic: the admin thread owns one and feeds it each scrape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace ql::proxy {

struct DigestCounts {
  uint64_t statements = 0;
  uint64_t total_ns = 0;

  DigestCounts& operator+=(const DigestCounts& o) {
    statements += o.statements;
    total_ns += o.total_ns;
    return *this;
  }
};

// One (digest, schema) pair's current totals over users, roles and workers.
struct DigestSeries {
  uint64_t digest = 0;
  std::string_view schema;
  DigestCounts counts;
};

struct ExposedDigest {
  uint64_t digest = 0;
  std::string schema;
  DigestCounts counts;  // what the series shows
};

struct DigestExposition {
  std::vector<ExposedDigest> top;
  DigestCounts other;
};

class DigestSeriesLedger {
 public:
  // `series`: every pair's current totals, the first `top` of them the ones
  // with their own series; `evicted`: all the digest tables evicted so far.
  const DigestExposition& Account(const std::vector<DigestSeries>& series, size_t top,
                                  DigestCounts evicted);

 private:
  static std::string Key(uint64_t digest, std::string_view schema);

  absl::flat_hash_map<std::string, DigestCounts> seen_;     // every pair at the last scrape
  absl::flat_hash_map<std::string, DigestCounts> exposed_;  // the top pairs' series
  DigestCounts last_total_;
  DigestExposition out_;
};

}  // namespace ql::proxy
