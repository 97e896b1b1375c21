// The option table and everything driven by it except the YAML file: value parsers, the command-line
// parser, Validate(), the --help text and the configuration summary. See config.h for the flow.
#include "proxy/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace ql::proxy {
namespace {

// Debian's abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// does not convert from std::string_view; these two adapt our std::string_view values.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

template <typename T>
decltype(auto) Piece(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> && !std::is_same_v<T, std::string>) {
    return AV(value);
  } else {
    return (value);
  }
}

template <typename... T>
std::string Cat(const T&... values) {
  return absl::StrCat(Piece(values)...);
}

// --- value parsers: each returns an error that describes the value, never where it came from ---

absl::StatusOr<bool> ParseBool(std::string_view text) {
  const std::string lower = absl::AsciiStrToLower(AV(text));
  // YAML 1.1 spellings too, because people write `require_tls: yes`.
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return absl::InvalidArgumentError(Cat("expected true or false, got '", text, "'"));
}

absl::StatusOr<double> ParseSeconds(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value <= 0) {
    return absl::InvalidArgumentError(
        Cat("expected a number of seconds greater than 0, got '", text, "'"));
  }
  return value;
}

absl::StatusOr<double> ParseSecondsOrZero(std::string_view text) {
  double value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < 0) {
    return absl::InvalidArgumentError(Cat("expected a number of seconds (0 or more), got '", text, "'"));
  }
  return value;
}

absl::StatusOr<int> ParseCount(std::string_view text, int min) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min) {
    return absl::InvalidArgumentError(
        Cat("expected a whole number of at least ", min, ", got '", text, "'"));
  }
  return value;
}

absl::StatusOr<int> ParseCountIn(std::string_view text, int min, int max) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return absl::InvalidArgumentError(
        Cat("expected a whole number from ", min, " to ", max, ", got '", text, "'"));
  }
  return value;
}

// "env:VARNAME" reads the variable, so that passwords need not appear in argv or in the file.
absl::StatusOr<std::string> ResolveSecret(std::string_view text, const GetEnvFn& getenv) {
  if (!text.starts_with("env:")) return std::string(text);
  const std::string var(text.substr(4));
  if (var.empty()) return absl::InvalidArgumentError("'env:' needs a variable name, as in env:APP_PASSWORD");
  const char* value = getenv(var.c_str());
  if (value == nullptr) {
    return absl::InvalidArgumentError(Cat("environment variable '", var, "' is not set"));
  }
  return std::string(value);
}

// NAME:PASSWORD, split at the first ':' so the password may contain ':'. Messages never echo the text:
// it holds a password.
absl::StatusOr<std::pair<std::string, std::string>> ParseCredentials(std::string_view text,
                                                                     const GetEnvFn& getenv) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError("expected NAME:PASSWORD, got a value without ':'");
  }
  if (colon == 0) return absl::InvalidArgumentError("expected NAME:PASSWORD, the name is empty");
  absl::StatusOr<std::string> password = ResolveSecret(text.substr(colon + 1), getenv);
  if (!password.ok()) return password.status();
  return std::make_pair(std::string(text.substr(0, colon)), *std::move(password));
}

// USER[:PASSWORD] (--monitor-user): like ParseCredentials, but the password may be left out.
absl::StatusOr<std::pair<std::string, std::string>> ParseOptionalCredentials(std::string_view text,
                                                                             const GetEnvFn& getenv) {
  if (text.find(':') != std::string_view::npos) return ParseCredentials(text, getenv);
  if (text.empty()) return absl::InvalidArgumentError("expected USER[:PASSWORD], the name is empty");
  return std::make_pair(std::string(text), std::string());
}

constexpr uint32_t kMaxReplicaWeight = 1000;

struct WeightedReplica {
  HostPort address;
  uint32_t weight = 1;
};

absl::StatusOr<uint32_t> ParseWeight(std::string_view text) {
  absl::StatusOr<int> weight = ParseCountIn(text, 1, kMaxReplicaWeight);
  if (!weight.ok()) {
    return absl::InvalidArgumentError(Cat("weight must be a whole number from 1 to ", kMaxReplicaWeight,
                                          ", got '", text, "'"));
  }
  return static_cast<uint32_t>(*weight);
}

// HOST:PORT[,weight=N] (--replica).
absl::StatusOr<WeightedReplica> ParseReplica(std::string_view text) {
  const size_t comma = text.find(',');
  absl::StatusOr<HostPort> address = ParseHostPort(text.substr(0, comma));
  if (!address.ok()) return address.status();
  WeightedReplica replica{*std::move(address), 1};
  if (comma == std::string_view::npos) return replica;
  const std::string_view option = text.substr(comma + 1);
  if (!option.starts_with("weight=")) {
    return absl::InvalidArgumentError(
        Cat("expected HOST:PORT[,weight=N], got '", text, "' (only weight=N may follow the address)"));
  }
  absl::StatusOr<uint32_t> weight = ParseWeight(option.substr(7));
  if (!weight.ok()) return weight.status();
  replica.weight = *weight;
  return replica;
}

