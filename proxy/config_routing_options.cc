// The routing part of the option table: --replica (addresses and weights) and the options of read/write
// splitting, the connection pools and the backend monitor, with the parsers and checks only they use.
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "proxy/config.h"
#include "proxy/config_options_internal.h"

namespace ql::proxy::config_internal {
namespace {

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

}  // namespace

OptionSpec ReplicaOption() {
  using V = std::string_view;
  return {.name = "replica", .yaml_alias = "replicas", .value_name = "HOST:PORT[,weight=N]",
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
          .check = CheckReplicas};
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
  o.push_back(SecondsOrZero("pool-max-age",
                            "pooled server connections older than this are closed rather than "
                            "reused, so a SET GLOBAL reaches every new session within it; 0 = "
                            "no limit",
                            &Config::pool_max_age_s));
  o.push_back(Seconds("pool-wait-timeout",
                      "longest a statement waits for a pooled connection; then ERR 1040",
                      &Config::pool_wait_timeout_s));
}

}  // namespace ql::proxy::config_internal
