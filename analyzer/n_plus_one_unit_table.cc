// The bounded per-unit fingerprint table and its parent tracking.
#include "analyzer/n_plus_one_unit_table.h"

#include <algorithm>

namespace ql::analyzer {
namespace {

constexpr size_t kMinTextCapacity = 128;

// The longest prefix of `s` of at most n bytes that does not split a UTF-8
// sequence.
std::string_view CutUtf8(std::string_view s, size_t n) {
  if (n >= s.size()) return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// A select list is cut after a whole item when one ends close enough.
std::string_view CutSelectList(std::string_view head, size_t n) {
  std::string_view cut = CutUtf8(head, n);
  const size_t comma = cut.rfind(", ");
  if (comma != std::string_view::npos && comma >= cut.size() / 2) cut = cut.substr(0, comma);
  return cut;
}

void ResetEntry(FingerprintEntry* e) {
  std::string text = std::move(e->text);  // keeps its capacity
  text.clear();
  *e = FingerprintEntry{};
  e->text = std::move(text);
}

}  // namespace

void ShortenFingerprint(std::string_view text, size_t max_bytes, std::string* out) {
  out->clear();
  if (text.size() <= max_bytes) {
    out->assign(text);
    return;
  }
  constexpr std::string_view kGap = " ...";
  constexpr std::string_view kEnd = "...";
  if (max_bytes < 32) {
    out->assign(CutUtf8(text, max_bytes));
    return;
  }
  const size_t from = text.find(" from ");
  if (from == std::string_view::npos || from < 16) {
    out->append(CutUtf8(text, max_bytes - kEnd.size()));
    out->append(kEnd);
    return;
  }
  const std::string_view tail = text.substr(from);
  const size_t min_head = std::min(from, max_bytes / 4);
  if (min_head + kGap.size() + tail.size() <= max_bytes) {
    out->append(CutSelectList(text.substr(0, from), max_bytes - kGap.size() - tail.size()));
    out->append(kGap);
    out->append(tail);
    return;
  }
  // Even the FROM part is too long: keep some of the select list, cut the end.
  out->append(CutSelectList(text.substr(0, from), min_head));
  out->append(kGap);
  out->append(CutUtf8(tail, max_bytes - out->size() - kEnd.size()));
  out->append(kEnd);
}

UnitTable::UnitTable(size_t max_fingerprints, size_t max_text_bytes)
    : max_fingerprints_(std::max<size_t>(max_fingerprints, 1)), max_text_bytes_(max_text_bytes) {}

void UnitTable::Clear() {
  for (size_t i = 0; i < used_; ++i) ResetEntry(&slots_[i]);
  used_ = 0;
  index_.clear();
  untracked_ = 0;
  evicted_ = 0;
  have_last_read_ = false;
  last_read_digest_ = 0;
  last_read_rows_ = 0;
}

void UnitTable::Release() {
  Clear();
  std::vector<FingerprintEntry>().swap(slots_);
  absl::flat_hash_map<uint64_t, uint32_t>().swap(index_);
}

FingerprintEntry* UnitTable::Slot() {
  if (used_ < slots_.size()) return &slots_[used_++];
  if (used_ < max_fingerprints_) {
    slots_.emplace_back();
    ++used_;
    return &slots_.back();
  }
  // Full: the least recently seen one-off makes room (not a parent, not the
  // read that may become the next parent).
  FingerprintEntry* victim = nullptr;
  for (size_t i = 0; i < used_; ++i) {
    FingerprintEntry& e = slots_[i];
    if (e.count != 1 || e.is_parent || (have_last_read_ && e.digest == last_read_digest_)) continue;
    if (victim == nullptr || e.last_seq < victim->last_seq) victim = &e;
  }
  if (victim == nullptr) return nullptr;
  index_.erase(victim->digest);
  ResetEntry(victim);
  ++evicted_;
  return victim;
}

const FingerprintEntry* UnitTable::Add(const NPlusOneInput& in, NPlusOneRole role, uint64_t seq) {
  FingerprintEntry* e = nullptr;
  auto it = index_.find(in.digest);
  if (it != index_.end()) {
    e = &slots_[it->second];
  } else if ((e = Slot()) != nullptr) {
    index_[in.digest] = static_cast<uint32_t>(e - slots_.data());
    e->digest = in.digest;
    e->role = role;
    e->first_seq = seq;
    e->first_start_ns = in.start_ns;
    e->backend = in.backend_role;
    if (have_last_read_ && last_read_digest_ != in.digest) {
      e->has_parent = true;
      e->parent_digest = last_read_digest_;
      e->parent_rows = last_read_rows_;
    }
    // Slots take other fingerprints in later units: a floor on the
    // capacity spares most of the regrowth that would cause.
    if (e->text.capacity() < kMinTextCapacity) e->text.reserve(kMinTextCapacity);
    ShortenFingerprint(in.fingerprint, max_text_bytes_, &e->text);
  } else {
    ++untracked_;
  }

  if (e != nullptr) {
    ++e->count;
    e->total_ns += in.duration_ns;
    e->max_ns = std::max(e->max_ns, in.duration_ns);
    e->rows_sent += in.rows_sent;
    e->last_end_ns = std::max(e->last_end_ns, in.end_ns());
    e->last_seq = seq;
    e->max_literals = std::max(e->max_literals, in.literals.literal_count);
    if (e->backend != in.backend_role) e->backend_mixed = true;
    e->silenced = e->silenced || in.call_site.silenced;
    // A write of the same shape that touched several rows: not a per-row loop.
    if (e->role == NPlusOneRole::kSingleRowWrite && role != NPlusOneRole::kSingleRowWrite) {
      e->role = role;
    }
    e->filters.Add(in.literals.filter_hash);
    e->values.Add(in.literals.values_hash);
    if (e->count == 2 && e->has_parent) {
      auto parent = index_.find(e->parent_digest);
      if (parent != index_.end()) slots_[parent->second].is_parent = true;
    }
  }

  if (role == NPlusOneRole::kPlainRead || role == NPlusOneRole::kLockingRead) {
    have_last_read_ = true;
    last_read_digest_ = in.digest;
    last_read_rows_ = in.rows_sent;
  }
  return e;
}

const FingerprintEntry* UnitTable::Find(uint64_t digest) const {
  auto it = index_.find(digest);
  return it == index_.end() ? nullptr : &slots_[it->second];
}

size_t UnitTable::MemoryBytes() const {
  size_t bytes = sizeof(*this) + slots_.capacity() * sizeof(FingerprintEntry);
  for (const FingerprintEntry& e : slots_) bytes += e.text.capacity();
  // A flat_hash_map slot is the pair plus one control byte.
  bytes += index_.capacity() * (sizeof(std::pair<uint64_t, uint32_t>) + 1);
  return bytes;
}

}  // namespace ql::analyzer
