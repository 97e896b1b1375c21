// Everything that reads the whole option table: the command-line parser (which loads --config first),
// Validate(), the --help text and the configuration summary. The table itself is in config.cc.
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proxy/config.h"
#include "proxy/config_options_internal.h"

namespace ql::proxy {

using config_internal::AV;
using config_internal::Cat;

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
