// Literal summaries (value hash, filter hash without the page position,
// literal count, prepared-statement values) and the helpers that fill the
// detector's input: trace ids, call sites from sqlcommenter tags,
// single-row writes, and how each statement is treated.
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/n_plus_one_input.h"
#include "analyzer/n_plus_one_literals.h"
#include "analyzer/statement_analyzer.h"
#include "gtest/gtest.h"
#include "tests/unit/n_plus_one_feed.h"

namespace ql::analyzer {
namespace {

uint64_t Values(std::string_view sql) { return SummarizeLiterals(sql).values_hash; }

TEST(NPlusOneLiterals, SameValuesSameHashOtherValuesOtherHash) {
  EXPECT_EQ(Values("SELECT * FROM t WHERE id = 3"), Values("select *  from t where id=3 /* c */"));
  EXPECT_NE(Values("SELECT * FROM t WHERE id = 3"), Values("SELECT * FROM t WHERE id = 4"));
  EXPECT_NE(Values("SELECT * FROM t WHERE id = 3"), Values("SELECT * FROM t WHERE id = -3"));
  EXPECT_NE(Values("SELECT * FROM t WHERE a = 'x' AND b = 'yz'"),
            Values("SELECT * FROM t WHERE a = 'xy' AND b = 'z'"));
  EXPECT_NE(Values("SELECT * FROM t WHERE a = 1 AND b = 2"),
            Values("SELECT * FROM t WHERE a = 2 AND b = 1"));
  EXPECT_NE(Values("INSERT INTO t VALUES (1, NULL)"), Values("INSERT INTO t VALUES (1, 2)"));
  EXPECT_EQ(Values("INSERT INTO t VALUES (1, NULL)"), Values("INSERT INTO t VALUES (1, null)"));
  // IS NULL is not a value: both statements have none.
  EXPECT_EQ(Values("SELECT * FROM t WHERE a IS NULL"),
            Values("SELECT * FROM t WHERE a IS NOT NULL"));
  // Literal-free statements share one hash that is not 0.
  EXPECT_EQ(Values("SELECT * FROM t"), Values("SELECT * FROM u"));
  EXPECT_NE(Values("SELECT * FROM t"), 0u);
}

TEST(NPlusOneLiterals, CountsEveryLiteral) {
  EXPECT_EQ(SummarizeLiterals("SELECT a FROM t").literal_count, 0u);
  EXPECT_EQ(SummarizeLiterals("SELECT a FROM t WHERE id = 3 LIMIT 21").literal_count, 2u);
  EXPECT_EQ(SummarizeLiterals("SELECT a FROM t WHERE id IN (1, 2, 3, 4, 5)").literal_count, 5u);
  EXPECT_EQ(SummarizeLiterals("INSERT INTO t (a, b) VALUES (1, 'x'), (2, NULL)").literal_count, 4u);
  EXPECT_EQ(
      SummarizeLiterals("SELECT a FROM t WHERE b = ? AND c = 0x1F AND d = b'01'").literal_count,
      3u);
}

TEST(NPlusOneLiterals, PagesShareAFilterHash) {
  const LiteralSummary p1 =
      SummarizeLiterals("SELECT a FROM t WHERE c = 3 ORDER BY id LIMIT 20 OFFSET 20");
  const LiteralSummary p2 =
      SummarizeLiterals("SELECT a FROM t WHERE c = 3 ORDER BY id LIMIT 20 OFFSET 40");
  const LiteralSummary last =
      SummarizeLiterals("SELECT a FROM t WHERE c = 3 ORDER BY id LIMIT 7 OFFSET 60");
  const LiteralSummary other =
      SummarizeLiterals("SELECT a FROM t WHERE c = 4 ORDER BY id LIMIT 20 OFFSET 20");
  EXPECT_TRUE(p1.page_shaped);
  EXPECT_NE(p1.values_hash, p2.values_hash);
  EXPECT_EQ(p1.filter_hash, p2.filter_hash);
  EXPECT_EQ(p1.filter_hash, last.filter_hash);
  EXPECT_NE(p1.filter_hash, other.filter_hash);
  // MySQL's LIMIT offset, count.
  const LiteralSummary m1 = SummarizeLiterals("SELECT a FROM t WHERE c = 3 LIMIT 0, 50");
  const LiteralSummary m2 = SummarizeLiterals("SELECT a FROM t WHERE c = 3 LIMIT 50, 50");
  EXPECT_TRUE(m1.page_shaped);
  EXPECT_EQ(m1.filter_hash, m2.filter_hash);
  // Keyset: a range bound with ORDER BY and LIMIT.
  const LiteralSummary k1 =
      SummarizeLiterals("SELECT a FROM t WHERE c = 3 AND id > 100 ORDER BY id LIMIT 100");
  const LiteralSummary k2 =
      SummarizeLiterals("SELECT a FROM t WHERE c = 3 AND id > 200 ORDER BY id LIMIT 100");
  const LiteralSummary k3 =
      SummarizeLiterals("SELECT a FROM t WHERE c = 3 AND id >= -5 ORDER BY id DESC LIMIT 100");
  EXPECT_TRUE(k1.page_shaped);
  EXPECT_EQ(k1.filter_hash, k2.filter_hash);
  EXPECT_EQ(k1.filter_hash, k3.filter_hash);
  EXPECT_NE(k1.values_hash, k2.values_hash);
}

TEST(NPlusOneLiterals, NotPagesKeepAllValuesInTheFilter) {
  for (const char* sql :
       {"SELECT a FROM t WHERE id = 3 LIMIT 21",                    // Django get()
        "SELECT a FROM t WHERE expire > '2026-01-01' AND k = 'x'",  // no ORDER/LIMIT
        "SELECT a FROM t WHERE id > 3 LIMIT 10",                    // no ORDER BY
        "SELECT a FROM t WHERE c = 3 ORDER BY id LIMIT 5"}) {       // no range
    const LiteralSummary s = SummarizeLiterals(sql);
    EXPECT_FALSE(s.page_shaped) << sql;
    EXPECT_EQ(s.filter_hash, s.values_hash) << sql;
  }
  // "offset" as a column name is not an OFFSET clause.
  EXPECT_FALSE(SummarizeLiterals("SELECT a FROM t WHERE t.offset = 5").page_shaped);
}

TEST(NPlusOneLiterals, StreamingEqualsOneShot) {
  const std::string sql = "SELECT a FROM t WHERE b IN (1, 2) AND c > 5 ORDER BY c LIMIT 3";
  LiteralHasher hasher;
  hasher.Begin();
  SqlTokenizer tokenizer(sql);
  Token t;
  while (tokenizer.Next(&t)) hasher.Feed(t);
  const LiteralSummary a = hasher.Finish();
  const LiteralSummary b = SummarizeLiterals(sql);
  EXPECT_EQ(a.values_hash, b.values_hash);
  EXPECT_EQ(a.filter_hash, b.filter_hash);
  EXPECT_EQ(a.literal_count, 4u);
  hasher.Begin();  // reusable
  EXPECT_EQ(hasher.Finish().values_hash, SummarizeLiterals("").values_hash);
}

TEST(NPlusOneLiterals, PreparedStatementsHashTheirBoundValues) {
  const LiteralSummary text =
      SummarizeLiterals("SELECT a FROM t WHERE c = ? ORDER BY id LIMIT ? OFFSET ?");
  EXPECT_TRUE(text.page_shaped);
  EXPECT_EQ(text.placeholder_count, 3u);
  EXPECT_EQ(text.page_slot_mask, 0b110u);
  const std::vector<std::string_view> page1 = {"3", "20", "0"};
  const std::vector<std::string_view> page2 = {"3", "20", "20"};
  const std::vector<std::string_view> other = {"4", "20", "0"};
  const LiteralSummary a = WithBoundValues(text, page1);
  const LiteralSummary b = WithBoundValues(text, page2);
  const LiteralSummary c = WithBoundValues(text, other);
  EXPECT_NE(a.values_hash, b.values_hash);
  EXPECT_EQ(a.filter_hash, b.filter_hash);
  EXPECT_NE(a.filter_hash, c.filter_hash);
  EXPECT_EQ(WithBoundValues(text, page1).values_hash, a.values_hash);

  const LiteralSummary lookup = SummarizeLiterals("SELECT a FROM t WHERE id = ?");
  const std::vector<std::string_view> one = {"1"};
  const std::vector<std::string_view> two = {"2"};
  EXPECT_EQ(lookup.page_slot_mask, 0u);
  EXPECT_NE(WithBoundValues(lookup, one).filter_hash, WithBoundValues(lookup, two).filter_hash);
  EXPECT_EQ(WithBoundValues(lookup, one).filter_hash, WithBoundValues(lookup, one).values_hash);
}

TEST(NPlusOneInput, TraceIds) {
  EXPECT_EQ(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(TraceIdOf("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(TraceIdOf("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01"), "");
  EXPECT_EQ(TraceIdOf("4bf92f3577b34da6a3ce929d0e0e4736"), "");
  EXPECT_EQ(TraceIdOf(""), "");
}

TEST(NPlusOneInput, CallSiteFromSqlcommenterTags) {
  StatementAnalyzer analyzer;
  const StatementAnalysis& a = analyzer.Analyze(
      "SELECT 1 /*action='show',application='shop',controller='shop%3Adetail',db_driver='x',"
      "framework='django%%3A3.2.25',querylens_ignore='yes',route='p/%%3Cint%%3Apk%%3E/',"
      "traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/");
  const NPlusOneCallSite site = CallSiteFromTags(*a.tags);
  EXPECT_EQ(site.action, "show");
  EXPECT_EQ(site.app_name, "shop");
  EXPECT_EQ(site.controller, "shop:detail");
  EXPECT_EQ(site.framework, "django:3.2.25");
  EXPECT_EQ(site.route, "p/<int:pk>/");
  EXPECT_EQ(site.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_TRUE(site.silenced);
  EXPECT_FALSE(site.empty());
  EXPECT_TRUE(CallSiteFromTags(*analyzer.Analyze("SELECT 1").tags).empty());
  EXPECT_FALSE(
      CallSiteFromTags(*analyzer.Analyze("SELECT 1 /*querylens_ignore='off'*/").tags).silenced);
  EXPECT_FALSE(
      CallSiteFromTags(*analyzer.Analyze("SELECT 1 /*querylens_ignore=''*/").tags).silenced);
}

TEST(NPlusOneInput, SingleRowWrites) {
  const auto single = [](std::string_view fp, uint64_t affected, uint64_t sent = 0,
                         StatementClass c = StatementClass::kWrite) {
    return IsSingleRowWrite(fp, c, affected, sent);
  };
  EXPECT_TRUE(single("insert into t(a) values (?+)", 1));
  EXPECT_TRUE(single("update t set a = ? where t.id = ?", 0));
  EXPECT_TRUE(single("delete from t where t.id in (?+)", 1));
  EXPECT_TRUE(single("replace into t set a = ?", 1));
  EXPECT_FALSE(single("update t set a = ?", 2));
  EXPECT_FALSE(single("insert into t select * from u", 1));
  EXPECT_FALSE(single("update t set a = ?; update u set b = ?", 1));
  EXPECT_FALSE(single("select a from t", 0, 0, StatementClass::kRead));
  // RETURNING answers with the rows written (and an affected count of 0):
  // one row is a single-row write, 300 rows (bulk_create) are not.
  EXPECT_TRUE(single("insert into t(a) values (?+) returning t.id", 0, 1));
  EXPECT_FALSE(single("insert into t(a) values (?+) returning t.id", 0, 300));
  EXPECT_FALSE(single("delete from t where t.a = ? returning t.id", 0, 2));
}

TEST(NPlusOneInput, Roles) {
  testutil::NPlusOneFeed feed;
  const auto role = [&](const std::string& sql, uint64_t affected = 1, uint16_t error = 0) {
    return RoleOf(feed.Input(sql, {0, affected, error}, 0));
  };
  EXPECT_EQ(role("SELECT a FROM t WHERE id = 1"), NPlusOneRole::kPlainRead);
  EXPECT_EQ(role("WITH x AS (SELECT 1) SELECT * FROM x"), NPlusOneRole::kPlainRead);
  EXPECT_EQ(role("SELECT a FROM t WHERE id = 1 FOR UPDATE"), NPlusOneRole::kLockingRead);
  EXPECT_EQ(role("SELECT @@SQL_MODE"), NPlusOneRole::kOther);
  EXPECT_EQ(role("SELECT VERSION()"), NPlusOneRole::kOther);
  EXPECT_EQ(role("SHOW TABLES"), NPlusOneRole::kOther);
  EXPECT_EQ(role("SELECT a FROM t WHERE id = 1", 0, 1146), NPlusOneRole::kOther);
  EXPECT_EQ(role("UPDATE t SET a = 1 WHERE id = 2"), NPlusOneRole::kSingleRowWrite);
  EXPECT_EQ(role("UPDATE t SET a = 1", 40), NPlusOneRole::kOther);
  EXPECT_EQ(role("SET autocommit=0"), NPlusOneRole::kIgnored);
  EXPECT_EQ(role("SAVEPOINT `s1`"), NPlusOneRole::kIgnored);
  EXPECT_EQ(role("COMMIT"), NPlusOneRole::kIgnored);
  EXPECT_EQ(role("CREATE TABLE t (a int)"), NPlusOneRole::kOther);
}

TEST(NPlusOneInput, MakeInputCopiesTheRecord) {
  StatementRecord r;
  r.digest = 5;
  r.fingerprint = "update t set a = ? where t.id = ?";
  r.schema = "shop";
  r.user = "app";
  r.session_id = 12;
  r.backend_role = BackendRole::kPrimary;
  r.statement_class = StatementClass::kWrite;
  r.total_ns = 700;
  r.rows_sent = 0;
  r.rows_affected = 1;
  SqlCommenterTags tags;
  ParseSqlCommenter("UPDATE t SET a = 1 WHERE id = 2 /*route='r/'*/", &tags);
  const NPlusOneInput in = MakeNPlusOneInput(r, tags, LiteralSummary{}, 1000);
  EXPECT_EQ(in.start_ns, 1000);
  EXPECT_EQ(in.end_ns(), 1700);
  EXPECT_EQ(in.digest, 5u);
  EXPECT_EQ(in.schema, "shop");
  EXPECT_EQ(in.user, "app");
  EXPECT_EQ(in.session_id, 12u);
  EXPECT_EQ(in.backend_role, BackendRole::kPrimary);
  EXPECT_TRUE(in.single_row_write);
  EXPECT_FALSE(in.failed);
  EXPECT_EQ(in.call_site.route, "r/");
}

}  // namespace
}  // namespace ql::analyzer
