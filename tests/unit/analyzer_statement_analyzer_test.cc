// Tests for analyzer/statement_analyzer: the single pass gives exactly what
// the fingerprinter, classifier and sqlcommenter parser give on their own.
#include "analyzer/statement_analyzer.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/analyzer_test_util.h"

namespace ql::analyzer {
namespace {

void ExpectSameAsSeparate(StatementAnalyzer& analyzer, const std::string& sql) {
  const StatementAnalysis& a = analyzer.Analyze(sql);
  Fingerprinter f;
  std::string fp;
  f.Fingerprint(sql, &fp);
  StatementClassifier c;
  SqlCommenterTags tags;
  ParseSqlCommenter(sql, &tags);
  EXPECT_EQ(a.fingerprint, fp) << sql;
  EXPECT_EQ(a.digest, DigestId(fp)) << sql;
  EXPECT_EQ(a.fingerprint_truncated, f.truncated());
  EXPECT_EQ(DescribeClassification(a.classification), DescribeClassification(c.Classify(sql)))
      << sql;
  ASSERT_NE(a.tags, nullptr);
  ASSERT_EQ(a.tags->size(), tags.size()) << sql;
  for (size_t i = 0; i < tags.size(); ++i) {
    EXPECT_EQ((*a.tags)[i].key, tags[i].key);
    EXPECT_EQ((*a.tags)[i].value, tags[i].value);
  }
}

TEST(AnalyzerStatementAnalyzer, OnePassMatchesSeparatePasses) {
  StatementAnalyzer analyzer;
  size_t n = 0;
  for (const auto& c : testutil::LoadFingerprintCases()) {
    ExpectSameAsSeparate(analyzer, c.input);
    ++n;
  }
  for (const auto& c : testutil::LoadClassifierCases()) {
    ExpectSameAsSeparate(analyzer, c.sql);
    ++n;
  }
  EXPECT_GE(n, 300u);
}

TEST(AnalyzerStatementAnalyzer, LiteralSummaryInTheSamePassMatchesItsOwnPass) {
  const char* kStatements[] = {
      "SELECT * FROM t WHERE a = 1 LIMIT 10 OFFSET 20",
      "SELECT * FROM t WHERE id > 1000 ORDER BY id LIMIT 50",
      "SELECT * FROM t WHERE a IS NULL AND b = -5",
      "SELECT * FROM t WHERE a = ? AND b = ? LIMIT ?",
      "SELECT `x`.`id` FROM `x` WHERE `x`.`name` = 'it''s' /*traceparent='00-ab-cd-01'*/",
      "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')",
      "UPDATE t SET v = v + 1 WHERE id IN (1, 2, 3)",
  };
  StatementAnalyzer with;
  with.set_summarize_literals(true);
  StatementAnalyzer without;
  for (const char* sql : kStatements) {
    SCOPED_TRACE(sql);
    const LiteralSummary expected = SummarizeLiterals(sql);
    const LiteralSummary got = with.Analyze(sql).literals;
    EXPECT_EQ(got.values_hash, expected.values_hash);
    EXPECT_EQ(got.filter_hash, expected.filter_hash);
    EXPECT_EQ(got.literal_count, expected.literal_count);
    EXPECT_EQ(got.page_shaped, expected.page_shaped);
    EXPECT_EQ(got.page_slot_mask, expected.page_slot_mask);
    EXPECT_EQ(got.placeholder_count, expected.placeholder_count);
    const LiteralSummary off = without.Analyze(sql).literals;
    EXPECT_EQ(off.values_hash, 0u);
    EXPECT_EQ(off.literal_count, 0u);
  }
}

TEST(AnalyzerStatementAnalyzer, DjangoStatementWithTags) {
  StatementAnalyzer analyzer;
  const std::string sql =
      "SELECT `shop_product`.`id` FROM `shop_product` WHERE `shop_product`.`id` = 5 "
      "/*controller='product_detail',framework='django%%3A3.2.25',"
      "route='products/%%3Cint%%3Apk%%3E/'*/";
  const StatementAnalysis& a = analyzer.Analyze(sql);
  EXPECT_EQ(a.fingerprint, "select shop_product.id from shop_product where shop_product.id = ?");
  EXPECT_EQ(a.classification.statement_class, StatementClass::kRead);
  EXPECT_EQ(a.tags->Find("route"), "products/<int:pk>/");
  // Same statement without the comment: same digest.
  const uint64_t with_tags = a.digest;
  EXPECT_EQ(analyzer.Analyze("SELECT shop_product.id FROM shop_product WHERE shop_product.id = 9")
                .digest,
            with_tags);
}

}  // namespace
}  // namespace ql::analyzer
