// Configuration of the querylens proxy: the Config struct, the command-line parser, the YAML file loader,
// validation and the --help text.
//
// Every option is described once, by an OptionSpec in the table returned by Options(). That one entry is
// what the flag parser, the YAML loader, Validate() and HelpText() all read. To add an option, add a field
// to Config and one line to the table in config.cc (or, for a routing, pool or monitor option, in
// config_routing_options.cc). config_options_internal.h lists the files of this module.
//
// Flow (main):
//   absl::StatusOr<CommandLine> cl = ParseCommandLine(argc, argv);   // loads --config FILE, then flags
//   if (cl->help) print HelpText(); if (cl->version) print version;
//   if (cl->check_config) report CheckConfigFile(*cl->check_config);
//   absl::Status ok = Validate(cl->config);                           // then run with cl->config
//
// Nothing here throws: yaml-cpp exceptions are caught inside the loader and become absl::Status.
#ifndef QUERYLENS_PROXY_CONFIG_H_
#define QUERYLENS_PROXY_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "analyzer/route_rules.h"

namespace ql::proxy {

struct HostPort {
  std::string host;  // name, IPv4 literal, or IPv6 literal without brackets
  uint16_t port = 0;

  // "host:port", with brackets around IPv6 literals ("[::1]:3306").
  std::string ToString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Parses "127.0.0.1:6033", "localhost:3306" or "[::1]:3306". The port must be 1-65535.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text);

struct UserEntry {
  std::string name;
  std::string password;          // resolved: an "env:VARNAME" value has already been read
  std::string backend_name;      // credentials used toward the MariaDB servers; default = name/password
  std::string backend_password;
  friend bool operator==(const UserEntry&, const UserEntry&) = default;
};

struct Config {
  HostPort listen{"127.0.0.1", 6033};
  HostPort admin_listen{"127.0.0.1", 9033};
  std::optional<HostPort> primary;           // required for running (Validate checks)
  std::vector<HostPort> replicas;
  std::vector<uint32_t> replica_weights;      // parallel to replicas; FinishConfig fills 1s
  std::vector<UserEntry> users;               // at least one required
  // --backend-user: backend credentials for every user that has none of its own. The loaders have
  // already copied them into users[]; they are kept here only so the value can be shown and overridden.
  std::string backend_user;
  std::string backend_password;
  int workers = 0;                            // 0 = one per core
  std::string frontend_auth = "mysql_native_password";  // or "caching_sha2_password": offered first
  std::string tls_cert, tls_key;              // frontend TLS: both or neither
  bool require_tls = false;                   // requires tls_cert/key
  bool backend_tls = false;                   // TLS toward the backends
  std::string backend_tls_ca;                 // CA file; when set the server cert is verified
  double connect_timeout_s = 5;               // backend connect+handshake
  double backend_read_timeout_s = 3600;       // a backend response may not stall longer than this
  double client_idle_timeout_s = 28800;       // like wait_timeout
  double handshake_timeout_s = 10;            // client handshake/auth
  double shutdown_timeout_s = 10;             // SIGTERM: sessions may finish this long; 0 = none
  std::string log_level = "info";             // debug|info|warn|error
  std::string log_format = "text";            // text|json
  bool log_literals = false;                  // statement text with literals may reach logs
  double slow_query_time_s = 1;               // 0 logs every statement
  std::string slow_log;                       // slow-query log file; empty = none
  int digest_max_entries = 2000;              // per worker
  int metrics_top_digests = 200;              // per-digest /metrics series; the rest digest="other"
  std::string config_file;                    // where it came from, if any

  // Read/write splitting, session state, pools and the backend monitor.
  bool read_write_split = true;               // --read-write-split on|off (off: all to the primary)
  double read_after_write_window_s = 1;       // reads after a write go to the primary; 0 = off
  bool causal_reads = false;                  // replica waits for the session's last write GTID
  double causal_reads_timeout_s = 1;          // then the read goes to the primary
  double max_replication_lag_s = 10;          // a replica further behind gets no new reads
  double monitor_interval_s = 1;              // backend monitor: one round per interval
  int monitor_healthy_checks = 2;             // consecutive good checks before a replica takes reads again
  std::string monitor_user;                   // default: the first user's backend credentials
  std::string monitor_password;
  std::string heartbeat_table;                // "db.table" (pt-heartbeat ts column) for lag; empty = replica status
  std::string replica_selection = "least-outstanding";  // or "weighted"
  std::vector<std::string> read_only_routines;  // stored functions/procedures a replica may run
  std::vector<analyzer::RouteRule> route_rules;  // --route-rule, first match wins
  int pool_max_connections = 200;             // per worker and backend (idle + in use)
  double pool_idle_timeout_s = 60;            // idle pooled connections older than this are closed
  double pool_max_age_s = 0;                  // pooled connections older than this are not reused; 0 = no limit
  double pool_wait_timeout_s = 5;             // waiting for a pooled connection ends in ERR 1040

