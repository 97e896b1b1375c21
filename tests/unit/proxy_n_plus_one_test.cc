// Unit tests for the proxy's N+1 wiring: the capture helpers (call site,
// literals, a COM_STMT_EXECUTE's bound values) and the worker's sink
// (reporter decisions, counters, recent findings, polling of idle units).
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/n_plus_one_detector.h"
#include "analyzer/sqlcommenter.h"
#include "gtest/gtest.h"
#include "proxy/config.h"
#include "proxy/metrics_shard.h"
#include "proxy/n_plus_one_capture.h"
#include "proxy/n_plus_one_sink.h"

namespace ql::proxy {
namespace {

using analyzer::Confidence;
using analyzer::FindingKind;
using analyzer::NPlusOneFinding;
using analyzer::ReportDecision;

// COM_STMT_EXECUTE with the given null bitmap, bound flag, types and values.
protocol::Bytes ExecutePacket(std::vector<uint8_t> bitmap, bool bound, std::vector<uint8_t> types,
                              std::vector<uint8_t> values) {
  protocol::Bytes p = {0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0};
  p.insert(p.end(), bitmap.begin(), bitmap.end());
  p.push_back(bound ? 1 : 0);
  if (bound) p.insert(p.end(), types.begin(), types.end());
  p.insert(p.end(), values.begin(), values.end());
  return p;
}

const std::vector<uint8_t> kTypes = {8, 0, 253, 0, 6, 0};  // LONGLONG, VAR_STRING, NULL

std::vector<uint8_t> Values(uint8_t id, std::string_view s) {
  std::vector<uint8_t> v = {id, 0, 0, 0, 0, 0, 0, 0, uint8_t(s.size())};
  v.insert(v.end(), s.begin(), s.end());
  return v;
}

TEST(NPlusOneCaptureTest, ReadsBoundValuesWithTypesInThePacket) {
  const protocol::Bytes p = ExecutePacket({0x04}, true, kTypes, Values(5, "ab"));
  std::vector<std::string_view> out;
  ASSERT_TRUE(ExecuteParamValues(p, 3, {}, &out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], std::string_view("\x05\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(out[1], "\x02" "ab");
  EXPECT_EQ(out[2], std::string_view("\0NULL", 5));
}

TEST(NPlusOneCaptureTest, ReadsBoundValuesWithRememberedTypes) {
  const protocol::Bytes p = ExecutePacket({0x04}, false, {}, Values(6, "xyz"));
  std::vector<std::string_view> out;
  EXPECT_FALSE(ExecuteParamValues(p, 3, {}, &out));  // no types anywhere
  ASSERT_TRUE(ExecuteParamValues(p, 3, kTypes, &out));
  EXPECT_EQ(out[1], "\x03" "xyz");
  // Truncated values.
  protocol::Bytes cut = p;
  cut.pop_back();
  EXPECT_FALSE(ExecuteParamValues(cut, 3, kTypes, &out));
}

TEST(NPlusOneCaptureTest, ExecuteLiteralsDifferByValueAndFallBackToTheWholeBlock) {
  const analyzer::LiteralSummary text =
      analyzer::SummarizeLiterals("select * from t where a = ? and b = ? and c = ?");
  std::vector<std::string_view> scratch;
  const auto a1 = ExecuteLiterals(text, ExecutePacket({0x04}, true, kTypes, Values(1, "ab")), 3, {},
                                  &scratch);
  const auto a2 = ExecuteLiterals(text, ExecutePacket({0x04}, false, {}, Values(1, "ab")), 3, kTypes,
                                  &scratch);
  const auto b = ExecuteLiterals(text, ExecutePacket({0x04}, true, kTypes, Values(2, "ab")), 3, {},
                                 &scratch);
  // Sending the types again does not change the values.
  EXPECT_EQ(a1.values_hash, a2.values_hash);
  EXPECT_NE(a1.values_hash, b.values_hash);
  // Unreadable (no types known): different blocks still differ.
  const auto u1 = ExecuteLiterals(text, ExecutePacket({0x04}, false, {}, Values(1, "ab")), 3, {},
                                  &scratch);
  const auto u2 = ExecuteLiterals(text, ExecutePacket({0x04}, false, {}, Values(2, "ab")), 3, {},
                                  &scratch);
  EXPECT_NE(u1.values_hash, u2.values_hash);
}

TEST(NPlusOneCaptureTest, CapturesCallSiteAndLiteralsAsOwnedCopies) {
  std::string sql =
      "SELECT * FROM t WHERE id = 42 /*route='items%2F',controller='item_list',"
      "querylens_ignore='1',traceparent='00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'*/";
  analyzer::SqlCommenterTags tags;
  ASSERT_TRUE(analyzer::ParseSqlCommenter(sql, &tags));
  NPlusOneCapture c;
  c.Capture(tags, analyzer::SummarizeLiterals(sql));
  sql.assign(sql.size(), 'x');  // the capture must not point into the statement
  EXPECT_EQ(c.route, "items/");
  EXPECT_EQ(c.controller, "item_list");
  EXPECT_TRUE(c.silenced);
  EXPECT_EQ(analyzer::TraceIdOf(c.CallSite().traceparent), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(c.literals.values_hash,
            analyzer::SummarizeLiterals("SELECT * FROM t WHERE id = 42").values_hash);
  EXPECT_EQ(c.literals.literal_count, 1u);
}

NPlusOneFinding Finding(FindingKind kind, uint64_t digest) {
  NPlusOneFinding f;
  f.kind = kind;
  f.confidence = Confidence::kHigh;
  f.count = 20;
  f.statements = 20;
  f.total_ns = 4'000'000;
  f.digest = digest;
  f.fingerprint = "select label from n1_tags where item_id = ?";
  f.tables = {"n1_tags"};
  f.route = "items/";
  return f;
}

Config SinkConfig() {
  Config c;
  c.n_plus_one_allow_digests = {0xabc};
  return c;
}

TEST(NPlusOneSinkTest, CountsDeduplicatesAndKeepsLoggedFindings) {
  WorkerMetrics m;
  SharedNPlusOneReporter reporter(ReporterOptionsFrom(SinkConfig()));
  NPlusOneSink sink(SinkConfig(), 3, &m, &reporter);
  std::vector<NPlusOneFinding>* out = sink.scratch();
  out->push_back(Finding(FindingKind::kNPlusOne, 1));
  out->push_back(Finding(FindingKind::kNPlusOne, 1));  // same key: suppressed
  out->push_back(Finding(FindingKind::kDuplicate, 2));
  out->push_back(Finding(FindingKind::kNPlusOne, 0xabc));  // allow-listed
  NPlusOneFinding silenced = Finding(FindingKind::kNPlusOne, 4);
  silenced.silenced = true;
  out->push_back(silenced);
  sink.Submit(out);
  EXPECT_TRUE(out->empty());
  EXPECT_EQ(m.n_plus_one_findings(FindingKind::kNPlusOne, Confidence::kHigh), 2u);
  EXPECT_EQ(m.n_plus_one_findings(FindingKind::kDuplicate, Confidence::kHigh), 1u);
  EXPECT_EQ(m.n_plus_one_statements(FindingKind::kNPlusOne), 40u);
  EXPECT_EQ(m.n_plus_one_ns(FindingKind::kNPlusOne), 8'000'000u);
  EXPECT_EQ(m.n_plus_one_decisions(ReportDecision::kReport), 2u);
  EXPECT_EQ(m.n_plus_one_decisions(ReportDecision::kSuppressed), 1u);
  EXPECT_EQ(m.n_plus_one_decisions(ReportDecision::kAllowListed), 1u);
  EXPECT_EQ(m.n_plus_one_decisions(ReportDecision::kSilenced), 1u);
  std::vector<RecentFinding> recent;
  sink.CopyRecent(&recent);
  ASSERT_EQ(recent.size(), 2u);  // oldest first
  EXPECT_EQ(recent[0].worker, 3);
  EXPECT_NE(recent[0].json.find("\"kind\":\"n_plus_one\""), std::string::npos);
  EXPECT_NE(recent[1].json.find("\"kind\":\"duplicate\""), std::string::npos);
  EXPECT_LT(recent[0].sequence, recent[1].sequence);
}

TEST(NPlusOneSinkTest, WorkersShareOneDeduplication) {
  // The same loop served by two workers' sessions is logged once per interval.
  SharedNPlusOneReporter reporter(ReporterOptionsFrom(Config{}));
  WorkerMetrics m0, m1;
  NPlusOneSink sink0(Config{}, 0, &m0, &reporter);
  NPlusOneSink sink1(Config{}, 1, &m1, &reporter);
  std::vector<NPlusOneFinding>* out = sink0.scratch();
  out->push_back(Finding(FindingKind::kNPlusOne, 1));
  sink0.Submit(out);
  out = sink1.scratch();
  out->push_back(Finding(FindingKind::kNPlusOne, 1));
  sink1.Submit(out);
  EXPECT_EQ(m0.n_plus_one_decisions(ReportDecision::kReport), 1u);
  EXPECT_EQ(m1.n_plus_one_decisions(ReportDecision::kSuppressed), 1u);
  // Both count the finding itself.
  EXPECT_EQ(m0.n_plus_one_findings(FindingKind::kNPlusOne, Confidence::kHigh), 1u);
  EXPECT_EQ(m1.n_plus_one_findings(FindingKind::kNPlusOne, Confidence::kHigh), 1u);
  std::vector<RecentFinding> recent;
  sink1.CopyRecent(&recent);
  EXPECT_TRUE(recent.empty());
}

TEST(NPlusOneSinkTest, RecentFindingsAreBounded) {
  WorkerMetrics m;
  Config c;
  c.n_plus_one_dedup_interval_s = 0;  // every finding is logged
  SharedNPlusOneReporter reporter(ReporterOptionsFrom(c));
  NPlusOneSink sink(c, 0, &m, &reporter);
  for (uint64_t i = 0; i < kRecentFindings + 5; ++i) {
    std::vector<NPlusOneFinding>* out = sink.scratch();
    out->push_back(Finding(FindingKind::kNPlusOne, 100 + i));
    sink.Submit(out);
  }
  std::vector<RecentFinding> recent;
  sink.CopyRecent(&recent);
  ASSERT_EQ(recent.size(), kRecentFindings);
  EXPECT_EQ(recent.front().sequence, 6u);  // the first five went
  EXPECT_EQ(recent.back().sequence, kRecentFindings + 5);
}

analyzer::NPlusOneInput Lookup(int64_t start_ns, uint64_t id, uint64_t digest, std::string_view fp,
                               uint64_t rows) {
  analyzer::NPlusOneInput in;
  in.session_id = 9;
  in.start_ns = start_ns;
  in.duration_ns = 1'000'000;
  in.digest = digest;
  in.fingerprint = fp;
  in.statement_class = analyzer::StatementClass::kRead;
  in.literals.values_hash = in.literals.filter_hash = 1000 + id;
  in.literals.literal_count = 1;
  in.rows_sent = rows;
  return in;
}

TEST(NPlusOneSinkTest, PollReportsIdleUnitsOfSessionsNotBusy) {
  WorkerMetrics m;
  SharedNPlusOneReporter reporter(ReporterOptionsFrom(Config{}));
  NPlusOneSink sink(Config{}, 0, &m, &reporter);
  analyzer::NPlusOneDetector detector(sink.detector_options());
  sink.Watch(&detector, 9);
  std::vector<NPlusOneFinding> findings;
  int64_t t = 1'000'000'000;
  detector.Observe(Lookup(t, 0, 11, "select id from items", 20), &findings);
  for (uint64_t i = 1; i <= 20; ++i) {
    t += 2'000'000;
    detector.Observe(Lookup(t, i, 22, "select label from tags where item_id = ?", 1), &findings);
  }
  ASSERT_TRUE(findings.empty());
  ASSERT_TRUE(detector.unit_open());
  const int64_t later = t + 2'000'000'000;
  sink.PollAll(later, [](uint32_t) { return true; });  // a command in flight
  EXPECT_TRUE(detector.unit_open());
  sink.PollAll(later, [](uint32_t id) { return id != 9; });
  EXPECT_FALSE(detector.unit_open());
  EXPECT_EQ(m.n_plus_one_findings(FindingKind::kNPlusOne, Confidence::kHigh), 1u);
  sink.Unwatch(&detector);
  EXPECT_EQ(sink.watched(), 0u);
}

}  // namespace
}  // namespace ql::proxy
