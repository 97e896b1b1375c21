// The last step before a finding is logged: drop what the operator or the
// application asked not to hear about, and say the same thing at most once
// per interval.
//
//  1. Silenced: the statements carried querylens_ignore (see
//     n_plus_one_options.h) -> kSilenced.
//  2. Allow-list (configuration) -> kAllowListed, by
//     - digest: the repeated statement's digest id (for a repeated cycle,
//       any member's);
//     - table: any table the repeated statement(s) read or write;
//     - route: the sqlcommenter route of the unit.
//     Tables and routes match exactly, or by prefix when the pattern ends
//     in '*' ("django_*", "admin/*"). The digest and table lists do not
//     apply to too_many_statements (one allowed loop should not hide a
//     request that runs hundreds of statements); the route list does.
//  3. Deduplication: one report per (kind, call site, parent digest,
//     fingerprint digest) per dedup_interval_ns; the call site is route,
//     controller, action and app_name. Findings within the interval are
//     kSuppressed and counted; the next one reported for the key carries
//     that count in `suppressed`. Keys are bounded by max_keys: when full,
//     expired keys go first (an expired key's pending count is dropped),
//     else the least recently reported one.
//
// One reporter serves many sessions (all of a worker's, or all workers'
// behind the caller's own synchronization): it has no lock of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "analyzer/n_plus_one_finding.h"

namespace ql::analyzer {

struct NPlusOneAllowList {
  std::vector<uint64_t> digests;
  std::vector<std::string> tables;
  std::vector<std::string> routes;

  bool empty() const { return digests.empty() && tables.empty() && routes.empty(); }
  // Whether the finding is allow-listed.
  bool Matches(const NPlusOneFinding& finding) const;
};

// "name" matches exactly; "prefix*" matches any value starting with prefix.
bool MatchesPattern(std::string_view pattern, std::string_view value);

struct NPlusOneReporterOptions {
  int64_t dedup_interval_ns = 60'000'000'000;  // 60 s
  size_t max_keys = 4096;
  NPlusOneAllowList allow_list;
};

enum class ReportDecision : uint8_t { kReport, kSuppressed, kAllowListed, kSilenced };
std::string_view ReportDecisionName(ReportDecision decision);

class NPlusOneReporter {
 public:
  explicit NPlusOneReporter(NPlusOneReporterOptions options = {});

  // Decides about one finding at monotonic time `now_ns`. On kReport,
  // finding->suppressed is set to the number held back since the key's
  // previous report.
  ReportDecision Admit(NPlusOneFinding* finding, int64_t now_ns);
  // The deduplication step of Admit alone, for a finding not built yet:
  // true (and counted as kSuppressed) when its key was reported less than
  // dedup_interval_ns ago. False for silenced findings and for everything
  // else, which then goes through Admit. A key is only ever reported after
  // the allow-list let it through, so a repeat of it is suppressed here as
  // Admit would; the exception is a repeated cycle whose members changed to
  // include an allow-listed digest or table, counted here as suppressed
  // where Admit would say allow-listed (neither is logged).
  bool SuppressRepeat(const FindingHead& head, int64_t now_ns);

  // Replaces the options (configuration reload); keeps the dedup state.
  void SetOptions(NPlusOneReporterOptions options);
  const NPlusOneReporterOptions& options() const { return options_; }

  size_t keys() const { return keys_.size(); }
  uint64_t count(ReportDecision decision) const { return counts_[static_cast<size_t>(decision)]; }

  // The deduplication key of a finding.
  static uint64_t KeyOf(const FindingHead& head);

 private:
  struct KeyState {
    int64_t last_report_ns = 0;
    uint64_t suppressed = 0;
  };
  void MakeRoom(int64_t now_ns);

  NPlusOneReporterOptions options_;
  absl::flat_hash_map<uint64_t, KeyState> keys_;
  uint64_t counts_[4] = {0, 0, 0, 0};
};

}  // namespace ql::analyzer