// One identifier as MariaDB writes it unquoted: letters, digits, '_', '$', and any non-ASCII byte.
bool IsIdentifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isalnum(u) && c != '_' && c != '$' && u < 0x80) return false;
  }
  return true;
}

// DB.TABLE (--heartbeat-table).
bool IsQualifiedTable(std::string_view s) {
  const size_t dot = s.find('.');
  return dot != std::string_view::npos && IsIdentifier(s.substr(0, dot)) && IsIdentifier(s.substr(dot + 1));
}

// NAME or DB.NAME (--read-only-routine); stored in lower case because routine names ignore case.
bool IsRoutineName(std::string_view s) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) return IsIdentifier(s);
  return IsQualifiedTable(s);
}

std::string FormatSeconds(double seconds) { return Cat(seconds); }

// --- option factories: one per kind of value, so that a table entry is one line ---

// A setter that parses with `parse` (string_view -> StatusOr<T>) and stores into one Config field.
template <typename Field, typename Parse>
auto Store(Field Config::*field, Parse parse) {
  return [field, parse](CommandLine& cl, std::string_view v, const GetEnvFn&) -> absl::Status {
    auto parsed = parse(v);
    if (!parsed.ok()) return parsed.status();
    cl.config.*field = *std::move(parsed);
    return absl::OkStatus();
  };
}

OptionSpec Address(std::string_view name, std::string_view help, HostPort Config::*field) {
  return {.name = name, .value_name = "HOST:PORT", .help = help, .set = Store(field, ParseHostPort),
          .show = [field](const Config& c) { return (c.*field).ToString(); }};
}

OptionSpec Seconds(std::string_view name, std::string_view help, double Config::*field) {
  return {.name = name, .value_name = "SECONDS", .help = help, .set = Store(field, ParseSeconds),
          .show = [field](const Config& c) { return FormatSeconds(c.*field); },
          .check = [name, field](const Config& c) -> absl::Status {
            if (std::isfinite(c.*field) && c.*field > 0) return absl::OkStatus();
            return absl::InvalidArgumentError(Cat("--", name, " must be greater than 0 seconds"));
          }};
}

// Like Seconds, but 0 is a meaningful value (for example "log every statement").
OptionSpec SecondsOrZero(std::string_view name, std::string_view help, double Config::*field) {
  return {.name = name, .value_name = "SECONDS", .help = help,
          .set = Store(field, ParseSecondsOrZero),
          .show = [field](const Config& c) { return FormatSeconds(c.*field); },
          .check = [name, field](const Config& c) -> absl::Status {
            if (std::isfinite(c.*field) && c.*field >= 0) return absl::OkStatus();
            return absl::InvalidArgumentError(Cat("--", name, " must be 0 or more seconds"));
          }};
}

OptionSpec Count(std::string_view name, std::string_view help, int Config::*field, int min) {
  return {.name = name, .value_name = "N", .help = help,
          .set = Store(field, [min](std::string_view v) { return ParseCount(v, min); }),
          .show = [field](const Config& c) { return Cat(c.*field); },
          .check = [name, field, min](const Config& c) -> absl::Status {
            if (c.*field >= min) return absl::OkStatus();
            return absl::InvalidArgumentError(Cat("--", name, " must be at least ", min));
          }};
}

OptionSpec CountIn(std::string_view name, std::string_view help, int Config::*field, int min, int max) {
  return {.name = name, .value_name = "N", .help = help,
          .set = Store(field, [min, max](std::string_view v) { return ParseCountIn(v, min, max); }),
          .show = [field](const Config& c) { return Cat(c.*field); },
          .check = [name, field, min, max](const Config& c) -> absl::Status {
            if (c.*field >= min && c.*field <= max) return absl::OkStatus();
            return absl::InvalidArgumentError(Cat("--", name, " must be from ", min, " to ", max));
          }};
}

// A boolean that always takes a value (--read-write-split on|off), for settings that default to on.
OptionSpec OnOff(std::string_view name, std::string_view help, bool Config::*field) {
  return {.name = name, .value_name = "on|off", .help = help, .set = Store(field, ParseBool),
          .show = [field](const Config& c) { return std::string(c.*field ? "on" : "off"); }};
}

OptionSpec Switch(std::string_view name, std::string_view help, bool Config::*field) {
  return {.name = name, .help = help, .set = Store(field, ParseBool),
          .show = [field](const Config& c) { return std::string(c.*field ? "true" : "false"); }};
}

