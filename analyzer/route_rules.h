// Routing rules from the configuration (--route-rule): match a statement by
// user, schema, digest or a glob on its fingerprint, and send it to the
// primary or to a replica. Pure logic; the proxy asks Match() for each
// statement that is not already bound to the primary by its class.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// PLACEHOLDER: the helper owning this file replaces this declaration list.
std::optional<RouteTarget> MatchRouteRules(const std::vector<RouteRule>& rules,
                                           std::string_view user, std::string_view schema,
                                           uint64_t digest, std::string_view fingerprint);

}  // namespace ql::analyzer
