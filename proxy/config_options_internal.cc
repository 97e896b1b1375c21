// The value parsers and option factories that the option table is written with (declared in
// config_options_internal.h), and HostPort's parser and printer. Nothing here knows a particular option.
#include "proxy/config_options_internal.h"

#include <charconv>
#include <cmath>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace ql::proxy {
namespace config_internal {
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

namespace {

std::string FormatSeconds(double seconds) { return Cat(seconds); }

}  // namespace

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

}  // namespace config_internal

using config_internal::Cat;

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

}  // namespace ql::proxy