// One of the '|'-separated words of value_name, case-insensitively; stored in lower case.
OptionSpec Choice(std::string_view name, std::string_view value_name, std::string_view help,
                  std::string Config::*field) {
  auto is_choice = [value_name](std::string_view v) {
    for (absl::string_view c : absl::StrSplit(AV(value_name), '|')) {
      if (c == AV(v)) return true;
    }
    return false;
  };
  auto parse = [=](std::string_view v) -> absl::StatusOr<std::string> {
    std::string lower = absl::AsciiStrToLower(AV(v));
    if (is_choice(lower)) return lower;
    return absl::InvalidArgumentError(Cat("expected ", value_name, ", got '", v, "'"));
  };
  return {.name = name, .value_name = value_name, .help = help, .set = Store(field, parse),
          .show = [field](const Config& c) { return c.*field; },
          .check = [=](const Config& c) -> absl::Status {
            if (is_choice(c.*field)) return absl::OkStatus();
            return absl::InvalidArgumentError(
                Cat("--", name, " must be one of ", value_name, ", not '", c.*field, "'"));
          }};
}

// A file the proxy writes (appends to); Validate checks it can be opened so.
OptionSpec OutputFile(std::string_view name, std::string_view help, std::string Config::*field) {
  auto parse = [](std::string_view v) -> absl::StatusOr<std::string> {
    if (v.empty()) return absl::InvalidArgumentError("expected a file name, got ''");
    return std::string(v);
  };
  return {.name = name, .value_name = "FILE", .help = help, .set = Store(field, parse),
          .show = [field](const Config& c) { return c.*field; },
          .check = [name, field](const Config& c) -> absl::Status {
            if ((c.*field).empty() || std::ofstream(c.*field, std::ios::app).is_open()) {
              return absl::OkStatus();
            }
            return absl::InvalidArgumentError(Cat("--", name, ": cannot write file '", c.*field, "'"));
          }};
}

// A file path; Validate checks the file can be opened when it is set.
OptionSpec File(std::string_view name, std::string_view help, std::string Config::*field) {
  auto parse = [](std::string_view v) -> absl::StatusOr<std::string> {
    if (v.empty()) return absl::InvalidArgumentError("expected a file name, got ''");
    return std::string(v);
  };
  return {.name = name, .value_name = "FILE", .help = help, .set = Store(field, parse),
          .show = [field](const Config& c) { return c.*field; },
          .check = [name, field](const Config& c) -> absl::Status {
            if ((c.*field).empty() || std::ifstream(c.*field).is_open()) return absl::OkStatus();
            return absl::InvalidArgumentError(Cat("--", name, ": cannot read file '", c.*field, "'"));
          }};
}

// --config, --help and the like. A switch among them is only ever turned on ("--help=false" is
// accepted and ignored).
OptionSpec CommandLineOnly(std::string_view name, std::string_view value_name, std::string_view help,
                           std::function<void(CommandLine&, std::string_view)> act) {
  return {.name = name, .value_name = value_name, .help = help, .scope = OptionScope::kCommandLineOnly,
          .set = [value_name, act](CommandLine& cl, std::string_view v, const GetEnvFn&) -> absl::Status {
            if (!value_name.empty()) {
              act(cl, v);
              return absl::OkStatus();
            }
            absl::StatusOr<bool> on = ParseBool(v);
            if (on.ok() && *on) act(cl, v);
            return on.status();
          },
          .show = [](const Config&) { return std::string(); }};
}

absl::Status CheckUsers(const Config& c) {
  if (c.users.empty()) {
    return absl::InvalidArgumentError("at least one --user NAME:PASSWORD is required");
  }
  std::set<std::string_view> names;
  for (const UserEntry& u : c.users) {
    if (u.name.empty()) return absl::InvalidArgumentError("--user: a user name is empty");
    if (!names.insert(u.name).second) {
      return absl::InvalidArgumentError(Cat("--user: user '", u.name, "' is given twice"));
    }
  }
  return absl::OkStatus();
}

// One `users:` item written as a YAML mapping; explicit backend credentials win over --backend-user.
absl::Status AddUserFromFields(Config& c, const OptionFields& fields, const GetEnvFn& getenv) {
  UserEntry user;
  bool has_name = false, has_password = false, has_backend_password = false;
  for (const auto& [key, value] : fields) {
    if (key == "name") {
      user.name = value;
      has_name = true;
    } else if (key == "backend-user") {
      user.backend_name = value;
    } else {  // password or backend-password
      absl::StatusOr<std::string> secret = ResolveSecret(value, getenv);
      if (!secret.ok()) return absl::InvalidArgumentError(Cat(key, ": ", secret.status().message()));
      (key == "password" ? has_password : has_backend_password) = true;
      (key == "password" ? user.password : user.backend_password) = *std::move(secret);
    }
  }
  if (!has_name || user.name.empty()) return absl::InvalidArgumentError("a user entry needs a 'name'");
  if (!has_password) {
    return absl::InvalidArgumentError(Cat("user '", user.name, "' needs a 'password'"));
  }
  if (!user.backend_name.empty() && !has_backend_password) {
    return absl::InvalidArgumentError(
        Cat("user '", user.name, "': 'backend_user' needs a 'backend_password'"));
  }
  if (has_backend_password && user.backend_name.empty()) user.backend_name = user.name;
  c.users.push_back(std::move(user));
  return absl::OkStatus();
}

