// DigestStats aggregation and the per-worker DigestStatsTable.
//
// Eviction policy: least recently used. When the table is full, the key that
// has gone longest without a statement is folded into EvictedTotals and its
// slot is reused for the new key. Why LRU rather than keeping the top K by
// total time:
//  - a new key always gets in and starts counting. With a top-K-by-time
//    table a newcomer starts at the bottom and is the next victim, so a
//    freshly deployed slow query could never establish itself, which is
//    exactly the statement someone is looking for;
//  - O(1) per statement (two index updates to move an entry to the front),
//    where top-K needs a heap keyed by a value that changes on every record;
//  - keys that matter by total time are, in practice, the frequent ones,
//    and frequent keys are recently used, so LRU keeps them;
//  - the loss case (a burst of one-off statements, e.g. unparameterized
//    ids in identifiers, flushing the table) is visible: the eviction
//    counter and EvictedTotals say how much was dropped.
// Top-K (for Prometheus and /api/digests) is computed at read time from the
// merged snapshot, where sorting the whole table is cheap.
#include "analyzer/digest_stats.h"

#include <algorithm>
#include <limits>

#include "analyzer/digest.h"

namespace ql::analyzer {
namespace {

// Copies at most `max` bytes of `text` into *dst, cut at a UTF-8 character
// boundary and marked "..." when cut. Reuses *dst's capacity.
void AssignCapped(std::string* dst, std::string_view text, size_t max) {
  if (text.size() <= max) {
    dst->assign(text.data(), text.size());
    return;
  }
  size_t n = max > 3 ? max - 3 : 0;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  dst->assign(text.data(), n);
  dst->append("...");
}

}  // namespace

size_t DigestKeyHash::operator()(const DigestKey& key) const {
  // The digest is already a good hash; the strings are short. XXH64 chained
  // over both keeps schema/user swaps ("a","b" vs "b","a") apart.
  const uint64_t seed = key.digest ^ (static_cast<uint64_t>(key.role) * 0x9E3779B97F4A7C15ull);
  return static_cast<size_t>(Xxh64(key.user, Xxh64(key.schema, seed) + key.schema.size()));
}

void DigestStats::Add(const StatementRecord& r) {
  const bool first = latency.count() == 0;
  latency.Record(r.total_ns);
  errors += r.failed() ? 1 : 0;
  pool_wait_ns += r.pool_wait_ns;
  state_sync_ns += r.state_sync_ns;
  backend_first_byte_ns += r.backend_first_byte_ns;
  rows_sent += r.rows_sent;
  rows_affected += r.rows_affected;
  bytes_sent += r.bytes_sent;
  bytes_received += r.bytes_received;
  warnings += r.warnings;
  no_index_used += r.no_index_used ? 1 : 0;
  no_good_index_used += r.no_good_index_used ? 1 : 0;
  server_slow += r.query_was_slow ? 1 : 0;
  prepared += r.command == CommandKind::kPrepared ? 1 : 0;
  if (first || r.start_time_ns < first_seen_ns) first_seen_ns = r.start_time_ns;
  if (first || r.start_time_ns >= last_seen_ns) {
    last_seen_ns = r.start_time_ns;
    statement_class = r.statement_class;
  }
}

void DigestStats::Merge(const DigestStats& other) {
  if (other.count() == 0) return;
  const bool first = count() == 0;
  latency.Merge(other.latency);
  errors += other.errors;
  pool_wait_ns += other.pool_wait_ns;
  state_sync_ns += other.state_sync_ns;
  backend_first_byte_ns += other.backend_first_byte_ns;
  rows_sent += other.rows_sent;
  rows_affected += other.rows_affected;
  bytes_sent += other.bytes_sent;
  bytes_received += other.bytes_received;
  warnings += other.warnings;
  no_index_used += other.no_index_used;
  no_good_index_used += other.no_good_index_used;
  server_slow += other.server_slow;
  prepared += other.prepared;
  if (first || other.first_seen_ns < first_seen_ns) first_seen_ns = other.first_seen_ns;
  if (first || other.last_seen_ns >= last_seen_ns) {
    last_seen_ns = other.last_seen_ns;
    statement_class = other.statement_class;
  }
}

void EvictedTotals::Add(const DigestStats& s) {
  ++entries;
  statements += s.count();
  errors += s.errors;
  total_ns += s.total_ns();
  rows_sent += s.rows_sent;
  rows_affected += s.rows_affected;
}

void EvictedTotals::Merge(const EvictedTotals& other) {
  entries += other.entries;
  statements += other.statements;
  errors += other.errors;
  total_ns += other.total_ns;
  rows_sent += other.rows_sent;
  rows_affected += other.rows_affected;
}

DigestStatsTable::DigestStatsTable(DigestStatsOptions options) : options_(options) {
  // Indexes are uint32_t with kNil reserved.
  options_.max_entries = std::clamp<size_t>(options_.max_entries, 1, kNil - 1);
}

void DigestStatsTable::Record(const StatementRecord& r) {
  const DigestKey key{r.digest, r.schema, r.user, r.backend_role};
  uint32_t index;
  if (auto it = index_.find(key); it != index_.end()) {
    index = it->second;
    Touch(index);
  } else {
    index = Insert(r);
  }
  Entry& e = entries_[index];
  e.stats.Add(r);
  KeepExample(e, r);
}

uint32_t DigestStatsTable::Insert(const StatementRecord& r) {
  uint32_t index;
  if (index_.size() >= options_.max_entries) {
    index = oldest_;
    Evict(index);
  } else {
    // Entries are only ever removed by eviction, which reuses the slot, so
    // the deque holds exactly the live entries.
    index = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  Entry& e = entries_[index];
  e.digest = r.digest;
  e.schema.assign(r.schema.data(), r.schema.size());
  e.user.assign(r.user.data(), r.user.size());
  e.role = r.backend_role;
  e.stats = DigestStats();
  e.example.clear();
  e.example_ns = 0;
  e.example_time_ns = 0;

  // One copy of the text per digest, shared by all its keys.
  FingerprintText& text = fingerprints_[r.digest];
  if (text.refs++ == 0) {
    if (text.text.capacity() < r.fingerprint.size() && !spare_texts_.empty()) {
      text.text = std::move(spare_texts_.back());
      spare_texts_.pop_back();
    }
    AssignCapped(&text.text, r.fingerprint, options_.max_fingerprint_bytes);
  }
  index_.emplace(e.key(), index);
  PushNewest(index);
  return index;
}

void DigestStatsTable::Evict(uint32_t index) {
  Entry& e = entries_[index];
  index_.erase(e.key());
  Unlink(index);
  if (auto it = fingerprints_.find(e.digest); it != fingerprints_.end()) {
    if (--it->second.refs == 0) {
      if (spare_texts_.capacity() == 0) spare_texts_.reserve(kSpareTexts);
      if (spare_texts_.size() < kSpareTexts) spare_texts_.push_back(std::move(it->second.text));
      fingerprints_.erase(it);
    }
  }
  evicted_.Add(e.stats);
}

void DigestStatsTable::Unlink(uint32_t index) {
  Entry& e = entries_[index];
  if (e.newer != kNil) {
    entries_[e.newer].older = e.older;
  } else {
    newest_ = e.older;
  }
  if (e.older != kNil) {
    entries_[e.older].newer = e.newer;
  } else {
    oldest_ = e.newer;
  }
  e.newer = kNil;
  e.older = kNil;
}

void DigestStatsTable::PushNewest(uint32_t index) {
  Entry& e = entries_[index];
  e.newer = kNil;
  e.older = newest_;
  if (newest_ != kNil) entries_[newest_].newer = index;
  newest_ = index;
  if (oldest_ == kNil) oldest_ = index;
}

void DigestStatsTable::Touch(uint32_t index) {
  if (index == newest_) return;  // the common case under a repetitive load
  Unlink(index);
  PushNewest(index);
}

void DigestStatsTable::KeepExample(Entry& e, const StatementRecord& r) {
  // The slowest statement is the most useful one to EXPLAIN. Strictly
  // slower, so a steady stream of equal timings does not rewrite it.
  if (r.literal_text.empty()) return;
  if (!e.example.empty() && r.total_ns <= e.example_ns) return;
  AssignCapped(&e.example, r.literal_text, options_.max_example_bytes);
  e.example_ns = r.total_ns;
  e.example_time_ns = r.start_time_ns;
}

const DigestStats* DigestStatsTable::Find(const DigestKey& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].stats;
}

void DigestStatsTable::SnapshotInto(DigestSnapshot* out) const {
  out->Clear();
  MergeInto(out);
}

void DigestStatsTable::MergeInto(DigestSnapshot* out) const {
  out->Reserve(entries_.size());
  for (const Entry& e : entries_) {
    bool created = false;
    DigestSnapshotEntry& s = out->Upsert(e.key(), &created);
    s.stats.Merge(e.stats);
    if (!e.example.empty() && (s.example.empty() || e.example_ns > s.example_ns)) {
      s.example = e.example;
      s.example_ns = e.example_ns;
      s.example_time_ns = e.example_time_ns;
    }
    if (auto it = fingerprints_.find(e.digest); it != fingerprints_.end()) {
      out->AddFingerprint(e.digest, it->second.text);
    }
  }
  out->evicted_.Merge(evicted_);
}

void DigestStatsTable::Clear() {
  index_.clear();
  entries_.clear();
  fingerprints_.clear();
  spare_texts_.clear();
  newest_ = kNil;
  oldest_ = kNil;
  evicted_ = EvictedTotals();
}

}  // namespace ql::analyzer
