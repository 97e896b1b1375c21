// The N+1 warning part of the option table: whether the detector runs, its
// unit-of-work and reporting thresholds, and the allow-list (digests, tables,
// routes). Every threshold of analyzer/n_plus_one_options.h has a flag;
// proxy/n_plus_one_sink.cc turns these fields into detector and reporter
// options.
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "analyzer/n_plus_one_cycles.h"
#include "proxy/config.h"
#include "proxy/config_options_internal.h"

namespace ql::proxy::config_internal {
namespace {

// Exactly 16 hex digits, as /api/digests and the N+1 log show a digest.
absl::StatusOr<uint64_t> ParseDigestHex(std::string_view text) {
  if (text.size() != 16) {
    return absl::InvalidArgumentError(Cat("expected a digest of 16 hex digits, got '", text, "'"));
  }
  uint64_t value = 0;
  for (char c : text) {
    int digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return absl::InvalidArgumentError(Cat("expected a digest of 16 hex digits, got '", text, "'"));
    }
    value = value << 4 | uint64_t(digit);
  }
  return value;
}

std::string DigestHex(uint64_t digest) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(digest));
  return buf;
}

// A pattern: not empty, and '*' only as the last character (prefix match).
absl::Status CheckPattern(std::string_view what, std::string_view pattern) {
  if (pattern.empty() || pattern == "*") {
    return absl::InvalidArgumentError(Cat("expected a ", what, " or a prefix ending in '*', got '",
                                          pattern, "'"));
  }
  const size_t star = pattern.find('*');
  if (star != std::string_view::npos && star + 1 != pattern.size()) {
    return absl::InvalidArgumentError(
        Cat("'*' may only end a ", what, " pattern (prefix match), got '", pattern, "'"));
  }
  return absl::OkStatus();
}

// A repeatable list of patterns stored into one field; tables are stored in
// lower case (fingerprints are lower case), routes as written.
OptionSpec PatternList(std::string_view name, std::string_view alias, std::string_view value_name,
                       std::string_view help, std::string_view what,
                       std::vector<std::string> Config::*field, bool lower) {
  return {.name = name, .yaml_alias = alias, .value_name = value_name, .help = help,
          .repeatable = true,
          .set = [field, what, lower](CommandLine& cl, std::string_view v,
                                      const GetEnvFn&) -> absl::Status {
            if (absl::Status s = CheckPattern(what, v); !s.ok()) return s;
            (cl.config.*field).push_back(lower ? absl::AsciiStrToLower(AV(v)) : std::string(v));
            return absl::OkStatus();
          },
          .clear = [field](Config& c) { (c.*field).clear(); },
          .show = [field](const Config& c) { return absl::StrJoin(c.*field, ", "); },
          .check = [field, name, what](const Config& c) -> absl::Status {
            for (const std::string& p : c.*field) {
              if (absl::Status s = CheckPattern(what, p); !s.ok()) {
                return absl::InvalidArgumentError(Cat("--", name, ": ", s.message()));
              }
            }
            return absl::OkStatus();
          }};
}

}  // namespace