// Appends a replica and its weight; weights missing for replicas added some other way count as 1.
void AddReplica(Config& c, WeightedReplica replica) {
  c.replica_weights.resize(c.replicas.size(), 1);
  c.replicas.push_back(std::move(replica.address));
  c.replica_weights.push_back(replica.weight);
}

// One `replicas:` item written as {address: HOST:PORT, weight: N}.
absl::Status AddReplicaFromFields(Config& c, const OptionFields& fields) {
  std::optional<WeightedReplica> replica;
  uint32_t weight = 1;
  for (const auto& [key, value] : fields) {
    if (key == "address") {
      absl::StatusOr<HostPort> address = ParseHostPort(value);
      if (!address.ok()) return absl::InvalidArgumentError(Cat("address: ", address.status().message()));
      replica = WeightedReplica{*std::move(address), 1};
    } else {  // weight
      absl::StatusOr<uint32_t> parsed = ParseWeight(value);
      if (!parsed.ok()) return parsed.status();
      weight = *parsed;
    }
  }
  if (!replica) return absl::InvalidArgumentError("a replica entry needs an 'address' (HOST:PORT)");
  replica->weight = weight;
  AddReplica(c, *std::move(replica));
  return absl::OkStatus();
}

absl::Status CheckReplicas(const Config& c) {
  if (c.replica_weights.size() > c.replicas.size()) {
    return absl::InvalidArgumentError("--replica: there are more weights than replicas");
  }
  for (size_t i = 0; i < c.replica_weights.size(); ++i) {
    if (c.replica_weights[i] < 1 || c.replica_weights[i] > kMaxReplicaWeight) {
      return absl::InvalidArgumentError(Cat("--replica ", c.replicas[i].ToString(), ": weight must be 1 to ",
                                            kMaxReplicaWeight, ", not ", c.replica_weights[i]));
    }
  }
  return absl::OkStatus();
}

std::string ShowReplicas(const Config& c) {
  std::string out;
  for (size_t i = 0; i < c.replicas.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ", ", c.replicas[i].ToString());
    const uint32_t weight = i < c.replica_weights.size() ? c.replica_weights[i] : 1;
    if (weight != 1) absl::StrAppend(&out, ",weight=", weight);
  }
  return out;
}

absl::Status CheckRouteRules(const Config& c) {
  for (size_t i = 0; i < c.route_rules.size(); ++i) {
    const analyzer::RouteRule& r = c.route_rules[i];
    if (r.user.empty() && r.schema.empty() && !r.digest && r.fingerprint_glob.empty()) {
      return absl::InvalidArgumentError(
          Cat("--route-rule #", i + 1, " has no condition (user, schema, digest or fingerprint)"));
    }
  }
  return absl::OkStatus();
}

