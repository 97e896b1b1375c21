// The option table: every option of the proxy listed once (BuildOptions), with the user-list helpers
// only it uses; option lookup by name and FinishConfig. The kinds of option it is written with are in
// config_options_internal.h; the routing options in config_routing_options.cc; the parsers of the
// command line and of the YAML file, which read this table, in config_command_line.cc and config_yaml.cc.
#include "proxy/config.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "proxy/config_options_internal.h"

namespace ql::proxy {
namespace {

using namespace config_internal;  // the option factories and value parsers the table is written with

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
  o.push_back(ReplicaOption());
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
  o.push_back(SecondsOrZero("shutdown-timeout",
                            "on SIGTERM/SIGINT, how long sessions may finish their statement or "
                            "transaction; 0 = close them at once",
                            &Config::shutdown_timeout_s));
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
  AddNPlusOneOptions(o);
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

}  // namespace ql::proxy