void AddNPlusOneOptions(std::vector<OptionSpec>& o) {
  using V = std::string_view;
  o.push_back(OnOff("n-plus-one", "detect N+1 query loops and log them as warnings",
                    &Config::n_plus_one));
  o.push_back(CountIn("n-plus-one-min-repeats",
                      "repeats of one read with different values before it is an N+1",
                      &Config::n_plus_one_min_repeats, 2, 1000000));
  o.push_back(Seconds("n-plus-one-unit-idle-gap",
                      "a pause this long between a session's statements starts a new unit of work",
                      &Config::n_plus_one_unit_idle_gap_s));
  o.push_back(Seconds("n-plus-one-unit-max-age",
                      "a unit of work older than this is reported and a new one started",
                      &Config::n_plus_one_unit_max_age_s));
  o.push_back(SecondsOrZero("n-plus-one-dedup-interval",
                            "one log line per call site, parent and statement per interval; 0 "
                            "logs every finding",
                            &Config::n_plus_one_dedup_interval_s));
  o.push_back(Switch("n-plus-one-write-loops",
                     "also report single-row INSERT/UPDATE/DELETE repeated in a loop",
                     &Config::n_plus_one_write_loops));
  o.push_back(CountIn("n-plus-one-max-statements",
                      "more statements than this in one unit of work is a finding",
                      &Config::n_plus_one_max_statements, 1, 100000000));
  o.push_back(SecondsOrZero("n-plus-one-min-total-time",
                            "an N+1 spends at least this long in its repeats (or see "
                            "--n-plus-one-min-repeats-fast)",
                            &Config::n_plus_one_min_total_time_s));
  o.push_back(CountIn("n-plus-one-min-repeats-fast",
                      "an N+1 faster than --n-plus-one-min-total-time needs this many repeats",
                      &Config::n_plus_one_min_repeats_fast, 2, 1000000));
  o.push_back(CountIn("n-plus-one-min-distinct-values",
                      "distinct sets of literal values an N+1's repeats carry at least",
                      &Config::n_plus_one_min_distinct_values, 1, 1000));
  o.push_back(CountIn("n-plus-one-min-duplicates",
                      "the same statement with the same values this often is a duplicate",
                      &Config::n_plus_one_min_duplicates, 2, 1000000));
  o.push_back(CountIn("n-plus-one-cycle-min-length",
                      "fewest statements in a repeated cycle", &Config::n_plus_one_cycle_min_length,
                      2, int(analyzer::kMaxCycleLength)));
  OptionSpec cycle_max = CountIn("n-plus-one-cycle-max-length",
                                 "most statements in a repeated cycle",
                                 &Config::n_plus_one_cycle_max_length, 2,
                                 int(analyzer::kMaxCycleLength));
  cycle_max.check = [inner = cycle_max.check](const Config& c) -> absl::Status {
    if (absl::Status s = inner(c); !s.ok()) return s;
    if (c.n_plus_one_cycle_max_length >= c.n_plus_one_cycle_min_length) return absl::OkStatus();
    return absl::InvalidArgumentError(
        "--n-plus-one-cycle-max-length must not be below --n-plus-one-cycle-min-length");
  };
  o.push_back(std::move(cycle_max));
  o.push_back(CountIn("n-plus-one-cycle-min-repeats", "repeats of a cycle before it is a finding",
                      &Config::n_plus_one_cycle_min_repeats, 2, 1000000));
  o.push_back(CountIn("n-plus-one-batch-min-literals",
                      "repeats carrying this many literals each are batch work, not a loop",
                      &Config::n_plus_one_batch_min_literals, 1, 1000000));
  o.push_back(CountIn("n-plus-one-batch-max-avg-rows",
                      "repeats returning more rows than this on average are batch work",
                      &Config::n_plus_one_batch_max_avg_rows, 1, 1000000000));
  o.push_back(CountIn("n-plus-one-top-fingerprints",
                      "statements listed in a too_many_statements finding",
                      &Config::n_plus_one_top_fingerprints, 1, 50));
  o.push_back(CountIn("n-plus-one-max-fingerprints",
                      "distinct statements tracked per unit of work (bounds each session's memory)",
                      &Config::n_plus_one_max_fingerprints, 8, 100000));
  o.push_back({.name = "n-plus-one-allow-digest", .yaml_alias = "n-plus-one-allow-digests",
               .value_name = "HEX16",
               .help = "never report loops of this statement digest (repeatable)",
               .repeatable = true,
               .set = [](CommandLine& cl, V v, const GetEnvFn&) -> absl::Status {
                 absl::StatusOr<uint64_t> digest = ParseDigestHex(v);
                 if (!digest.ok()) return digest.status();
                 cl.config.n_plus_one_allow_digests.push_back(*digest);
                 return absl::OkStatus();
               },
               .clear = [](Config& c) { c.n_plus_one_allow_digests.clear(); },
               .show = [](const Config& c) {
                 return absl::StrJoin(c.n_plus_one_allow_digests, ", ",
                                      [](std::string* out, uint64_t d) { out->append(DigestHex(d)); });
               }});
  o.push_back(PatternList("n-plus-one-allow-table", "n-plus-one-allow-tables", "NAME",
                          "never report loops over this table; NAME* matches a prefix (repeatable)",
                          "table", &Config::n_plus_one_allow_tables, true));
  o.push_back(PatternList("n-plus-one-allow-route", "n-plus-one-allow-routes", "ROUTE",
                          "never report findings of this sqlcommenter route; ROUTE* matches a "
                          "prefix (repeatable)",
                          "route", &Config::n_plus_one_allow_routes, false));
}

}  // namespace ql::proxy::config_internal
