// Routing rules from the configuration (--route-rule): match a statement by
// user, schema, digest or a glob on its fingerprint, and send it to the
// primary or to a replica. Pure logic; the proxy asks MatchRouteRules() for
// each statement that is not already bound to the primary by its class.
//
// The string form, as --route-rule takes it:
//   key=value[,key=value...]=>primary|replica
// with keys user, schema, digest (exactly 16 hex digits: the 64-bit digest id
// as the proxy prints it) and fingerprint (a glob). At least one key; each at
// most once. Values may not contain ',' or "=>" in this form; the YAML mapping
// form ({user:, schema:, digest:, fingerprint:, target:}) goes through
// RouteRuleFromFields() and has no such limit. Keys, values and the target are
// trimmed of surrounding blanks; keys and the target ignore case.
//
// Fingerprints are lower-case (analyzer/fingerprint.h), so a fingerprint glob
// is stored lower-cased and compared case-sensitively. User and schema compare
// exactly (MariaDB on Linux treats database names case-sensitively).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ql::analyzer {

enum class RouteTarget : uint8_t { kPrimary, kReplica };

struct RouteRule {
  std::string user;                 // empty: any
  std::string schema;               // empty: any
  std::optional<uint64_t> digest;   // none: any
  std::string fingerprint_glob;     // empty: any; '*' matches any run, '?' one character
  RouteTarget target = RouteTarget::kPrimary;
  friend bool operator==(const RouteRule&, const RouteRule&) = default;
};

// Parses the string form above. Errors describe the text ("route rule 'x': ...").
absl::StatusOr<RouteRule> ParseRouteRule(std::string_view text);

// Builds a rule from named fields (user, schema, digest, fingerprint, target);
// `target` is required, and at least one of the others. Field names are the
// lower-case key names; unknown ones are errors.
absl::StatusOr<RouteRule> RouteRuleFromFields(
    const std::vector<std::pair<std::string, std::string>>& fields);

// The string form of a rule; ParseRouteRule(DescribeRouteRule(r)) == r for
// every rule whose values hold no ',' or "=>" and no surrounding blanks.
std::string DescribeRouteRule(const RouteRule& rule);

// "primary" or "replica".
std::string_view RouteTargetName(RouteTarget target);

// Whole-text glob match: '*' matches any run of bytes (also none), '?' exactly
// one byte, everything else itself. Iterative; on a mismatch it backtracks
// only to the last '*', so the cost is at most glob size times text size and
// usually linear.
bool GlobMatch(std::string_view glob, std::string_view text);

// The target of the first rule whose every given field matches, or nullopt
// when none does. `fingerprint` is the statement's (lower-case) fingerprint.
std::optional<RouteTarget> MatchRouteRules(const std::vector<RouteRule>& rules,
                                           std::string_view user, std::string_view schema,
                                           uint64_t digest, std::string_view fingerprint);

}  // namespace ql::analyzer
