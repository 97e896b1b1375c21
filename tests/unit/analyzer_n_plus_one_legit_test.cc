// Legitimate repetition the N+1 detector must not flag: pagination (offset
// and keyset), chunked batch jobs, batch reads of many rows, once-per-request
// lookups on one persistent connection (split by idle gaps, trace ids or
// routes), locking reads, session set-up, and the fixed versions of the
// Django loops (select_related / prefetch_related).
#include <cstdio>
#include <string>
#include <vector>

#include "analyzer/n_plus_one_detector.h"
#include "gtest/gtest.h"
#include "tests/unit/n_plus_one_feed.h"

namespace ql::analyzer {
namespace {

class Session {
 public:
  explicit Session(NPlusOneOptions options = {}) : detector(options) {
    feed.base.schema = "shop";
    feed.base.user = "app";
    feed.base.session_id = 9;
  }

  Session& Run(const std::string& sql, uint64_t rows = 1, double ms = 0.3, double gap_ms = 0.1,
               uint16_t error_code = 0) {
    now += static_cast<int64_t>(gap_ms * 1e6);
    now = feed.Observe(detector, sql, {rows, 0, error_code, static_cast<uint64_t>(ms * 1e6)}, now,
                       &findings);
    return *this;
  }
  Session& Close() {
    detector.Close(&findings);
    return *this;
  }
  // Findings other than too_many_statements (not what these tests are about).
  std::vector<std::string> Loops() const {
    std::vector<std::string> out;
    for (const NPlusOneFinding& f : findings) {
      if (f.kind != FindingKind::kTooManyStatements) {
        out.push_back(std::string(FindingKindName(f.kind)) + " " + f.fingerprint);
      }
    }
    return out;
  }

  NPlusOneDetector detector;
  testutil::NPlusOneFeed feed;
  std::vector<NPlusOneFinding> findings;
  int64_t now = 1'000'000'000;
};

const std::string kProductColumns =
    "SELECT `shop_product`.`id`, `shop_product`.`name`, `shop_product`.`price`, "
    "`shop_product`.`category_id` FROM `shop_product`";

std::string N(long v) { return std::to_string(v); }

TEST(NPlusOneLegit, OffsetPaginationIsNotAnNPlusOne) {
  // Django's Paginator: page 1 has no OFFSET, the last page a shorter LIMIT.
  Session s;
  s.Run("SELECT COUNT(*) AS `__count` FROM `shop_product`");
  s.Run(kProductColumns + " ORDER BY `shop_product`.`id` ASC LIMIT 20", 20);
  for (int page = 1; page < 30; ++page) {
    const int limit = page == 29 ? 7 : 20;
    s.Run(kProductColumns + " ORDER BY `shop_product`.`id` ASC LIMIT " + N(limit) + " OFFSET " +
              N(page * 20),
          limit);
  }
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
}

TEST(NPlusOneLegit, MySqlStyleOffsetAndFilteredPagesAreNotAnNPlusOne) {
  Session s;
  for (int page = 0; page < 25; ++page) {
    s.Run(kProductColumns +
              " WHERE `shop_product`.`category_id` = 3 ORDER BY `shop_product`.`id` LIMIT " +
              N(page * 50) + ", 50",
          50);
  }
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
}

TEST(NPlusOneLegit, KeysetPaginationIsNotAnNPlusOne) {
  Session s;
  for (int page = 0; page < 30; ++page) {
    s.Run(kProductColumns + " WHERE (`shop_product`.`active` AND `shop_product`.`id` > " +
              N(page * 100) + ") ORDER BY `shop_product`.`id` ASC LIMIT 100",
          100, 2.0);
  }
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
}

TEST(NPlusOneLegit, ThePageOfEachObjectStillIsAnNPlusOne) {
  // A per-object "first 3 items" query has a LIMIT but its filter moves:
  // pagination logic must not hide it.
  Session s;
  s.Run("SELECT `shop_order`.`id` FROM `shop_order`", 12);
  for (int order = 1; order <= 12; ++order) {
    s.Run(
        "SELECT `shop_orderitem`.`id` FROM `shop_orderitem` WHERE `shop_orderitem`.`order_id` = " +
            N(order) + " ORDER BY `shop_orderitem`.`id` ASC LIMIT 3 OFFSET 0",
        3);
  }
  s.Close();
  ASSERT_EQ(s.Loops().size(), 1u);
  EXPECT_EQ(s.Loops()[0].substr(0, 10), "n_plus_one");
}

TEST(NPlusOneLegit, SamePageFetchedAgainIsADuplicateNotAnNPlusOne) {
  Session s;
  for (int i = 0; i < 3; ++i)
    s.Run(kProductColumns + " ORDER BY `shop_product`.`id` LIMIT 20 OFFSET 40", 20);
  s.Close();
  ASSERT_EQ(s.Loops().size(), 1u);
  EXPECT_EQ(s.Loops()[0].substr(0, 9), "duplicate");
}

TEST(NPlusOneLegit, ChunkedInListBatchesAreNotAnNPlusOne) {
  // A batch job walking ids in chunks of 100 (the last one shorter).
  Session s;
  for (int chunk = 0; chunk < 30; ++chunk) {
    std::string in;
    const int size = chunk == 29 ? 37 : 100;
    for (int i = 0; i < size; ++i) in += (i ? ", " : "") + N(chunk * 100 + i + 1);
    s.Run(kProductColumns + " WHERE `shop_product`.`id` IN (" + in + ")", size, 3.0);
  }
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];