// The options of read/write splitting, the connection pools and the backend monitor.
void AddRoutingOptions(std::vector<OptionSpec>& o) {
  using V = std::string_view;
  o.push_back(OnOff("read-write-split", "send reads to replicas; off sends everything to the primary",
                    &Config::read_write_split));
  o.push_back(SecondsOrZero("read-after-write-window",
                            "a session's reads go to the primary this long after its write; 0 = off",
                            &Config::read_after_write_window_s));
  o.push_back(Switch("causal-reads", "a replica read first waits for the session's last write (GTID)",
                     &Config::causal_reads));
  o.push_back(Seconds("causal-reads-timeout",
                      "longest a --causal-reads wait may take; then the read goes to the primary",
                      &Config::causal_reads_timeout_s));
  o.push_back(Seconds("max-replication-lag", "a replica further behind than this gets no new reads",
                      &Config::max_replication_lag_s));
  o.push_back(Seconds("monitor-interval", "how often the backend monitor checks each server",
                      &Config::monitor_interval_s));
  o.push_back(CountIn("monitor-healthy-checks",
                      "good checks in a row before a replica takes reads again",
                      &Config::monitor_healthy_checks, 1, 100));
  o.push_back({.name = "monitor-user", .value_name = "USER[:PASSWORD]",
               .help = "login of the backend monitor; PASSWORD may be env:VARNAME (default: the "
                       "first user's server-side login)",
               .set = [](CommandLine& cl, V v, const GetEnvFn& getenv) -> absl::Status {
                 auto creds = ParseOptionalCredentials(v, getenv);
                 if (!creds.ok()) return creds.status();
                 cl.config.monitor_user = creds->first;
                 cl.config.monitor_password = creds->second;
                 return absl::OkStatus();
               },
               .show = [](const Config& c) { return c.monitor_user; }});
  o.push_back({.name = "heartbeat-table", .value_name = "DB.TABLE",
               .help = "pt-heartbeat table whose ts column measures replica lag (default: SHOW "
                       "REPLICA STATUS)",
               .set = Store(&Config::heartbeat_table, [](V v) -> absl::StatusOr<std::string> {
                 if (IsQualifiedTable(v)) return std::string(v);
                 return absl::InvalidArgumentError(Cat("expected DB.TABLE, got '", v, "'"));
               }),
               .show = [](const Config& c) { return c.heartbeat_table; },
               .check = [](const Config& c) -> absl::Status {
                 if (c.heartbeat_table.empty() || IsQualifiedTable(c.heartbeat_table)) {
                   return absl::OkStatus();
                 }
                 return absl::InvalidArgumentError(
                     Cat("--heartbeat-table must look like DB.TABLE, not '", c.heartbeat_table, "'"));
               }});
  o.push_back(Choice("replica-selection", "least-outstanding|weighted",
                     "how a read picks among healthy replicas", &Config::replica_selection));
  o.push_back({.name = "read-only-routine", .yaml_alias = "read-only-routines", .value_name = "NAME",
               .help = "a stored function or procedure (NAME or DB.NAME) that may run on a replica "
                       "(repeatable)",
               .repeatable = true,
               .set = [](CommandLine& cl, V v, const GetEnvFn&) -> absl::Status {
                 if (!IsRoutineName(v)) {
                   return absl::InvalidArgumentError(Cat("expected a routine name (NAME or DB.NAME), got '",
                                                         v, "'"));
                 }
                 cl.config.read_only_routines.push_back(absl::AsciiStrToLower(AV(v)));
                 return absl::OkStatus();
               },
               .clear = [](Config& c) { c.read_only_routines.clear(); },
               .show = [](const Config& c) { return absl::StrJoin(c.read_only_routines, ", "); },
               .check = [](const Config& c) -> absl::Status {
                 for (const std::string& name : c.read_only_routines) {
                   if (!IsRoutineName(name)) {
                     return absl::InvalidArgumentError(Cat("--read-only-routine: bad name '", name, "'"));
                   }
                 }
                 return absl::OkStatus();
               }});
  o.push_back({.name = "route-rule", .yaml_alias = "route-rules", .value_name = "RULE",
               .help = "key=value[,key=value...]=>primary|replica with keys user, schema, digest "
                       "(16 hex digits), fingerprint (glob: * and ?); first match wins (repeatable)",
               .repeatable = true,
               .set = [](CommandLine& cl, V v, const GetEnvFn&) -> absl::Status {
                 absl::StatusOr<analyzer::RouteRule> rule = analyzer::ParseRouteRule(v);
                 if (!rule.ok()) return rule.status();
                 cl.config.route_rules.push_back(*std::move(rule));
                 return absl::OkStatus();
               },
               .clear = [](Config& c) { c.route_rules.clear(); },
               .set_fields = [](CommandLine& cl, const OptionFields& f, const GetEnvFn&) -> absl::Status {
                 absl::StatusOr<analyzer::RouteRule> rule = analyzer::RouteRuleFromFields(f);
                 if (!rule.ok()) return rule.status();
                 cl.config.route_rules.push_back(*std::move(rule));
                 return absl::OkStatus();
               },
               .fields = {"user", "schema", "digest", "fingerprint", "target"},
               .show = [](const Config& c) {
                 return absl::StrJoin(c.route_rules, "; ", [](std::string* out, const analyzer::RouteRule& r) {
                   out->append(analyzer::DescribeRouteRule(r));
                 });
               },
               .check = CheckRouteRules});
  o.push_back(CountIn("pool-max-connections",
                      "pooled server connections per worker and server (idle and in use)",
                      &Config::pool_max_connections, 1, 100000));
  o.push_back(Seconds("pool-idle-timeout", "idle pooled connections are closed after this",
                      &Config::pool_idle_timeout_s));
  o.push_back(Seconds("pool-wait-timeout",
                      "longest a statement waits for a pooled connection; then ERR 1040",
                      &Config::pool_wait_timeout_s));
}

