// Every threshold of the N+1 detector, in one plain struct (copied into each
// session's detector; a reload builds a new one). Defaults follow issue 5 and
// shared/research/profiling.md 7(a); see n_plus_one_detector.h for what the
// detector does with them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ql::analyzer {

struct NPlusOneOptions {
  // --- Units of work (per session) ---
  // A gap of at least this long between the end of one statement and the
  // start of the next starts a new unit: with persistent connections one
  // session serves many requests, and once-per-request lookups of different
  // requests must not add up to a loop.
  int64_t unit_idle_gap_ns = 500'000'000;  // 500 ms
  // A unit older than this is closed and a new one started (long background
  // jobs would otherwise never report, and would merge unrelated loops).
  int64_t unit_max_age_ns = 30'000'000'000;  // 30 s
  // A session without statements for this long gives its unit table back
  // (Poll): between requests it keeps it, so that a unit costs no
  // allocation, and an idle connection still holds only a few KB.
  int64_t release_idle_ns = 10'000'000'000;  // 10 s

  // --- N+1: one plain-read fingerprint repeated with different values ---
  uint32_t min_repeats = 5;
  // ... and either this much time in total in the repeats (Sentry's rule) ...
  uint64_t min_total_ns = 50'000'000;  // 50 ms
  // ... or at least this many repeats: a development database answers in
  // 0.2 ms, where a 100-iteration loop never reaches 50 ms.
  uint32_t min_repeats_fast = 10;
  // "More than one distinct set of literal values" (values repeating is
  // normal: 100 products lazily loading 20 categories is an N+1).
  uint32_t min_distinct_values = 2;
  // Batch work is not a per-object lookup: repeats whose statements carry at
  // least this many literals (IN-list chunks of a batch job) ...
  uint32_t batch_min_literals = 20;
  // ... or return more than this many rows on average.
  uint64_t batch_max_avg_rows = 100;

  // --- duplicate: the same fingerprint with exactly the same values ---
  uint32_t min_duplicates = 3;

  // --- repeated cycle: a sequence of fingerprints repeated back to back ---
  uint32_t min_cycle_length = 2;
  uint32_t max_cycle_length = 8;  // at most kMaxCycleLength (n_plus_one_cycles.h)
  uint32_t min_cycle_repeats = 3;
  // A cycle must also pass the N+1 time gate: min_total_ns in the run, or
  // min_repeats_fast statements in it.

  // --- write loop (opt-in): single-row INSERT/UPDATE/DELETE repeated ---
  bool detect_write_loops = false;  // uses min_repeats and the time gate

  // --- too many statements in one unit ---
  uint32_t max_unit_statements = 50;  // more than this is a finding
  uint32_t top_fingerprints = 5;      // listed in that finding

  // --- Memory bounds (per session) ---
  // Distinct fingerprints tracked per unit. When full, the oldest fingerprint
  // seen only once makes room; if every one repeats, new fingerprints are
  // counted in the unit's totals but not tracked.
  size_t max_fingerprints_per_unit = 128;
  // Masked text kept per fingerprint, for the report and for reading its
  // shape at unit close (suggestion, allow-list by table). Long texts lose
  // the middle of their select list, not FROM / WHERE (ShortenFingerprint).
  size_t max_text_bytes = 512;
  // Call-site values (route, controller, ...) kept per unit.
  size_t max_tag_bytes = 256;
  // Repeated cycles remembered per unit.
  size_t max_cycles_per_unit = 8;
};

// The sqlcommenter key that silences a call site: statements carrying
// querylens_ignore='<anything but 0/false/no/off>' are never reported
// (the app adds it for one loop with an execute_wrapper, or for a whole view
// from a middleware). Unknown sqlcommenter keys pass through Django's
// middleware and OpenTelemetry, so no app-side support is needed.
inline constexpr std::string_view kNPlusOneSilenceKey = "querylens_ignore";

}  // namespace ql::analyzer
