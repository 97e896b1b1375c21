// Per-fingerprint statistics of one unit of work, with a hard bound on the
// number of fingerprints, and the parent of each: the read that ran last
// before the fingerprint first appeared (Sentry's "source" span; the query
// whose rows the loop iterates).
//
// Bounds: at most max_fingerprints entries (slots are reused across units,
// so a steady session stops allocating once its slots have grown); each
// entry is a fixed-size record plus its masked text, cut to max_text_bytes.
// When the table is full, the least recently seen fingerprint that ran only
// once and is nobody's parent makes room; when there is none, the statement
// is counted as untracked.
//
// Long texts are shortened in the middle of the select list, not at the end:
// the FROM / WHERE part is what the suggestion and the allow-list by table
// need ("select a.id, a.name ... from a where a.id = ?").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "analyzer/n_plus_one_input.h"
#include "analyzer/n_plus_one_value_sets.h"

namespace ql::analyzer {

struct FingerprintEntry {
  uint64_t digest = 0;
  NPlusOneRole role = NPlusOneRole::kOther;
  uint64_t count = 0;
  uint64_t total_ns = 0;
  uint64_t max_ns = 0;
  uint64_t rows_sent = 0;
  int64_t first_start_ns = 0;
  int64_t last_end_ns = 0;
  uint64_t first_seq = 0;  // position in the unit of the first execution
  uint64_t last_seq = 0;
  uint32_t max_literals = 0;
  BackendRole backend = BackendRole::kNone;
  bool backend_mixed = false;
  bool silenced = false;     // some execution carried querylens_ignore
  bool is_parent = false;    // the parent of a repeating fingerprint
  // The read before the first execution (different fingerprint).
  bool has_parent = false;
  uint64_t parent_digest = 0;
  uint64_t parent_rows = 0;  // rows that execution of the parent sent
  DistinctCounter filters;   // distinct filter hashes (pages of one query count once)
  RepeatCounter values;      // executions per exact value set
  std::string text;          // masked fingerprint, shortened to max_text_bytes
};

class UnitTable {
 public:
  UnitTable(size_t max_fingerprints, size_t max_text_bytes);

  // Forgets the unit's statements, keeping slot memory for the next unit
  // (a busy session), or giving it back (Release: an idle one).
  void Clear();
  void Release();

  // Accounts one statement of the unit (seq: its position in the unit).
  // Returns its entry, or null when the table is full of repeating
  // fingerprints. Plain and locking reads become the parent of what follows.
  const FingerprintEntry* Add(const NPlusOneInput& in, NPlusOneRole role, uint64_t seq);

  const FingerprintEntry* Find(uint64_t digest) const;
  size_t size() const { return used_; }
  const FingerprintEntry& entry(size_t i) const { return slots_[i]; }
  uint64_t untracked() const { return untracked_; }  // statements not tracked (table full)
  uint64_t evicted() const { return evicted_; }

  size_t MemoryBytes() const;

 private:
  FingerprintEntry* Slot();

  size_t max_fingerprints_;
  size_t max_text_bytes_;
  std::vector<FingerprintEntry> slots_;  // [0, used_) are live
  size_t used_ = 0;
  absl::flat_hash_map<uint64_t, uint32_t> index_;  // digest -> slot
  uint64_t untracked_ = 0;
  uint64_t evicted_ = 0;
  bool have_last_read_ = false;
  uint64_t last_read_digest_ = 0;
  uint64_t last_read_rows_ = 0;
};

// Copies `text` into *out, at most `max_bytes` bytes: a long text keeps the
// start of its select list, " ...", and everything from its first " from "
// (itself cut with "..." at the end if needed), cut at UTF-8 boundaries.
void ShortenFingerprint(std::string_view text, size_t max_bytes, std::string* out);

}  // namespace ql::analyzer