// The one place that lists every option. Command-line-only entries act on CommandLine itself.
std::vector<OptionSpec> BuildOptions() {
  using V = std::string_view;
  std::vector<OptionSpec> o;
  o.push_back(Address("listen", "address MySQL clients connect to", &Config::listen));
  o.push_back(Address("admin-listen", "admin HTTP address (metrics, health)",
                      &Config::admin_listen));
  o.push_back({.name = "primary", .value_name = "HOST:PORT",
               .help = "the primary MariaDB/MySQL server (required)",
               .set = Store(&Config::primary, ParseHostPort),
               .show = [](const Config& c) { return c.primary ? c.primary->ToString() : ""; },
               .check = [](const Config& c) -> absl::Status {
                 if (c.primary) return absl::OkStatus();
                 return absl::InvalidArgumentError("--primary HOST:PORT is required");
               }});
  o.push_back({.name = "replica", .yaml_alias = "replicas", .value_name = "HOST:PORT[,weight=N]",
               .help = "a replica server (repeatable); weight 1-1000 for --replica-selection=weighted",
               .repeatable = true,
               .set = [](CommandLine& cl, V v, const GetEnvFn&) -> absl::Status {
                 absl::StatusOr<WeightedReplica> replica = ParseReplica(v);
                 if (!replica.ok()) return replica.status();
                 AddReplica(cl.config, *std::move(replica));
                 return absl::OkStatus();
               },
               .clear = [](Config& c) {
                 c.replicas.clear();
                 c.replica_weights.clear();
               },
               .set_fields = [](CommandLine& cl, const OptionFields& f, const GetEnvFn&) {
                 return AddReplicaFromFields(cl.config, f);
               },
               .fields = {"address", "weight"},
               .show = ShowReplicas,
               .check = CheckReplicas});
  o.push_back({.name = "user", .yaml_alias = "users", .value_name = "NAME:PASSWORD",
               .help = "a login for clients (repeatable); PASSWORD may be env:VARNAME",
               .repeatable = true,
               .set = [](CommandLine& cl, V v, const GetEnvFn& getenv) -> absl::Status {
                 auto creds = ParseCredentials(v, getenv);
                 if (!creds.ok()) return creds.status();
                 cl.config.users.push_back(UserEntry{creds->first, creds->second, "", ""});
                 return absl::OkStatus();
               },
               .clear = [](Config& c) { c.users.clear(); },
               .set_fields = [](CommandLine& cl, const OptionFields& f, const GetEnvFn& getenv) {
                 return AddUserFromFields(cl.config, f, getenv);
               },
               .fields = {"name", "password", "backend-user", "backend-password"},
               .show = [](const Config& c) {
                 return absl::StrJoin(c.users, ", ", [](std::string* out, const UserEntry& u) {
                   absl::StrAppend(out, u.name);
                   if (!u.backend_name.empty() && u.backend_name != u.name) {
                     absl::StrAppend(out, " (as ", u.backend_name, ")");
                   }
                 });
               },
               .check = CheckUsers});
  o.push_back({.name = "backend-user", .value_name = "NAME:PASSWORD",
               .help = "server-side login for every user (default: each user's own)",
               .set = [](CommandLine& cl, V v, const GetEnvFn& getenv) -> absl::Status {
                 auto creds = ParseCredentials(v, getenv);
                 if (!creds.ok()) return creds.status();
                 cl.config.backend_user = creds->first;
                 cl.config.backend_password = creds->second;
                 return absl::OkStatus();
               },
               .show = [](const Config& c) { return c.backend_user; }});
  o.push_back(Count("workers", "worker threads; 0 = one per CPU core", &Config::workers, 0));
  o.push_back(Choice("frontend-auth", "mysql_native_password|caching_sha2_password",
                     "auth plugin offered first to clients", &Config::frontend_auth));
  o.push_back(File("tls-cert", "certificate (PEM) for TLS toward clients; needs --tls-key",
                   &Config::tls_cert));
  o.push_back(File("tls-key", "private key (PEM) for --tls-cert", &Config::tls_key));
  o.push_back(Switch("require-tls", "refuse clients that do not use TLS; needs --tls-cert",
                     &Config::require_tls));
  o.push_back(Switch("backend-tls", "use TLS toward the servers", &Config::backend_tls));
  o.push_back(File("backend-tls-ca", "CA (PEM) that verifies server certificates; needs --backend-tls",
                   &Config::backend_tls_ca));
  o.push_back(Seconds("connect-timeout", "limit for a server connect and handshake",
                      &Config::connect_timeout_s));
  o.push_back(Seconds("backend-read-timeout", "longest a server response may stall",
                      &Config::backend_read_timeout_s));
  o.push_back(Seconds("client-idle-timeout", "idle clients are dropped after this, like wait_timeout",
                      &Config::client_idle_timeout_s));
  o.push_back(Seconds("handshake-timeout", "limit for a client handshake and login",
                      &Config::handshake_timeout_s));
  o.push_back(Choice("log-level", "debug|info|warn|error", "least severe log messages written",
                     &Config::log_level));
  o.push_back(Choice("log-format", "text|json", "log line format", &Config::log_format));
  o.push_back(Switch("log-literals", "let statement text with literal values reach logs",
                     &Config::log_literals));
  o.push_back(SecondsOrZero("slow-query-time",
                            "statements at least this slow go to --slow-log; 0 logs every one",
                            &Config::slow_query_time_s));
  o.push_back(OutputFile("slow-log", "slow-query log in MySQL's format (pt-query-digest reads it)",
                         &Config::slow_log));
  o.push_back(Count("digest-max-entries",
                    "digest statistics entries kept per worker; least recently used go first",
                    &Config::digest_max_entries, 16));
  o.push_back(Count("metrics-top-digests",
                    "digests with their own /metrics series (top by total time); the rest "
                    "are summed as digest=\"other\"",
                    &Config::metrics_top_digests, 0));
  AddRoutingOptions(o);
  // Command line only: these act on CommandLine rather than Config.
  o.push_back(CommandLineOnly("config", "FILE", "YAML file with these options; flags override it",
                              [](CommandLine& cl, std::string_view v) {
                                cl.config.config_file = std::string(v);  // already loaded first
                              }));
  o.push_back(CommandLineOnly("check-config", "FILE", "load and validate FILE, report, exit",
                              [](CommandLine& cl, std::string_view v) { cl.check_config = std::string(v); }));
  o.push_back(CommandLineOnly("version", "", "print the version and exit",
                              [](CommandLine& cl, std::string_view) { cl.version = true; }));
  o.push_back(CommandLineOnly("help", "", "print this help and exit (also -h)",
                              [](CommandLine& cl, std::string_view) { cl.help = true; }));
  return o;
}

}  // namespace

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return Cat("[", host, "]:", port);
  return Cat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text) {
  auto bad = [text](std::string_view why) {
    return absl::InvalidArgumentError(Cat("expected HOST:PORT, got '", text, "' (", why, ")"));
  };
  std::string_view host, port;
  if (text.starts_with("[")) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest[0] != ':') return bad("missing port");
    port = rest.substr(1);
    if (host.find(':') == std::string_view::npos) return bad("brackets are only for IPv6 addresses");
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return bad("write IPv6 addresses in brackets: [::1]:3306");
  }
  if (host.empty()) return bad("missing host");
  for (char c : host) {
    // Names, IPv4/IPv6 literals and an IPv6 zone ("fe80::1%eth0"); anything else is a typo.
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '_' && c != ':' && c != '%') {
      return bad("invalid character in host");
    }
  }
  int number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || port.size() > 5 || ec != std::errc() || end != port.data() + port.size() ||
      !absl::ascii_isdigit(port[0]) || number < 1 || number > 65535) {
    return bad("port must be 1-65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(number)};
}

const char* ProcessGetEnv(const char* name) { return std::getenv(name); }

const std::vector<OptionSpec>& Options() {
  static const std::vector<OptionSpec>* const options = new std::vector<OptionSpec>(BuildOptions());
  return *options;
}

const OptionSpec* FindOption(std::string_view name) {
  const std::string wanted = absl::StrReplaceAll(AV(name), {{"_", "-"}});
  for (const OptionSpec& spec : Options()) {
    if (spec.name == wanted || (!spec.yaml_alias.empty() && spec.yaml_alias == wanted)) return &spec;
  }
  return nullptr;
}

std::string_view ClosestOptionName(std::string_view name) {
  // Levenshtein distance; a suggestion is offered for at most two edits.
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  const std::string wanted = absl::StrReplaceAll(AV(name), {{"_", "-"}});
  std::string_view best;
  size_t best_distance = 3;
  for (const OptionSpec& spec : Options()) {
    const size_t d = distance(wanted, spec.name);
    if (d < best_distance) {
      best = spec.name;
      best_distance = d;
    }
  }
  return best;
}

void FinishConfig(Config& config) {
  for (UserEntry& user : config.users) {
    if (!user.backend_name.empty()) continue;
    const bool shared = !config.backend_user.empty();
    user.backend_name = shared ? config.backend_user : user.name;
    user.backend_password = shared ? config.backend_password : user.password;
  }
  if (config.monitor_user.empty() && !config.users.empty()) {
    config.monitor_user = config.users.front().backend_name;
    config.monitor_password = config.users.front().backend_password;
  }
  config.replica_weights.resize(config.replicas.size(), 1);
}

namespace {

struct FlagUse {
  const OptionSpec* spec;
  std::string value;
};

// Splits argv into known flags with their values; nothing is applied yet.
absl::StatusOr<std::vector<FlagUse>> SplitFlags(int argc, const char* const* argv) {
  std::vector<FlagUse> uses;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h") {
      uses.push_back({FindOption("help"), "true"});
      continue;
    }
    if (!arg.starts_with("--") || arg.size() == 2) {
      return absl::InvalidArgumentError(
          Cat("unexpected argument '", arg, "' (options start with --; see --help)"));
    }
    arg.remove_prefix(2);
    std::optional<std::string_view> value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const OptionSpec* spec = FindOption(arg);
    if (spec == nullptr || spec->name != arg) {  // the command line takes only the exact flag name
      std::string_view guess = spec != nullptr ? spec->name : ClosestOptionName(arg);
      const std::string hint = guess.empty() ? "" : Cat(" (did you mean '--", guess, "'?)");
      return absl::InvalidArgumentError(Cat("unknown flag '--", arg, "'", hint));
    }
    if (!value.has_value()) {
      if (spec->is_switch()) {
        value = "true";
      } else if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(
            Cat("flag --", arg, " needs a value (", spec->value_name, ")"));
      }
    }
    uses.push_back({spec, std::string(*value)});
  }
  return uses;
}

}  // namespace

absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv, const GetEnvFn& getenv) {
  absl::StatusOr<std::vector<FlagUse>> uses = SplitFlags(argc, argv);
  if (!uses.ok()) return uses.status();
  CommandLine cl;
  auto apply = [&](const FlagUse& use) -> absl::Status {
    absl::Status status = use.spec->set(cl, use.value, getenv);
    if (status.ok()) return status;
    return absl::InvalidArgumentError(Cat("flag --", use.spec->name, ": ", status.message()));
  };
  // --help and --version answer without looking at anything else, so they work with a broken config.
  for (const FlagUse& use : *uses) {
    if (use.spec->name == "help" || use.spec->name == "version") {
      if (absl::Status s = apply(use); !s.ok()) return s;
    }
  }
  if (cl.help || cl.version) return cl;

  const FlagUse* config_flag = nullptr;
  for (const FlagUse& use : *uses) {
    if (use.spec->name == "config") config_flag = &use;
  }
  if (config_flag != nullptr) {
    if (absl::Status s = ApplyConfigFile(config_flag->value, cl, getenv); !s.ok()) return s;
  }
  std::set<const OptionSpec*> cleared;  // a list given on the command line replaces the file's list
  for (const FlagUse& use : *uses) {
    if (use.spec->repeatable && cleared.insert(use.spec).second) use.spec->clear(cl.config);
    if (absl::Status s = apply(use); !s.ok()) return s;
  }
  FinishConfig(cl.config);
  return cl;
}

