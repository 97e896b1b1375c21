// Unit tests for the read/write splitting, pool and monitor options of proxy/config: flags, YAML
// written to temp files, errors, replica weights, Validate(), --help and the summary.
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

// --- read/write splitting, pools and the backend monitor ---

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

}  // namespace
}  // namespace ql::proxy
