// A small deterministic fuzz test for the analyzer: random byte strings,
// SQL-flavoured random token soup, and every prefix of every golden
// statement go through the tokenizer, fingerprinter, classifier, sqlcommenter
// parser and the one-pass analyzer. Nothing may crash, hang or read out of
// bounds (run under AddressSanitizer), and the tokenizer must stay lossless.
#include <random>
#include <string>
#include <vector>

#include "analyzer/statement_analyzer.h"
#include "gtest/gtest.h"
#include "tests/unit/analyzer_test_util.h"

namespace ql::analyzer {
namespace {

void Exercise(std::string_view sql, StatementAnalyzer& analyzer) {
  for (bool ansi : {false, true}) {
    SqlDialect dialect;
    dialect.ansi_quotes = ansi;
    dialect.no_backslash_escapes = ansi;
    SqlTokenizer tokenizer(sql, dialect);
    Token t;
    size_t total = 0;
    size_t tokens = 0;
    while (tokenizer.Next(&t)) {
      ASSERT_FALSE(t.text.empty());
      ASSERT_EQ(t.text.data(), sql.data() + total) << "tokens must be contiguous";
      total += t.text.size();
      ASSERT_LE(++tokens, sql.size()) << "no progress";
    }
    ASSERT_EQ(total, sql.size());
    const StatementAnalysis& a = analyzer.Analyze(sql, dialect);
    ASSERT_LE(a.fingerprint.size(), FingerprintOptions{}.max_length + 3);
    if (!a.classification.routine.empty()) {
      ASSERT_GE(a.classification.routine.data(), sql.data());
      ASSERT_LE(a.classification.routine.data() + a.classification.routine.size(),
                sql.data() + sql.size());
    }
  }
}

// Fragments that steer random text into the interesting lexer states.
const char* const kFragments[] = {
    "SELECT", " ", "FROM", "t", "`", "'", "\"", "\\", "/*", "*/", "/*!50000", "/*M!100100",
    "/*+", "--", "-- ", "#", "\n", "(", ")", ",", ";", ".", "?", "@", "@@", "0x", "X'", "b'",
    "N'", "_utf8mb4", "1", "1.5e", "-", "+", "IN", "VALUES", "VALUE", "ROW", "LIMIT", "ORDER",
    "BY", "ASC", "IS", "NOT", "NULL", "TRUE", "SET", "autocommit", "=", ":=", "FOR", "UPDATE",
    "WITH", "INTO", "GET_LOCK", "CALL", "BEGIN", "EXPLAIN", "ANALYZE", "FORMAT", "STATEMENT",
    "SAVEPOINT", "USE", "CREATE", "TEMPORARY", "PROCEDURE", "NEXT", "FOR", "'%%3A'", "\xff",
    "é", "\0",
};

TEST(AnalyzerFuzz, RandomBytes) {
  std::mt19937_64 rng(20240501);
  StatementAnalyzer analyzer;
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    Exercise(s, analyzer);
    if (HasFatalFailure()) return;
  }
}

TEST(AnalyzerFuzz, TokenSoup) {
  std::mt19937_64 rng(7);
  StatementAnalyzer analyzer;
  const size_t n = sizeof(kFragments) / sizeof(kFragments[0]);
  for (int i = 0; i < 6000; ++i) {
    std::string s;
    const int parts = static_cast<int>(rng() % 40);
    for (int k = 0; k < parts; ++k) {
      const char* f = kFragments[rng() % n];
      if (f[0] == '\0') {
        s.push_back('\0');
      } else {
        s += f;
      }
      if (rng() % 3 == 0) s += ' ';
    }
    Exercise(s, analyzer);
    if (HasFatalFailure()) return;
  }
}

TEST(AnalyzerFuzz, EveryPrefixOfGoldenStatements) {
  StatementAnalyzer analyzer;
  std::vector<std::string> inputs;
  for (const auto& c : testutil::LoadFingerprintCases()) inputs.push_back(c.input);
  for (const auto& c : testutil::LoadClassifierCases()) inputs.push_back(c.sql);
  ASSERT_GE(inputs.size(), 300u);
  for (const std::string& sql : inputs) {
    for (size_t len = 0; len <= sql.size(); ++len) {
      // A copy of exactly `len` bytes, so ASan sees any read past the end.
      const std::string prefix = sql.substr(0, len);
      Exercise(prefix, analyzer);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(AnalyzerFuzz, SplicedGoldenStatements) {
  std::mt19937_64 rng(99);
  StatementAnalyzer analyzer;
  std::vector<std::string> inputs;
  for (const auto& c : testutil::LoadClassifierCases()) inputs.push_back(c.sql);
  ASSERT_FALSE(inputs.empty());
  for (int i = 0; i < 3000; ++i) {
    const std::string& a = inputs[rng() % inputs.size()];
    const std::string& b = inputs[rng() % inputs.size()];
    const std::string s = a.substr(0, a.empty() ? 0 : rng() % (a.size() + 1)) +
                          b.substr(b.empty() ? 0 : rng() % (b.size() + 1));
    Exercise(s, analyzer);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace ql::analyzer
