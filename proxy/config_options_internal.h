// Internal to the config module (config*.cc), not for other code: the string helpers, value parsers and
// option factories that the option table is written with, and the routing part of the table.
//
//   config_options_internal.cc  value parsers (HostPort too) and the option factories declared here
//   config.cc                   the core option table, option lookup and FinishConfig
//   config_routing_options.cc   --replica and the read/write splitting, pool and monitor options
//   config_n_plus_one_options.cc the N+1 warning options
//   config_command_line.cc      ParseCommandLine, Validate, HelpText and DescribeConfig
//   config_yaml.cc              the YAML file loader
#ifndef QUERYLENS_PROXY_CONFIG_OPTIONS_INTERNAL_H_
#define QUERYLENS_PROXY_CONFIG_OPTIONS_INTERNAL_H_

#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "proxy/config.h"

namespace ql::proxy::config_internal {

// Debian's abseil is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW is 0), which
// does not convert from std::string_view; these two adapt our std::string_view values.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

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

// true/false, and the YAML 1.1 spellings yes/no, on/off, 1/0, in any case.
absl::StatusOr<bool> ParseBool(std::string_view text);
// A number of seconds greater than 0.
absl::StatusOr<double> ParseSeconds(std::string_view text);
// A number of seconds, 0 or more.
absl::StatusOr<double> ParseSecondsOrZero(std::string_view text);
// A whole number of at least `min`.
absl::StatusOr<int> ParseCount(std::string_view text, int min);
// A whole number from `min` to `max`.
absl::StatusOr<int> ParseCountIn(std::string_view text, int min, int max);
// "env:VARNAME" reads the variable, so that passwords need not appear in argv or in the file; any other
// text is the value itself.
absl::StatusOr<std::string> ResolveSecret(std::string_view text, const GetEnvFn& getenv);
// NAME:PASSWORD, split at the first ':' so the password may contain ':'; the password may be env:VAR.
// Messages never echo the text: it holds a password.
absl::StatusOr<std::pair<std::string, std::string>> ParseCredentials(std::string_view text,
                                                                     const GetEnvFn& getenv);
// USER[:PASSWORD] (--monitor-user): like ParseCredentials, but the password may be left out.
absl::StatusOr<std::pair<std::string, std::string>> ParseOptionalCredentials(std::string_view text,
                                                                             const GetEnvFn& getenv);

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

OptionSpec Address(std::string_view name, std::string_view help, HostPort Config::*field);
OptionSpec Seconds(std::string_view name, std::string_view help, double Config::*field);
// Like Seconds, but 0 is a meaningful value (for example "log every statement").
OptionSpec SecondsOrZero(std::string_view name, std::string_view help, double Config::*field);
OptionSpec Count(std::string_view name, std::string_view help, int Config::*field, int min);
OptionSpec CountIn(std::string_view name, std::string_view help, int Config::*field, int min, int max);
// A boolean that always takes a value (--read-write-split on|off), for settings that default to on.
OptionSpec OnOff(std::string_view name, std::string_view help, bool Config::*field);
// A boolean that may be given bare (--require-tls) or as --flag=true|false.
OptionSpec Switch(std::string_view name, std::string_view help, bool Config::*field);
// One of the '|'-separated words of value_name, case-insensitively; stored in lower case.
OptionSpec Choice(std::string_view name, std::string_view value_name, std::string_view help,
                  std::string Config::*field);
// A file the proxy writes (appends to); Validate checks it can be opened so.
OptionSpec OutputFile(std::string_view name, std::string_view help, std::string Config::*field);
// A file path; Validate checks the file can be opened when it is set.
OptionSpec File(std::string_view name, std::string_view help, std::string Config::*field);
// --config, --help and the like. A switch among them is only ever turned on ("--help=false" is
// accepted and ignored).
OptionSpec CommandLineOnly(std::string_view name, std::string_view value_name, std::string_view help,
                           std::function<void(CommandLine&, std::string_view)> act);

// --- the routing part of the table (config_routing_options.cc) ---

// --replica HOST:PORT[,weight=N], with its YAML mapping form {address:, weight:}.
OptionSpec ReplicaOption();

// Appends the options of read/write splitting, the connection pools and the backend monitor.
void AddRoutingOptions(std::vector<OptionSpec>& o);

// --- the N+1 warning options (config_n_plus_one_options.cc) ---
void AddNPlusOneOptions(std::vector<OptionSpec>& o);

}  // namespace ql::proxy::config_internal

#endif  // QUERYLENS_PROXY_CONFIG_OPTIONS_INTERNAL_H_
