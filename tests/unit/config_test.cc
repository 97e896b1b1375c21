// Unit tests for proxy/config: HostPort parsing, every command-line flag, Validate(), the option table,
// --help and the configuration summary. The YAML file tests are in config_file_test.cc, the routing,
// pool and monitor options in config_routing_test.cc.
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
