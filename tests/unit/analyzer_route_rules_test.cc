// Unit tests for analyzer/route_rules: the --route-rule string syntax and its
// errors, the mapping form, round trips through DescribeRouteRule, the glob
// matcher (including inputs that would blow up a recursive matcher) and
// first-match-wins rule lookup.
#include "analyzer/route_rules.h"

#include <string>
#include <vector>

#include "analyzer/digest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ql::analyzer {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string ErrorOf(const absl::StatusOr<RouteRule>& rule) {
  EXPECT_FALSE(rule.ok());
  return std::string(rule.status().message());
}

// --- ParseRouteRule ---

TEST(RouteRuleParseTest, SchemaToReplica) {
  absl::StatusOr<RouteRule> rule = ParseRouteRule("schema=analytics=>replica");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(*rule, (RouteRule{.schema = "analytics", .target = RouteTarget::kReplica}));
}

TEST(RouteRuleParseTest, DigestToPrimary) {
  absl::StatusOr<RouteRule> rule = ParseRouteRule("digest=0123456789abcdef=>primary");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->digest, 0x0123456789abcdefULL);
  EXPECT_EQ(rule->target, RouteTarget::kPrimary);
  EXPECT_TRUE(rule->user.empty() && rule->schema.empty() && rule->fingerprint_glob.empty());
  // Upper-case hex is the same id; the digest prints back in lower case.
  EXPECT_EQ(ParseRouteRule("digest=FFFFFFFFFFFFFFFF=>primary")->digest, ~uint64_t{0});
}

TEST(RouteRuleParseTest, UserAndFingerprintGlob) {
  absl::StatusOr<RouteRule> rule = ParseRouteRule("user=report,fingerprint=select * from big_table*=>replica");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->user, "report");
  EXPECT_EQ(rule->fingerprint_glob, "select * from big_table*");
  EXPECT_EQ(rule->target, RouteTarget::kReplica);
}

TEST(RouteRuleParseTest, AllKeysBlanksAndCase) {
  absl::StatusOr<RouteRule> rule =
      ParseRouteRule(" User = app , SCHEMA=Shop, digest=00000000000000ff ,Fingerprint=SELECT ? => Replica ");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(*rule, (RouteRule{.user = "app", .schema = "Shop", .digest = 0xff,
                              .fingerprint_glob = "select ?", .target = RouteTarget::kReplica}));
}

TEST(RouteRuleParseTest, ValueMayContainEqualsSign) {
  absl::StatusOr<RouteRule> rule = ParseRouteRule("fingerprint=select * from t where a = ?=>replica");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->fingerprint_glob, "select * from t where a = ?");
}

TEST(RouteRuleParseTest, ErrorsExplainTheProblem) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"schema=analytics", "missing '=>'"},
      {"=>replica", "at least one of user, schema, digest, fingerprint"},
      {"  =>primary", "at least one of"},
      {"schema=a=>replica=>primary", "more than once"},
      {"schema=a=>", "target must be primary or replica, got ''"},
      {"schema=a=>secondary", "target must be primary or replica, got 'secondary'"},
      {"table=t=>replica", "unknown key 'table'"},
      {"schema=a,schema=b=>replica", "key 'schema' is given twice"},
      {"schema==>replica", "key 'schema' has an empty value"},
      {"user= ,schema=a=>replica", "key 'user' has an empty value"},
      {"schema=a,=>replica", "expected key=value, got ''"},
      {"schema=a,b=>replica", "expected key=value, got 'b'"},
      {"target=replica=>replica", "the target goes after '=>'"},
      {"digest=0123=>primary", "exactly 16 hex digits"},
      {"digest=0123456789abcdeg=>primary", "got '0123456789abcdeg'"},
      {"digest=0x23456789abcdef=>primary", "16 hex digits"},
      {"digest=0123456789abcdef0=>primary", "16 hex digits"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ErrorOf(ParseRouteRule(c.text)), AllOf(HasSubstr(c.expected), HasSubstr("route rule '")))
        << c.text;
  }
}

// --- the mapping form ---

TEST(RouteRuleFieldsTest, MappingFormAllowsCommasAndArrows) {
  absl::StatusOr<RouteRule> rule = RouteRuleFromFields(
      {{"fingerprint", "select a, b from t where x => ?*"}, {"user", "a,b"}, {"target", "replica"}});
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->fingerprint_glob, "select a, b from t where x => ?*");
  EXPECT_EQ(rule->user, "a,b");
}

TEST(RouteRuleFieldsTest, NeedsTargetAndACondition) {
  EXPECT_THAT(std::string(RouteRuleFromFields({{"schema", "a"}}).status().message()),
              HasSubstr("target (primary or replica) is missing"));
  EXPECT_THAT(std::string(RouteRuleFromFields({{"target", "primary"}}).status().message()),
              HasSubstr("at least one of"));
  EXPECT_THAT(std::string(RouteRuleFromFields({{"host", "x"}, {"target", "primary"}}).status().message()),
              HasSubstr("unknown key 'host'"));
}

// --- DescribeRouteRule ---

