// Tests for analyzer/sqlcommenter: where the comment may be, what counts as
// a tag list, and the decoding of Django's doubled-percent URL encoding.
#include "analyzer/sqlcommenter.h"

#include <string>

#include "gtest/gtest.h"

namespace ql::analyzer {
namespace {

std::string Tags(std::string_view sql) {
  SqlCommenterTags tags;
  const bool found = ParseSqlCommenter(sql, &tags);
  EXPECT_EQ(found, !tags.empty());
  if (!found) return "none";
  std::string out;
  for (const SqlCommenterTag& t : tags) {
    if (!out.empty()) out += ' ';
    out.append(t.key);
    out += '=';
    out.append(t.value);
  }
  return out;
}

TEST(AnalyzerSqlCommenter, DjangoTrailingComment) {
  EXPECT_EQ(Tags("SELECT 1 /*controller='index',framework='django%%3A4.2',route='polls/'*/"),
            "controller=index framework=django:4.2 route=polls/");
  EXPECT_EQ(Tags("SELECT 1 /*route='products/%%3Cint%%3Apk%%3E/'*/"),
            "route=products/<int:pk>/");
}

TEST(AnalyzerSqlCommenter, SpecExampleSingleEncoding) {
  EXPECT_EQ(Tags("SELECT * FROM FOO /*action='%2Fparam*d',controller='index',framework='spring',"
                 "traceparent='00-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01',"
                 "tracestate='congo%3Dt61rcWkgMzE%2Crojo%3D00f067aa0ba902b7'*/"),
            "action=/param*d controller=index framework=spring "
            "traceparent=00-5bd66ef5095369c7b0d1f8f4bd33716a-c532cb4098ac3dd2-01 "
            "tracestate=congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

TEST(AnalyzerSqlCommenter, LeadingCommentAndTrailingSemicolon) {
  EXPECT_EQ(Tags("/*app='web'*/ SELECT 1"), "app=web");
  EXPECT_EQ(Tags("SELECT 1 /*app='web'*/ ;\n "), "app=web");
  // The trailing comment wins over a leading one.
  EXPECT_EQ(Tags("/*a='1'*/ SELECT 1 /*b='2'*/"), "b=2");
  // A trailing comment that is not a tag list falls back to the leading one.
  EXPECT_EQ(Tags("/*a='1'*/ SELECT 1 /* just words */"), "a=1");
}

TEST(AnalyzerSqlCommenter, OnlyWholeTagLists) {
  EXPECT_EQ(Tags("/* app:web */ SELECT 1"), "none");
  EXPECT_EQ(Tags("SELECT 1 /* a='1', b */"), "none");
  EXPECT_EQ(Tags("SELECT 1 /* a='1' b='2' */"), "none");
  EXPECT_EQ(Tags("SELECT 1 /* a=1 */"), "none");
  EXPECT_EQ(Tags("SELECT 1 /* a='unterminated */"), "none");
  EXPECT_EQ(Tags("SELECT 1 /**/"), "none");
  EXPECT_EQ(Tags("SELECT 1"), "none");
  EXPECT_EQ(Tags(""), "none");
  EXPECT_EQ(Tags("*/"), "none");
  // Executable comments and hints are SQL, not tags.
  EXPECT_EQ(Tags("SELECT 1 /*!50000 a='1' */"), "none");
  EXPECT_EQ(Tags("SELECT /*+ a='1' */ 1"), "none");
}

TEST(AnalyzerSqlCommenter, SpacingEscapesAndEmptyValues) {
  EXPECT_EQ(Tags("SELECT 1 /* a = '1' ,  b='x y' , */"), "a=1 b=x y");
  EXPECT_EQ(Tags(R"(SELECT 1 /*q='it\'s',e=''*/)"), "q=it's e=");
  EXPECT_EQ(Tags("SELECT 1 /*k%20ey='100%25',bad='%zz',pct='50%%'*/"), "k ey=100% bad=%zz pct=50%");
}

TEST(AnalyzerSqlCommenter, FindAndReuse) {
  SqlCommenterTags tags;
  ASSERT_TRUE(ParseSqlCommenter("SELECT 1 /*controller='a',route='r'*/", &tags));
  EXPECT_EQ(tags.Find("route"), "r");
  EXPECT_FALSE(tags.Find("missing").has_value());
  EXPECT_FALSE(ParseSqlCommenter("SELECT 2", &tags));
  EXPECT_TRUE(tags.empty());
  ASSERT_TRUE(ParseSqlCommenter("SELECT 3 /*x='y'*/", &tags));
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].key, "x");
}

TEST(AnalyzerSqlCommenter, ManyTagsAreCapped) {
  std::string sql = "SELECT 1 /*";
  for (int i = 0; i < 50; ++i) {
    if (i) sql += ',';
    sql += "k" + std::to_string(i) + "='v" + std::to_string(i) + "'";
  }
  sql += "*/";
  SqlCommenterTags tags;
  ASSERT_TRUE(ParseSqlCommenter(sql, &tags));
  EXPECT_EQ(tags.size(), SqlCommenterTags::kMaxTags);
  EXPECT_EQ(tags[31].value, "v31");
}

}  // namespace
}  // namespace ql::analyzer
