// The N+1 reporter: one report per (kind, call site, parent, fingerprint) per
// interval with a suppressed count, a bounded key set, the allow-list by
// digest / table / route, and the querylens_ignore sqlcommenter key that
// silences a call site (end to end through the detector).
#include <string>
#include <vector>

#include "analyzer/n_plus_one_detector.h"
#include "analyzer/n_plus_one_reporter.h"
#include "gtest/gtest.h"
#include "tests/unit/n_plus_one_feed.h"

namespace ql::analyzer {
namespace {

constexpr int64_t kSec = 1'000'000'000;

NPlusOneFinding Finding(std::string route = "products/", uint64_t parent = 0x11,
                        uint64_t digest = 0x22) {
  NPlusOneFinding f;
  f.kind = FindingKind::kNPlusOne;
  f.route = std::move(route);
  f.has_parent = true;
  f.parent_digest = parent;
  f.digest = digest;
  f.tables = {"shop_category"};
  return f;
}

TEST(NPlusOneReporter, OneReportPerIntervalWithSuppressedCount) {
  NPlusOneReporter reporter;  // 60 s
  NPlusOneFinding f = Finding();
  EXPECT_EQ(reporter.Admit(&f, 0), ReportDecision::kReport);
  EXPECT_EQ(f.suppressed, 0u);
  for (int t : {1, 10, 59}) {
    NPlusOneFinding again = Finding();
    EXPECT_EQ(reporter.Admit(&again, t * kSec), ReportDecision::kSuppressed) << t;
  }
  NPlusOneFinding later = Finding();
  EXPECT_EQ(reporter.Admit(&later, 60 * kSec), ReportDecision::kReport);
  EXPECT_EQ(later.suppressed, 3u);
  NPlusOneFinding next = Finding();
  EXPECT_EQ(reporter.Admit(&next, 61 * kSec), ReportDecision::kSuppressed);
  NPlusOneFinding much_later = Finding();
  EXPECT_EQ(reporter.Admit(&much_later, 500 * kSec), ReportDecision::kReport);
  EXPECT_EQ(much_later.suppressed, 1u);
  EXPECT_EQ(reporter.count(ReportDecision::kReport), 3u);
  EXPECT_EQ(reporter.count(ReportDecision::kSuppressed), 4u);
}

TEST(NPlusOneReporter, KeyIsKindCallSiteParentAndFingerprint) {
  NPlusOneReporter reporter;
  NPlusOneFinding base = Finding();
  EXPECT_EQ(reporter.Admit(&base, 0), ReportDecision::kReport);
  NPlusOneFinding other_route = Finding("orders/");
  NPlusOneFinding other_parent = Finding("products/", 0x12);
  NPlusOneFinding other_digest = Finding("products/", 0x11, 0x23);
  NPlusOneFinding duplicate = Finding();
  duplicate.kind = FindingKind::kDuplicate;
  NPlusOneFinding other_controller = Finding();
  other_controller.controller = "shop:list";
  for (NPlusOneFinding* f :
       {&other_route, &other_parent, &other_digest, &duplicate, &other_controller}) {
    EXPECT_EQ(reporter.Admit(f, 1), ReportDecision::kReport);
  }
  // Session, user, trace and counts are not part of the key.
  NPlusOneFinding same = Finding();
  same.session_id = 99;
  same.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  same.count = 1000;
  EXPECT_EQ(reporter.Admit(&same, 2), ReportDecision::kSuppressed);
  EXPECT_EQ(reporter.keys(), 6u);
}

TEST(NPlusOneReporter, KeysAreBounded) {
  NPlusOneReporterOptions options;
  options.max_keys = 4;
  NPlusOneReporter reporter(options);
  for (uint64_t d = 0; d < 100; ++d) {
    NPlusOneFinding f = Finding("r", 1, d);
    EXPECT_EQ(reporter.Admit(&f, static_cast<int64_t>(d)), ReportDecision::kReport);
    EXPECT_LE(reporter.keys(), 4u);
  }
  // Expired keys make room first.
  NPlusOneFinding f = Finding("r", 1, 1000);
  EXPECT_EQ(reporter.Admit(&f, 100 * kSec), ReportDecision::kReport);
  EXPECT_EQ(reporter.keys(), 1u);
}

TEST(NPlusOneReporter, AllowListByDigestTableAndRoute) {
  NPlusOneReporterOptions options;
  options.allow_list.digests = {0x22};
  NPlusOneReporter by_digest(options);
  NPlusOneFinding f = Finding();
  EXPECT_EQ(by_digest.Admit(&f, 0), ReportDecision::kAllowListed);
  NPlusOneFinding g = Finding("products/", 0x11, 0x23);
  EXPECT_EQ(by_digest.Admit(&g, 0), ReportDecision::kReport);

  NPlusOneReporterOptions tables;
  tables.allow_list.tables = {"shop_cat*"};
  NPlusOneReporter by_table(tables);
  f = Finding();
  EXPECT_EQ(by_table.Admit(&f, 0), ReportDecision::kAllowListed);
  tables.allow_list.tables = {"shop_cat"};  // exact: no match
  by_table.SetOptions(tables);
  f = Finding("x/");
  EXPECT_EQ(by_table.Admit(&f, 0), ReportDecision::kReport);

  NPlusOneReporterOptions routes;
  routes.allow_list.routes = {"admin/*", "reports/"};
  NPlusOneReporter by_route(routes);
  NPlusOneFinding admin = Finding("admin/shop/product/");
  NPlusOneFinding reports = Finding("reports/");
  NPlusOneFinding reports_sub = Finding("reports/daily/");
  NPlusOneFinding none = Finding("");
  EXPECT_EQ(by_route.Admit(&admin, 0), ReportDecision::kAllowListed);
  EXPECT_EQ(by_route.Admit(&reports, 0), ReportDecision::kAllowListed);
  EXPECT_EQ(by_route.Admit(&reports_sub, 0), ReportDecision::kReport);
  EXPECT_EQ(by_route.Admit(&none, 0), ReportDecision::kReport);
}

TEST(NPlusOneReporter, AllowListScopeForCyclesAndTooMany) {
  NPlusOneReporterOptions options;
  options.allow_list.digests = {0x33};
  options.allow_list.tables = {"shop_category"};
  NPlusOneReporter reporter(options);
  NPlusOneFinding cycle = Finding("x/", 1, 0x99);
  cycle.kind = FindingKind::kRepeatedCycle;
  cycle.tables = {"shop_tag"};
  cycle.related = {{0x99, 3, ""}, {0x33, 3, ""}};
  EXPECT_EQ(reporter.Admit(&cycle, 0), ReportDecision::kAllowListed);  // a member is listed

  NPlusOneFinding many = Finding("x/", 0, 0x33);
  many.kind = FindingKind::kTooManyStatements;
  EXPECT_EQ(reporter.Admit(&many, 0), ReportDecision::kReport);  // digest/table lists do not apply
  options.allow_list.routes = {"x/"};
  reporter.SetOptions(options);
  many.kind = FindingKind::kTooManyStatements;
  EXPECT_EQ(reporter.Admit(&many, kSec), ReportDecision::kAllowListed);
}

// End to end: a loop whose statements carry querylens_ignore is silenced;
// the other loop of the same unit is not.
std::vector<NPlusOneFinding> RunTwoLoops(const std::string& ignore_value) {
  NPlusOneDetector detector;
  testutil::NPlusOneFeed feed;
  std::vector<NPlusOneFinding> out;
  int64_t now = kSec;
  auto run = [&](const std::string& sql, uint64_t rows) {
    now = feed.Observe(detector, sql, {rows}, now + 100'000, &out);
  };
  const std::string tag = " /*querylens_ignore='" + ignore_value + "',route='products/'*/";
  run("SELECT `shop_product`.`id`, `shop_product`.`category_id` FROM `shop_product`" + tag, 12);
  for (int i = 0; i < 12; ++i) {
    run("SELECT `shop_category`.`name` FROM `shop_category` WHERE `shop_category`.`id` = " +
            std::to_string(i) + tag,
        1);
  }
  run("SELECT `shop_order`.`id` FROM `shop_order` /*route='products/'*/", 12);
  for (int i = 0; i < 12; ++i) {
    run("SELECT `shop_orderitem`.`id` FROM `shop_orderitem` WHERE `shop_orderitem`.`order_id` = " +
            std::to_string(i) + " /*route='products/'*/",
        1);
  }
  detector.Close(&out);
  return out;
}

TEST(NPlusOneReporter, QuerylensIgnoreSilencesOneCallSite) {
  NPlusOneReporter reporter;
  std::vector<NPlusOneFinding> findings = RunTwoLoops("1");
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_TRUE(findings[0].silenced);
  EXPECT_EQ(reporter.Admit(&findings[0], 0), ReportDecision::kSilenced);
  EXPECT_FALSE(findings[1].silenced);
  EXPECT_EQ(reporter.Admit(&findings[1], 0), ReportDecision::kReport);

  for (const char* no : {"0", "false", "off", "no"}) {
    for (NPlusOneFinding& f : RunTwoLoops(no)) EXPECT_FALSE(f.silenced) << no;
  }
}

}  // namespace
}  // namespace ql::analyzer
