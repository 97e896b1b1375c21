// Routing rules: parsing the --route-rule string form and the YAML mapping
// form, describing a rule back as a string, the glob matcher and the
// first-match-wins lookup. See route_rules.h for the syntax.
#include "analyzer/route_rules.h"

#include "absl/status/status.h"
#include "analyzer/digest.h"

namespace ql::analyzer {
namespace {

// Debian's absl::string_view is not std::string_view; messages are built as std::string.
absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::string_view(message.data(), message.size()));
}

std::string_view Trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Exactly 16 hex digits, either case.
std::optional<uint64_t> ParseDigestHex(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return value;
}

}  // namespace

std::string_view RouteTargetName(RouteTarget target) {
  return target == RouteTarget::kReplica ? "replica" : "primary";
}

absl::StatusOr<RouteRule> RouteRuleFromFields(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  RouteRule rule;
  bool seen[5] = {};  // user, schema, digest, fingerprint, target
  for (const auto& [raw_key, raw_value] : fields) {
    const std::string key = Lower(Trim(raw_key));
    const std::string_view value = Trim(raw_value);
    static constexpr std::string_view kKeys[] = {"user", "schema", "digest", "fingerprint", "target"};
    int index = -1;
    for (int i = 0; i < 5; ++i) {
      if (key == kKeys[i]) index = i;
    }
    if (index < 0) {
      return Invalid("unknown key '" + key +
                     "' (known: user, schema, digest, fingerprint, and the target)");
    }
    if (seen[index]) return Invalid("key '" + key + "' is given twice");
    seen[index] = true;
    // An empty target falls through to the message that lists the choices.
    if (value.empty() && index != 4) return Invalid("key '" + key + "' has an empty value");
    switch (index) {
      case 0:
        rule.user = std::string(value);
        break;
      case 1:
        rule.schema = std::string(value);
        break;
      case 2:
        rule.digest = ParseDigestHex(value);
        if (!rule.digest) {
          return Invalid("digest must be exactly 16 hex digits (as the proxy prints it), got '" +
                         std::string(value) + "'");
        }
        break;
      case 3:
        rule.fingerprint_glob = Lower(value);  // fingerprints are lower-case
        break;
      default: {
        const std::string target = Lower(value);
        if (target == "primary") {
          rule.target = RouteTarget::kPrimary;
        } else if (target == "replica") {
          rule.target = RouteTarget::kReplica;
        } else {
          return Invalid("target must be primary or replica, got '" + std::string(value) + "'");
        }
      }
    }
  }
  if (!seen[4]) return Invalid("the target (primary or replica) is missing");
  if (!seen[0] && !seen[1] && !seen[2] && !seen[3]) {
    return Invalid("a rule needs at least one of user, schema, digest, fingerprint");
  }
  return rule;
}

absl::StatusOr<RouteRule> ParseRouteRule(std::string_view text) {
  auto fail = [text](const std::string& why) {
    return Invalid("route rule '" + std::string(text) + "': " + why);
  };
  const size_t arrow = text.find("=>");
  if (arrow == std::string_view::npos) {
    return fail("expected key=value[,key=value...]=>primary|replica (missing '=>')");
  }
  if (text.find("=>", arrow + 2) != std::string_view::npos) {
    return fail("'=>' appears more than once (values may not contain it; use the YAML mapping form)");
  }
  std::vector<std::pair<std::string, std::string>> fields;
  std::string_view conditions = text.substr(0, arrow);
  if (Trim(conditions).empty()) {
    return fail("a rule needs at least one of user, schema, digest, fingerprint before '=>'");
  }
  while (true) {
    const size_t comma = conditions.find(',');
    const std::string_view item = conditions.substr(0, comma);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return fail("expected key=value, got '" + std::string(Trim(item)) +
                  "' (values may not contain ','; use the YAML mapping form)");
    }
    const std::string key = Lower(Trim(item.substr(0, eq)));
    if (key == "target") return fail("the target goes after '=>'");
    fields.emplace_back(key, std::string(item.substr(eq + 1)));
    if (comma == std::string_view::npos) break;
    conditions.remove_prefix(comma + 1);
  }
  fields.emplace_back("target", std::string(text.substr(arrow + 2)));
  absl::StatusOr<RouteRule> rule = RouteRuleFromFields(fields);
  if (!rule.ok()) return fail(std::string(rule.status().message()));
  return rule;
}

std::string DescribeRouteRule(const RouteRule& rule) {
  std::string out;
  auto add = [&out](std::string_view key, std::string_view value) {
    if (!out.empty()) out += ',';
    out.append(key).append("=").append(value);
  };
  if (!rule.user.empty()) add("user", rule.user);
  if (!rule.schema.empty()) add("schema", rule.schema);
  if (rule.digest) add("digest", DigestHex(*rule.digest));
  if (!rule.fingerprint_glob.empty()) add("fingerprint", rule.fingerprint_glob);
  out.append("=>").append(RouteTargetName(rule.target));
  return out;
}

bool GlobMatch(std::string_view glob, std::string_view text) {
  size_t g = 0, t = 0;
  size_t star = std::string_view::npos;  // position of the last '*' seen in glob
  size_t resume = 0;                     // where in text that '*' match ends so far
  while (t < text.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      resume = t;  // let the '*' match nothing first
    } else if (g < glob.size() && (glob[g] == '?' || glob[g] == text[t])) {
      ++g;
      ++t;
    } else if (star != std::string_view::npos) {
      // Earlier '*'s never need revisiting: the last one can absorb anything they could.
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

std::optional<RouteTarget> MatchRouteRules(const std::vector<RouteRule>& rules,
                                           std::string_view user, std::string_view schema,
                                           uint64_t digest, std::string_view fingerprint) {
  for (const RouteRule& rule : rules) {
    if (!rule.user.empty() && rule.user != user) continue;
    if (!rule.schema.empty() && rule.schema != schema) continue;
    if (rule.digest && *rule.digest != digest) continue;
    if (!rule.fingerprint_glob.empty() && !GlobMatch(rule.fingerprint_glob, fingerprint)) continue;
    return rule.target;
  }
  return std::nullopt;
}

}  // namespace ql::analyzer
