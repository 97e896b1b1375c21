// Unit tests for the proxy's metrics and admin API code that needs no
// network: error classes, WorkerMetrics merging, label-text sanitizing, the
// /metrics families built from a snapshot (top-K bound, "other", evictions,
// histograms), query-string parsing and the /api/digests body.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analyzer/digest.h"
#include "gtest/gtest.h"
#include "proxy/admin_api_json.h"
#include "proxy/admin_metrics.h"
#include "proxy/metrics_exposition.h"
#include "proxy/metrics_shard.h"

namespace ql::proxy {
namespace {

using analyzer::BackendRole;
using analyzer::StatementClass;
using analyzer::StatementRecord;

TEST(ErrorClass, MapsCommonCodes) {
  EXPECT_EQ(ClassifyError(1064), ErrorClass::kSyntax);
  EXPECT_EQ(ClassifyError(1062), ErrorClass::kDuplicateKey);
  EXPECT_EQ(ClassifyError(1586), ErrorClass::kDuplicateKey);
  EXPECT_EQ(ClassifyError(1213), ErrorClass::kDeadlock);
  EXPECT_EQ(ClassifyError(1205), ErrorClass::kLockWaitTimeout);
  EXPECT_EQ(ClassifyError(1045), ErrorClass::kAccessDenied);
  EXPECT_EQ(ClassifyError(1142), ErrorClass::kAccessDenied);
  EXPECT_EQ(ClassifyError(1146), ErrorClass::kUnknownObject);
  EXPECT_EQ(ClassifyError(1054), ErrorClass::kUnknownObject);
  EXPECT_EQ(ClassifyError(1048), ErrorClass::kData);
  EXPECT_EQ(ClassifyError(1452), ErrorClass::kData);
  EXPECT_EQ(ClassifyError(4025), ErrorClass::kData);
  EXPECT_EQ(ClassifyError(2013), ErrorClass::kConnection);
  EXPECT_EQ(ClassifyError(1158), ErrorClass::kConnection);
  EXPECT_EQ(ClassifyError(1429), ErrorClass::kConnection);  // the proxy's backend unreachable
  EXPECT_EQ(ClassifyError(1927), ErrorClass::kConnection);  // the proxy's backend lost
  EXPECT_EQ(ClassifyError(1317), ErrorClass::kOther);
  EXPECT_EQ(ClassifyError(1105), ErrorClass::kOther);
}

TEST(ErrorClass, NamesAreDistinct) {
  std::vector<std::string> names;
  for (int i = 0; i < kErrorClassCount; ++i) {
    names.emplace_back(ErrorClassName(ErrorClass(i)));
    for (size_t j = 0; j + 1 < names.size(); ++j) EXPECT_NE(names[j], names.back());
  }
  EXPECT_EQ(names.front(), "syntax");
  EXPECT_EQ(names.back(), "other");
}

StatementRecord Rec(std::string_view fingerprint, uint64_t total_ns,
                    std::string_view schema = "app", BackendRole role = BackendRole::kPrimary,
                    StatementClass cls = StatementClass::kRead, uint16_t error = 0) {
  StatementRecord r;
  r.fingerprint = fingerprint;
  r.digest = analyzer::DigestId(fingerprint);
  r.schema = schema;
  r.user = "app";
  r.backend_role = role;
  r.statement_class = cls;
  r.total_ns = total_ns;
  r.start_time_ns = 1'700'000'000'000'000'000;
  r.error_code = error;
  r.rows_sent = 2;
  r.bytes_sent = 100;
  return r;
}

TEST(WorkerMetrics, MergeEqualsRecordingEverythingInOne) {
  WorkerMetrics a, b, all;
  const StatementRecord r1 = Rec("select ?", 1'000'000);
  const StatementRecord r2 = Rec("update t set a = ?", 5'000'000, "app", BackendRole::kPrimary,
                                 StatementClass::kWrite, 1062);
  const StatementRecord r3 = Rec("select ?", 200'000, "app", BackendRole::kReplica);
  a.OnStatement(r1);
  a.OnStatement(r2);
  b.OnStatement(r3);
  a.BackendConnectFailed("db1:3306");
  b.BackendConnectFailed("db1:3306");
  b.BackendConnectFailed("db2:3306");
  a.ClientConnected();
  b.ClientConnected();
  b.ClientDisconnected();
  for (const auto* r : {&r1, &r2, &r3}) all.OnStatement(*r);
  WorkerMetrics merged;
  merged.Merge(a);
  merged.Merge(b);
  EXPECT_EQ(merged.statements(BackendRole::kPrimary, StatementClass::kRead).count(), 1u);
  EXPECT_EQ(merged.statements(BackendRole::kPrimary, StatementClass::kWrite).count(), 1u);
  EXPECT_EQ(merged.statements(BackendRole::kReplica, StatementClass::kRead).count(), 1u);
  EXPECT_EQ(merged.statements(BackendRole::kPrimary, StatementClass::kRead).sum(),
            all.statements(BackendRole::kPrimary, StatementClass::kRead).sum());
  EXPECT_EQ(merged.errors(ErrorClass::kDuplicateKey), 1u);
  EXPECT_EQ(merged.rows_sent(BackendRole::kPrimary), 4u);
  EXPECT_EQ(merged.bytes_to_clients(), 300u);
  EXPECT_EQ(merged.pool_wait(BackendRole::kPrimary).count(), 2u);
  EXPECT_EQ(merged.client_connections_total(), 2u);
  EXPECT_EQ(merged.client_connections_current(), 1);
  ASSERT_EQ(merged.connect_failures().size(), 2u);
  EXPECT_EQ(merged.connect_failures()[0], (std::pair<std::string, uint64_t>{"db1:3306", 2}));
  EXPECT_EQ(merged.connect_failures()[1], (std::pair<std::string, uint64_t>{"db2:3306", 1}));
}

TEST(SafeText, KeepsValidUtf8AndCleansTheRest) {
  EXPECT_EQ(SafeText("select ? from t", 200), "select ? from t");
  EXPECT_EQ(SafeText("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 200),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(SafeText("a\nb\tc\x7F", 200), "a b c ");
  EXPECT_EQ(SafeText("x\xFFy", 200), "x?y");
  EXPECT_EQ(SafeText("\xC0\x80", 200), "??");          // overlong NUL
  EXPECT_EQ(SafeText("\xED\xA0\x80", 200), "???");     // UTF-16 surrogate
  EXPECT_EQ(SafeText("\xE2\x82", 200), "??");          // truncated sequence
  EXPECT_EQ(SafeText("abcdef", 4), "abcd...");
  EXPECT_EQ(SafeText("h\xC3\xA9llo", 2), "h...");      // never splits a character
  EXPECT_EQ(SafeText("abcd", 4), "abcd");
}

struct Fixture {
  std::vector<std::string> texts;
  analyzer::DigestStatsTable table{analyzer::DigestStatsOptions{.max_entries = 16}};
  WorkerMetrics metrics;
  uint64_t statements = 0;

  void Run(const std::string& text, int times, uint64_t ns, std::string_view schema = "app") {
    for (int i = 0; i < times; ++i) {
      const StatementRecord r = Rec(text, ns, schema);
      table.Record(r);
      metrics.OnStatement(r);
      ++statements;
    }
  }
};

double Sum(const prometheus::MetricFamily& f) {
  double s = 0;
  for (const auto& m : f.metric) s += m.counter.value;
  return s;
}

const prometheus::MetricFamily* FindFamily(const std::vector<prometheus::MetricFamily>& fs,
                                           const std::string& name) {
  for (const auto& f : fs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string Label(const prometheus::ClientMetric& m, const std::string& name) {
  for (const auto& l : m.label) {
    if (l.name == name) return l.value;
  }
  return "<none>";
}

TEST(Exposition, TopDigestsOtherAndEvictions) {
  Fixture f;
  // 20 digests into a table of 16: 4 evicted; the slowest five by total time.
  for (int i = 0; i < 20; ++i) {
    f.texts.push_back("select ? as c" + std::to_string(i));
  }
  for (int i = 0; i < 20; ++i) f.Run(f.texts[i], 2, uint64_t(1000 + i) * 1000);
  ASSERT_EQ(f.table.evictions(), 4u);
  ProxySnapshot snap;
  snap.workers = 1;
  snap.metrics = f.metrics;
  f.table.SnapshotInto(&snap.digests);
  ExpositionInput in;
  in.snapshot = &snap;
  in.top_digests = 5;
  in.version = "9.9.9";
  BackendStatus primary;
  primary.name = "db:3306";
  primary.role = BackendRole::kPrimary;
  primary.up = true;
  in.backends.push_back(primary);
  const auto families = BuildMetricFamilies(in);

  const auto* stmts = FindFamily(families, "querylens_digest_statements_total");
  ASSERT_NE(stmts, nullptr);
  ASSERT_EQ(stmts->metric.size(), 6u);  // top 5 + other
  EXPECT_EQ(Sum(*stmts), double(f.statements));
  // The top ones are the five slowest, slowest first.
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(Label(stmts->metric[k], "digest"),
              analyzer::DigestHex(analyzer::DigestId(f.texts[19 - k])));
    EXPECT_EQ(Label(stmts->metric[k], "schema"), "app");
  }
  EXPECT_EQ(Label(stmts->metric[5], "digest"), "other");
  EXPECT_EQ(stmts->metric[5].counter.value, 30.0);  // 15 digests x 2, 4 of them evicted
  const auto* secs = FindFamily(families, "querylens_digest_seconds_total");
  ASSERT_NE(secs, nullptr);
  ASSERT_EQ(secs->metric.size(), 6u);
  const auto* info = FindFamily(families, "querylens_digest_info");
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->metric.size(), 5u);
  EXPECT_EQ(Label(info->metric[0], "fingerprint"), "select ? as c19");
  const auto* ev = FindFamily(families, "querylens_digest_evictions_total");
  ASSERT_NE(ev, nullptr);
  EXPECT_EQ(ev->metric[0].counter.value, 4.0);

  const auto* duration = FindFamily(families, "querylens_statement_duration_seconds");
  ASSERT_NE(duration, nullptr);
  ASSERT_EQ(duration->metric.size(), 1u);  // only primary/read was seen
  const auto& h = duration->metric[0].histogram;
  EXPECT_EQ(h.sample_count, f.statements);
  ASSERT_EQ(h.bucket.size(), analyzer::kPrometheusLatencyBuckets.size() + 1);
  EXPECT_TRUE(std::isinf(h.bucket.back().upper_bound));
  EXPECT_EQ(h.bucket.back().cumulative_count, f.statements);
  // Every statement took 1.000-1.019 ms.
  EXPECT_EQ(h.bucket[2].cumulative_count, 0u);             // le=0.0005
  EXPECT_EQ(h.bucket[4].cumulative_count, f.statements);   // le=0.0025
  const auto* up = FindFamily(families, "querylens_backend_up");
  ASSERT_NE(up, nullptr);
  ASSERT_EQ(up->metric.size(), 1u);
  EXPECT_EQ(up->metric[0].gauge.value, 1.0);

  // K = 0: everything is "other".
  in.top_digests = 0;
  const auto none = BuildMetricFamilies(in);
  const auto* only_other = FindFamily(none, "querylens_digest_statements_total");
  ASSERT_EQ(only_other->metric.size(), 1u);
  EXPECT_EQ(only_other->metric[0].counter.value, double(f.statements));

  const std::string text = RenderMetrics(in);
  EXPECT_NE(text.find("# TYPE querylens_statement_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("le=\"+Inf\""), std::string::npos);
  EXPECT_NE(text.find("querylens_build_info{version=\"9.9.9\"} 1"), std::string::npos);
}

TEST(AdminMetrics, RequestsByBoundedPathAndScrapeTime) {
  AdminMetrics m;
  m.RequestServed("/metrics", 200);
  m.RequestServed("/metrics", 200);
  m.RequestServed("/no/such/path?x=1", 404);
  m.RequestServed("/api/digests/../../etc", 404);
  m.ScrapeTook(0.003);
  const ProxySnapshot snapshot;
  ExpositionInput in;
  in.snapshot = &snapshot;
  in.extra = m.Collect();
  const std::string text = RenderMetrics(in);
  EXPECT_NE(text.find("querylens_admin_requests_total{code=\"200\",path=\"/metrics\"} 2"),
            std::string::npos)
      << text;
  // Unknown paths share one series: a scanner cannot grow the exposition.
  EXPECT_NE(text.find("querylens_admin_requests_total{code=\"404\",path=\"other\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("querylens_scrape_duration_seconds_count 1"), std::string::npos) << text;
}

TEST(AdminApi, ParsesQueryStrings) {
  auto q = ParseQueryString("a=1&b=x%20y+z&&c=&d");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>{"b", "x y z"}));
  EXPECT_EQ((*q)[2], (std::pair<std::string, std::string>{"c", ""}));
  EXPECT_EQ((*q)[3], (std::pair<std::string, std::string>{"d", ""}));
  EXPECT_FALSE(ParseQueryString("a=%2").ok());
  EXPECT_FALSE(ParseQueryString("a=%zz").ok());

  auto d = ParseDigestsRequest("order=p99&limit=7&schema=shop%5Fdb");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->order, analyzer::DigestOrder::kP99);
  EXPECT_EQ(d->limit, 7u);
  EXPECT_EQ(d->schema, "shop_db");
  auto def = ParseDigestsRequest("");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->order, analyzer::DigestOrder::kTotalTime);
  EXPECT_EQ(def->limit, 20u);
  EXPECT_FALSE(def->schema.has_value());
  EXPECT_FALSE(ParseDigestsRequest("order=fast").ok());
  EXPECT_FALSE(ParseDigestsRequest("limit=0").ok());
  EXPECT_FALSE(ParseDigestsRequest("limit=10001").ok());
  EXPECT_FALSE(ParseDigestsRequest("limit=5x").ok());
  EXPECT_FALSE(ParseDigestsRequest("sort=count").ok());
  EXPECT_TRUE(ParseSessionsRequest("limit=5").ok());
  EXPECT_FALSE(ParseSessionsRequest("x=5").ok());
}

TEST(AdminApi, DigestsBody) {
  Fixture f;
  f.Run("select ? from a", 3, 1'000'000);
  f.Run("select ? from b", 1, 9'000'000);
  f.Run("select ? from c", 5, 100'000, "other_db");
  ProxySnapshot snap;
  snap.workers = 2;
  snap.taken_ns = 1'700'000'000'123'456'789;
  f.table.SnapshotInto(&snap.digests);
  DigestsRequest req;
  const auto body = nlohmann::json::parse(DigestsJson(snap, req));
  EXPECT_EQ(body["generated_at"], "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(body["order"], "total_time");
  EXPECT_EQ(body["entries"], 3);
  ASSERT_EQ(body["digests"].size(), 3u);
  EXPECT_EQ(body["digests"][0]["fingerprint"], "select ? from b");
  EXPECT_EQ(body["digests"][0]["digest"], analyzer::DigestHex(analyzer::DigestId("select ? from b")));
  EXPECT_EQ(body["digests"][0]["count"], 1);
  EXPECT_DOUBLE_EQ(body["digests"][1]["total_seconds"].get<double>(), 0.003);
  EXPECT_EQ(body["digests"][1]["rows_sent"], 6);
  EXPECT_FALSE(body["digests"][0].contains("example"));  // no --log-literals
  req.order = analyzer::DigestOrder::kCount;
  req.limit = 1;
  const auto by_count = nlohmann::json::parse(DigestsJson(snap, req));
  ASSERT_EQ(by_count["digests"].size(), 1u);
  EXPECT_EQ(by_count["digests"][0]["fingerprint"], "select ? from c");
  req.schema = "app";
  req.limit = 100;
  const auto app = nlohmann::json::parse(DigestsJson(snap, req));
  EXPECT_EQ(app["entries"], 2);
  EXPECT_EQ(app["schema"], "app");
  for (const auto& d : app["digests"]) EXPECT_EQ(d["schema"], "app");
}

TEST(AdminApi, IsoTime) {
  EXPECT_EQ(IsoTime(1'700'000'000'123'456'789), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(IsoTime(0), "");
}

}  // namespace
}  // namespace ql::proxy
