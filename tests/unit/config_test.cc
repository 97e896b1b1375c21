// Unit tests for proxy/config: HostPort parsing, every command-line flag, YAML files from
// tests/data/config/ with their error locations, flags overriding the file, Validate() and --help; and
// the read/write splitting, pool and monitor options (flags, YAML written to temp files, errors, weights).
#include "proxy/config.h"

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#ifndef QL_TEST_DATA_DIR
#define QL_TEST_DATA_DIR "tests/data"
#endif

namespace ql::proxy {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string DataFile(const std::string& name) { return std::string(QL_TEST_DATA_DIR) + "/config/" + name; }

// A fake environment, so tests never depend on (or change) the real one.
GetEnvFn FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

const GetEnvFn& TestEnv() {
  static const GetEnvFn* const env = new GetEnvFn(FakeEnv({{"QL_TEST_REPORTING_PW", "rep:pw"},
                                                           {"QL_TEST_BACKEND_PW", "backend-pw"},
                                                           {"APP_PW", "from-env"},
                                                           {"EMPTY_PW", ""}}));
  return *env;
}

absl::StatusOr<CommandLine> Parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"querylens"};
  argv.insert(argv.end(), args.begin(), args.end());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(), TestEnv());
}

std::string ErrorOf(const absl::Status& status) {
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

Config RunnableConfig() {
  Config c;
  c.primary = HostPort{"127.0.0.1", 33061};
  c.users.push_back({"app", "pw", "app", "pw"});
  return c;
}

// --- HostPort ---

TEST(HostPortTest, ParsesIpv4NameAndBracketedIpv6) {
  EXPECT_EQ(*ParseHostPort("127.0.0.1:6033"), (HostPort{"127.0.0.1", 6033}));
  EXPECT_EQ(*ParseHostPort("localhost:3306"), (HostPort{"localhost", 3306}));
  EXPECT_EQ(*ParseHostPort("[::1]:3306"), (HostPort{"::1", 3306}));
  EXPECT_EQ(*ParseHostPort("db-1.example.com:1"), (HostPort{"db-1.example.com", 1}));
  EXPECT_EQ(*ParseHostPort("host:65535"), (HostPort{"host", 65535}));
}

TEST(HostPortTest, ToStringBracketsIpv6AndRoundTrips) {
  EXPECT_EQ((HostPort{"127.0.0.1", 6033}).ToString(), "127.0.0.1:6033");
  EXPECT_EQ((HostPort{"::1", 3306}).ToString(), "[::1]:3306");
  for (const char* text : {"10.1.2.3:80", "[fe80::1]:3306", "example.org:3306"}) {
    EXPECT_EQ(ParseHostPort(text)->ToString(), text);
  }
}

TEST(HostPortTest, RejectsMalformedInputs) {
  for (const char* text : {"", "foo", ":3306", "host:", "host:0", "host:65536", "host:99999999", "host:abc",
                           "host:+80", "host:-1", "host: 80", "host:80x", "::1:3306", "[::1]", "[::1",
                           "[::1]3306", "[host]:80", "[]:80", "a b:80", "host/x:80"}) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(text);
    EXPECT_FALSE(parsed.ok()) << "accepted '" << text << "'";
    EXPECT_THAT(ErrorOf(parsed.status()), AllOf(HasSubstr("expected HOST:PORT"), HasSubstr(text)));
  }
}

TEST(HostPortTest, ExplainsUnbracketedIpv6) {
  EXPECT_THAT(ErrorOf(ParseHostPort("::1:3306").status()), HasSubstr("brackets"));
}

// --- command line ---

TEST(CommandLineTest, NoArgumentsGivesDefaults) {
  absl::StatusOr<CommandLine> cl = Parse({});
  ASSERT_TRUE(cl.ok()) << cl.status();
  const Config& c = cl->config;
  EXPECT_EQ(c.listen, (HostPort{"127.0.0.1", 6033}));
  EXPECT_EQ(c.admin_listen, (HostPort{"127.0.0.1", 9033}));
  EXPECT_FALSE(c.primary.has_value());
  EXPECT_TRUE(c.replicas.empty());
  EXPECT_TRUE(c.users.empty());
  EXPECT_EQ(c.workers, 0);
  EXPECT_EQ(c.frontend_auth, "mysql_native_password");
  EXPECT_EQ(c.connect_timeout_s, 5);
  EXPECT_EQ(c.backend_read_timeout_s, 3600);
  EXPECT_EQ(c.client_idle_timeout_s, 28800);
  EXPECT_EQ(c.handshake_timeout_s, 10);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_FALSE(cl->help || cl->version || cl->check_config.has_value());
}

