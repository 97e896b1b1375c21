// Helpers shared by the config unit tests (config*_test.cc): a fake environment, a command-line parser
// call, data and temporary files, and a config that Validate() accepts.
#ifndef QUERYLENS_TESTS_UNIT_CONFIG_TEST_SUPPORT_H_
#define QUERYLENS_TESTS_UNIT_CONFIG_TEST_SUPPORT_H_

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/config.h"

#ifndef QL_TEST_DATA_DIR
#define QL_TEST_DATA_DIR "tests/data"
#endif

namespace ql::proxy::config_test_support {

inline std::string DataFile(const std::string& name) { return std::string(QL_TEST_DATA_DIR) + "/config/" + name; }

// A fake environment, so tests never depend on (or change) the real one.
inline GetEnvFn FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

inline const GetEnvFn& TestEnv() {
  static const GetEnvFn* const env = new GetEnvFn(FakeEnv({{"QL_TEST_REPORTING_PW", "rep:pw"},
                                                           {"QL_TEST_BACKEND_PW", "backend-pw"},
                                                           {"APP_PW", "from-env"},
                                                           {"EMPTY_PW", ""}}));
  return *env;
}

inline absl::StatusOr<CommandLine> Parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"querylens"};
  argv.insert(argv.end(), args.begin(), args.end());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(), TestEnv());
}

inline std::string ErrorOf(const absl::Status& status) {
  EXPECT_FALSE(status.ok());
  return std::string(status.message());
}

// A file that exists for the duration of one test.
class TempFile {
 public:
  explicit TempFile(const std::string& name) : path_(::testing::TempDir() + name) {
    std::ofstream(path_) << "-----BEGIN TEST-----\n";
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Config RunnableConfig() {
  Config c;
  c.primary = HostPort{"127.0.0.1", 33061};
  c.users.push_back({"app", "pw", "app", "pw"});
  return c;
}

// A YAML file written for one test, in the test temp directory.
class YamlFile {
 public:
  YamlFile(const std::string& name, const std::string& text) : path_(::testing::TempDir() + name) {
    std::ofstream(path_) << text;
  }
  ~YamlFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace ql::proxy::config_test_support

#endif  // QUERYLENS_TESTS_UNIT_CONFIG_TEST_SUPPORT_H_