absl::Status Validate(const Config& config) {
  std::vector<std::string> problems;
  for (const OptionSpec& spec : Options()) {
    if (!spec.check) continue;
    if (absl::Status s = spec.check(config); !s.ok()) problems.emplace_back(s.message());
  }
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    problems.emplace_back("--tls-cert and --tls-key must be given together");
  }
  if (config.require_tls && config.tls_cert.empty()) {
    problems.emplace_back("--require-tls needs --tls-cert and --tls-key");
  }
  // A CA without --backend-tls would silently mean "no TLS"; make the intent explicit.
  if (!config.backend_tls_ca.empty() && !config.backend_tls) {
    problems.emplace_back("--backend-tls-ca needs --backend-tls");
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
}

std::string HelpText() {
  constexpr size_t kColumn = 34;
  std::string out =
      "Usage: querylens --primary HOST:PORT --user NAME:PASSWORD [options]\n"
      "\n"
      "querylens is a MySQL/MariaDB proxy that profiles the queries passing through it.\n"
      "\n"
      "Options (--flag VALUE or --flag=VALUE; switches also take =true or =false):\n";
  const Config defaults;
  for (const OptionSpec& spec : Options()) {
    std::string left = Cat("  --", spec.name);
    if (!spec.is_switch()) absl::StrAppend(&left, " ", AV(spec.value_name));
    std::string right(spec.help);
    const std::string shown = spec.show ? spec.show(defaults) : "";
    if (!spec.is_switch() && !shown.empty()) absl::StrAppend(&right, " (default: ", shown, ")");
    if (left.size() + 1 < kColumn) {
      left.resize(kColumn, ' ');
    } else {
      absl::StrAppend(&left, "\n", std::string(kColumn, ' '));
    }
    absl::StrAppend(&out, left, right, "\n");
  }
  absl::StrAppend(&out,
                  "\nA --config file is YAML with the same names as keys (admin-listen or admin_listen),\n"
                  "except config, check-config, version and help. `replicas:`, `users:`,\n"
                  "`read-only-routines:` and `route-rules:` are lists; a replica is \"HOST:PORT\",\n"
                  "\"HOST:PORT,weight=N\" or {address:, weight:}; a user is \"NAME:PASSWORD\" or\n"
                  "{name:, password:, backend_user:, backend_password:}; a route rule is a RULE string or\n"
                  "{user:, schema:, digest:, fingerprint:, target:} (values may then hold ',' and '=>').\n"
                  "Flags override the file; a repeatable flag on the command line replaces its list.\n");
  return out;
}

std::string DescribeConfig(const Config& config) {
  std::string out;
  if (!config.config_file.empty()) absl::StrAppend(&out, "config file: ", config.config_file, "\n");
  for (const OptionSpec& spec : Options()) {
    if (spec.scope != OptionScope::kEverywhere || !spec.show) continue;
    const std::string shown = spec.show(config);
    absl::StrAppend(&out, AV(spec.name), ": ", shown.empty() ? "-" : shown, "\n");
  }
  return out;
}

}  // namespace ql::proxy