TEST(CommandLineTest, EveryFlagWithSeparateValue) {
  TempFile cert("cert.pem"), key("key.pem"), ca("ca.pem");
  absl::StatusOr<CommandLine> cl =
      Parse({"--listen", "0.0.0.0:6034", "--admin-listen", "[::1]:9034", "--primary", "db1:3306",
             "--replica", "db2:3306", "--replica", "db3:3307", "--user", "app:pw", "--user", "admin:a:b:c",
             "--backend-user", "proxy:backend-secret", "--workers", "8", "--frontend-auth",
             "caching_sha2_password", "--tls-cert", cert.path().c_str(), "--tls-key", key.path().c_str(),
             "--require-tls", "--backend-tls", "--backend-tls-ca", ca.path().c_str(), "--connect-timeout",
             "1.5", "--backend-read-timeout", "60", "--client-idle-timeout", "120",
             "--handshake-timeout", "3", "--log-level", "warn", "--log-format", "json"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  const Config& c = cl->config;
  EXPECT_EQ(c.listen, (HostPort{"0.0.0.0", 6034}));
  EXPECT_EQ(c.admin_listen, (HostPort{"::1", 9034}));
  EXPECT_EQ(c.primary, (HostPort{"db1", 3306}));
  EXPECT_EQ(c.replicas, (std::vector<HostPort>{{"db2", 3306}, {"db3", 3307}}));
  EXPECT_EQ(c.users, (std::vector<UserEntry>{{"app", "pw", "proxy", "backend-secret"},
                                             {"admin", "a:b:c", "proxy", "backend-secret"}}));
  EXPECT_EQ(c.workers, 8);
  EXPECT_EQ(c.frontend_auth, "caching_sha2_password");
  EXPECT_EQ(c.tls_cert, cert.path());
  EXPECT_EQ(c.tls_key, key.path());
  EXPECT_TRUE(c.require_tls);
  EXPECT_TRUE(c.backend_tls);
  EXPECT_EQ(c.backend_tls_ca, ca.path());
  EXPECT_EQ(c.connect_timeout_s, 1.5);
  EXPECT_EQ(c.backend_read_timeout_s, 60);
  EXPECT_EQ(c.client_idle_timeout_s, 120);
  EXPECT_EQ(c.handshake_timeout_s, 3);
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
}

TEST(CommandLineTest, EqualsForm) {
  absl::StatusOr<CommandLine> cl =
      Parse({"--listen=127.0.0.1:7000", "--primary=[::1]:3306", "--replica=r:1", "--user=u:p=q",
             "--workers=2", "--log-level=ERROR", "--connect-timeout=0.25", "--require-tls=true",
             "--backend-tls=false"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.listen, (HostPort{"127.0.0.1", 7000}));
  EXPECT_EQ(cl->config.primary, (HostPort{"::1", 3306}));
  EXPECT_EQ(cl->config.replicas, (std::vector<HostPort>{{"r", 1}}));
  EXPECT_EQ(cl->config.users[0].password, "p=q");
  EXPECT_EQ(cl->config.workers, 2);
  EXPECT_EQ(cl->config.log_level, "error");
  EXPECT_EQ(cl->config.connect_timeout_s, 0.25);
  EXPECT_TRUE(cl->config.require_tls);
  EXPECT_FALSE(cl->config.backend_tls);
}

TEST(CommandLineTest, SwitchesTakeExplicitBooleans) {
  EXPECT_FALSE(Parse({"--require-tls", "--require-tls=no"})->config.require_tls);
  EXPECT_TRUE(Parse({"--backend-tls=1"})->config.backend_tls);
  // A bare switch never swallows the next argument.
  absl::StatusOr<CommandLine> cl = Parse({"--backend-tls", "--workers", "3"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_TRUE(cl->config.backend_tls);
  EXPECT_EQ(cl->config.workers, 3);
  EXPECT_THAT(ErrorOf(Parse({"--require-tls=maybe"}).status()),
              AllOf(HasSubstr("--require-tls"), HasSubstr("maybe")));
}

TEST(CommandLineTest, UserPasswordFromEnvironment) {
  absl::StatusOr<CommandLine> cl = Parse({"--user", "app:env:APP_PW", "--user", "nopw:env:EMPTY_PW"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.users[0], (UserEntry{"app", "from-env", "app", "from-env"}));
  EXPECT_EQ(cl->config.users[1].password, "");
}

TEST(CommandLineTest, MissingEnvironmentVariableIsNamed) {
  EXPECT_THAT(ErrorOf(Parse({"--user", "app:env:NOT_SET_ANYWHERE"}).status()),
              AllOf(HasSubstr("--user"), HasSubstr("NOT_SET_ANYWHERE")));
  EXPECT_THAT(ErrorOf(Parse({"--backend-user=proxy:env:ALSO_NOT_SET"}).status()),
              AllOf(HasSubstr("--backend-user"), HasSubstr("ALSO_NOT_SET")));
  EXPECT_THAT(ErrorOf(Parse({"--user", "app:env:"}).status()), HasSubstr("variable name"));
}

TEST(CommandLineTest, BadUserSpecsDoNotEchoThePassword) {
  EXPECT_THAT(ErrorOf(Parse({"--user", "topsecret"}).status()),
              AllOf(HasSubstr("--user"), HasSubstr("NAME:PASSWORD"), Not(HasSubstr("topsecret"))));
  EXPECT_THAT(ErrorOf(Parse({"--user", ":topsecret"}).status()),
              AllOf(HasSubstr("name is empty"), Not(HasSubstr("topsecret"))));
}

TEST(CommandLineTest, BackendCredentialsDefaultToTheUsersOwn) {
  absl::StatusOr<CommandLine> cl = Parse({"--user", "app:pw"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->config.users[0], (UserEntry{"app", "pw", "app", "pw"}));
  // --backend-user applies to users given before and after it.
  cl = Parse({"--user", "a:1", "--backend-user", "proxy:env:APP_PW", "--user", "b:2"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  for (const UserEntry& u : cl->config.users) {
    EXPECT_EQ(u.backend_name, "proxy");
    EXPECT_EQ(u.backend_password, "from-env");
  }
}

TEST(CommandLineTest, BadValuesNameTheFlag) {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--listen", "nope"}, "flag --listen: expected HOST:PORT, got 'nope'"},
      {{"--admin-listen=1.2.3.4:0"}, "flag --admin-listen"},
      {{"--primary", "host:70000"}, "flag --primary"},
      {{"--replica", "x"}, "flag --replica"},
      {{"--workers", "-1"}, "flag --workers: expected a whole number of at least 0, got '-1'"},
      {{"--workers", "two"}, "flag --workers"},
      {{"--frontend-auth", "sha256_password"}, "flag --frontend-auth: expected mysql_native_password|"},
      {{"--connect-timeout", "0"}, "flag --connect-timeout: expected a number of seconds greater than 0"},
      {{"--backend-read-timeout=-5"}, "flag --backend-read-timeout"},
      {{"--client-idle-timeout", "1h"}, "flag --client-idle-timeout"},
      {{"--handshake-timeout", "inf"}, "flag --handshake-timeout"},
      {{"--log-level", "verbose"}, "flag --log-level: expected debug|info|warn|error, got 'verbose'"},
      {{"--log-format", "xml"}, "flag --log-format"},
      {{"--tls-cert="}, "flag --tls-cert: expected a file name"},
  };
  for (const Case& c : cases) {
    std::vector<const char*> argv = {"querylens"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    absl::StatusOr<CommandLine> cl = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), TestEnv());
    EXPECT_THAT(ErrorOf(cl.status()), HasSubstr(c.expected)) << c.args[0];
  }
}

TEST(CommandLineTest, UnknownFlagIsNamedWithASuggestion) {
  EXPECT_THAT(ErrorOf(Parse({"--primry", "h:1"}).status()),
              AllOf(HasSubstr("unknown flag '--primry'"), HasSubstr("--primary")));
  EXPECT_THAT(ErrorOf(Parse({"--frobnicate"}).status()), HasSubstr("'--frobnicate'"));
  // YAML spellings are not flags.
  EXPECT_THAT(ErrorOf(Parse({"--admin_listen=h:1"}).status()), HasSubstr("did you mean '--admin-listen'"));
  EXPECT_THAT(ErrorOf(Parse({"--replicas=h:1"}).status()), HasSubstr("did you mean '--replica'"));
}

TEST(CommandLineTest, MissingValueAndStrayArguments) {
  EXPECT_THAT(ErrorOf(Parse({"--primary"}).status()), HasSubstr("flag --primary needs a value (HOST:PORT)"));
  EXPECT_THAT(ErrorOf(Parse({"--primary", "--user", "a:b"}).status()), HasSubstr("--primary needs a value"));
  EXPECT_THAT(ErrorOf(Parse({"stray"}).status()), HasSubstr("unexpected argument 'stray'"));
  EXPECT_THAT(ErrorOf(Parse({"-x"}).status()), HasSubstr("'-x'"));
  EXPECT_THAT(ErrorOf(Parse({"--"}).status()), HasSubstr("unexpected argument"));
}

TEST(CommandLineTest, HelpAndVersionIgnoreEverythingElse) {
  EXPECT_TRUE(Parse({"--help"})->help);
  EXPECT_TRUE(Parse({"-h"})->help);
  EXPECT_TRUE(Parse({"--version"})->version);
  // Even a bad value or an unreadable --config does not stop --help.
  absl::StatusOr<CommandLine> cl = Parse({"--primary", "bad", "--config", "/nonexistent.yaml", "--help"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_TRUE(cl->help);
}

TEST(CommandLineTest, CheckConfigRecordsTheFile) {
  absl::StatusOr<CommandLine> cl = Parse({"--check-config", "/etc/querylens.yaml"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->check_config, "/etc/querylens.yaml");
  EXPECT_EQ(Parse({"--check-config=x.yaml"})->check_config, "x.yaml");
}

TEST(CommandLineTest, LastValueOfASingleFlagWins) {
  EXPECT_EQ(Parse({"--workers", "1", "--workers", "5"})->config.workers, 5);
}

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

// --- Validate ---

TEST(ValidateTest, AcceptsARunnableConfig) { EXPECT_TRUE(Validate(RunnableConfig()).ok()); }

TEST(ValidateTest, ReportsEachProblem) {
  struct Case {
    std::function<void(Config&)> change;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](Config& c) { c.primary.reset(); }, "--primary HOST:PORT is required"},
      {[](Config& c) { c.users.clear(); }, "at least one --user"},
      {[](Config& c) { c.users.push_back(c.users[0]); }, "user 'app' is given twice"},
      {[](Config& c) { c.users[0].name.clear(); }, "user name is empty"},
      {[](Config& c) { c.tls_cert = "/nonexistent/cert.pem"; },
       "--tls-cert and --tls-key must be given together"},
      {[](Config& c) { c.tls_cert = c.tls_key = "/nonexistent/x.pem"; }, "--tls-cert: cannot read file"},
      {[](Config& c) { c.require_tls = true; }, "--require-tls needs --tls-cert"},
      {[](Config& c) { c.backend_tls_ca = "/nonexistent/ca.pem"; }, "--backend-tls-ca needs --backend-tls"},
      {[](Config& c) { c.frontend_auth = "dialog"; }, "--frontend-auth must be one of"},
      {[](Config& c) { c.log_level = "trace"; }, "--log-level must be one of"},
      {[](Config& c) { c.log_format = "xml"; }, "--log-format must be one of"},
      {[](Config& c) { c.connect_timeout_s = 0; }, "--connect-timeout must be greater than 0"},
      {[](Config& c) { c.backend_read_timeout_s = -1; }, "--backend-read-timeout must be greater than 0"},
      {[](Config& c) { c.client_idle_timeout_s = 0; }, "--client-idle-timeout"},
      {[](Config& c) { c.handshake_timeout_s = 0; }, "--handshake-timeout"},
      {[](Config& c) { c.workers = -2; }, "--workers must be at least 0"},
  };
  for (const Case& c : cases) {
    Config config = RunnableConfig();
    c.change(config);
    EXPECT_THAT(ErrorOf(Validate(config)), HasSubstr(c.expected));
  }
}

TEST(ValidateTest, ReportsAllProblemsAtOnce) {
  Config config;
  config.log_level = "loud";
  const std::string error = ErrorOf(Validate(config));
  EXPECT_THAT(error, AllOf(HasSubstr("--primary"), HasSubstr("--user"), HasSubstr("--log-level")));
}

TEST(ValidateTest, ReadableTlsFilesPass) {
  TempFile cert("v_cert.pem"), key("v_key.pem"), ca("v_ca.pem");
  Config config = RunnableConfig();
  config.tls_cert = cert.path();
  config.tls_key = key.path();
  config.require_tls = true;
  config.backend_tls = true;
  config.backend_tls_ca = ca.path();
  EXPECT_TRUE(Validate(config).ok()) << Validate(config);
}

// --- read/write splitting, pools and the backend monitor ---

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

using analyzer::RouteRule;
using analyzer::RouteTarget;

TEST(RoutingOptionsTest, Defaults) {
  absl::StatusOr<CommandLine> cl = Parse({"--user", "app:pw"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  const Config& c = cl->config;
  EXPECT_TRUE(c.read_write_split);
  EXPECT_EQ(c.read_after_write_window_s, 1);
  EXPECT_FALSE(c.causal_reads);
  EXPECT_EQ(c.causal_reads_timeout_s, 1);
  EXPECT_EQ(c.max_replication_lag_s, 10);
  EXPECT_EQ(c.monitor_interval_s, 1);
  EXPECT_EQ(c.monitor_healthy_checks, 2);
  EXPECT_EQ(c.heartbeat_table, "");
  EXPECT_EQ(c.replica_selection, "least-outstanding");
  EXPECT_TRUE(c.read_only_routines.empty());
  EXPECT_TRUE(c.route_rules.empty());
  EXPECT_EQ(c.pool_max_connections, 200);
  EXPECT_EQ(c.pool_idle_timeout_s, 60);
  EXPECT_EQ(c.pool_wait_timeout_s, 5);
  EXPECT_TRUE(c.replica_weights.empty());
  // The monitor logs in as the first user's server-side login.
  EXPECT_EQ(c.monitor_user, "app");
  EXPECT_EQ(c.monitor_password, "pw");
}

TEST(RoutingOptionsTest, EveryFlag) {
  absl::StatusOr<CommandLine> cl = Parse(
      {"--primary", "db1:3306", "--user", "app:pw", "--replica", "db2:3306", "--replica", "db3:3307,weight=3",
       "--read-write-split", "off", "--read-after-write-window", "0", "--causal-reads",
       "--causal-reads-timeout", "0.5", "--max-replication-lag", "30", "--monitor-interval", "2.5",
       "--monitor-healthy-checks", "5", "--monitor-user", "mon:env:APP_PW", "--heartbeat-table",
       "percona.heartbeat", "--replica-selection", "Weighted", "--read-only-routine", "Calc_Total",
       "--read-only-routine", "shop.price_of", "--route-rule", "schema=analytics=>replica", "--route-rule",
       "digest=0123456789abcdef=>primary", "--route-rule",
       "user=report,fingerprint=select * from big_table*=>replica", "--pool-max-connections", "50",
       "--pool-idle-timeout", "30", "--pool-wait-timeout", "0.25"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  const Config& c = cl->config;
  EXPECT_EQ(c.replicas, (std::vector<HostPort>{{"db2", 3306}, {"db3", 3307}}));
  EXPECT_EQ(c.replica_weights, (std::vector<uint32_t>{1, 3}));
  EXPECT_FALSE(c.read_write_split);
  EXPECT_EQ(c.read_after_write_window_s, 0);
  EXPECT_TRUE(c.causal_reads);
  EXPECT_EQ(c.causal_reads_timeout_s, 0.5);
  EXPECT_EQ(c.max_replication_lag_s, 30);
  EXPECT_EQ(c.monitor_interval_s, 2.5);
  EXPECT_EQ(c.monitor_healthy_checks, 5);
  EXPECT_EQ(c.monitor_user, "mon");
  EXPECT_EQ(c.monitor_password, "from-env");
  EXPECT_EQ(c.heartbeat_table, "percona.heartbeat");
  EXPECT_EQ(c.replica_selection, "weighted");
  EXPECT_EQ(c.read_only_routines, (std::vector<std::string>{"calc_total", "shop.price_of"}));
  EXPECT_EQ(c.route_rules,
            (std::vector<RouteRule>{{.schema = "analytics", .target = RouteTarget::kReplica},
                                    {.digest = 0x0123456789abcdefULL, .target = RouteTarget::kPrimary},
                                    {.user = "report",
                                     .fingerprint_glob = "select * from big_table*",
                                     .target = RouteTarget::kReplica}}));
  EXPECT_EQ(c.pool_max_connections, 50);
  EXPECT_EQ(c.pool_idle_timeout_s, 30);
  EXPECT_EQ(c.pool_wait_timeout_s, 0.25);
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
}

TEST(RoutingOptionsTest, EqualsFormAndBooleanSpellings) {
  absl::StatusOr<CommandLine> cl =
      Parse({"--route-rule=schema=a=>replica", "--read-write-split=on", "--causal-reads=false",
             "--replica=[::1]:3306,weight=1000", "--monitor-user=monitor"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.route_rules, (std::vector<RouteRule>{{.schema = "a", .target = RouteTarget::kReplica}}));
  EXPECT_TRUE(cl->config.read_write_split);
  EXPECT_FALSE(cl->config.causal_reads);
  EXPECT_EQ(cl->config.replicas, (std::vector<HostPort>{{"::1", 3306}}));
  EXPECT_EQ(cl->config.replica_weights, (std::vector<uint32_t>{1000}));
  EXPECT_EQ(cl->config.monitor_user, "monitor");
  EXPECT_EQ(cl->config.monitor_password, "");  // USER alone: no password
  EXPECT_FALSE(Parse({"--read-write-split", "false"})->config.read_write_split);
  // --read-write-split always takes a value, so it never swallows the next flag silently.
  EXPECT_THAT(ErrorOf(Parse({"--read-write-split", "--causal-reads"}).status()),
              HasSubstr("--read-write-split needs a value (on|off)"));
}

TEST(RoutingOptionsTest, MonitorUserDefaultsToTheFirstUsersBackendLogin) {
  absl::StatusOr<CommandLine> cl = Parse({"--user", "a:1", "--user", "b:2", "--backend-user", "proxy:ppw"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.monitor_user, "proxy");
  EXPECT_EQ(cl->config.monitor_password, "ppw");
  // Without users there is nobody to borrow from (Validate then asks for --user anyway).
  EXPECT_EQ(Parse({})->config.monitor_user, "");
  // An explicit --monitor-user wins, wherever it appears.
  cl = Parse({"--monitor-user", "mon:m:pw", "--user", "a:1"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.monitor_user, "mon");
  EXPECT_EQ(cl->config.monitor_password, "m:pw");
}

TEST(RoutingOptionsTest, BadValuesNameTheFlag) {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--read-write-split", "maybe"}, "flag --read-write-split: expected true or false, got 'maybe'"},
      {{"--read-after-write-window", "-1"}, "flag --read-after-write-window: expected a number of seconds (0"},
      {{"--causal-reads=perhaps"}, "flag --causal-reads"},
      {{"--causal-reads-timeout", "0"}, "flag --causal-reads-timeout: expected a number of seconds greater"},
      {{"--max-replication-lag", "ten"}, "flag --max-replication-lag"},
      {{"--monitor-interval", "0"}, "flag --monitor-interval"},
      {{"--monitor-healthy-checks", "0"}, "flag --monitor-healthy-checks: expected a whole number from 1 to 100"},
      {{"--monitor-healthy-checks", "101"}, "got '101'"},
      {{"--monitor-user", ""}, "flag --monitor-user: expected USER[:PASSWORD], the name is empty"},
      {{"--monitor-user", "mon:env:NOT_SET_HERE"}, "flag --monitor-user: environment variable 'NOT_SET_HERE'"},
      {{"--heartbeat-table", "heartbeat"}, "flag --heartbeat-table: expected DB.TABLE, got 'heartbeat'"},
      {{"--heartbeat-table", "db."}, "flag --heartbeat-table"},
      {{"--heartbeat-table", ".t"}, "flag --heartbeat-table"},
      {{"--heartbeat-table", "a.b.c"}, "flag --heartbeat-table"},
      {{"--heartbeat-table", "db.`t`"}, "flag --heartbeat-table"},
      {{"--heartbeat-table", "db.my table"}, "flag --heartbeat-table"},
      {{"--replica-selection", "random"}, "flag --replica-selection: expected least-outstanding|weighted"},
      {{"--read-only-routine", "a b"}, "flag --read-only-routine: expected a routine name (NAME or DB.NAME)"},
      {{"--read-only-routine", "f()"}, "flag --read-only-routine"},
      {{"--read-only-routine=db."}, "flag --read-only-routine"},
      {{"--route-rule", "schema=a"}, "flag --route-rule: route rule 'schema=a': expected key=value"},
      {{"--route-rule", "=>replica"}, "at least one of user, schema, digest, fingerprint"},
      {{"--route-rule", "digest=123=>primary"}, "exactly 16 hex digits"},
      {{"--route-rule", "table=t=>primary"}, "unknown key 'table'"},
      {{"--route-rule", "schema=a=>nowhere"}, "target must be primary or replica"},
      {{"--pool-max-connections", "0"}, "flag --pool-max-connections: expected a whole number from 1 to 100000"},
      {{"--pool-max-connections", "100001"}, "flag --pool-max-connections"},
      {{"--pool-idle-timeout", "0"}, "flag --pool-idle-timeout"},
      {{"--pool-wait-timeout", "-2"}, "flag --pool-wait-timeout"},
      {{"--replica", "db:3306,weight=0"}, "flag --replica: weight must be a whole number from 1 to 1000, got '0'"},
      {{"--replica", "db:3306,weight=1001"}, "got '1001'"},
      {{"--replica", "db:3306,weight="}, "flag --replica: weight must be"},
      {{"--replica", "db:3306,prio=2"}, "only weight=N may follow the address"},
      {{"--replica", "db,weight=2"}, "flag --replica: expected HOST:PORT"},
  };
  for (const Case& c : cases) {
    std::vector<const char*> argv = {"querylens"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    absl::StatusOr<CommandLine> cl = ParseCommandLine(static_cast<int>(argv.size()), argv.data(), TestEnv());
    EXPECT_THAT(ErrorOf(cl.status()), HasSubstr(c.expected)) << c.args[0] << " " << c.args.back();
  }
}

TEST(RoutingOptionsTest, BadMonitorUserDoesNotEchoThePassword) {
  EXPECT_THAT(ErrorOf(Parse({"--monitor-user", ":topsecret"}).status()),
              AllOf(HasSubstr("--monitor-user"), HasSubstr("name is empty"), Not(HasSubstr("topsecret"))));
}

TEST(RoutingOptionsTest, ListFlagsReplaceTheFilesListsAndWeights) {
  YamlFile file("lists.yaml",
                "replicas:\n  - r1:3306,weight=5\n  - r2:3306\n"
                "read-only-routines: [f1, f2]\n"
                "route-rules:\n  - schema=s=>replica\n");
  absl::StatusOr<CommandLine> cl = Parse({"--config", file.path().c_str()});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.replica_weights, (std::vector<uint32_t>{5, 1}));
  EXPECT_EQ(cl->config.read_only_routines.size(), 2u);
  EXPECT_EQ(cl->config.route_rules.size(), 1u);
  cl = Parse({"--config", file.path().c_str(), "--replica", "r9:3306", "--read-only-routine", "g",
              "--route-rule", "user=u=>primary"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.replicas, (std::vector<HostPort>{{"r9", 3306}}));
  EXPECT_EQ(cl->config.replica_weights, (std::vector<uint32_t>{1}));
  EXPECT_EQ(cl->config.read_only_routines, (std::vector<std::string>{"g"}));
  EXPECT_EQ(cl->config.route_rules,
            (std::vector<RouteRule>{{.user = "u", .target = RouteTarget::kPrimary}}));
}

TEST(RoutingOptionsTest, YamlKeysInEveryForm) {
  YamlFile file("routing.yaml",
                "primary: db1:3306\n"
                "users: [\"app:pw\"]\n"
                "replicas:\n"
                "  - db2:3306\n"
                "  - db3:3306,weight=3\n"
                "  - {address: \"[::1]:3307\", weight: 7}\n"
                "  - address: db4:3306\n"
                "read_write_split: off\n"
                "read-after-write-window: 2.5\n"
                "causal_reads: yes\n"
                "causal_reads_timeout: 0.75\n"
                "max_replication_lag: 4\n"
                "monitor_interval: 0.5\n"
                "monitor_healthy_checks: 3\n"
                "monitor_user: mon:env:QL_TEST_BACKEND_PW\n"
                "heartbeat_table: percona.heartbeat\n"
                "replica_selection: weighted\n"
                "read_only_routines:\n  - Report_Sum\n  - db.F\n"
                "route_rules:\n"
                "  - schema=analytics=>replica\n"
                "  - \"user=report,fingerprint=select * from big_table*=>replica\"\n"
                "  - {digest: 0123456789ABCDEF, target: primary}\n"
                "  - user: etl\n"
                "    fingerprint: 'select a, b from t where x => ?'\n"
                "    target: Replica\n"
                "pool_max_connections: 10\n"
                "pool_idle_timeout: 15\n"
                "pool_wait_timeout: 2\n");
  absl::StatusOr<Config> c = LoadConfigFile(file.path(), TestEnv());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->replicas, (std::vector<HostPort>{{"db2", 3306}, {"db3", 3306}, {"::1", 3307}, {"db4", 3306}}));
  EXPECT_EQ(c->replica_weights, (std::vector<uint32_t>{1, 3, 7, 1}));
  EXPECT_FALSE(c->read_write_split);
  EXPECT_EQ(c->read_after_write_window_s, 2.5);
  EXPECT_TRUE(c->causal_reads);
  EXPECT_EQ(c->causal_reads_timeout_s, 0.75);
  EXPECT_EQ(c->max_replication_lag_s, 4);
  EXPECT_EQ(c->monitor_interval_s, 0.5);
  EXPECT_EQ(c->monitor_healthy_checks, 3);
  EXPECT_EQ(c->monitor_user, "mon");
  EXPECT_EQ(c->monitor_password, "backend-pw");
  EXPECT_EQ(c->heartbeat_table, "percona.heartbeat");
  EXPECT_EQ(c->replica_selection, "weighted");
  EXPECT_EQ(c->read_only_routines, (std::vector<std::string>{"report_sum", "db.f"}));
  EXPECT_EQ(c->route_rules,
            (std::vector<RouteRule>{
                {.schema = "analytics", .target = RouteTarget::kReplica},
                {.user = "report", .fingerprint_glob = "select * from big_table*", .target = RouteTarget::kReplica},
                {.digest = 0x0123456789abcdefULL, .target = RouteTarget::kPrimary},
                {.user = "etl", .fingerprint_glob = "select a, b from t where x => ?", .target = RouteTarget::kReplica},
            }));
  EXPECT_EQ(c->pool_max_connections, 10);
  EXPECT_EQ(c->pool_idle_timeout_s, 15);
  EXPECT_EQ(c->pool_wait_timeout_s, 2);
  EXPECT_TRUE(Validate(*c).ok()) << Validate(*c);
}

TEST(RoutingOptionsTest, YamlErrorsNameLineAndKey) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"route-rules:\n  - schema=a=>replica\n  - schema=b\n", ":3: key 'route-rules': route rule 'schema=b'"},
      {"route_rules:\n  - {schema: a}\n", ":2: key 'route_rules': the target (primary or replica) is missing"},
      {"route_rules:\n  - {table: a, target: primary}\n", "unknown field 'table' (known: user, schema, digest"},
      {"route_rules:\n  - {digest: 12, target: primary}\n", "exactly 16 hex digits"},
      {"route_rules:\n  - {target: replica}\n", "at least one of"},
      {"replicas:\n  - {address: db:3306, weight: 0}\n", ":2: key 'replicas': weight must be"},
      {"replicas:\n  - {weight: 2}\n", "a replica entry needs an 'address'"},
      {"replicas:\n  - {address: nope}\n", "address: expected HOST:PORT, got 'nope'"},
      {"replicas:\n  - {address: db:1, prio: 2}\n", "unknown field 'prio' (known: address, weight)"},
      {"replicas:\n  - db:3306,weight=x\n", ":2: key 'replicas': weight must be"},
      {"read_write_split: sometimes\n", ":1: key 'read_write_split': expected true or false"},
      {"monitor_healthy_checks: 0\n", ":1: key 'monitor_healthy_checks': expected a whole number from 1 to 100"},
      {"heartbeat_table: nodot\n", "expected DB.TABLE"},
      {"replica_selection: fastest\n", "expected least-outstanding|weighted"},
      {"read_only_routines:\n  - ok\n  - 'not ok'\n", ":3: key 'read_only_routines': expected a routine name"},
      {"pool_max_connections: 0\n", "key 'pool_max_connections'"},
      {"monitor_user: mon:env:QL_TEST_DEFINITELY_UNSET\n", "QL_TEST_DEFINITELY_UNSET"},
  };
  int n = 0;
  for (const Case& c : cases) {
    YamlFile file("bad_routing_" + std::to_string(n++) + ".yaml", c.text);
    EXPECT_THAT(ErrorOf(LoadConfigFile(file.path(), TestEnv()).status()), HasSubstr(c.expected)) << c.text;
  }
}

TEST(RoutingOptionsTest, FinishConfigKeepsWeightsParallel) {
  Config c = RunnableConfig();
  c.replicas = {{"a", 1}, {"b", 2}, {"c", 3}};
  c.replica_weights = {4};
  FinishConfig(c);
  EXPECT_EQ(c.replica_weights, (std::vector<uint32_t>{4, 1, 1}));
  c.replicas.clear();
  FinishConfig(c);
  EXPECT_TRUE(c.replica_weights.empty());
  // The option's own clear empties both lists (a YAML `replicas:` with nothing after it).
  c.replicas = {{"a", 1}};
  c.replica_weights = {9};
  FindOption("replica")->clear(c);
  EXPECT_TRUE(c.replicas.empty() && c.replica_weights.empty());
}

TEST(RoutingOptionsTest, ValidateNamesTheFlag) {
  struct Case {
    std::function<void(Config&)> change;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](Config& c) { c.read_after_write_window_s = -1; }, "--read-after-write-window must be 0 or more"},
      {[](Config& c) { c.causal_reads_timeout_s = 0; }, "--causal-reads-timeout must be greater than 0"},
      {[](Config& c) { c.max_replication_lag_s = 0; }, "--max-replication-lag must be greater than 0"},
      {[](Config& c) { c.monitor_interval_s = -1; }, "--monitor-interval must be greater than 0"},
      {[](Config& c) { c.monitor_healthy_checks = 0; }, "--monitor-healthy-checks must be from 1 to 100"},
      {[](Config& c) { c.monitor_healthy_checks = 101; }, "--monitor-healthy-checks must be from 1 to 100"},
      {[](Config& c) { c.heartbeat_table = "x"; }, "--heartbeat-table must look like DB.TABLE, not 'x'"},
      {[](Config& c) { c.replica_selection = "random"; }, "--replica-selection must be one of"},
      {[](Config& c) { c.read_only_routines = {"bad name"}; }, "--read-only-routine: bad name 'bad name'"},
      {[](Config& c) { c.route_rules = {RouteRule{}}; }, "--route-rule #1 has no condition"},
      {[](Config& c) { c.pool_max_connections = 0; }, "--pool-max-connections must be from 1 to 100000"},
      {[](Config& c) { c.pool_idle_timeout_s = 0; }, "--pool-idle-timeout must be greater than 0"},
      {[](Config& c) { c.pool_wait_timeout_s = 0; }, "--pool-wait-timeout must be greater than 0"},
      {[](Config& c) {
         c.replicas = {{"r", 1}};
         c.replica_weights = {0};
       },
       "--replica r:1: weight must be 1 to 1000, not 0"},
      {[](Config& c) { c.replica_weights = {1}; }, "--replica: there are more weights than replicas"},
  };
  for (const Case& c : cases) {
    Config config = RunnableConfig();
    c.change(config);
    EXPECT_THAT(ErrorOf(Validate(config)), HasSubstr(c.expected)) << c.expected;
  }
  Config ok = RunnableConfig();
  ok.read_after_write_window_s = 0;
  ok.replicas = {{"r", 1}};  // weights may be missing before FinishConfig
  EXPECT_TRUE(Validate(ok).ok()) << Validate(ok);
}

TEST(RoutingOptionsTest, HelpShowsSyntaxAndDefaults) {
  const std::string help = HelpText();
  EXPECT_THAT(help, AllOf(HasSubstr("--read-write-split on|off"), HasSubstr("(default: on)"),
                          HasSubstr("--replica HOST:PORT[,weight=N]"), HasSubstr("--route-rule RULE"),
                          HasSubstr("=>primary|replica"), HasSubstr("--monitor-user USER[:PASSWORD]"),
                          HasSubstr("--heartbeat-table DB.TABLE"), HasSubstr("(default: least-outstanding)"),
                          HasSubstr("--pool-max-connections N"), HasSubstr("(default: 200)"),
                          HasSubstr("(default: 60)"), HasSubstr("route-rules:")));
}

TEST(RoutingOptionsTest, DescribeConfigShowsSettingsButNoMonitorPassword) {
  absl::StatusOr<CommandLine> cl = Parse(
      {"--primary", "p:1", "--user", "app:pw", "--replica", "r1:3306", "--replica", "r2:3306,weight=4",
       "--monitor-user", "mon:monitor-secret", "--route-rule", "digest=0123456789abcdef=>primary",
       "--route-rule", "schema=a=>replica", "--read-only-routine", "F", "--read-write-split", "off",
       "--heartbeat-table", "hb.heartbeat"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  const std::string text = DescribeConfig(cl->config);
  EXPECT_THAT(text, AllOf(HasSubstr("replica: r1:3306, r2:3306,weight=4"), HasSubstr("monitor-user: mon\n"),
                          HasSubstr("route-rule: digest=0123456789abcdef=>primary; schema=a=>replica"),
                          HasSubstr("read-only-routine: f\n"), HasSubstr("read-write-split: off"),
                          HasSubstr("heartbeat-table: hb.heartbeat"), HasSubstr("pool-max-connections: 200"),
                          HasSubstr("replica-selection: least-outstanding")));
  EXPECT_THAT(text, Not(HasSubstr("monitor-secret")));
}

// --- the option table, help and summary ---

TEST(OptionTableTest, EveryOptionIsComplete) {
  for (const OptionSpec& spec : Options()) {
    SCOPED_TRACE(std::string(spec.name));
    EXPECT_TRUE(spec.set != nullptr);
    EXPECT_TRUE(spec.show != nullptr);
    EXPECT_FALSE(spec.help.empty());
    EXPECT_EQ(FindOption(spec.name), &spec);
    if (spec.repeatable) {
      EXPECT_TRUE(spec.clear != nullptr);
    }
  }
  EXPECT_EQ(FindOption("admin_listen"), FindOption("admin-listen"));
  EXPECT_EQ(FindOption("replicas"), FindOption("replica"));
  EXPECT_EQ(FindOption("users"), FindOption("user"));
  EXPECT_EQ(FindOption("nonsense"), nullptr);
}

TEST(HelpTextTest, ListsEveryFlagWithDefaults) {
  const std::string help = HelpText();
  for (const OptionSpec& spec : Options()) {
    EXPECT_THAT(help, HasSubstr("--" + std::string(spec.name))) << spec.name;
  }
  EXPECT_THAT(help, AllOf(HasSubstr("(default: 127.0.0.1:6033)"), HasSubstr("(default: 127.0.0.1:9033)"),
                          HasSubstr("(default: 28800)"), HasSubstr("(default: mysql_native_password)"),
                          HasSubstr("(default: info)"), HasSubstr("-h"), HasSubstr("env:VARNAME")));
}

TEST(DescribeConfigTest, ShowsValuesButNoPasswords) {
  absl::StatusOr<Config> c = LoadConfigFile(DataFile("good.yaml"), TestEnv());
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string text = DescribeConfig(*c);
  EXPECT_THAT(text, AllOf(HasSubstr("primary: db-primary.internal:3306"), HasSubstr("[::1]:3307"),
                          HasSubstr("reporting (as reporting_ro)"), HasSubstr("log-format: json")));
  EXPECT_THAT(text, AllOf(Not(HasSubstr("secret:with:colons")), Not(HasSubstr("rep:pw")),
                          Not(HasSubstr("backend-pw"))));
}

}  // namespace
}  // namespace ql::proxy