  // N+1 warnings (config_n_plus_one_options.cc; analyzer/n_plus_one_options.h has the other thresholds).
  bool n_plus_one = true;                     // --n-plus-one on|off; off captures nothing
  int n_plus_one_min_repeats = 5;             // repeats of one read before it is an N+1
  double n_plus_one_unit_idle_gap_s = 0.5;    // a pause this long starts a new unit of work
  double n_plus_one_unit_max_age_s = 30;      // a unit older than this is closed
  double n_plus_one_dedup_interval_s = 60;    // one log line per call site and statement per interval
  bool n_plus_one_write_loops = false;        // also report single-row writes in a loop
  int n_plus_one_max_statements = 50;         // more statements in one unit is a finding
  // The detector's other thresholds (defaults: analyzer/n_plus_one_options.h).
  double n_plus_one_min_total_time_s = 0.05;  // an N+1 spends this long in its repeats...
  int n_plus_one_min_repeats_fast = 10;       // ...or repeats at least this often
  int n_plus_one_min_distinct_values = 2;     // distinct literal sets among the repeats
  int n_plus_one_min_duplicates = 3;          // same statement, same values: a duplicate
  int n_plus_one_cycle_min_length = 2;        // statements in a repeated cycle: from...
  int n_plus_one_cycle_max_length = 8;        // ...to
  int n_plus_one_cycle_min_repeats = 3;       // repeats of a cycle
  int n_plus_one_batch_min_literals = 20;     // repeats with this many literals are batches
  int n_plus_one_batch_max_avg_rows = 100;    // repeats returning more rows on average are batches
  int n_plus_one_top_fingerprints = 5;        // listed in a too_many_statements finding
  int n_plus_one_max_fingerprints = 128;      // distinct statements tracked per unit (memory)
  std::vector<uint64_t> n_plus_one_allow_digests;    // never reported (repeated statement's digest)
  std::vector<std::string> n_plus_one_allow_tables;  // exact, or prefix with a trailing '*'
  std::vector<std::string> n_plus_one_allow_routes;  // sqlcommenter route; exact or prefix*
};

struct CommandLine {
  Config config;
  bool help = false;
  bool version = false;
  std::optional<std::string> check_config;  // --check-config FILE: main loads, validates and reports
};

// Reads an environment variable; injected so tests need not touch the real environment.
using GetEnvFn = std::function<const char*(const char*)>;
const char* ProcessGetEnv(const char* name);  // std::getenv

// Parses the command line (argv[0] is the program name). With --config FILE the file is loaded first and
// every flag then overrides it; a repeatable flag (--replica, --user) given on the command line replaces
// the file's whole list. With --help or --version nothing else is loaded or checked. Does not Validate().
absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv,
                                             const GetEnvFn& getenv = ProcessGetEnv);

// Loads a YAML file whose keys are the flag names ("admin-listen" or "admin_listen"). Unknown keys are
// errors; every error names the file, line and key: "config.yaml:7: key 'primary': expected HOST:PORT,
// got 'foo'". Does not Validate().
absl::StatusOr<Config> LoadConfigFile(const std::string& path, const GetEnvFn& getenv = ProcessGetEnv);

// --check-config: LoadConfigFile + Validate, errors prefixed with the file name.
absl::StatusOr<Config> CheckConfigFile(const std::string& path, const GetEnvFn& getenv = ProcessGetEnv);

// Everything a running proxy needs: primary and users present, TLS files readable, known plugin and
// log names, positive timeouts. Errors name the flag.
absl::Status Validate(const Config& config);

// Usage text for --help: every flag with its value name, meaning and default.
std::string HelpText();

// A multi-line summary of the effective configuration, without passwords (for --check-config and logs).
std::string DescribeConfig(const Config& config);

// ---------------------------------------------------------------------------------------------------
// The option table, shared by the command-line parser (config_command_line.cc) and the YAML loader
// (config_yaml.cc).

enum class OptionScope {
  kEverywhere,       // flag and YAML key
  kCommandLineOnly,  // --config, --help, --version, --check-config
};

// A YAML mapping item of a repeatable option, e.g. one entry of `users:` written as
// {name: app, password: env:APP_PW}; field names are normalized to dashes.
using OptionFields = std::vector<std::pair<std::string, std::string>>;

struct OptionSpec {
  std::string_view name = {};   // flag without "--"; also the YAML key
  std::string_view yaml_alias = {};  // another accepted YAML key ("replicas" for --replica), may be empty
  std::string_view value_name = {};  // "HOST:PORT"; empty for a switch (bare flag = true)
  std::string_view help = {};
  OptionScope scope = OptionScope::kEverywhere;
  bool repeatable = false;      // each value appends; `clear` empties the list

  // Parses one value (a switch gets "true" when given bare) and stores it. Errors describe the value
  // only ("expected HOST:PORT, got 'foo'"); the caller adds where it came from.
  std::function<absl::Status(CommandLine&, std::string_view value, const GetEnvFn&)> set = {};
  std::function<void(Config&)> clear = {};
  // Optional: YAML mapping items of a repeatable option, with the field names they may contain.
  std::function<absl::Status(CommandLine&, const OptionFields&, const GetEnvFn&)> set_fields = {};
  std::vector<std::string_view> fields = {};
  // The value as help shows a default ("" = no default shown); and Validate's check of this option.
  std::function<std::string(const Config&)> show = {};
  std::function<absl::Status(const Config&)> check = {};

  bool is_switch() const { return value_name.empty(); }
};

const std::vector<OptionSpec>& Options();

// Finds an option by flag name or YAML alias; underscores count as dashes. nullptr if unknown.
const OptionSpec* FindOption(std::string_view name);

// The known option name closest to a misspelled one, or "" if nothing is close.
std::string_view ClosestOptionName(std::string_view name);

// Applies a config file on top of `target` without the final step (FinishConfig), so that command-line
// flags can still change --backend-user for the file's users. Used by ParseCommandLine.
absl::Status ApplyConfigFile(const std::string& path, CommandLine& target, const GetEnvFn& getenv);

// Fills each user's missing backend credentials from --backend-user, else from its own name/password;
// an unset --monitor-user from the first user's backend credentials; and a weight of 1 for each replica
// that has none (replica_weights ends up exactly as long as replicas).
void FinishConfig(Config& config);

}  // namespace ql::proxy

#endif  // QUERYLENS_PROXY_CONFIG_H_
