// The N+1 detector flags every kind of finding on synthetic statement
// sequences shaped like Django 3.2 on MySQL/MariaDB (app label "shop":
// Category, Product, Order, OrderItem, auth users): N+1 with its parent and
// confidence, duplicates next to it, repeated cycles, opt-in write loops and
// too many statements in one unit.
#include <string>
#include <vector>

#include "analyzer/n_plus_one_detector.h"
#include "gtest/gtest.h"
#include "tests/unit/n_plus_one_feed.h"

namespace ql::analyzer {
namespace {

// Feeds SQL text through the analyzer into one session's detector, on a
// synthetic monotonic clock (each statement starts gap_ms after the last).
class Session {
 public:
  explicit Session(NPlusOneOptions options = {}) : detector(options) {
    feed.base.schema = "shop";
    feed.base.user = "app";
    feed.base.session_id = 7;
    feed.base.backend_role = BackendRole::kReplica;
  }

  Session& Run(const std::string& sql, uint64_t rows = 1, double ms = 1.0, double gap_ms = 0.1,
               uint64_t affected = 0) {
    now += static_cast<int64_t>(gap_ms * 1e6);
    now = feed.Observe(detector, sql, {rows, affected, 0, static_cast<uint64_t>(ms * 1e6)}, now,
                       &findings);
    return *this;
  }
  Session& Close() {
    detector.Close(&findings);
    return *this;
  }
  std::vector<const NPlusOneFinding*> Of(FindingKind kind) const {
    std::vector<const NPlusOneFinding*> out;
    for (const NPlusOneFinding& f : findings) {
      if (f.kind == kind) out.push_back(&f);
    }
    return out;
  }

