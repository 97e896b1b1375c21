// Golden strings for the N+1 log line and JSON object, and the escaping
// rules behind them (quotes, backslashes, control bytes, invalid UTF-8).
#include <string>

#include "analyzer/digest.h"
#include "analyzer/n_plus_one_format.h"
#include "gtest/gtest.h"

namespace ql::analyzer {
namespace {

const char kCategoryFp[] =
    "select shop_category.id, shop_category.name from shop_category where shop_category.id = ? "
    "limit ?";
const char kProductsFp[] = "select shop_product.id, shop_product.category_id from shop_product";

NPlusOneFinding Sample() {
  NPlusOneFinding f;
  f.kind = FindingKind::kNPlusOne;
  f.confidence = Confidence::kHigh;
  f.count = 100;
  f.statements = 100;
  f.distinct_values = 20;
  f.max_identical = 5;
  f.rows_sent = 100;
  f.first_start_ns = 1'000'000'000;
  f.last_end_ns = 1'041'000'400;
  f.total_ns = 28'600'000;
  f.max_ns = 2'100'499;
  f.unit_db_ns = 46'129'032;
  f.unit_statements = 102;
  f.fingerprint = kCategoryFp;
  f.digest = DigestId(kCategoryFp);
  f.tables = {"shop_category"};
  f.has_parent = true;
  f.parent_fingerprint = kProductsFp;
  f.parent_digest = DigestId(kProductsFp);
  f.parent_rows = 100;
  f.backend = BackendRole::kReplica;
  f.schema = "shop";
  f.user = "django";
  f.session_id = 1842;
  f.route = "products/";
  f.controller = "shop:product_list";
  f.framework = "django:3.2.25";
  f.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  f.suggestion =
      "consider .select_related('category') on the queryset that loads shop_product (plain SQL: "
      "one query with a JOIN to shop_category)";
  f.suppressed = 2;
  return f;
}

TEST(NPlusOneFormat, TextLineGolden) {
  ASSERT_EQ(DigestHex(DigestId(kCategoryFp)), "4a47f9f78df79c59");
  ASSERT_EQ(DigestHex(DigestId(kProductsFp)), "9beb7d228684d507");
  std::string line;
  AppendFindingText(Sample(), &line);
  EXPECT_EQ(line,
            "n_plus_one confidence=high count=100 distinct=20 span_ms=41.000 total_ms=28.600 "
            "avg_ms=0.286 max_ms=2.100 unit_share=62% unit_statements=102 "
            "fingerprint=4a47f9f78df79c59 \"select shop_category.id, shop_category.name from "
            "shop_category where shop_category.id = ? limit ?\" parent=9beb7d228684d507 \"select "
            "shop_product.id, shop_product.category_id from shop_product\" parent_rows=100 "
            "backend=replica schema=\"shop\" user=\"django\" session=1842 route=\"products/\" "
            "controller=\"shop:product_list\" framework=\"django:3.2.25\" "
            "traceparent=\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\" suppressed=2 "
            "fix=\"consider .select_related('category') on the queryset that loads shop_product "
            "(plain SQL: one query with a JOIN to shop_category)\"");
}

TEST(NPlusOneFormat, JsonGolden) {
  std::string json;
  AppendFindingJson(Sample(), &json);
  EXPECT_EQ(
      json,
      "{\"event\":\"n_plus_one\",\"kind\":\"n_plus_one\",\"confidence\":\"high\",\"count\":100,"
      "\"statements\":100,\"distinct_values\":20,\"distinct_estimated\":false,"
      "\"max_identical\":5,\"rows_sent\":100,\"span_ms\":41.000,\"total_ms\":28.600,"
      "\"avg_ms\":0.286,\"max_ms\":2.100,\"unit_share\":0.620,\"unit_statements\":102,"
      "\"unit_db_ms\":46.129,\"fingerprint_id\":\"4a47f9f78df79c59\",\"fingerprint\":\"select "
      "shop_category.id, shop_category.name from shop_category where shop_category.id = ? limit "
      "?\",\"tables\":[\"shop_category\"],\"parent_id\":\"9beb7d228684d507\","
      "\"parent_fingerprint\":\"select shop_product.id, shop_product.category_id from "
      "shop_product\",\"parent_rows\":100,\"backend\":\"replica\",\"schema\":\"shop\","
      "\"user\":\"django\",\"session_id\":1842,\"route\":\"products/\","
      "\"controller\":\"shop:product_list\",\"framework\":\"django:3.2.25\",\"action\":null,"
      "\"app_name\":null,\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-"
      "01\","
      "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"suggestion\":\"consider "
      ".select_related('category') on the queryset that loads shop_product (plain SQL: one query "
      "with a JOIN to shop_category)\",\"related\":[],\"suppressed\":2}");
}

TEST(NPlusOneFormat, NoParentNoCallSiteAndMixedBackends) {
  NPlusOneFinding f;
  f.kind = FindingKind::kDuplicate;
  f.confidence = Confidence::kHigh;
  f.count = 3;
  f.statements = 3;
  f.distinct_values = 1;
  f.max_identical = 3;
  f.total_ns = 1500;
  f.digest = 0x00000000000000ff;
  f.backend = BackendRole::kPrimary;
  f.backend_mixed = true;
  std::string line;
  AppendFindingText(f, &line);
  EXPECT_EQ(
      line,
      "duplicate confidence=high count=3 distinct=1 max_identical=3 span_ms=0.000 total_ms=0.002 "
      "avg_ms=0.001 max_ms=0.000 unit_share=0% unit_statements=0 fingerprint=00000000000000ff "
      "backend=mixed session=0");
  std::string json;
  AppendFindingJson(f, &json);
  EXPECT_NE(
      json.find("\"fingerprint\":\"\",\"tables\":[],\"parent_id\":null,\"parent_fingerprint\":null,"
                "\"parent_rows\":null,\"backend\":\"mixed\",\"schema\":null,\"user\":null,"
                "\"session_id\":0,\"route\":null"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find("\"trace_id\":null,\"suggestion\":null,\"related\":[],\"suppressed\":0}"),
            std::string::npos)
      << json;
}

TEST(NPlusOneFormat, CycleAndTooManyListTheirFingerprints) {
  NPlusOneFinding cycle;
  cycle.kind = FindingKind::kRepeatedCycle;
  cycle.confidence = Confidence::kMedium;
  cycle.count = 30;
  cycle.statements = 61;
  cycle.distinct_values = 30;
  cycle.distinct_estimated = true;
  cycle.digest = 1;
  cycle.related = {{1, 30, "select a"}, {2, 31, ""}};
  std::string line;
  AppendFindingText(cycle, &line);
  EXPECT_TRUE(line.starts_with(
      "repeated_cycle confidence=medium count=30 length=2 statements=61 distinct=~30 span_ms="))
      << line;
  EXPECT_NE(line.find(" cycle=[0000000000000001,0000000000000002] "), std::string::npos) << line;
  std::string json;
  AppendFindingJson(cycle, &json);
  EXPECT_NE(json.find("\"related\":[{\"fingerprint_id\":\"0000000000000001\",\"count\":30,"
                      "\"fingerprint\":\"select a\"},{\"fingerprint_id\":\"0000000000000002\","
                      "\"count\":31,\"fingerprint\":null}]"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"distinct_estimated\":true"), std::string::npos);

  NPlusOneFinding many;
  many.kind = FindingKind::kTooManyStatements;
  many.count = 51;
  many.related = {{0xa, 30, ""}, {0xb, 15, ""}};
  line.clear();
  AppendFindingText(many, &line);
  EXPECT_TRUE(line.starts_with("too_many_statements confidence=low count=51 span_ms=")) << line;
  EXPECT_NE(line.find(" top=[000000000000000a:30,000000000000000b:15] "), std::string::npos)
      << line;
  EXPECT_EQ(line.find("distinct="), std::string::npos);
}

TEST(NPlusOneFormat, TextQuotingKeepsOneLine) {
  std::string out;
  AppendQuotedText("a\"b\\c\nd\te\rf\x01g\x7f h\xc3\xa9", &out);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\rf\\x01g\\x7f h\xc3\xa9\"");
  NPlusOneFinding f = Sample();
  f.route = "a\nb";
  out.clear();
  AppendFindingText(f, &out);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  EXPECT_NE(out.find("route=\"a\\nb\""), std::string::npos);
}

TEST(NPlusOneFormat, JsonEscaping) {
  std::string out;
  AppendJsonString("q\"b\\s/\n\r\t\b\f\x01\x1f", &out);
  EXPECT_EQ(out, "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\"");
  out.clear();
  // Valid UTF-8 (2, 3 and 4 bytes) passes through.
  AppendJsonString("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", &out);
  EXPECT_EQ(out, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  out.clear();
  // Stray continuation, truncated sequence, overlong form, surrogate, > U+10FFFF.
  AppendJsonString(
      "a\x80"
      "b\xc3"
      "c\xc0\xaf"
      "d\xed\xa0\x80"
      "e\xf4\x90\x80\x80",
      &out);
  EXPECT_EQ(
      out,
      "\"a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffde\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST(NPlusOneFormat, Millis) {
  const auto ms = [](uint64_t ns) {
    std::string s;
    AppendMillis(ns, &s);
    return s;
  };
  EXPECT_EQ(ms(0), "0.000");
  EXPECT_EQ(ms(499), "0.000");
  EXPECT_EQ(ms(500), "0.001");
  EXPECT_EQ(ms(1'234'567), "1.235");
  EXPECT_EQ(ms(60'000'000'000), "60000.000");
  EXPECT_EQ(ms(UINT64_MAX), "18446744073709.552");
}

}  // namespace
}  // namespace ql::analyzer
