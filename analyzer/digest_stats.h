// Per-digest statement statistics, keyed by (digest, schema, user, backend
// role), the way the proxy answers "what is the database traffic doing".
//
// Threading model: every worker thread owns one DigestStatsTable and records
// into it with no lock. A reader (the admin thread) never touches a table
// directly; it asks each worker, in turn, to run a callback on the worker's
// own thread that copies the table into a DigestSnapshot the reader owns
// (SnapshotInto, or MergeInto to fold it into an accumulating snapshot). The
// hand-off of the callback gives the ordering; no lock is shared, and the
// statement path never waits for a reader. Snapshots merge exactly (sums,
// min/max, histogram bucket counts), then answer top-N queries.
//
// Memory is bounded by DigestStatsOptions::max_entries; see digest_stats.cc
// for the eviction policy (least recently used) and why. An entry is about
// 3.8 KB (mostly its 449-bucket histogram) plus its strings, so the default
// 2000 entries cost about 8 MB per worker, and a snapshot of a full table is
// a copy of that much (a few milliseconds of the worker's time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "analyzer/latency_histogram.h"
#include "analyzer/statement_record.h"

namespace ql::analyzer {

// The table's key, as views (into a StatementRecord, or into the strings an
// entry owns).
struct DigestKey {
  uint64_t digest = 0;
  std::string_view schema;
  std::string_view user;
  BackendRole role = BackendRole::kNone;

  friend bool operator==(const DigestKey& a, const DigestKey& b) {
    return a.digest == b.digest && a.role == b.role && a.schema == b.schema &&
           a.user == b.user;
  }
};

struct DigestKeyHash {
  size_t operator()(const DigestKey& key) const;
};

// Aggregates of the statements of one key. Plain value; Merge is exact.
struct DigestStats {
  LatencyHistogram latency;  // of StatementRecord::total_ns; gives count, sum, min, max
  uint64_t errors = 0;
  uint64_t pool_wait_ns = 0;
  uint64_t state_sync_ns = 0;
  uint64_t backend_first_byte_ns = 0;
  uint64_t rows_sent = 0;
  uint64_t rows_affected = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t warnings = 0;            // sum of warning counts
  uint64_t no_index_used = 0;       // statements with the server flag set
  uint64_t no_good_index_used = 0;
  uint64_t server_slow = 0;         // statements the server flagged query_was_slow
  uint64_t prepared = 0;            // statements that came as COM_STMT_EXECUTE
  int64_t first_seen_ns = 0;        // start time of the earliest statement
  int64_t last_seen_ns = 0;         // start time of the latest statement
  StatementClass statement_class = StatementClass::kUnknown;  // of the latest

  uint64_t count() const { return latency.count(); }
  uint64_t total_ns() const { return latency.sum(); }
  uint64_t min_ns() const { return latency.min(); }
  uint64_t max_ns() const { return latency.max(); }
  uint64_t QuantileNs(double q) const { return latency.Quantile(q); }

  void Add(const StatementRecord& r);
  void Merge(const DigestStats& other);
};

// What left the table through eviction, so totals (and a Prometheus
// digest="other" series) stay monotonic after entries are dropped.
struct EvictedTotals {
  uint64_t entries = 0;
  uint64_t statements = 0;
  uint64_t errors = 0;
  uint64_t total_ns = 0;
  uint64_t rows_sent = 0;
  uint64_t rows_affected = 0;

  void Add(const DigestStats& s);
  void Merge(const EvictedTotals& other);
};

// One key's statistics in a snapshot; owns its strings.
struct DigestSnapshotEntry {
  uint64_t digest = 0;
  std::string schema;
  std::string user;
  BackendRole role = BackendRole::kNone;
  DigestStats stats;
  // The slowest statement's literal text, kept only with --log-literals
  // (empty otherwise: the fingerprint is the masked example), with its
  // duration and start time.
  std::string example;
  uint64_t example_ns = 0;
  int64_t example_time_ns = 0;

  DigestKey key() const { return DigestKey{digest, schema, user, role}; }
};

enum class DigestOrder : uint8_t { kTotalTime, kCount, kP99 };

struct DigestQuery {
  DigestOrder order = DigestOrder::kTotalTime;
  size_t limit = 20;
  std::optional<std::string_view> schema;  // only this schema when set
};

// A reader-owned copy of one or more tables.
class DigestSnapshot {
 public:
  DigestSnapshot() = default;
  DigestSnapshot(const DigestSnapshot& other) { Merge(other); }
  DigestSnapshot& operator=(const DigestSnapshot& other);
  // Moving keeps the entries' buffer, so the index's views stay valid.
  DigestSnapshot(DigestSnapshot&&) = default;
  DigestSnapshot& operator=(DigestSnapshot&&) = default;