  NPlusOneDetector detector;
  testutil::NPlusOneFeed feed;
  std::vector<NPlusOneFinding> findings;
  int64_t now = 1'000'000'000;
};

const std::string kProducts =
    "SELECT `shop_product`.`id`, `shop_product`.`name`, `shop_product`.`price`, "
    "`shop_product`.`category_id` FROM `shop_product`";
const std::string kOrders =
    "SELECT `shop_order`.`id`, `shop_order`.`user_id`, `shop_order`.`created_at` FROM `shop_order`";

std::string Category(int id) {
  return "SELECT `shop_category`.`id`, `shop_category`.`name` FROM `shop_category` WHERE "
         "`shop_category`.`id` = " +
         std::to_string(id) + " LIMIT 21";
}
std::string Tags(int product) {
  return "SELECT `shop_tag`.`id`, `shop_tag`.`name` FROM `shop_tag` INNER JOIN `shop_product_tags` "
         "ON (`shop_tag`.`id` = `shop_product_tags`.`tag_id`) WHERE "
         "`shop_product_tags`.`product_id` = " +
         std::to_string(product);
}
std::string Items(int order) {
  return "SELECT `shop_orderitem`.`id`, `shop_orderitem`.`order_id`, "
         "`shop_orderitem`.`product_id`, "
         "`shop_orderitem`.`quantity` FROM `shop_orderitem` WHERE `shop_orderitem`.`order_id` = " +
         std::to_string(order);
}
std::string Product(int id) {
  return "SELECT `shop_product`.`id`, `shop_product`.`name`, `shop_product`.`price`, "
         "`shop_product`.`category_id` FROM `shop_product` WHERE `shop_product`.`id` = " +
         std::to_string(id) + " LIMIT 21";
}

TEST(NPlusOneFindings, ForwardForeignKeyLoopWithRepeatedValuesIsNPlusOneAndDuplicate) {
  // 100 products, 20 categories: every category id comes back 5 times.
  Session s;
  s.Run(kProducts, 100, 2.0);
  for (int i = 0; i < 100; ++i) s.Run(Category(i % 20 + 1), 1, 0.3);
  s.Close();
  ASSERT_EQ(s.Of(FindingKind::kNPlusOne).size(), 1u);
  const NPlusOneFinding& f = *s.Of(FindingKind::kNPlusOne)[0];
  EXPECT_EQ(f.count, 100u);
  EXPECT_EQ(f.distinct_values, 20u);
  EXPECT_FALSE(f.distinct_estimated);
  EXPECT_EQ(f.confidence, Confidence::kHigh);
  EXPECT_TRUE(f.has_parent);
  EXPECT_EQ(f.parent_rows, 100u);
  EXPECT_EQ(f.parent_fingerprint,
            "select shop_product.id, shop_product.name, shop_product.price, "
            "shop_product.category_id from shop_product");
  EXPECT_EQ(f.fingerprint,
            "select shop_category.id, shop_category.name from shop_category where "
            "shop_category.id = ? limit ?");
  EXPECT_EQ(f.total_ns, 30'000'000u);
  EXPECT_EQ(f.max_ns, 300'000u);
  EXPECT_EQ(f.unit_statements, 101u);
  EXPECT_EQ(f.unit_db_ns, 32'000'000u);
  EXPECT_EQ(f.backend, BackendRole::kReplica);
  EXPECT_EQ(f.schema, "shop");
  EXPECT_EQ(f.user, "app");
  EXPECT_EQ(f.session_id, 7u);
  EXPECT_EQ(f.tables, std::vector<std::string>{"shop_category"});
  EXPECT_NE(f.suggestion.find(".select_related('category')"), std::string::npos) << f.suggestion;

  ASSERT_EQ(s.Of(FindingKind::kDuplicate).size(), 1u);
  const NPlusOneFinding& d = *s.Of(FindingKind::kDuplicate)[0];
  EXPECT_EQ(d.max_identical, 5u);
  EXPECT_EQ(d.digest, f.digest);
  EXPECT_EQ(d.confidence, Confidence::kHigh);
  EXPECT_TRUE(s.Of(FindingKind::kRepeatedCycle).empty());
  EXPECT_TRUE(s.Of(FindingKind::kTooManyStatements).size() == 1u);  // 101 > 50
}

TEST(NPlusOneFindings, ThresholdsCountOrTime) {
  // 5 fast repeats: neither 10 repeats nor 50 ms.
  Session fast;
  fast.Run(kOrders, 5);
  for (int i = 1; i <= 5; ++i) fast.Run(Items(i), 2, 0.5);
  fast.Close();
  EXPECT_TRUE(fast.Of(FindingKind::kNPlusOne).empty());

  // 5 slow repeats: 5 x 12 ms = 60 ms.
  Session slow;
  slow.Run(kOrders, 5);
  for (int i = 1; i <= 5; ++i) slow.Run(Items(i), 2, 12.0);
  slow.Close();
  ASSERT_EQ(slow.Of(FindingKind::kNPlusOne).size(), 1u);
  EXPECT_NE(
      slow.Of(FindingKind::kNPlusOne)[0]->suggestion.find("prefetch_related('orderitem_set')"),
      std::string::npos);

  // 4 slow repeats: under min_repeats.
  Session few;
  few.Run(kOrders, 4);
  for (int i = 1; i <= 4; ++i) few.Run(Items(i), 2, 40.0);
  few.Close();
  EXPECT_TRUE(few.Of(FindingKind::kNPlusOne).empty());

  // 10 fast repeats.
  Session ten;
  ten.Run(kOrders, 10);
  for (int i = 1; i <= 10; ++i) ten.Run(Items(i), 2, 0.2);
  ten.Close();
  EXPECT_EQ(ten.Of(FindingKind::kNPlusOne).size(), 1u);
}

TEST(NPlusOneFindings, SameValuesOnlyIsADuplicateNotAnNPlusOne) {
  Session s;
  s.Run(kOrders, 12);
  for (int i = 0; i < 12; ++i) s.Run(Category(3), 1, 0.2);
  s.Close();
  EXPECT_TRUE(s.Of(FindingKind::kNPlusOne).empty());
  ASSERT_EQ(s.Of(FindingKind::kDuplicate).size(), 1u);
  EXPECT_EQ(s.Of(FindingKind::kDuplicate)[0]->max_identical, 12u);
  EXPECT_EQ(s.Of(FindingKind::kDuplicate)[0]->distinct_values, 1u);

  Session two;  // twice is not yet a duplicate
  two.Run(Category(3)).Run(Category(3)).Close();
  EXPECT_TRUE(two.Of(FindingKind::kDuplicate).empty());
  Session three;
  three.Run(Category(3)).Run(Category(3)).Run(Category(3)).Close();
  EXPECT_EQ(three.Of(FindingKind::kDuplicate).size(), 1u);
}

TEST(NPlusOneFindings, ConfidenceFollowsParentRows) {
  // Parent returned fewer rows than repeats (several lookups per row): medium.
  Session medium;
  medium.Run(kOrders, 6);
  for (int i = 1; i <= 12; ++i) medium.Run(Items(i), 1, 0.2);
  medium.Close();
  ASSERT_EQ(medium.Of(FindingKind::kNPlusOne).size(), 1u);
  EXPECT_EQ(medium.Of(FindingKind::kNPlusOne)[0]->confidence, Confidence::kMedium);

  // No parent at all: low.
  Session low;
  for (int i = 1; i <= 12; ++i) low.Run(Items(i), 1, 0.2);
  low.Close();
  ASSERT_EQ(low.Of(FindingKind::kNPlusOne).size(), 1u);
  EXPECT_EQ(low.Of(FindingKind::kNPlusOne)[0]->confidence, Confidence::kLow);
  EXPECT_FALSE(low.Of(FindingKind::kNPlusOne)[0]->has_parent);

  // A one-row parent (objects came from elsewhere): low.
  Session one;
  one.Run(Product(1), 1);
  for (int i = 1; i <= 12; ++i) one.Run(Items(i), 1, 0.2);
  one.Close();
  ASSERT_EQ(one.Of(FindingKind::kNPlusOne).size(), 1u);
  EXPECT_EQ(one.Of(FindingKind::kNPlusOne)[0]->confidence, Confidence::kLow);
}

TEST(NPlusOneFindings, TwoRelationsPerObjectFormARepeatedCycle) {
  Session s;
  s.Run(kProducts, 30, 2.0);
  for (int i = 1; i <= 30; ++i) {
    s.Run(Category(i % 7 + 1), 1, 0.2);
    s.Run(Tags(i), 3, 0.3);
  }
  s.Close();
  ASSERT_EQ(s.Of(FindingKind::kRepeatedCycle).size(), 1u);
  const NPlusOneFinding& c = *s.Of(FindingKind::kRepeatedCycle)[0];
  EXPECT_EQ(c.count, 30u);
  EXPECT_EQ(c.statements, 60u);
  ASSERT_EQ(c.related.size(), 2u);
  EXPECT_EQ(c.related[0].count, 30u);
  EXPECT_EQ(c.confidence, Confidence::kHigh);
  EXPECT_EQ(c.parent_rows, 30u);
  EXPECT_NE(c.suggestion.find("select_related('category')"), std::string::npos) << c.suggestion;
  EXPECT_NE(c.suggestion.find("prefetch_related('tags')"), std::string::npos) << c.suggestion;
  EXPECT_EQ(c.tables, (std::vector<std::string>{"shop_category", "shop_tag", "shop_product_tags"}));

  // Each relation is also an N+1 of its own; the tag lookup's parent is the
  // product list, not the category lookup that happened to precede it.
  const auto n1 = s.Of(FindingKind::kNPlusOne);
  ASSERT_EQ(n1.size(), 2u);
  for (const NPlusOneFinding* f : n1) {
    EXPECT_EQ(f->parent_digest,
              DigestId("select shop_product.id, shop_product.name, "
                       "shop_product.price, shop_product.category_id from shop_product"));
    EXPECT_EQ(f->confidence, Confidence::kHigh);
  }
}

TEST(NPlusOneFindings, CycleNeedsThreeRoundsAndTheTimeGate) {
  Session two_rounds;
  two_rounds.Run(kProducts, 2);
  for (int i = 1; i <= 2; ++i) two_rounds.Run(Category(i), 1, 30.0).Run(Tags(i), 1, 30.0);
  two_rounds.Close();
  EXPECT_TRUE(two_rounds.Of(FindingKind::kRepeatedCycle).empty());

  Session slow;  // 3 rounds, 6 statements, 90 ms
  slow.Run(kProducts, 3);
  for (int i = 1; i <= 3; ++i) slow.Run(Category(i), 1, 15.0).Run(Tags(i), 1, 15.0);
  slow.Close();
  ASSERT_EQ(slow.Of(FindingKind::kRepeatedCycle).size(), 1u);
  EXPECT_EQ(slow.Of(FindingKind::kRepeatedCycle)[0]->count, 3u);

  Session fast;  // 3 rounds, 6 statements, 1.2 ms: under both gates
  fast.Run(kProducts, 3);
  for (int i = 1; i <= 3; ++i) fast.Run(Category(i), 1, 0.2).Run(Tags(i), 1, 0.2);
  fast.Close();
  EXPECT_TRUE(fast.Of(FindingKind::kRepeatedCycle).empty());
}

TEST(NPlusOneFindings, NestedLoopUsesTheInnerParentsRows) {
  // For each of 10 orders its items (2 each), for each item its product.
  Session s;
  s.Run(kOrders, 10);
  int product = 1;
  for (int o = 1; o <= 10; ++o) {
    s.Run(Items(o), 2, 0.3);
    for (int i = 0; i < 2; ++i) s.Run(Product(product++), 1, 0.3);
  }
  s.Close();
  const auto n1 = s.Of(FindingKind::kNPlusOne);
  ASSERT_EQ(n1.size(), 2u);
  const NPlusOneFinding& products = n1[1]->count == 20 ? *n1[1] : *n1[0];
  EXPECT_EQ(products.count, 20u);
  // The parent is the item query (20 rows over the unit), not the orders.
  EXPECT_EQ(products.parent_rows, 20u);
  EXPECT_EQ(products.confidence, Confidence::kHigh);
  EXPECT_NE(products.suggestion.find("select_related('product')"), std::string::npos)
      << products.suggestion;
}

TEST(NPlusOneFindings, WriteLoopsAreOptIn) {
  const auto run = [](Session& s) {
    s.Run(kOrders, 20);
    for (int i = 1; i <= 20; ++i) {
      s.Run("UPDATE `shop_order` SET `status` = 'paid' WHERE `shop_order`.`id` = " +
                std::to_string(i),
            0, 0.4, 0.1, 1);
    }
    s.Close();
  };
  Session off;
  run(off);
  EXPECT_TRUE(off.Of(FindingKind::kWriteLoop).empty());

  NPlusOneOptions options;
  options.detect_write_loops = true;
  Session on(options);
  run(on);
  ASSERT_EQ(on.Of(FindingKind::kWriteLoop).size(), 1u);
  EXPECT_EQ(on.Of(FindingKind::kWriteLoop)[0]->count, 20u);
  EXPECT_NE(on.Of(FindingKind::kWriteLoop)[0]->suggestion.find("bulk_update()"), std::string::npos);

  // An UPDATE that touched many rows in one of its executions is no per-row loop.
  Session multi(options);
  for (int i = 1; i <= 20; ++i) {
    multi.Run("UPDATE `shop_order` SET `status` = 'paid' WHERE `shop_order`.`user_id` = " +
                  std::to_string(i),
              0, 0.4, 0.1, i == 3 ? 40 : 1);
  }
  multi.Close();
  EXPECT_TRUE(multi.Of(FindingKind::kWriteLoop).empty());
}

TEST(NPlusOneFindings, InsertLoopSuggestsBulkCreate) {
  NPlusOneOptions options;
  options.detect_write_loops = true;
  Session s(options);
  for (int i = 1; i <= 12; ++i) {
    s.Run("INSERT INTO `shop_orderitem` (`order_id`, `product_id`, `quantity`) VALUES (1, " +
              std::to_string(i) + ", 1) RETURNING `shop_orderitem`.`id`",
          1, 0.3, 0.1, 0);  // RETURNING: one row back, an affected count of 0
  }
  s.Close();
  ASSERT_EQ(s.Of(FindingKind::kWriteLoop).size(), 1u);
  EXPECT_NE(s.Of(FindingKind::kWriteLoop)[0]->suggestion.find(
                "bulk_create() for the shop_orderitem rows"),
            std::string::npos);
}

// Django's bulk_create(batch_size=300) on MariaDB: multi-row INSERTs with
// RETURNING, one result row per written row. That is the fix, not a loop.
TEST(NPlusOneFindings, BulkCreateBatchesAreNoWriteLoop) {
  NPlusOneOptions options;
  options.detect_write_loops = true;
  Session s(options);
  for (int batch = 0; batch < 10; ++batch) {
    std::string sql = "INSERT INTO `shop_orderitem` (`order_id`, `product_id`, `quantity`) VALUES ";
    for (int row = 0; row < 300; ++row) {
      sql += (row ? ", (1, " : "(1, ") + std::to_string(batch * 300 + row) + ", 1)";
    }
    s.Run(sql + " RETURNING `shop_orderitem`.`id`", 300, 20.0, 0.1, 0);
  }
  s.Close();
  EXPECT_TRUE(s.Of(FindingKind::kWriteLoop).empty());
}

TEST(NPlusOneFindings, TooManyStatementsListsTheMostRepeated) {
  Session s;
  for (int i = 0; i < 30; ++i) s.Run(Category(i), 1, 0.1);
  for (int i = 0; i < 15; ++i) s.Run(Items(i), 1, 0.1);
  for (int i = 0; i < 6; ++i)
    s.Run("SELECT `t" + std::to_string(i) + "`.`a` FROM `t" + std::to_string(i) + "`");
  s.Close();
  ASSERT_EQ(s.Of(FindingKind::kTooManyStatements).size(), 1u);
  const NPlusOneFinding& f = *s.Of(FindingKind::kTooManyStatements)[0];
  EXPECT_EQ(f.count, 51u);
  EXPECT_EQ(f.confidence, Confidence::kHigh);
  ASSERT_EQ(f.related.size(), 5u);
  EXPECT_EQ(f.related[0].count, 30u);
  EXPECT_EQ(f.related[1].count, 15u);
  EXPECT_EQ(f.related[2].count, 1u);
  EXPECT_EQ(f.digest, f.related[0].digest);

  Session fifty;
  for (int i = 0; i < 50; ++i) fifty.Run(Category(3), 1, 0.1);
  fifty.Close();
  EXPECT_TRUE(fifty.Of(FindingKind::kTooManyStatements).empty());
}

TEST(NPlusOneFindings, TooManyStatementsMaxIsTheSlowestOfAll) {
  Session s;
  s.Run("SELECT SLEEP(0.3) FROM dual", 1, 300.0);  // once: not among the listed five
  for (int k = 0; k < 6; ++k) {
    for (int j = 0; j < 3; ++j) s.Run("SELECT " + std::to_string(j) + " AS c" + std::to_string(k) +
                                      " FROM `t`", 1, 0.2);
  }
  for (int i = 0; i < 40; ++i) s.Run(Category(i), 1, 0.2);
  s.Close();
  ASSERT_EQ(s.Of(FindingKind::kTooManyStatements).size(), 1u);
  const NPlusOneFinding& f = *s.Of(FindingKind::kTooManyStatements)[0];
  ASSERT_EQ(f.related.size(), 5u);
  EXPECT_EQ(f.max_ns, 300'000'000u);
  EXPECT_GE(f.max_ns, f.total_ns / f.count);
}

TEST(NPlusOneFindings, EstimatedDistinctValuesNeverExceedTheRepeats) {
  // Past 32 value sets the count is estimated; it must not say more
  // distinct values than there were repeats.
  for (int n = 33; n <= 80; ++n) {
    Session s;
    s.Run(kProducts, uint64_t(n));
    for (int i = 0; i < n; ++i) s.Run(Category(1000 + i), 1, 0.3);
    s.Close();
    const auto found = s.Of(FindingKind::kNPlusOne);
    ASSERT_EQ(found.size(), 1u) << n;
    EXPECT_TRUE(found[0]->distinct_estimated) << n;
    EXPECT_LE(found[0]->distinct_values, found[0]->count) << n;
    EXPECT_GT(found[0]->distinct_values, 32u) << n;
  }
}

TEST(NPlusOneFindings, InterleavedOtherQueriesDoNotHideTheLoop) {
  // Sentry's detector loses the run when other spans interleave; counting per
  // fingerprint over the unit does not.
  Session s;
  s.Run(kProducts, 12);
  for (int i = 1; i <= 12; ++i) {
    s.Run(Category(i), 1, 0.2);
    if (i % 3 == 0)
      s.Run(
          "SELECT `django_session`.`session_data` FROM `django_session` WHERE "
          "`django_session`.`session_key` = 'k'");
    s.Run("SAVEPOINT `s1_x" + std::to_string(i) + "`");
  }
  s.Close();
  ASSERT_EQ(s.Of(FindingKind::kNPlusOne).size(), 1u);
  EXPECT_EQ(s.Of(FindingKind::kNPlusOne)[0]->count, 12u);
}

}  // namespace
}  // namespace ql::analyzer
