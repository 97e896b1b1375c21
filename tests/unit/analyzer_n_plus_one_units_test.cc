// Units of work of the N+1 detector (idle gap, age cap, trace id and route
// changes, reset, polling, session end) and its memory bound: a session
// with 100,000 distinct fingerprints stays small and still finds its loop.
#include <algorithm>
#include <string>
#include <vector>

#include "analyzer/n_plus_one_detector.h"
#include "gtest/gtest.h"
#include "tests/unit/n_plus_one_feed.h"

namespace ql::analyzer {
namespace {

constexpr int64_t kMs = 1'000'000;

class Session {
 public:
  explicit Session(NPlusOneOptions options = {}) : detector(options) { feed.base.session_id = 3; }

  // Runs `sql` starting at absolute time `at_ms` (monotonic, ms), 0.2 ms long.
  Session& At(double at_ms, const std::string& sql, uint64_t rows = 1) {
    feed.Observe(detector, sql, {rows, 0, 0, 200'000}, static_cast<int64_t>(at_ms * kMs),
                 &findings);
    return *this;
  }
  size_t Count(FindingKind kind) const {
    size_t n = 0;
    for (const NPlusOneFinding& f : findings) n += f.kind == kind;
    return n;
  }

  NPlusOneDetector detector;
  testutil::NPlusOneFeed feed;
  std::vector<NPlusOneFinding> findings;
};

std::string Lookup(int id, const std::string& comment = "") {
  return "SELECT `shop_category`.`id`, `shop_category`.`name` FROM `shop_category` WHERE "
         "`shop_category`.`id` = " +
         std::to_string(id) + " LIMIT 21" + comment;
}

std::string Trace(int n) {
  std::string id = std::to_string(n);
  return std::string(32 - id.size(), 'a') + id;
}

TEST(NPlusOneUnits, IdleGapStartsANewUnit) {
  Session s;
  s.At(0, Lookup(1));
  s.At(499.9, Lookup(2));  // previous ended at 0.2 ms: a 499.7 ms gap
  EXPECT_EQ(s.detector.units_started(), 1u);
  s.At(1000.1, Lookup(3));  // 500 ms after 500.1
  EXPECT_EQ(s.detector.units_started(), 2u);
  EXPECT_EQ(s.detector.unit_started_by(), UnitBoundary::kIdleGap);
  EXPECT_EQ(s.detector.last_close_reason(), UnitBoundary::kIdleGap);
  EXPECT_EQ(s.detector.unit_statements(), 1u);
}

TEST(NPlusOneUnits, OldUnitsAreCut) {
  NPlusOneOptions options;
  options.unit_max_age_ns = 30'000 * kMs;
  Session s(options);
  for (int i = 0; i <= 310; ++i) s.At(i * 100.0, Lookup(i % 50));
  EXPECT_EQ(s.detector.units_started(), 2u);
  EXPECT_EQ(s.detector.unit_started_by(), UnitBoundary::kMaxAge);
  EXPECT_EQ(s.detector.unit_statements(), 11u);  // 30.0 s .. 31.0 s
  // The closed 30-second unit reported its loop (300 lookups, 50 ids).
  EXPECT_EQ(s.Count(FindingKind::kNPlusOne), 1u);
}

TEST(NPlusOneUnits, TraceIdChangeStartsANewUnit) {
  Session s;
  const std::string a = " /*traceparent='00-" + Trace(1) + "-00f067aa0ba902b7-01'*/";
  const std::string b = " /*traceparent='00-" + Trace(2) + "-00f067aa0ba902b7-01'*/";
  s.At(0, Lookup(1));     // no tags yet
  s.At(1, Lookup(2, a));  // adopts trace 1: same unit
  s.At(2, Lookup(3));     // no tags: continues
  s.At(3, Lookup(4, " /*traceparent='00-" + Trace(1) +
                        "-1111111111111111-01'*/"));  // another span, same trace
  EXPECT_EQ(s.detector.units_started(), 1u);
  s.At(4, Lookup(5, b));
  EXPECT_EQ(s.detector.units_started(), 2u);
  EXPECT_EQ(s.detector.unit_started_by(), UnitBoundary::kTraceChange);
}

TEST(NPlusOneUnits, RouteOrControllerChangeStartsANewUnit) {
  Session s;
  s.At(0, Lookup(1, " /*controller='shop%3Aproducts',route='products/'*/"));
  s.At(1, Lookup(2, " /*controller='shop%3Aproducts',route='products/'*/"));
  EXPECT_EQ(s.detector.units_started(), 1u);
  s.At(2, Lookup(3, " /*controller='shop%3Aproducts',route='orders/'*/"));
  EXPECT_EQ(s.detector.unit_started_by(), UnitBoundary::kRouteChange);
  s.At(3, Lookup(4, " /*controller='shop%3Aorders',route='orders/'*/"));
  EXPECT_EQ(s.detector.units_started(), 3u);
  EXPECT_EQ(s.detector.unit_started_by(), UnitBoundary::kRouteChange);
}

TEST(NPlusOneUnits, ResetEndsTheUnitAndALoopCannotSpanIt) {
  Session s;
  s.At(0, "SELECT `shop_product`.`id`, `shop_product`.`category_id` FROM `shop_product`", 12);
  for (int i = 0; i < 6; ++i) s.At(1 + i, Lookup(i));
  s.detector.Reset(&s.findings);  // COM_RESET_CONNECTION
  EXPECT_FALSE(s.detector.unit_open());
  for (int i = 6; i < 12; ++i) s.At(1 + i, Lookup(i));
  EXPECT_EQ(s.detector.units_started(), 2u);
  EXPECT_EQ(s.detector.unit_started_by(), UnitBoundary::kReset);
  s.detector.Close(&s.findings);
  EXPECT_EQ(s.detector.last_close_reason(), UnitBoundary::kSessionEnd);
  EXPECT_EQ(s.Count(FindingKind::kNPlusOne), 0u);  // 6 + 6 fast repeats, never 10 in one unit
}

TEST(NPlusOneUnits, PollClosesAnIdleUnit) {
  Session s;
  for (int i = 0; i < 12; ++i) s.At(i, Lookup(i));
  s.detector.Poll(300 * kMs, &s.findings);
  EXPECT_TRUE(s.detector.unit_open());
  EXPECT_TRUE(s.findings.empty());
  s.detector.Poll(512 * kMs, &s.findings);
  EXPECT_FALSE(s.detector.unit_open());
  EXPECT_EQ(s.Count(FindingKind::kNPlusOne), 1u);
  s.At(2000, Lookup(1));
  EXPECT_EQ(s.detector.unit_started_by(), UnitBoundary::kIdleGap);
  // Nothing more to report at the end: the first unit was already closed.
  s.detector.Close(&s.findings);
  EXPECT_EQ(s.Count(FindingKind::kNPlusOne), 1u);
}

TEST(NPlusOneUnits, CallSiteOfTheUnitIsReported) {
  Session s;
  const std::string tags =
      " /"
      "*action='list',app_name='shop',controller='shop%3Aproduct_list',framework='django%%3A3.2.25'"
      ","
      "route='products/%%3Cint%%3Apk%%3E/',traceparent='00-" +
      Trace(7) + "-00f067aa0ba902b7-01'*/";
  s.At(0, "SET autocommit=0");  // untagged set-up first
  for (int i = 0; i < 12; ++i) s.At(1 + i, Lookup(i, tags));
  s.detector.Close(&s.findings);
  ASSERT_EQ(s.Count(FindingKind::kNPlusOne), 1u);
  const NPlusOneFinding& f = s.findings[0];
  EXPECT_EQ(f.route, "products/<int:pk>/");
  EXPECT_EQ(f.controller, "shop:product_list");
  EXPECT_EQ(f.framework, "django:3.2.25");
  EXPECT_EQ(f.action, "list");
  EXPECT_EQ(f.app_name, "shop");
  EXPECT_EQ(f.traceparent, "00-" + Trace(7) + "-00f067aa0ba902b7-01");
  EXPECT_EQ(f.unit_statements, 13u);
}

TEST(NPlusOneUnits, LongTagsAreCappedAndStillCompareEqual) {
  NPlusOneOptions options;
  options.max_tag_bytes = 16;
  Session s(options);
  const std::string route = " /*route='" + std::string(5000, 'r') + "'*/";
  for (int i = 0; i < 12; ++i) s.At(i, Lookup(i, route));
  EXPECT_EQ(s.detector.units_started(), 1u);
  s.detector.Close(&s.findings);
  ASSERT_EQ(s.Count(FindingKind::kNPlusOne), 1u);
  EXPECT_EQ(s.findings[0].route, std::string(16, 'r'));
}

TEST(NPlusOneUnits, HundredThousandDistinctFingerprintsStayBounded) {
  NPlusOneOptions options;  // defaults: 128 fingerprints, 512 bytes of text each
  Session s(options);
  s.At(0, "SELECT `shop_product`.`id`, `shop_product`.`category_id` FROM `shop_product`", 1000);
  size_t peak = 0;
  double t = 1;
  for (int i = 0; i < 100'000; ++i, t += 0.25) {
    if (i % 50 == 0) s.At(t += 0.25, Lookup(i / 50 % 100));  // one real loop in between
    // Each statement its own table: a distinct fingerprint every time.
    s.At(t, "SELECT `c" + std::to_string(i) + "`.`a`, `c" + std::to_string(i) +
                "`.`padding_to_make_the_text_longer_than_a_few_bytes` FROM `c" + std::to_string(i) +
                "` WHERE `c" + std::to_string(i) + "`.`id` = 1");
    peak = std::max(peak, s.detector.ApproximateMemoryBytes());
    EXPECT_LE(s.detector.tracked_fingerprints(), options.max_fingerprints_per_unit);
  }
  EXPECT_EQ(s.detector.units_started(), 1u);  // 25 s: one unit
  EXPECT_EQ(s.detector.tracked_fingerprints(), options.max_fingerprints_per_unit);
  EXPECT_LT(peak, 300u * 1024u) << peak;
  RecordProperty("peak_memory_bytes", std::to_string(peak));
  s.detector.Close(&s.findings);
  ASSERT_EQ(s.Count(FindingKind::kNPlusOne), 1u);  // the loop survived eviction
  for (const NPlusOneFinding& f : s.findings) {
    if (f.kind != FindingKind::kNPlusOne) continue;
    EXPECT_EQ(f.count, 2000u);
    EXPECT_NEAR(static_cast<double>(f.distinct_values), 100.0, 10.0);  // estimated beyond 32
    EXPECT_TRUE(f.distinct_estimated);
    EXPECT_EQ(f.parent_rows, 1000u);  // its parent too
    EXPECT_FALSE(f.parent_fingerprint.empty());
  }
  EXPECT_EQ(s.Count(FindingKind::kTooManyStatements), 1u);
}

TEST(NPlusOneUnits, FullTableOfRepeatingFingerprintsCountsTheRestAsUntracked) {
  NPlusOneOptions options;
  options.max_fingerprints_per_unit = 4;
  Session s(options);
  for (int round = 0; round < 2; ++round) {
    for (int t = 0; t < 4; ++t)
      s.At(round * 10 + t,
           "SELECT `t" + std::to_string(t) + "`.`a` FROM `t" + std::to_string(t) + "`");
  }
  s.At(30, "SELECT `u`.`a` FROM `u`");
  EXPECT_EQ(s.detector.tracked_fingerprints(), 4u);
  EXPECT_EQ(s.detector.untracked_statements(), 1u);
}

TEST(NPlusOneUnits, IdleSessionsGiveTheirTableBack) {
  Session s;
  const size_t fresh = s.detector.ApproximateMemoryBytes();
  for (int i = 0; i < 40; ++i) {
    s.At(i, "SELECT `t" + std::to_string(i % 20) + "`.`a` FROM `t" + std::to_string(i % 20) +
                "` WHERE `t" + std::to_string(i % 20) + "`.`id` = " + std::to_string(i));
  }
  const size_t busy = s.detector.ApproximateMemoryBytes();
  EXPECT_GT(busy, fresh + 20 * sizeof(FingerprintEntry));
  EXPECT_LT(busy, 40u * 1024u);
  // The idle gap closes the unit; the table stays for the next request.
  s.detector.Poll(2000 * kMs, &s.findings);
  EXPECT_FALSE(s.detector.unit_open());
  EXPECT_GT(s.detector.ApproximateMemoryBytes(), fresh + 20 * sizeof(FingerprintEntry));
  // Idle for release_idle_ns (10 s) after the last statement: given back.
  s.detector.Poll(40 * kMs + 9000 * kMs, &s.findings);
  EXPECT_GT(s.detector.ApproximateMemoryBytes(), fresh + 20 * sizeof(FingerprintEntry));
  s.detector.Poll(40 * kMs + 10001 * kMs, &s.findings);
  EXPECT_EQ(s.detector.ApproximateMemoryBytes(), fresh);
  EXPECT_LT(fresh, 8u * 1024u);
}

TEST(NPlusOneUnits, MemoryDoesNotGrowOverManyUnits) {
  Session s;
  size_t after_first = 0;
  for (int unit = 0; unit < 300; ++unit) {
    const double base = unit * 100.0;  // back to back, split by trace ids
    const std::string trace = " /*traceparent='00-" + Trace(unit + 1) + "-00f067aa0ba902b7-01'*/";
    s.At(base,
         "SELECT `shop_product`.`id`, `shop_product`.`category_id` FROM `shop_product`" + trace,
         20);
    for (int i = 0; i < 20; ++i) s.At(base + 1 + i, Lookup(i % 5, trace));
    if (unit == 10) after_first = s.detector.ApproximateMemoryBytes();
  }
  EXPECT_EQ(s.detector.ApproximateMemoryBytes(), after_first);
  EXPECT_EQ(s.detector.units_started(), 300u);
}

}  // namespace
}  // namespace ql::analyzer
