// DigestSnapshot: the reader's side of the digest statistics. Holds copies of
// worker tables, merges them key by key, and answers top-N queries. Runs on
// the admin thread at request or scrape time, never on the statement path.
#include <algorithm>
#include <tuple>

#include "analyzer/digest_stats.h"

namespace ql::analyzer {

DigestSnapshot& DigestSnapshot::operator=(const DigestSnapshot& other) {
  if (this != &other) {
    Clear();
    Merge(other);
  }
  return *this;
}

void DigestSnapshot::Clear() {
  index_.clear();
  entries_.clear();
  fingerprints_.clear();
  evicted_ = EvictedTotals();
}

void DigestSnapshot::Reserve(size_t extra) {
  const size_t need = entries_.size() + extra;
  if (need <= entries_.capacity()) return;
  entries_.reserve(std::max(need, entries_.capacity() * 2));
  // The old keys viewed strings that have moved; re-point them.
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) {
    index_.emplace(entries_[i].key(), static_cast<uint32_t>(i));
  }
}

DigestSnapshotEntry& DigestSnapshot::Upsert(const DigestKey& key, bool* created) {
  if (auto it = index_.find(key); it != index_.end()) {
    *created = false;
    return entries_[it->second];
  }
  Reserve(1);
  DigestSnapshotEntry& e = entries_.emplace_back();
  e.digest = key.digest;
  e.schema.assign(key.schema.data(), key.schema.size());
  e.user.assign(key.user.data(), key.user.size());
  e.role = key.role;
  index_.emplace(e.key(), static_cast<uint32_t>(entries_.size() - 1));
  *created = true;
  return e;
}

void DigestSnapshot::AddFingerprint(uint64_t digest, std::string_view text) {
  auto [it, inserted] = fingerprints_.try_emplace(digest);
  if (inserted) it->second.assign(text.data(), text.size());
}

void DigestSnapshot::Merge(const DigestSnapshot& other) {
  if (&other == this) {
    const DigestSnapshot copy(other);
    Merge(copy);
    return;
  }
  Reserve(other.entries_.size());
  for (const DigestSnapshotEntry& o : other.entries_) {
    bool created = false;
    DigestSnapshotEntry& e = Upsert(o.key(), &created);
    e.stats.Merge(o.stats);
    if (!o.example.empty() && (e.example.empty() || o.example_ns > e.example_ns)) {
      e.example = o.example;
      e.example_ns = o.example_ns;
      e.example_time_ns = o.example_time_ns;
    }
  }
  for (const auto& [digest, text] : other.fingerprints_) AddFingerprint(digest, text);
  evicted_.Merge(other.evicted_);
}

const DigestSnapshotEntry* DigestSnapshot::Find(const DigestKey& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

std::string_view DigestSnapshot::Fingerprint(uint64_t digest) const {
  auto it = fingerprints_.find(digest);
  return it == fingerprints_.end() ? std::string_view() : std::string_view(it->second);
}

std::vector<const DigestSnapshotEntry*> DigestSnapshot::Top(const DigestQuery& query) const {
  struct Ranked {
    uint64_t value;
    const DigestSnapshotEntry* entry;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(entries_.size());
  for (const DigestSnapshotEntry& e : entries_) {
    if (query.schema.has_value() && e.schema != *query.schema) continue;
    uint64_t value = 0;
    switch (query.order) {
      case DigestOrder::kTotalTime: value = e.stats.total_ns(); break;
      case DigestOrder::kCount: value = e.stats.count(); break;
      case DigestOrder::kP99: value = e.stats.QuantileNs(0.99); break;
    }
    ranked.push_back(Ranked{value, &e});
  }
  auto before = [](const Ranked& a, const Ranked& b) {
    if (a.value != b.value) return a.value > b.value;
    const DigestSnapshotEntry& x = *a.entry;
    const DigestSnapshotEntry& y = *b.entry;
    return std::tie(x.digest, x.schema, x.user, x.role) <
           std::tie(y.digest, y.schema, y.user, y.role);
  };
  const size_t n = std::min(query.limit, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(n), ranked.end(),
                    before);
  std::vector<const DigestSnapshotEntry*> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(ranked[i].entry);
  return out;
}

}  // namespace ql::analyzer
