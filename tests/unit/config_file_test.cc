// Unit tests for proxy/config's YAML files (tests/data/config/): every key, error locations, missing
// files, --check-config, and command-line flags overriding the file.
#include "proxy/config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/config_test_support.h"

namespace ql::proxy {
namespace {

using namespace config_test_support;  // NOLINT: the shared helpers read as if they were local
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// --- YAML files ---

TEST(ConfigFileTest, LoadsEveryKey) {
  absl::StatusOr<Config> c = LoadConfigFile(DataFile("good.yaml"), TestEnv());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, (HostPort{"0.0.0.0", 6034}));
  EXPECT_EQ(c->admin_listen, (HostPort{"127.0.0.1", 9034}));
  EXPECT_EQ(c->primary, (HostPort{"db-primary.internal", 3306}));
  EXPECT_EQ(c->replicas, (std::vector<HostPort>{{"db-replica-1.internal", 3306}, {"::1", 3307}}));
  EXPECT_EQ(c->users, (std::vector<UserEntry>{{"app", "secret:with:colons", "app", "secret:with:colons"},
                                              {"reporting", "rep:pw", "reporting_ro", "backend-pw"}}));
  EXPECT_EQ(c->workers, 4);
  EXPECT_EQ(c->frontend_auth, "caching_sha2_password");
  EXPECT_FALSE(c->require_tls);
  EXPECT_TRUE(c->backend_tls);
  EXPECT_EQ(c->connect_timeout_s, 2.5);
  EXPECT_EQ(c->backend_read_timeout_s, 600);
  EXPECT_EQ(c->client_idle_timeout_s, 3600);
  EXPECT_EQ(c->handshake_timeout_s, 7);
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->log_format, "json");
  EXPECT_EQ(c->config_file, DataFile("good.yaml"));
  EXPECT_TRUE(Validate(*c).ok()) << Validate(*c);
}

TEST(ConfigFileTest, EmptyFileKeepsDefaults) {
  absl::StatusOr<Config> c = LoadConfigFile(DataFile("empty.yaml"), TestEnv());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, Config().listen);
  EXPECT_EQ(c->config_file, DataFile("empty.yaml"));
}

TEST(ConfigFileTest, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string file;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"unknown_key.yaml", {"unknown_key.yaml:5: unknown key 'primry_timeout'"}},
      {"bad_value.yaml", {"bad_value.yaml:7: key 'primary': expected HOST:PORT, got 'foo'"}},
      {"syntax_error.yaml", {"syntax_error.yaml:5: YAML syntax error"}},
      {"duplicate_key.yaml", {"duplicate_key.yaml:4: key 'replicas': repeats the option set at line 3"}},
      {"bad_user_field.yaml",
       {"bad_user_field.yaml:6: key 'users': unknown field 'pasword' (known: name, password, backend_user"}},
      {"missing_env.yaml", {"missing_env.yaml:4: key 'users'", "QL_TEST_DEFINITELY_UNSET"}},
      {"cli_only_key.yaml", {"cli_only_key.yaml:2: key 'help': only valid on the command line"}},
      {"not_a_map.yaml", {"not_a_map.yaml:1:", "mapping"}},
      {"missing_value.yaml", {"missing_value.yaml:3: key 'primary': missing value (HOST:PORT)"}},
      {"user_without_password.yaml",
       {"user_without_password.yaml:5: key 'users': user 'reporting' needs a 'password'"}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Config> loaded = LoadConfigFile(DataFile(c.file), TestEnv());
    const std::string error = ErrorOf(loaded.status());
    for (const std::string& part : c.expected) EXPECT_THAT(error, HasSubstr(part)) << c.file;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument) << c.file;
  }
}

TEST(ConfigFileTest, MissingFileIsNotFound) {
  absl::StatusOr<Config> c = LoadConfigFile(DataFile("no_such_file.yaml"), TestEnv());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ErrorOf(c.status()), AllOf(HasSubstr("no_such_file.yaml"), HasSubstr("No such file")));
}

TEST(ConfigFileTest, DirectoryIsNotAnEmptyConfig) {
  EXPECT_THAT(ErrorOf(LoadConfigFile(std::string(QL_TEST_DATA_DIR) + "/config", TestEnv()).status()),
              HasSubstr("is a directory"));
}

TEST(ConfigFileTest, ErrorFromConfigFlagCarriesTheFileLocation) {
  const std::string path = DataFile("bad_value.yaml");
  EXPECT_THAT(ErrorOf(Parse({"--config", path.c_str()}).status()),
              HasSubstr("bad_value.yaml:7: key 'primary'"));
}

TEST(ConfigFileTest, CheckConfigFileValidates) {
  EXPECT_TRUE(CheckConfigFile(DataFile("good.yaml"), TestEnv()).ok());
  // Loads, but has no users or primary.
  EXPECT_THAT(ErrorOf(CheckConfigFile(DataFile("empty.yaml"), TestEnv()).status()),
              AllOf(HasSubstr("empty.yaml: "), HasSubstr("--primary"), HasSubstr("--user")));
  EXPECT_THAT(ErrorOf(CheckConfigFile(DataFile("unknown_key.yaml"), TestEnv()).status()),
              HasSubstr("unknown_key.yaml:5:"));
}

// --- flags over the file ---

TEST(OverrideTest, FlagsOverrideFileValuesWhereverTheyAppear) {
  const std::string path = DataFile("good.yaml");
  absl::StatusOr<CommandLine> cl =
      Parse({"--listen", "127.0.0.1:7777", "--config", path.c_str(), "--log-level", "error",
             "--require-tls=false"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.listen, (HostPort{"127.0.0.1", 7777}));
  EXPECT_EQ(cl->config.log_level, "error");
  // Untouched keys keep the file's values.
  EXPECT_EQ(cl->config.workers, 4);
  EXPECT_EQ(cl->config.replicas.size(), 2u);
  EXPECT_EQ(cl->config.users.size(), 2u);
  EXPECT_EQ(cl->config.config_file, path);
}

TEST(OverrideTest, ListFlagsReplaceTheFilesList) {
  const std::string path = DataFile("good.yaml");
  absl::StatusOr<CommandLine> cl =
      Parse({"--config", path.c_str(), "--replica", "r9:3306", "--user", "solo:pw", "--replica", "r10:3306"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.replicas, (std::vector<HostPort>{{"r9", 3306}, {"r10", 3306}}));
  EXPECT_EQ(cl->config.users, (std::vector<UserEntry>{{"solo", "pw", "solo", "pw"}}));
}

TEST(OverrideTest, BackendUserFlagReachesFileUsersWithoutTheirOwn) {
  const std::string path = DataFile("good.yaml");
  absl::StatusOr<CommandLine> cl = Parse({"--config", path.c_str(), "--backend-user", "proxy:ppw"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.users[0], (UserEntry{"app", "secret:with:colons", "proxy", "ppw"}));
  EXPECT_EQ(cl->config.users[1], (UserEntry{"reporting", "rep:pw", "reporting_ro", "backend-pw"}));
}

}  // namespace
}  // namespace ql::proxy