  void Clear();
  // Adds every entry of `other` (same key: stats merged, slower example kept).
  void Merge(const DigestSnapshot& other);

  const std::vector<DigestSnapshotEntry>& entries() const { return entries_; }
  const DigestSnapshotEntry* Find(const DigestKey& key) const;
  // The fingerprint text of a digest ("" if unknown).
  std::string_view Fingerprint(uint64_t digest) const;

  // Sum of all tables merged in: evictions and what they removed.
  uint64_t evictions() const { return evicted_.entries; }
  const EvictedTotals& evicted() const { return evicted_; }

  // The first `limit` entries by the query's order, descending (ties by
  // digest id, then schema, user, role, so the answer is deterministic).
  std::vector<const DigestSnapshotEntry*> Top(const DigestQuery& query) const;

 private:
  friend class DigestStatsTable;

  // Finds or appends the entry for `key`; *created says which.
  DigestSnapshotEntry& Upsert(const DigestKey& key, bool* created);
  // Makes room for `extra` more entries without moving any later: the index
  // holds views into the entries' strings, so a reallocation rebuilds it.
  void Reserve(size_t extra);
  void AddFingerprint(uint64_t digest, std::string_view text);

  std::vector<DigestSnapshotEntry> entries_;
  absl::flat_hash_map<DigestKey, uint32_t, DigestKeyHash> index_;
  absl::flat_hash_map<uint64_t, std::string> fingerprints_;
  EvictedTotals evicted_;
};

struct DigestStatsOptions {
  size_t max_entries = 2000;          // per table (per worker); at least 1
  size_t max_fingerprint_bytes = 4096;  // stored fingerprint text, cut at a UTF-8 boundary
  size_t max_example_bytes = 1024;      // stored literal example
};

class DigestStatsTable {
 public:
  explicit DigestStatsTable(DigestStatsOptions options = {});
  DigestStatsTable(const DigestStatsTable&) = delete;
  DigestStatsTable& operator=(const DigestStatsTable&) = delete;

  // Accounts one finished statement. No allocation when the key is already
  // present (except to grow the stored example when a slower, longer one
  // arrives with --log-literals).
  void Record(const StatementRecord& r);

  // Replaces *out with a copy of this table. Run on the owning worker.
  void SnapshotInto(DigestSnapshot* out) const;
  DigestSnapshot Snapshot() const {
    DigestSnapshot s;
    SnapshotInto(&s);
    return s;
  }
  // Merges this table into *out (which may already hold other tables).
  void MergeInto(DigestSnapshot* out) const;

  const DigestStats* Find(const DigestKey& key) const;
  size_t size() const { return index_.size(); }
  size_t max_entries() const { return options_.max_entries; }
  uint64_t evictions() const { return evicted_.entries; }
  const EvictedTotals& evicted() const { return evicted_; }
  // Distinct fingerprint texts held (one per digest, shared by its keys).
  size_t fingerprint_count() const { return fingerprints_.size(); }

  void Clear();

 private:
  static constexpr uint32_t kNil = 0xffffffffu;

  struct Entry {
    uint64_t digest = 0;
    std::string schema;
    std::string user;
    BackendRole role = BackendRole::kNone;
    DigestStats stats;
    std::string example;
    uint64_t example_ns = 0;
    int64_t example_time_ns = 0;
    uint32_t newer = kNil;  // LRU links (indexes into entries_)
    uint32_t older = kNil;

    DigestKey key() const { return DigestKey{digest, schema, user, role}; }
  };
  struct FingerprintText {
    std::string text;
    uint32_t refs = 0;  // entries with this digest
  };

  uint32_t Insert(const StatementRecord& r);
  void Evict(uint32_t index);
  void Unlink(uint32_t index);
  void PushNewest(uint32_t index);
  void Touch(uint32_t index);
  void KeepExample(Entry& e, const StatementRecord& r);

  DigestStatsOptions options_;
  // Entries never move (std::deque grows at the end without relocating),
  // which lets index_ keys be views into their strings. Evicted slots are
  // reused in place, keeping their string capacity.
  std::deque<Entry> entries_;
  absl::flat_hash_map<DigestKey, uint32_t, DigestKeyHash> index_;
  absl::flat_hash_map<uint64_t, FingerprintText> fingerprints_;
  // Texts of evicted digests, kept with their capacity for the next new
  // digest, so that a table churning at its bound does not allocate.
  static constexpr size_t kSpareTexts = 8;
  std::vector<std::string> spare_texts_;
  uint32_t newest_ = kNil;
  uint32_t oldest_ = kNil;
  EvictedTotals evicted_;
};

}  // namespace ql::analyzer
