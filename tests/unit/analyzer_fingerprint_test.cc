// Tests for analyzer/fingerprint and analyzer/digest: the golden cases of
// tests/data/analyzer/fingerprints.txt (profiling.md 7(b)'s 40 plus Django,
// sysbench, the mariadb client and edge cases), then the properties golden
// files cannot show: streaming equals one-shot, reuse, bounded output for
// huge lists, truncation, dialects, and the XXH64 digest id.
#include "analyzer/fingerprint.h"

#include <set>
#include <string>

#include "analyzer/digest.h"
#include "analyzer/sqlcommenter.h"
#include "gtest/gtest.h"
#include "tests/unit/analyzer_test_util.h"

namespace ql::analyzer {
namespace {

using testutil::FingerprintCase;
using testutil::LoadFingerprintCases;

std::string Fp(std::string_view sql, SqlDialect dialect = {}) {
  Fingerprinter f;
  std::string out;
  f.Fingerprint(sql, &out, dialect);
  return out;
}

std::string TagsText(const SqlCommenterTags& tags) {
  if (tags.empty()) return "none";
  std::string out;
  for (const SqlCommenterTag& t : tags) {
    if (!out.empty()) out += ' ';
    out.append(t.key);
    out += '=';
    out.append(t.value);
  }
  return out;
}

TEST(AnalyzerFingerprintGolden, AllCases) {
  const std::vector<FingerprintCase> cases = LoadFingerprintCases();
  ASSERT_GE(cases.size(), 100u) << "golden file missing or short: " << QL_TEST_DATA_DIR;
  Fingerprinter f;
  std::string out;
  SqlCommenterTags tags;
  for (const FingerprintCase& c : cases) {
    SCOPED_TRACE("fingerprints.txt:" + std::to_string(c.line) + " " + c.input);
    f.Fingerprint(c.input, &out);
    EXPECT_EQ(out, c.expected);
    EXPECT_FALSE(f.truncated());
    if (c.has_pt) {
      EXPECT_FALSE(c.why.empty()) << "a pt: line needs a why: line";
    }
    if (c.has_tags) {
      ParseSqlCommenter(c.input, &tags);
      EXPECT_EQ(TagsText(tags), c.tags);
    }
  }
}

TEST(AnalyzerFingerprintGolden, ContainsTheFortyResearchCases) {
  const std::vector<FingerprintCase> cases = LoadFingerprintCases();
  ASSERT_GE(cases.size(), 40u);
  // The file starts with profiling.md 7(b)'s cases, in order.
  EXPECT_EQ(cases[0].input.rfind("SELECT `polls_question`.`id`", 0), 0u);
  EXPECT_EQ(cases[39].input, "SELECT * FROM t WHERE id = 1;");
}

TEST(AnalyzerFingerprintGolden, ReusedFingerprinterGivesSameResultsInAnyOrder) {
  const std::vector<FingerprintCase> cases = LoadFingerprintCases();
  Fingerprinter f;
  std::string out;
  for (auto it = cases.rbegin(); it != cases.rend(); ++it) {
    f.Fingerprint(it->input, &out);
    EXPECT_EQ(out, it->expected) << it->input;
  }
}

TEST(AnalyzerFingerprint, StreamingEqualsOneShot) {
  for (const FingerprintCase& c : LoadFingerprintCases()) {
    Fingerprinter f;
    std::string out;
    f.Begin(&out);
    SqlTokenizer tokenizer(c.input);
    Token t;
    while (tokenizer.Next(&t)) f.Feed(t);
    f.Finish();
    EXPECT_EQ(out, c.expected) << c.input;
  }
}

TEST(AnalyzerFingerprint, LiteralVariantsShareOneFingerprint) {
  const std::string base = Fp("SELECT * FROM t WHERE a = 1 AND b IN (1, 2) LIMIT 10");
  for (std::string_view sql :
       {"select * from t where a = 2 and b in (3) limit 5",
        "SELECT  *  FROM  t  WHERE  a=-7  AND  b  IN(?, ?, ?, ?)  LIMIT  ?",
        "/* c */ SELECT * FROM `t` WHERE `a` = 'x' AND b IN ('p', NULL) LIMIT 1 -- c",
        "SELECT * FROM t WHERE a = 0x1F AND b IN (1.5e3, -2) LIMIT 99;"}) {
    EXPECT_EQ(Fp(sql), base) << sql;
  }
  EXPECT_NE(Fp("SELECT * FROM t WHERE a IS NULL"), Fp("SELECT * FROM t WHERE a = NULL"));
  EXPECT_NE(Fp("SELECT * FROM t LIMIT 10"), Fp("SELECT * FROM t LIMIT 10, 10"));
  EXPECT_NE(Fp("SELECT a FROM t ORDER BY 1"), Fp("SELECT a FROM t ORDER BY 2"));
}

TEST(AnalyzerFingerprint, HugeListsStayShortWhileBeingRead) {
  std::string in_list = "SELECT * FROM t WHERE id IN (";
  std::string rows = "INSERT INTO t (a, b) VALUES ";
  for (int i = 0; i < 20000; ++i) {
    if (i) {
      in_list += ", ";
      rows += ", ";
    }
    in_list += std::to_string(i * 7919);
    rows += "(" + std::to_string(i) + ", 'row " + std::to_string(i) + "')";
  }
  in_list += ")";
  // With a 100-byte cap, anything that grew with the list would be cut.
  FingerprintOptions small;
  small.max_length = 100;
  Fingerprinter f(small);
  std::string out;
  f.Fingerprint(in_list, &out);
  EXPECT_EQ(out, "select * from t where id in (?+)");
  EXPECT_FALSE(f.truncated());
  f.Fingerprint(rows + " ON DUPLICATE KEY UPDATE b = VALUES(b)", &out);
  EXPECT_EQ(out, "insert into t(a, b) values (?+) on duplicate key update b = values (b)");
  EXPECT_FALSE(f.truncated());
}

TEST(AnalyzerFingerprint, TruncatesAtMaxLength) {
  FingerprintOptions small;
  small.max_length = 20;
  Fingerprinter f(small);
  std::string out;
  f.Fingerprint("SELECT aaaa, bbbb, cccc, dddd, eeee FROM t", &out);
  EXPECT_TRUE(f.truncated());
  EXPECT_EQ(out, "select aaaa, bbbb, c...");
  // The next statement starts fresh.
  f.Fingerprint("SELECT 1", &out);
  EXPECT_FALSE(f.truncated());
  EXPECT_EQ(out, "select ?");
  // Never cuts a UTF-8 character in half.
  small.max_length = 8;
  Fingerprinter g(small);
  g.Fingerprint("SELECT é FROM t", &out);  // "select é" is 9 bytes
  EXPECT_EQ(out, "select ...");
}

TEST(AnalyzerFingerprint, Dialects) {
  SqlDialect ansi;
  ansi.ansi_quotes = true;
  EXPECT_EQ(Fp("SELECT \"Col\" FROM \"T\" WHERE a = 'x'", ansi), "select col from t where a = ?");
  EXPECT_EQ(Fp("SELECT \"Col\" FROM t"), "select ? from t");
  SqlDialect nbe;
  nbe.no_backslash_escapes = true;
  EXPECT_EQ(Fp(R"(SELECT * FROM t WHERE p = 'C:\' AND q = 1)", nbe),
            "select * from t where p = ? and q = ?");
}

TEST(AnalyzerFingerprint, StatementListsAndEmptyInput) {
  EXPECT_EQ(Fp(""), "");
  EXPECT_EQ(Fp("  /* nothing */ ; ; "), "");
  EXPECT_EQ(Fp("BEGIN; UPDATE t SET a = 1 WHERE id = 2; COMMIT;"),
            "begin; update t set a = ? where id = ?; commit");
  // Statement state does not leak across ';'.
  EXPECT_EQ(Fp("INSERT INTO t VALUES (1); SELECT 2"), "insert into t values (?+); select ?");
  EXPECT_EQ(Fp("SELECT * FROM t LIMIT 1; SELECT 2, 3"), "select * from t limit ?; select ?, ?");
}

TEST(AnalyzerFingerprint, NamesAreNotValues) {
  EXPECT_EQ(Fp("SELECT savepoint FROM t"), "select savepoint from t");
  EXPECT_EQ(Fp("SELECT use FROM t"), "select use from t");
  EXPECT_EQ(Fp("ROLLBACK WORK TO s1"), "rollback work to ?");
}

TEST(AnalyzerFingerprint, UnbalancedParenthesesAndDeepNesting) {
  EXPECT_EQ(Fp("SELECT a) FROM (t"), "select a) from (t");
  std::string deep = "SELECT ";
  for (int i = 0; i < 200; ++i) deep += "(";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += ")";
  const std::string out = Fp(deep);
  EXPECT_EQ(out.size(), std::string("select ").size() + 401);
  EXPECT_EQ(Fp("SELECT * FROM t WHERE a IN " + std::string(100, '(') + "1" + std::string(100, ')')),
            Fp("SELECT * FROM t WHERE a IN " + std::string(100, '(') + "2" + std::string(100, ')')));
}

TEST(AnalyzerDigest, Xxh64KnownVectors) {
  // Published XXH64 (seed 0) values.
  EXPECT_EQ(Xxh64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(Xxh64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(Xxh64("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(Xxh64("Nobody inspects the spammish repetition"), 0xFBCEA83C8A378BF1ULL);
}

TEST(AnalyzerDigest, HexForm) {
  EXPECT_EQ(DigestHex(0), "0000000000000000");
  EXPECT_EQ(DigestHex(0xEF46DB3751D8E999ULL), "ef46db3751d8e999");
  char buf[16];
  DigestHexTo(0x0123456789ABCDEFULL, buf);
  EXPECT_EQ(std::string(buf, 16), "0123456789abcdef");
}

TEST(AnalyzerDigest, DistinctFingerprintsGetDistinctIds) {
  std::set<std::string> fingerprints;
  std::set<uint64_t> ids;
  for (const FingerprintCase& c : LoadFingerprintCases()) fingerprints.insert(c.expected);
  for (const std::string& fp : fingerprints) ids.insert(DigestId(fp));
  EXPECT_EQ(ids.size(), fingerprints.size());
  EXPECT_EQ(DigestId("select ?"), DigestId(Fp("SELECT 42")));
}

}  // namespace
}  // namespace ql::analyzer
