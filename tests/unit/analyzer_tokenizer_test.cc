// Tests for analyzer/sql_tokenizer: token kinds and boundaries for every
// lexical form the analyzer relies on, and the lossless property (the token
// texts put back together are the input, byte for byte).
#include "analyzer/sql_tokenizer.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace ql::analyzer {
namespace {

using Pair = std::pair<TokenKind, std::string>;

std::vector<Pair> Significant(std::string_view sql, SqlDialect dialect = {}) {
  std::vector<Pair> out;
  SqlTokenizer tokenizer(sql, dialect);
  Token t;
  while (tokenizer.NextSignificant(&t)) out.emplace_back(t.kind, std::string(t.text));
  return out;
}

std::vector<Pair> All(std::string_view sql) {
  std::vector<Pair> out;
  SqlTokenizer tokenizer(sql);
  Token t;
  while (tokenizer.Next(&t)) out.emplace_back(t.kind, std::string(t.text));
  return out;
}

std::string Rejoin(std::string_view sql, SqlDialect dialect = {}) {
  std::string out;
  SqlTokenizer tokenizer(sql, dialect);
  Token t;
  while (tokenizer.Next(&t)) out.append(t.text);
  return out;
}

constexpr TokenKind kW = TokenKind::kWord;
constexpr TokenKind kQ = TokenKind::kQuotedIdentifier;
constexpr TokenKind kS = TokenKind::kString;
constexpr TokenKind kN = TokenKind::kNumber;
constexpr TokenKind kH = TokenKind::kHexNumber;
constexpr TokenKind kB = TokenKind::kBitNumber;
constexpr TokenKind kOp = TokenKind::kOperator;

TEST(AnalyzerTokenizer, WordsAndPunctuation) {
  EXPECT_EQ(Significant("SELECT a, t.b FROM t1;"),
            (std::vector<Pair>{{kW, "SELECT"}, {kW, "a"}, {kOp, ","}, {kW, "t"}, {kOp, "."},
                               {kW, "b"}, {kW, "FROM"}, {kW, "t1"}, {kOp, ";"}}));
}

TEST(AnalyzerTokenizer, KeywordsMatchCaseInsensitively) {
  SqlTokenizer tokenizer("SeLeCt");
  Token t;
  ASSERT_TRUE(tokenizer.Next(&t));
  EXPECT_TRUE(t.IsWord("select"));
  EXPECT_FALSE(t.IsWord("selec"));
  EXPECT_TRUE(EqualsLower("FOR_UPDATE", "for_update"));
  EXPECT_FALSE(EqualsLower("@", "`"));  // no blind bit-twiddling of non-letters
}

TEST(AnalyzerTokenizer, QuotedIdentifiers) {
  EXPECT_EQ(Significant("`my table`.`a``b`"),
            (std::vector<Pair>{{kQ, "`my table`"}, {kOp, "."}, {kQ, "`a``b`"}}));
  SqlDialect ansi;
  ansi.ansi_quotes = true;
  EXPECT_EQ(Significant("\"Col\" = 'x'", ansi),
            (std::vector<Pair>{{kQ, "\"Col\""}, {kOp, "="}, {kS, "'x'"}}));
}

TEST(AnalyzerTokenizer, Numbers) {
  EXPECT_EQ(Significant("42 3.14 .5 1e-3 2E+10 1. 0x1F X'1f' x'AB' 0b101 b'101' B'1'"),
            (std::vector<Pair>{{kN, "42"}, {kN, "3.14"}, {kN, ".5"}, {kN, "1e-3"},
                               {kN, "2E+10"}, {kN, "1."}, {kH, "0x1F"}, {kH, "X'1f'"},
                               {kH, "x'AB'"}, {kB, "0b101"}, {kB, "b'101'"}, {kB, "B'1'"}}));
}

TEST(AnalyzerTokenizer, IdentifiersMayStartWithDigits) {
  EXPECT_EQ(Significant("123abc 0x1g 0b2 1e 1e5x"),
            (std::vector<Pair>{{kW, "123abc"}, {kW, "0x1g"}, {kW, "0b2"}, {kW, "1e"},
                               {kW, "1e5x"}}));
  // After "name." digits belong to an identifier.
  EXPECT_EQ(Significant("t.1col db.t.2024"),
            (std::vector<Pair>{{kW, "t"}, {kOp, "."}, {kW, "1col"}, {kW, "db"}, {kOp, "."},
                               {kW, "t"}, {kOp, "."}, {kW, "2024"}}));
  // Digits inside names are untouched.
  EXPECT_EQ(Significant("users_2009 sbtest1"),
            (std::vector<Pair>{{kW, "users_2009"}, {kW, "sbtest1"}}));
}

TEST(AnalyzerTokenizer, Strings) {
  EXPECT_EQ(Significant(R"('it''s' 'a\'b' "dq" "a""b")"),
            (std::vector<Pair>{{kS, "'it''s'"}, {kS, R"('a\'b')"}, {kS, "\"dq\""},
                               {kS, "\"a\"\"b\""}}));
}

TEST(AnalyzerTokenizer, NoBackslashEscapes) {
  SqlDialect nbe;
  nbe.no_backslash_escapes = true;
  EXPECT_EQ(Significant(R"('C:\' AS p)", nbe),
            (std::vector<Pair>{{kS, R"('C:\')"}, {kW, "AS"}, {kW, "p"}}));
  // With escapes on, the backslash hides the quote and the string runs on.
  const auto escaped = Significant(R"('C:\' AS p)");
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_EQ(escaped[0].first, kS);
}

TEST(AnalyzerTokenizer, UnterminatedEndAtInputEnd) {
  for (std::string_view sql : {"'abc", "'a\\", "`abc", "\"abc", "/* abc", "x'0A", "@'u",
                               "/*!40101 SET a = 1"}) {
    SqlTokenizer tokenizer(sql);
    Token t;
    std::string joined;
    bool saw_unterminated = false;
    while (tokenizer.Next(&t)) {
      joined.append(t.text);
      saw_unterminated |= t.unterminated;
    }
    EXPECT_EQ(joined, sql);
    if (sql[0] != '/' || sql[2] != '!') {
      EXPECT_TRUE(saw_unterminated) << sql;
    }
    EXPECT_FALSE(tokenizer.Next(&t)) << "stays at end";
  }
}

TEST(AnalyzerTokenizer, CharsetIntroducersAndNationalStrings) {
  EXPECT_EQ(Significant("_utf8mb4'x' _UTF8MB4 'y' _binary 0x41 _latin1 X'20' N'n' n'm'"),
            (std::vector<Pair>{{kS, "_utf8mb4'x'"}, {kS, "_UTF8MB4 'y'"}, {kH, "_binary 0x41"},
                               {kH, "_latin1 X'20'"}, {kS, "N'n'"}, {kS, "n'm'"}}));
  // Not a character set: a name followed by an alias.
  EXPECT_EQ(Significant("_nosuch 'x'"), (std::vector<Pair>{{kW, "_nosuch"}, {kS, "'x'"}}));
  EXPECT_EQ(Significant("_utf8mb4 FROM"), (std::vector<Pair>{{kW, "_utf8mb4"}, {kW, "FROM"}}));
}

TEST(AnalyzerTokenizer, PlaceholdersAndVariables) {
  EXPECT_EQ(Significant("? @a @'x y' @`q` @a.b @@x @@session.sql_mode @@GLOBAL.max_connections"),
            (std::vector<Pair>{{TokenKind::kPlaceholder, "?"},
                               {TokenKind::kUserVariable, "@a"},
                               {TokenKind::kUserVariable, "@'x y'"},
                               {TokenKind::kUserVariable, "@`q`"},
                               {TokenKind::kUserVariable, "@a.b"},
                               {TokenKind::kSystemVariable, "@@x"},
                               {TokenKind::kSystemVariable, "@@session.sql_mode"},
                               {TokenKind::kSystemVariable, "@@GLOBAL.max_connections"}}));
}

TEST(AnalyzerTokenizer, AccountNamesAreNotUserVariables) {
  EXPECT_EQ(Significant("'app'@'%' `root`@`localhost` root@localhost"),
            (std::vector<Pair>{{kS, "'app'"}, {kOp, "@"}, {kS, "'%'"}, {kQ, "`root`"},
                               {kOp, "@"}, {kQ, "`localhost`"}, {kW, "root"}, {kOp, "@"},
                               {kW, "localhost"}}));
}

TEST(AnalyzerTokenizer, Comments) {
  const auto tokens = All("SELECT 1 -- c\n# h\n/* b */2");
  std::vector<TokenKind> kinds;
  for (const auto& [kind, text] : tokens) kinds.push_back(kind);
  EXPECT_EQ(kinds, (std::vector<TokenKind>{kW, TokenKind::kWhitespace, kN,
                                           TokenKind::kWhitespace, TokenKind::kComment,
                                           TokenKind::kWhitespace, TokenKind::kComment,
                                           TokenKind::kWhitespace, TokenKind::kComment, kN}));
  EXPECT_EQ(tokens[4].second, "-- c");
  // "--" needs a following space or control byte; at the very end it is a comment.
  EXPECT_EQ(Significant("5--1"),
            (std::vector<Pair>{{kN, "5"}, {kOp, "-"}, {kOp, "-"}, {kN, "1"}}));
  EXPECT_EQ(Significant("1 --\tx"), (std::vector<Pair>{{kN, "1"}}));
  EXPECT_EQ(Significant("1 --"), (std::vector<Pair>{{kN, "1"}}));
}

TEST(AnalyzerTokenizer, ExecutableCommentsAreTokenized) {
  EXPECT_EQ(Significant("/*!40101 SET NAMES utf8 */;"),
            (std::vector<Pair>{{TokenKind::kExecutableBegin, "/*!40101"}, {kW, "SET"},
                               {kW, "NAMES"}, {kW, "utf8"},
                               {TokenKind::kExecutableEnd, "*/"}, {kOp, ";"}}));
  EXPECT_EQ(Significant("/*M!100100 x */ /*! y */"),
            (std::vector<Pair>{{TokenKind::kExecutableBegin, "/*M!100100"}, {kW, "x"},
                               {TokenKind::kExecutableEnd, "*/"},
                               {TokenKind::kExecutableBegin, "/*!"}, {kW, "y"},
                               {TokenKind::kExecutableEnd, "*/"}}));
  // A line comment inside stops at the closing "*/".
  EXPECT_EQ(Significant("/*!50000 a -- c */ b"),
            (std::vector<Pair>{{TokenKind::kExecutableBegin, "/*!50000"}, {kW, "a"},
                               {TokenKind::kExecutableEnd, "*/"}, {kW, "b"}}));
  // A "*/" outside any executable comment is two operators.
  EXPECT_EQ(Significant("a */ b"),
            (std::vector<Pair>{{kW, "a"}, {kOp, "*"}, {kOp, "/"}, {kW, "b"}}));
}

TEST(AnalyzerTokenizer, HintsOnlyAfterDmlVerbs) {
  EXPECT_EQ(Significant("SELECT /*+ BKA(t) */ 1"),
            (std::vector<Pair>{{kW, "SELECT"}, {TokenKind::kHintBegin, "/*+"}, {kW, "BKA"},
                               {kOp, "("}, {kW, "t"}, {kOp, ")"}, {TokenKind::kHintEnd, "*/"},
                               {kN, "1"}}));
  EXPECT_EQ(Significant("/*+ x */ SELECT 1 FROM t /*+ y */"),
            (std::vector<Pair>{{kW, "SELECT"}, {kN, "1"}, {kW, "FROM"}, {kW, "t"}}));
}

TEST(AnalyzerTokenizer, MultiCharacterOperators) {
  EXPECT_EQ(Significant("a<=>b->>c->d:=e<=f>=g<>h!=i||j&&k<<l>>m"),
            (std::vector<Pair>{{kW, "a"}, {kOp, "<=>"}, {kW, "b"}, {kOp, "->>"}, {kW, "c"},
                               {kOp, "->"}, {kW, "d"}, {kOp, ":="}, {kW, "e"}, {kOp, "<="},
                               {kW, "f"}, {kOp, ">="}, {kW, "g"}, {kOp, "<>"}, {kW, "h"},
                               {kOp, "!="}, {kW, "i"}, {kOp, "||"}, {kW, "j"}, {kOp, "&&"},
                               {kW, "k"}, {kOp, "<<"}, {kW, "l"}, {kOp, ">>"}, {kW, "m"}}));
}

TEST(AnalyzerTokenizer, ControlBytesSeparateTokens) {
  const std::string sql("SELECT\0a\x01" "FROM\tt", 15);
  EXPECT_EQ(Significant(sql),
            (std::vector<Pair>{{kW, "SELECT"}, {kW, "a"}, {kW, "FROM"}, {kW, "t"}}));
}

TEST(AnalyzerTokenizer, NonAsciiIdentifiers) {
  EXPECT_EQ(Significant("SELECT naïve FROM tablé"),
            (std::vector<Pair>{{kW, "SELECT"}, {kW, "naïve"}, {kW, "FROM"}, {kW, "tablé"}}));
}

TEST(AnalyzerTokenizer, Lossless) {
  for (std::string_view sql :
       {"SELECT * FROM t WHERE a = 'x' -- c\n AND b IN (1,2)",
        "/*!40101 SET @a=1*/;/*M!1 x*/ SELECT /*+ h(1) */ `a``b`, @@x, @'y', ?, 0x1, b'1'",
        "INSERT INTO t VALUES (1, 'a\\'b', \"c\"), (2, _utf8mb4'd', N'e')", "'", "`", "/*",
        "--", "#", "@", "@@", ".", "..5", "0x", "_utf8mb4", "_utf8mb4 ", "x'", "\\", "\xff\xfe"}) {
    EXPECT_EQ(Rejoin(sql), sql);
    SqlDialect other;
    other.ansi_quotes = true;
    other.no_backslash_escapes = true;
    EXPECT_EQ(Rejoin(sql, other), sql);
  }
}

TEST(AnalyzerTokenizer, TokenKindNamesAreDistinct) {
  std::vector<std::string_view> names;
  for (int k = 0; k <= static_cast<int>(TokenKind::kHintEnd); ++k) {
    names.push_back(TokenKindName(static_cast<TokenKind>(k)));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = i + 1; j < names.size(); ++j) EXPECT_NE(names[i], names[j]);
  }
}

}  // namespace
}  // namespace ql::analyzer
