// The YAML configuration file: reads it with yaml-cpp and feeds each key to the option table in config.cc.
// yaml-cpp reports problems by throwing; every exception is caught here and becomes an absl::Status that
// names the file, the line and the key, e.g. "querylens.yaml:7: key 'primary': expected HOST:PORT, ...".
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "proxy/config.h"
#include "yaml-cpp/yaml.h"

namespace ql::proxy {
namespace {

// yaml-cpp counts lines from 0; a node made up by yaml-cpp has a null mark, then `fallback` is used.
int LineOf(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

class FileApplier {
 public:
  FileApplier(const std::string& path, CommandLine& target, const GetEnvFn& getenv)
      : path_(path), target_(target), getenv_(getenv) {}

  absl::Status Apply(const YAML::Node& root) {
    if (root.IsNull()) return absl::OkStatus();  // an empty file leaves every default in place
    if (!root.IsMap()) {
      return Error(LineOf(root, 1), "the file must be a mapping of option names to values");
    }
    for (const auto& entry : root) {
      if (absl::Status s = ApplyKey(entry.first, entry.second); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(int line, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ":", line, ": ", message));
  }
  absl::Status KeyError(int line, absl::string_view key, absl::string_view message) const {
    return Error(line, absl::StrCat("key '", key, "': ", message));
  }

  absl::Status ApplyKey(const YAML::Node& key_node, const YAML::Node& value) {
    const int key_line = LineOf(key_node, 1);
    if (!key_node.IsScalar()) return Error(key_line, "keys must be plain option names");
    const std::string key = key_node.Scalar();
    const OptionSpec* spec = FindOption(key);
    if (spec == nullptr) {
      const std::string guess(ClosestOptionName(key));
      const std::string hint = guess.empty() ? "" : absl::StrCat(" (did you mean '", guess, "'?)");
      return Error(key_line, absl::StrCat("unknown key '", key, "'", hint));
    }
    if (spec->scope == OptionScope::kCommandLineOnly) {
      return KeyError(key_line, key, "only valid on the command line");
    }
    // yaml-cpp keeps repeated keys, and aliases ("replica"/"replicas") name the same option.
    if (auto [it, fresh] = seen_.emplace(spec, key_line); !fresh) {
      return KeyError(key_line, key, absl::StrCat("repeats the option set at line ", it->second));
    }
    // A missing value has no position of its own worth reporting (yaml-cpp points past the key).
    const int value_line = value.IsNull() ? key_line : LineOf(value, key_line);
    if (!spec->repeatable) {
      if (value.IsNull()) {
        return KeyError(value_line, key, absl::StrCat("missing value (", ValueName(*spec), ")"));
      }
      if (!value.IsScalar()) {
        return KeyError(value_line, key, absl::StrCat("expected a single value (", ValueName(*spec), ")"));
      }
      return SetScalar(*spec, key, value);
    }
    spec->clear(target_.config);
    if (value.IsNull()) return absl::OkStatus();  // `replicas:` with nothing after it: an empty list
    if (!value.IsSequence()) return ApplyItem(*spec, key, value, key_line);  // one item without a list
    for (const YAML::Node& item : value) {
      if (absl::Status s = ApplyItem(*spec, key, item, value_line); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status ApplyItem(const OptionSpec& spec, const std::string& key, const YAML::Node& item,
                         int fallback) {
    if (item.IsScalar()) return SetScalar(spec, key, item);
    const int line = LineOf(item, fallback);
    if (!item.IsMap() || !spec.set_fields) {
      return KeyError(line, key, absl::StrCat("each item must be a single value (", ValueName(spec), ")"));
    }
    OptionFields fields;
    for (const auto& field : item) {
      const int field_line = LineOf(field.first, line);
      const std::string name = field.first.IsScalar() ? field.first.Scalar() : "";
      const std::string normalized = absl::StrReplaceAll(name, {{"_", "-"}});
      bool known = false;
      for (std::string_view f : spec.fields) known = known || f == normalized;
      if (!known) {
        std::string allowed;  // in the YAML spelling, as the examples write them
        for (std::string_view f : spec.fields) {
          absl::StrAppend(&allowed, allowed.empty() ? "" : ", ",
                          absl::StrReplaceAll(std::string(f), {{"-", "_"}}));
        }
        return KeyError(field_line, key,
                        absl::StrCat("unknown field '", name, "' (known: ", allowed, ")"));
      }
      for (const auto& [seen_name, unused] : fields) {
        if (seen_name == normalized) {
          return KeyError(field_line, key, absl::StrCat("field '", name, "' repeats"));
        }
      }
      if (!field.second.IsScalar()) {
        return KeyError(LineOf(field.second, field_line), key,
                        absl::StrCat("field '", name, "' needs a value"));
      }
      fields.emplace_back(normalized, field.second.Scalar());
    }
    if (absl::Status s = spec.set_fields(target_, fields, getenv_); !s.ok()) {
      return KeyError(line, key, s.message());
    }
    return absl::OkStatus();
  }

  absl::Status SetScalar(const OptionSpec& spec, const std::string& key, const YAML::Node& node) {
    if (absl::Status s = spec.set(target_, node.Scalar(), getenv_); !s.ok()) {
      return KeyError(LineOf(node, 1), key, s.message());
    }
    return absl::OkStatus();
  }

  static std::string ValueName(const OptionSpec& spec) {
    return spec.is_switch() ? "true or false" : std::string(spec.value_name);
  }

  const std::string& path_;
  CommandLine& target_;
  const GetEnvFn& getenv_;
  std::map<const OptionSpec*, int> seen_;  // option -> line of the key that set it
};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  // A directory opens fine as an ifstream and reads as nothing, which would pass as an empty config.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("config file '", path, "' is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;  // libstdc++ leaves the open(2) error in errno
    const std::string message =
        absl::StrCat("cannot read config file '", path, "': ", std::generic_category().message(err));
    return err == ENOENT ? absl::NotFoundError(message) : absl::FailedPreconditionError(message);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error while reading config file '", path, "'"));
  return text.str();
}

}  // namespace

absl::Status ApplyConfigFile(const std::string& path, CommandLine& target, const GetEnvFn& getenv) {
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (!text.ok()) return text.status();
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(*text);
    if (documents.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", LineOf(documents[1], 1),
                                                     ": only one YAML document is allowed"));
    }
    if (!documents.empty()) {
      if (absl::Status s = FileApplier(path, target, getenv).Apply(documents[0]); !s.ok()) return s;
    }
  } catch (const YAML::ParserException& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", e.mark.is_null() ? 1 : e.mark.line + 1, ": YAML syntax error: ", e.msg));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", e.mark.is_null() ? 1 : e.mark.line + 1, ": cannot read YAML: ", e.msg));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(path, ": cannot load config file: ", e.what()));
  }
  target.config.config_file = path;
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, const GetEnvFn& getenv) {
  CommandLine loaded;
  if (absl::Status s = ApplyConfigFile(path, loaded, getenv); !s.ok()) return s;
  FinishConfig(loaded.config);
  return std::move(loaded.config);
}

absl::StatusOr<Config> CheckConfigFile(const std::string& path, const GetEnvFn& getenv) {
  absl::StatusOr<Config> config = LoadConfigFile(path, getenv);
  if (!config.ok()) return config.status();
  if (absl::Status s = Validate(*config); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  return config;
}

}  // namespace ql::proxy
