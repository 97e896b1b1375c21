// Unit tests for the N+1 warning options of proxy/config: defaults, every flag, YAML keys and lists,
// errors, Validate(), --help, the summary, and how the sink turns them into detector and reporter
// options.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/config.h"
#include "proxy/n_plus_one_sink.h"
#include "tests/unit/config_test_support.h"

namespace ql::proxy {
namespace {

using namespace config_test_support;  // NOLINT: the shared helpers read as if they were local
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(NPlusOneOptionsTest, Defaults) {
  absl::StatusOr<CommandLine> cl = Parse({"--user", "app:pw"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  const Config& c = cl->config;
  EXPECT_TRUE(c.n_plus_one);
  EXPECT_EQ(c.n_plus_one_min_repeats, 5);
  EXPECT_EQ(c.n_plus_one_unit_idle_gap_s, 0.5);
  EXPECT_EQ(c.n_plus_one_unit_max_age_s, 30);
  EXPECT_EQ(c.n_plus_one_dedup_interval_s, 60);
  EXPECT_FALSE(c.n_plus_one_write_loops);
  EXPECT_EQ(c.n_plus_one_max_statements, 50);
  EXPECT_TRUE(c.n_plus_one_allow_digests.empty());
  EXPECT_TRUE(c.n_plus_one_allow_tables.empty());
  EXPECT_TRUE(c.n_plus_one_allow_routes.empty());
}

TEST(NPlusOneOptionsTest, EveryFlag) {
  absl::StatusOr<CommandLine> cl = Parse(
      {"--primary", "db1:3306", "--user", "app:pw", "--n-plus-one", "off", "--n-plus-one-min-repeats", "8",
       "--n-plus-one-unit-idle-gap", "0.25", "--n-plus-one-unit-max-age", "10",
       "--n-plus-one-dedup-interval", "0", "--n-plus-one-write-loops", "--n-plus-one-max-statements", "200",
       "--n-plus-one-allow-digest", "0123456789ABCDEF", "--n-plus-one-allow-digest", "fedcba9876543210",
       "--n-plus-one-allow-table", "Django_*", "--n-plus-one-allow-table", "shop.product",
       "--n-plus-one-allow-route", "admin/*", "--n-plus-one-allow-route", "Products/<int:pk>/"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  const Config& c = cl->config;
  EXPECT_FALSE(c.n_plus_one);
  EXPECT_EQ(c.n_plus_one_min_repeats, 8);
  EXPECT_EQ(c.n_plus_one_unit_idle_gap_s, 0.25);
  EXPECT_EQ(c.n_plus_one_unit_max_age_s, 10);
  EXPECT_EQ(c.n_plus_one_dedup_interval_s, 0);
  EXPECT_TRUE(c.n_plus_one_write_loops);
  EXPECT_EQ(c.n_plus_one_max_statements, 200);
  EXPECT_EQ(c.n_plus_one_allow_digests,
            (std::vector<uint64_t>{0x0123456789abcdefULL, 0xfedcba9876543210ULL}));
  // Tables are matched against lower-case fingerprints; routes as the application wrote them.
  EXPECT_EQ(c.n_plus_one_allow_tables, (std::vector<std::string>{"django_*", "shop.product"}));
  EXPECT_EQ(c.n_plus_one_allow_routes, (std::vector<std::string>{"admin/*", "Products/<int:pk>/"}));
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
}

TEST(NPlusOneOptionsTest, OnOffSpellings) {
  for (const char* v : {"on", "true", "yes", "1"}) {
    absl::StatusOr<CommandLine> cl = Parse({"--user", "app:pw", "--n-plus-one", v});
    ASSERT_TRUE(cl.ok()) << cl.status();
    EXPECT_TRUE(cl->config.n_plus_one) << v;
  }
  absl::StatusOr<CommandLine> cl = Parse({"--user", "app:pw", "--n-plus-one=false"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_FALSE(cl->config.n_plus_one);
}

TEST(NPlusOneOptionsTest, BadValuesNameTheFlag) {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--n-plus-one", "maybe"}, "--n-plus-one"},
      {{"--n-plus-one-min-repeats", "1"}, "--n-plus-one-min-repeats"},
      {{"--n-plus-one-min-repeats", "x"}, "--n-plus-one-min-repeats"},
      {{"--n-plus-one-unit-idle-gap", "0"}, "--n-plus-one-unit-idle-gap"},
      {{"--n-plus-one-unit-max-age", "-1"}, "--n-plus-one-unit-max-age"},
      {{"--n-plus-one-dedup-interval", "-5"}, "--n-plus-one-dedup-interval"},
      {{"--n-plus-one-max-statements", "0"}, "--n-plus-one-max-statements"},
      {{"--n-plus-one-allow-digest", "abc"}, "16 hex digits"},
      {{"--n-plus-one-allow-digest", "0123456789abcdeg"}, "16 hex digits"},
      {{"--n-plus-one-allow-table", "*"}, "--n-plus-one-allow-table"},
      {{"--n-plus-one-allow-table", "a*b"}, "may only end"},
      {{"--n-plus-one-allow-route", ""}, "--n-plus-one-allow-route"},
  };
  for (const Case& c : cases) {
    std::vector<const char*> argv = {"querylens", "--user", "app:pw"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    absl::StatusOr<CommandLine> cl = ParseCommandLine(int(argv.size()), argv.data(), TestEnv());
    EXPECT_THAT(ErrorOf(cl.status()), HasSubstr(c.expected)) << c.args[0] << " " << c.args[1];
  }
}

TEST(NPlusOneOptionsTest, EveryDetectorThresholdHasAFlag) {
  absl::StatusOr<CommandLine> cl = Parse(
      {"--user", "app:pw", "--n-plus-one-min-total-time", "0.2", "--n-plus-one-min-repeats-fast", "30",
       "--n-plus-one-min-distinct-values", "4", "--n-plus-one-min-duplicates", "6",
       "--n-plus-one-cycle-min-length", "3", "--n-plus-one-cycle-max-length", "5",
       "--n-plus-one-cycle-min-repeats", "7", "--n-plus-one-batch-min-literals", "50",
       "--n-plus-one-batch-max-avg-rows", "1000", "--n-plus-one-top-fingerprints", "9",
       "--n-plus-one-max-fingerprints", "64"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  const analyzer::NPlusOneOptions d = DetectorOptionsFrom(cl->config);
  EXPECT_EQ(d.min_total_ns, 200'000'000);
  EXPECT_EQ(d.min_repeats_fast, 30u);
  EXPECT_EQ(d.min_distinct_values, 4u);
  EXPECT_EQ(d.min_duplicates, 6u);
  EXPECT_EQ(d.min_cycle_length, 3u);
  EXPECT_EQ(d.max_cycle_length, 5u);
  EXPECT_EQ(d.min_cycle_repeats, 7u);
  EXPECT_EQ(d.batch_min_literals, 50u);
  EXPECT_EQ(d.batch_max_avg_rows, 1000u);
  EXPECT_EQ(d.top_fingerprints, 9u);
  EXPECT_EQ(d.max_fingerprints_per_unit, 64u);
  // 0 s turns the time gate off (every loop of min-repeats counts).
  cl = Parse({"--user", "app:pw", "--n-plus-one-min-total-time", "0"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(DetectorOptionsFrom(cl->config).min_total_ns, 0);
  // Out of range, or a cycle range that is empty.
  for (std::vector<const char*> bad :
       {std::vector<const char*>{"--n-plus-one-cycle-max-length", "9"},
        {"--n-plus-one-cycle-min-length", "1"},
        {"--n-plus-one-min-duplicates", "1"},
        {"--n-plus-one-max-fingerprints", "2"},
        {"--n-plus-one-min-total-time", "-1"}}) {
    std::vector<const char*> argv = {"querylens", "--user", "app:pw"};
    argv.insert(argv.end(), bad.begin(), bad.end());
    absl::StatusOr<CommandLine> r = ParseCommandLine(int(argv.size()), argv.data(), TestEnv());
    EXPECT_THAT(ErrorOf(r.status()), HasSubstr("--n-plus-one-")) << bad[0] << " " << bad[1];
  }
  // An empty cycle range is caught when the whole configuration is checked.
  Config c = RunnableConfig();
  c.n_plus_one_cycle_min_length = 6;
  c.n_plus_one_cycle_max_length = 4;
  EXPECT_THAT(ErrorOf(Validate(c)), HasSubstr("--n-plus-one-cycle-max-length"));
}

TEST(NPlusOneOptionsTest, YamlKeysAndLists) {
  YamlFile file("n_plus_one.yaml",
                "primary: db1:3306\n"
                "users: [\"app:pw\"]\n"
                "n_plus_one: off\n"
                "n-plus-one-min-repeats: 3\n"
                "n_plus_one_unit_idle_gap: 1.5\n"
                "n-plus-one-write-loops: true\n"
                "n-plus-one-allow-digests: [\"00000000000000ff\"]\n"
                "n-plus-one-allow-tables:\n  - audit_log\n  - django_*\n"
                "n_plus_one_allow_routes: [\"health/\"]\n");
  absl::StatusOr<Config> c = LoadConfigFile(file.path(), TestEnv());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->n_plus_one);
  EXPECT_EQ(c->n_plus_one_min_repeats, 3);
  EXPECT_EQ(c->n_plus_one_unit_idle_gap_s, 1.5);
  EXPECT_TRUE(c->n_plus_one_write_loops);
  EXPECT_EQ(c->n_plus_one_allow_digests, (std::vector<uint64_t>{0xff}));
  EXPECT_EQ(c->n_plus_one_allow_tables, (std::vector<std::string>{"audit_log", "django_*"}));
  EXPECT_EQ(c->n_plus_one_allow_routes, (std::vector<std::string>{"health/"}));
  // A list given on the command line replaces the file's.
  absl::StatusOr<CommandLine> cl =
      Parse({"--config", file.path().c_str(), "--n-plus-one-allow-table", "other"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.n_plus_one_allow_tables, (std::vector<std::string>{"other"}));
  EXPECT_EQ(cl->config.n_plus_one_allow_routes, (std::vector<std::string>{"health/"}));
}

TEST(NPlusOneOptionsTest, ValidateChecksPatternsSetInCode) {
  Config c = RunnableConfig();
  c.n_plus_one_allow_routes = {"a*b"};
  EXPECT_THAT(ErrorOf(Validate(c)), HasSubstr("--n-plus-one-allow-route"));
  c.n_plus_one_allow_routes = {"admin/*"};
  EXPECT_TRUE(Validate(c).ok()) << Validate(c);
}

TEST(NPlusOneOptionsTest, HelpAndSummary) {
  EXPECT_THAT(HelpText(), AllOf(HasSubstr("--n-plus-one on|off"), HasSubstr("--n-plus-one-min-repeats N"),
                                HasSubstr("--n-plus-one-unit-idle-gap"),
                                HasSubstr("--n-plus-one-allow-digest HEX16"),
                                HasSubstr("--n-plus-one-allow-table NAME"),
                                HasSubstr("--n-plus-one-allow-route ROUTE")));
  absl::StatusOr<CommandLine> cl = Parse({"--primary", "p:1", "--user", "app:pw",
                                          "--n-plus-one-allow-digest", "00000000000000ff",
                                          "--n-plus-one-allow-table", "t1"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_THAT(DescribeConfig(cl->config),
              AllOf(HasSubstr("n-plus-one: on"), HasSubstr("n-plus-one-allow-digest: 00000000000000ff"),
                    HasSubstr("n-plus-one-allow-table: t1"), HasSubstr("n-plus-one-dedup-interval: 60")));
}

TEST(NPlusOneOptionsTest, SinkOptionsFollowTheConfig) {
  Config c = RunnableConfig();
  c.n_plus_one_min_repeats = 20;
  c.n_plus_one_unit_idle_gap_s = 0.25;
  c.n_plus_one_unit_max_age_s = 12;
  c.n_plus_one_dedup_interval_s = 5;
  c.n_plus_one_write_loops = true;
  c.n_plus_one_max_statements = 70;
  c.n_plus_one_allow_digests = {7};
  c.n_plus_one_allow_tables = {"t*"};
  c.n_plus_one_allow_routes = {"r/"};
  const analyzer::NPlusOneOptions d = DetectorOptionsFrom(c);
  EXPECT_EQ(d.min_repeats, 20u);
  EXPECT_GE(d.min_repeats_fast, 20u);  // a fast loop still needs min_repeats
  EXPECT_EQ(d.unit_idle_gap_ns, 250'000'000);
  EXPECT_EQ(d.unit_max_age_ns, 12'000'000'000);
  EXPECT_TRUE(d.detect_write_loops);
  EXPECT_EQ(d.max_unit_statements, 70u);
  const analyzer::NPlusOneReporterOptions r = ReporterOptionsFrom(c);
  EXPECT_EQ(r.dedup_interval_ns, 5'000'000'000);
  EXPECT_EQ(r.allow_list.digests, (std::vector<uint64_t>{7}));
  EXPECT_EQ(r.allow_list.tables, (std::vector<std::string>{"t*"}));
  EXPECT_EQ(r.allow_list.routes, (std::vector<std::string>{"r/"}));
  // The defaults are the analyzer's.
  const analyzer::NPlusOneOptions defaults = DetectorOptionsFrom(RunnableConfig());
  EXPECT_EQ(defaults.min_repeats, analyzer::NPlusOneOptions{}.min_repeats);
  EXPECT_EQ(defaults.min_repeats_fast, analyzer::NPlusOneOptions{}.min_repeats_fast);
  EXPECT_EQ(defaults.unit_idle_gap_ns, analyzer::NPlusOneOptions{}.unit_idle_gap_ns);
  const analyzer::NPlusOneOptions a;
  EXPECT_EQ(defaults.unit_max_age_ns, a.unit_max_age_ns);
  EXPECT_EQ(defaults.min_total_ns, a.min_total_ns);
  EXPECT_EQ(defaults.min_distinct_values, a.min_distinct_values);
  EXPECT_EQ(defaults.batch_min_literals, a.batch_min_literals);
  EXPECT_EQ(defaults.batch_max_avg_rows, a.batch_max_avg_rows);
  EXPECT_EQ(defaults.min_duplicates, a.min_duplicates);
  EXPECT_EQ(defaults.min_cycle_length, a.min_cycle_length);
  EXPECT_EQ(defaults.max_cycle_length, a.max_cycle_length);
  EXPECT_EQ(defaults.min_cycle_repeats, a.min_cycle_repeats);
  EXPECT_EQ(defaults.max_unit_statements, a.max_unit_statements);
  EXPECT_EQ(defaults.top_fingerprints, a.top_fingerprints);
  EXPECT_EQ(defaults.max_fingerprints_per_unit, a.max_fingerprints_per_unit);
}

}  // namespace
}  // namespace ql::proxy