  // Small chunks of 25 are still batches.
  Session small;
  for (int chunk = 0; chunk < 30; ++chunk) {
    std::string in;
    for (int i = 0; i < 25; ++i) in += (i ? ", " : "") + N(chunk * 25 + i + 1);
    small.Run(kProductColumns + " WHERE `shop_product`.`id` IN (" + in + ")", 25, 3.0);
  }
  small.Close();
  EXPECT_TRUE(small.Loops().empty()) << small.Loops()[0];
}

TEST(NPlusOneLegit, RepeatsReturningManyRowsAreBatchWork) {
  Session s;
  for (int day = 1; day <= 20; ++day) {
    s.Run(
        "SELECT `shop_order`.`id`, `shop_order`.`total` FROM `shop_order` WHERE "
        "`shop_order`.`day` = " +
            N(day),
        800, 5.0);
  }
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
}

// One request of a Django view: session, user, products and a category each.
void Request(Session& s, int n, const std::string& comment, double gap_ms) {
  s.Run(
      "SELECT `django_session`.`session_key`, `django_session`.`session_data` FROM "
      "`django_session` WHERE (`django_session`.`expire_date` > '2026-11-24 10:00:" +
          N(10 + n) + "' AND `django_session`.`session_key` = 'k" + N(n) + "') LIMIT 21" + comment,
      1, 0.3, gap_ms);
  s.Run(
      "SELECT `auth_user`.`id`, `auth_user`.`username` FROM `auth_user` WHERE `auth_user`.`id` = " +
      N(n) + " LIMIT 21" + comment);
  s.Run(kProductColumns + " WHERE `shop_product`.`id` = " + N(100 + n) + " LIMIT 21" + comment);
  s.Run(
      "SELECT `shop_category`.`id`, `shop_category`.`name` FROM `shop_category` WHERE "
      "`shop_category`.`id` = " +
      N(n % 4) + " LIMIT 21" + comment);
}

TEST(NPlusOneLegit, PerRequestLookupsSplitByIdleGaps) {
  Session s;
  for (int n = 0; n < 30; ++n) Request(s, n, "", 600.0);
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
  EXPECT_EQ(s.detector.units_started(), 30u);

  // The same requests back to back, without tags, merge into one unit:
  // this is why the boundaries matter.
  Session merged;
  for (int n = 0; n < 30; ++n) Request(merged, n, "", 5.0);
  merged.Close();
  EXPECT_FALSE(merged.Loops().empty());
}

std::string TraceComment(int n, const char* route) {
  char trace[33];
  std::snprintf(trace, sizeof(trace), "%032x", n + 1);
  return std::string(" /*route='") + route + "',traceparent='00-" + trace +
         "-00f067aa0ba902b7-01'*/";
}

TEST(NPlusOneLegit, PerRequestLookupsSplitByTraceIds) {
  Session s;
  for (int n = 0; n < 30; ++n) Request(s, n, TraceComment(n, "products/"), 2.0);
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
  EXPECT_EQ(s.detector.units_started(), 30u);
}

TEST(NPlusOneLegit, PerRequestLookupsSplitByRoutes) {
  Session s;
  for (int n = 0; n < 30; ++n) {
    Request(s, n, n % 2 ? " /*route='products/'*/" : " /*route='orders/'*/", 2.0);
  }
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
  EXPECT_EQ(s.detector.units_started(), 30u);
}

TEST(NPlusOneLegit, LockingReadsAreNotCandidates) {
  Session s;
  s.Run("SELECT `shop_order`.`id` FROM `shop_order` WHERE `shop_order`.`paid` = 0 FOR UPDATE", 20);
  for (int i = 1; i <= 20; ++i) {
    s.Run(
        "SELECT `shop_product`.`id`, `shop_product`.`stock` FROM `shop_product` WHERE "
        "`shop_product`.`id` = " +
            N(i) + " FOR UPDATE",
        1, 1.0);
  }
  for (int i = 1; i <= 4; ++i)
    s.Run(
        "SELECT `shop_product`.`stock` FROM `shop_product` WHERE `shop_product`.`id` = 1 FOR "
        "UPDATE");
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
}

TEST(NPlusOneLegit, SessionSetUpAndTransactionControlAreNotCandidates) {
  Session s;
  for (int i = 0; i < 20; ++i) {
    s.Run("SELECT @@SQL_MODE").Run("SET autocommit=0").Run("SAVEPOINT `s1_x" + N(i) + "`");
    s.Run("SELECT VERSION()")
        .Run("SELECT 1")
        .Run("RELEASE SAVEPOINT `s1_x" + N(i) + "`")
        .Run("COMMIT");
  }
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
}

TEST(NPlusOneLegit, FixedDjangoQueriesAreNotFlagged) {
  Session s;
  // Product.objects.select_related('category'): one JOIN.
  s.Run(
      "SELECT `shop_product`.`id`, `shop_product`.`name`, `shop_product`.`category_id`, "
      "`shop_category`.`id`, `shop_category`.`name` FROM `shop_product` INNER JOIN `shop_category` "
      "ON (`shop_product`.`category_id` = `shop_category`.`id`)",
      100, 3.0);
  // Order.objects.prefetch_related('orderitem_set'): two queries.
  s.Run("SELECT `shop_order`.`id`, `shop_order`.`user_id` FROM `shop_order`", 40, 1.0);
  s.Run(
      "SELECT `shop_orderitem`.`id`, `shop_orderitem`.`order_id` FROM `shop_orderitem` WHERE "
      "`shop_orderitem`.`order_id` IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)",
      120, 2.0);
  s.Close();
  EXPECT_TRUE(s.findings.empty());
}

TEST(NPlusOneLegit, FailedStatementsAreNotCandidates) {
  Session s;
  for (int i = 1; i <= 20; ++i) {
    const std::string sql =
        "SELECT `shop_product`.`id` FROM `shop_product` WHERE `shop_product`.`id` = " + N(i);
    s.Run(sql, 0, 1.0, 0.1, 1146);
  }
  s.Close();
  EXPECT_TRUE(s.Loops().empty()) << s.Loops()[0];
}

}  // namespace
}  // namespace ql::analyzer