TEST(RouteRuleDescribeTest, RoundTrips) {
  const std::vector<RouteRule> rules = {
      {.schema = "analytics", .target = RouteTarget::kReplica},
      {.digest = 0x0123456789abcdefULL, .target = RouteTarget::kPrimary},
      {.digest = 0, .target = RouteTarget::kReplica},
      {.user = "report", .fingerprint_glob = "select * from big_table*", .target = RouteTarget::kReplica},
      {.user = "u", .schema = "S", .digest = 42, .fingerprint_glob = "x = ?", .target = RouteTarget::kPrimary},
  };
  for (const RouteRule& rule : rules) {
    const std::string text = DescribeRouteRule(rule);
    absl::StatusOr<RouteRule> back = ParseRouteRule(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status();
    EXPECT_EQ(*back, rule) << text;
  }
  EXPECT_EQ(DescribeRouteRule(rules[1]), "digest=0123456789abcdef=>primary");
  EXPECT_EQ(DescribeRouteRule(rules[3]), "user=report,fingerprint=select * from big_table*=>replica");
}

// --- GlobMatch ---

TEST(GlobMatchTest, LiteralsStarsAndQuestionMarks) {
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything at all"));
  EXPECT_TRUE(GlobMatch("**", "x"));
  EXPECT_TRUE(GlobMatch("abc", "abc"));
  EXPECT_FALSE(GlobMatch("abc", "abcd"));
  EXPECT_FALSE(GlobMatch("abcd", "abc"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_FALSE(GlobMatch("?", ""));
  EXPECT_TRUE(GlobMatch("select * from big_table*", "select * from big_table_2024 where id = ?"));
  EXPECT_TRUE(GlobMatch("select * from big_table*", "select a, b from big_table"));
  EXPECT_FALSE(GlobMatch("select * from big_table*", "update big_table set a = ?"));
  EXPECT_TRUE(GlobMatch("*where id = ?", "select * from t where id = ?"));
  EXPECT_FALSE(GlobMatch("*where id = ?", "select * from t where id = ? limit ?"));
  EXPECT_TRUE(GlobMatch("*a*b*c*", "xxaxxbxxcxx"));
  EXPECT_FALSE(GlobMatch("*a*b*c*", "xxcxxbxxaxx"));
  // Needs backtracking: the first "ab" after the star is not the one that ends the text.
  EXPECT_TRUE(GlobMatch("*ab", "abab"));
  EXPECT_TRUE(GlobMatch("a*b?d", "axxbxbcd"));
  EXPECT_FALSE(GlobMatch("a*b?d", "axxbxbd"));
  // Case matters: fingerprints are lower-case and globs are stored lower-cased.
  EXPECT_FALSE(GlobMatch("SELECT*", "select 1"));
}

TEST(GlobMatchTest, PathologicalPatternsFinish) {
  // A recursive matcher takes exponential time on these; the iterative one is quadratic at worst.
  const std::string text(20000, 'a');
  std::string glob;
  for (int i = 0; i < 30; ++i) glob += "*a";
  EXPECT_TRUE(GlobMatch(glob, text));
  EXPECT_FALSE(GlobMatch(glob + "b", text));
  EXPECT_FALSE(GlobMatch("*aaaaaaaaab", std::string(5000, 'a')));
}

// --- MatchRouteRules ---

TEST(MatchRouteRulesTest, FirstMatchingRuleWins) {
  const uint64_t digest = DigestId("select * from orders where id = ?");
  std::vector<RouteRule> rules = {
      *ParseRouteRule("user=report,schema=analytics=>replica"),
      *ParseRouteRule("digest=" + DigestHex(digest) + "=>primary"),
      *ParseRouteRule("fingerprint=select * from orders*=>replica"),
      *ParseRouteRule("schema=analytics=>primary"),
  };
  auto match = [&](std::string_view user, std::string_view schema, uint64_t d, std::string_view fp) {
    return MatchRouteRules(rules, user, schema, d, fp);
  };
  // Rule 1 needs both fields.
  EXPECT_EQ(match("report", "analytics", 1, "select ?"), RouteTarget::kReplica);
  EXPECT_EQ(match("report", "shop", 1, "select ?"), std::nullopt);
  EXPECT_EQ(match("app", "analytics", 1, "select ?"), RouteTarget::kPrimary);  // rule 4
  // The digest rule comes before the fingerprint rule that would also match.
  EXPECT_EQ(match("app", "shop", digest, "select * from orders where id = ?"), RouteTarget::kPrimary);
  EXPECT_EQ(match("app", "shop", digest + 1, "select * from orders where id = ?"), RouteTarget::kReplica);
  EXPECT_EQ(match("app", "shop", 7, "select * from customers"), std::nullopt);
  EXPECT_EQ(MatchRouteRules({}, "a", "b", 1, "c"), std::nullopt);
}

TEST(MatchRouteRulesTest, UserAndSchemaCompareExactly) {
  const std::vector<RouteRule> rules = {*ParseRouteRule("schema=Analytics=>replica"),
                                        *ParseRouteRule("user=Report=>replica")};
  EXPECT_EQ(MatchRouteRules(rules, "x", "Analytics", 0, "select ?"), RouteTarget::kReplica);
  EXPECT_EQ(MatchRouteRules(rules, "x", "analytics", 0, "select ?"), std::nullopt);
  EXPECT_EQ(MatchRouteRules(rules, "Report", "", 0, "select ?"), RouteTarget::kReplica);
  EXPECT_EQ(MatchRouteRules(rules, "report", "", 0, "select ?"), std::nullopt);
  EXPECT_EQ(MatchRouteRules(rules, "x", "Analytics2", 0, "select ?"), std::nullopt);
}

TEST(MatchRouteRulesTest, UpperCaseGlobMatchesTheLowerCaseFingerprint) {
  const std::vector<RouteRule> rules = {*ParseRouteRule("fingerprint=SELECT * FROM Big_Table*=>replica")};
  EXPECT_EQ(MatchRouteRules(rules, "u", "s", 0, "select * from big_table where a = ?"), RouteTarget::kReplica);
}

}  // namespace
}  // namespace ql::analyzer
