// Statement shapes read from fingerprints, and the wording of suggested fixes
// for the SQL that Django 3.2 sends through mysqlclient (back-quoted names,
// app label "shop": Category, Product with a category FK and tags M2M,
// Order with a user FK, OrderItem with order and product FKs).
#include <string>
#include <vector>

#include "analyzer/n_plus_one_detector.h"
#include "analyzer/n_plus_one_shape.h"
#include "analyzer/n_plus_one_suggest.h"
#include "analyzer/statement_analyzer.h"
#include "gtest/gtest.h"
#include "tests/unit/n_plus_one_feed.h"

namespace ql::analyzer {
namespace {

std::string Fingerprint(const std::string& sql) {
  StatementAnalyzer analyzer;
  return std::string(analyzer.Analyze(sql).fingerprint);
}

StatementShape ShapeOf(const std::string& sql) {
  StatementShape shape;
  shape.Parse(Fingerprint(sql));
  return shape;
}

std::string Fix(FindingKind kind, const std::string& repeated, const std::string& parent = "") {
  const StatementShape r = ShapeOf(repeated);
  if (parent.empty()) return SuggestFix(kind, r, nullptr);
  const StatementShape p = ShapeOf(parent);
  return SuggestFix(kind, r, &p);
}

const std::string kProducts =
    "SELECT `shop_product`.`id`, `shop_product`.`name`, `shop_product`.`price`, "
    "`shop_product`.`category_id` FROM `shop_product` ORDER BY `shop_product`.`name` ASC";
const std::string kCategory =
    "SELECT `shop_category`.`id`, `shop_category`.`name` FROM `shop_category` WHERE "
    "`shop_category`.`id` = 3 LIMIT 21";
const std::string kOrders =
    "SELECT `shop_order`.`id`, `shop_order`.`user_id`, `shop_order`.`created_at`, "
    "`shop_order`.`status` FROM `shop_order` WHERE `shop_order`.`status` = 'paid'";
const std::string kItems =
    "SELECT `shop_orderitem`.`id`, `shop_orderitem`.`order_id`, `shop_orderitem`.`product_id`, "
    "`shop_orderitem`.`quantity` FROM `shop_orderitem` WHERE `shop_orderitem`.`order_id` = 7";
const std::string kItemCount =
    "SELECT COUNT(*) AS `__count` FROM `shop_orderitem` WHERE `shop_orderitem`.`order_id` = 7";
const std::string kTags =
    "SELECT `shop_tag`.`id`, `shop_tag`.`name` FROM `shop_tag` INNER JOIN `shop_product_tags` ON "
    "(`shop_tag`.`id` = `shop_product_tags`.`tag_id`) WHERE `shop_product_tags`.`product_id` = 5";
const std::string kUser =
    "SELECT `auth_user`.`id`, `auth_user`.`password`, `auth_user`.`last_login`, "
    "`auth_user`.`is_superuser`, `auth_user`.`username` FROM `auth_user` WHERE `auth_user`.`id` = "
    "4 "
    "LIMIT 21";

TEST(NPlusOneShape, ReadsDjangoSelects) {
  const StatementShape products = ShapeOf(kProducts);
  EXPECT_EQ(products.verb(), StatementShape::Verb::kSelect);
  EXPECT_EQ(products.main_table(), "shop_product");
  EXPECT_EQ(products.select_items(), 4u);
  ASSERT_EQ(products.column_count(), 4u);
  EXPECT_EQ(products.column(3).table, "shop_product");
  EXPECT_EQ(products.column(3).name, "category_id");
  EXPECT_TRUE(products.has_order_by());
  EXPECT_FALSE(products.has_value_equality());

  const StatementShape category = ShapeOf(kCategory);
  EXPECT_TRUE(category.IsPrimaryKeyLookup());
  EXPECT_TRUE(category.has_limit());
  EXPECT_EQ(category.ForeignKeyFilter(), "");

  const StatementShape items = ShapeOf(kItems);
  EXPECT_FALSE(items.IsPrimaryKeyLookup());
  EXPECT_EQ(items.ForeignKeyFilter(), "order_id");

  const StatementShape count = ShapeOf(kItemCount);
  EXPECT_TRUE(count.count_star());
  EXPECT_EQ(count.ForeignKeyFilter(), "order_id");

  const StatementShape tags = ShapeOf(kTags);
  EXPECT_EQ(tags.main_table(), "shop_tag");
  EXPECT_EQ(tags.join_table(), "shop_product_tags");
  ASSERT_EQ(tags.table_count(), 2u);
  EXPECT_EQ(tags.value_equality().table, "shop_product_tags");
  EXPECT_EQ(tags.value_equality().name, "product_id");
  EXPECT_EQ(tags.where_comparisons(), 1u);
}

TEST(NPlusOneShape, ReadsWritesQualifiedNamesAndSubqueries) {
  EXPECT_EQ(ShapeOf("INSERT INTO `shop_orderitem` (`order_id`, `quantity`) VALUES (1, 2) "
                    "RETURNING `shop_orderitem`.`id`")
                .main_table(),
            "shop_orderitem");
  EXPECT_EQ(ShapeOf("INSERT INTO `shop_orderitem` (`order_id`) VALUES (1)").verb(),
            StatementShape::Verb::kInsert);
  const StatementShape update =
      ShapeOf("UPDATE `shop_product` SET `price` = 3 WHERE `shop_product`.`id` = 4");
  EXPECT_EQ(update.verb(), StatementShape::Verb::kUpdate);
  EXPECT_EQ(update.main_table(), "shop_product");
  EXPECT_EQ(update.value_equality().name, "id");
  EXPECT_EQ(ShapeOf("DELETE FROM `shop_cart` WHERE `shop_cart`.`id` IN (4)").main_table(),
            "shop_cart");

  const StatementShape qualified = ShapeOf(
      "SELECT a.id FROM shop.a AS x LEFT OUTER JOIN shop.b ON (x.id = b.a_id) WHERE x.id = 1");
  EXPECT_EQ(qualified.main_table(), "a");
  EXPECT_EQ(qualified.join_table(), "b");

  const StatementShape sub =
      ShapeOf("SELECT t.id FROM t WHERE t.id IN (SELECT u.t_id FROM u WHERE u.x = 1)");
  EXPECT_TRUE(sub.has_subquery());
  EXPECT_FALSE(sub.IsPrimaryKeyLookup());

  const StatementShape several = ShapeOf("SELECT t.id FROM t WHERE (t.id = 1 AND t.owner_id = 2)");
  EXPECT_EQ(several.where_comparisons(), 2u);
  EXPECT_FALSE(several.IsPrimaryKeyLookup());
  EXPECT_EQ(ShapeOf("SELECT x FROM `odd name` WHERE `weird-col` = 1").main_table(), "odd name");
  EXPECT_EQ(ShapeOf("SELECT 1").main_table(), "");
}

TEST(NPlusOneShape, ModelNames) {
  EXPECT_EQ(ModelNameOf("shop_orderitem"), "orderitem");
  EXPECT_EQ(ModelNameOf("my_shop_category"), "category");
  EXPECT_EQ(ModelNameOf("auth_user"), "user");
  EXPECT_EQ(ModelNameOf("products"), "products");
  EXPECT_EQ(ModelNameOf("odd_"), "odd_");
}

TEST(NPlusOneSuggest, ForwardForeignKeyIsSelectRelated) {
  EXPECT_EQ(Fix(FindingKind::kNPlusOne, kCategory, kProducts),
            "consider .select_related('category') on the queryset that loads shop_product "
            "(plain SQL: one query with a JOIN to shop_category)");
  EXPECT_EQ(Fix(FindingKind::kNPlusOne, kUser, kOrders),
            "consider .select_related('user') on the queryset that loads shop_order "
            "(plain SQL: one query with a JOIN to auth_user)");
  // From an order item: product_id among order_id / product_id.
  EXPECT_NE(
      Fix(FindingKind::kNPlusOne,
          "SELECT `shop_product`.`id` FROM `shop_product` WHERE `shop_product`.`id` = 1 LIMIT 21",
          kItems)
          .find(".select_related('product') on the queryset that loads shop_orderitem"),
      std::string::npos);
  // A field not named after the model.
  const std::string orders_with_address =
      "SELECT `shop_order`.`id`, `shop_order`.`user_id`, `shop_order`.`shipping_address_id` FROM "
      "`shop_order`";
  const std::string address =
      "SELECT `shop_address`.`id`, `shop_address`.`city` FROM `shop_address` WHERE "
      "`shop_address`.`id` = 9 LIMIT 21";
  EXPECT_NE(Fix(FindingKind::kNPlusOne, address, orders_with_address)
                .find("select_related('shipping_address')"),
            std::string::npos);
  // No parent: the model name, and both plain-SQL options.
  EXPECT_EQ(Fix(FindingKind::kNPlusOne, kCategory),
            "consider .select_related('category') on the queryset whose rows trigger these queries "
            "(plain SQL: a JOIN to shop_category, or one IN (...) query on shop_category.id)");
}

TEST(NPlusOneSuggest, ReverseForeignKeyIsPrefetchRelated) {
  EXPECT_EQ(Fix(FindingKind::kNPlusOne, kItems, kOrders),
            "consider .prefetch_related('orderitem_set') on the queryset that loads shop_order "
            "(Django's default accessor; use the related_name if the ForeignKey sets one) "
            "(plain SQL: one query with shop_orderitem.order_id IN (...))");
}

TEST(NPlusOneSuggest, ManyToManyIsPrefetchRelatedFromEitherSide) {
  EXPECT_EQ(
      Fix(FindingKind::kNPlusOne, kTags, kProducts),
      "consider .prefetch_related('tags') on the queryset that loads shop_product "
      "(plain SQL: one IN (...) query on shop_product_tags.product_id for all rows, joined to "
      "shop_tag)");
  const std::string tags = "SELECT `shop_tag`.`id`, `shop_tag`.`name` FROM `shop_tag`";
  const std::string products_of_tag =
      "SELECT `shop_product`.`id`, `shop_product`.`name` FROM `shop_product` INNER JOIN "
      "`shop_product_tags` ON (`shop_product`.`id` = `shop_product_tags`.`product_id`) WHERE "
      "`shop_product_tags`.`tag_id` = 2";
  EXPECT_NE(
      Fix(FindingKind::kNPlusOne, products_of_tag, tags)
          .find("consider .prefetch_related('product_set') on the queryset that loads shop_tag"),
      std::string::npos);
  // A custom through table: no name to derive.
  const std::string members =
      "SELECT `shop_group`.`id` FROM `shop_group` INNER JOIN `shop_membership` ON "
      "(`shop_group`.`id` = `shop_membership`.`group_id`) WHERE `shop_membership`.`person_id` = 2";
  EXPECT_NE(
      Fix(FindingKind::kNPlusOne, members, "SELECT `shop_person`.`id` FROM `shop_person`")
          .find("consider .prefetch_related() on the many-to-many relation to shop_group (through "
                "shop_membership)"),
      std::string::npos);
}

TEST(NPlusOneSuggest, CountPerObjectIsAnnotate) {
  EXPECT_EQ(Fix(FindingKind::kNPlusOne, kItemCount, kOrders),
            "consider .annotate(orderitem_count=Count('orderitem')) on the queryset that loads "
            "shop_order instead of one COUNT per row (Django's default query name; use the "
            "related_name if the ForeignKey sets one) (plain SQL: one query with GROUP BY "
            "shop_orderitem.order_id)");
}

TEST(NPlusOneSuggest, DeferredColumnIsOnlyOrDefer) {
  const std::string only_name =
      "SELECT `shop_product`.`id`, `shop_product`.`name` FROM `shop_product`";
  const std::string reload =
      "SELECT `shop_product`.`id`, `shop_product`.`description` FROM `shop_product` WHERE "
      "`shop_product`.`id` = 5 LIMIT 21";
  EXPECT_EQ(Fix(FindingKind::kNPlusOne, reload, only_name),
            "the loop loads 'description' of shop_product one row at a time, as Django does for "
            "deferred fields: consider removing it from .defer() or adding it to .only() on the "
            "queryset that loads shop_product (plain SQL: select the column in the first query)");
}

TEST(NPlusOneSuggest, WriteLoopsAreBulkOperations) {
  EXPECT_EQ(
      Fix(FindingKind::kWriteLoop,
          "INSERT INTO `shop_orderitem` (`order_id`, `product_id`, `quantity`) VALUES (1, 2, 3)"),
      "consider bulk_create() for the shop_orderitem rows instead of saving them one at a time "
      "(plain SQL: one multi-row INSERT)");
  EXPECT_EQ(
      Fix(FindingKind::kWriteLoop,
          "UPDATE `shop_product` SET `price` = 3 WHERE `shop_product`.`id` = 4"),
      "consider QuerySet.update() or bulk_update() for the shop_product rows instead of saving "
      "them one at a time (plain SQL: one UPDATE ... WHERE id IN (...), or one UPDATE with CASE)");
  EXPECT_EQ(
      Fix(FindingKind::kWriteLoop, "DELETE FROM `shop_cart` WHERE `shop_cart`.`id` IN (4)"),
      "consider .filter(pk__in=[...]).delete() for the shop_cart rows instead of deleting them "
      "one at a time (plain SQL: one DELETE ... WHERE id IN (...))");
}

TEST(NPlusOneSuggest, DuplicatesAndOtherShapes) {
  EXPECT_EQ(Fix(FindingKind::kDuplicate, kCategory, kProducts),
            "the same query with the same values runs repeatedly in one unit of work: consider "
            "reusing the first result (keep the loaded object, or cache it for the request), or "
            ".select_related('category') on the queryset that loads shop_product");
  EXPECT_EQ(Fix(FindingKind::kDuplicate, kItems, kOrders),
            "the same query with the same values runs repeatedly in one unit of work: consider "
            "reusing the first result (keep the loaded object, or cache it for the request)");
  EXPECT_EQ(
      Fix(FindingKind::kNPlusOne, "SELECT `p`.`amount` FROM `shop_price` `p` WHERE `p`.`sku` = 'a'",
          kProducts),
      "consider loading these rows for all parent rows at once (plain SQL: one IN (...) query, "
      "or a JOIN into the parent query)");
  EXPECT_NE(Fix(FindingKind::kTooManyStatements, kCategory).find("consider batching"),
            std::string::npos);
}

TEST(NPlusOneSuggest, AppendDistinctSuggestion) {
  std::string joined;
  AppendDistinctSuggestion("a b", &joined);
  AppendDistinctSuggestion("", &joined);
  AppendDistinctSuggestion("a b", &joined);
  AppendDistinctSuggestion("c", &joined);
  EXPECT_EQ(joined, "a b; c");
}

// End to end through the detector: the parent and its rows come from the
// unit, the wording from the kept texts.
TEST(NPlusOneSuggest, DetectorWordsTheDjangoLoops) {
  NPlusOneDetector detector;
  testutil::NPlusOneFeed feed;
  std::vector<NPlusOneFinding> out;
  int64_t now = 1'000'000'000;
  auto run = [&](const std::string& sql, uint64_t rows) {
    feed.Observe(detector, sql, {rows, 0, 0, 250'000}, now += 400'000, &out);
  };
  run(kOrders, 15);
  for (int o = 1; o <= 15; ++o) {
    run("SELECT COUNT(*) AS `__count` FROM `shop_orderitem` WHERE `shop_orderitem`.`order_id` = " +
            std::to_string(o),
        1);
  }
  run("SELECT `shop_product`.`id`, `shop_product`.`name` FROM `shop_product`", 11);
  for (int p = 1; p <= 11; ++p) {
    run("SELECT `shop_product`.`id`, `shop_product`.`description` FROM `shop_product` WHERE "
        "`shop_product`.`id` = " +
            std::to_string(p) + " LIMIT 21",
        1);
  }
  detector.Close(&out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(
      out[0].suggestion.starts_with("consider .annotate(orderitem_count=Count('orderitem')) on the "
                                    "queryset that loads shop_order"))
      << out[0].suggestion;
  EXPECT_EQ(out[0].parent_rows, 15u);
  EXPECT_EQ(out[0].confidence, Confidence::kHigh);
  EXPECT_TRUE(out[1].suggestion.starts_with("the loop loads 'description' of shop_product"))
      << out[1].suggestion;
  EXPECT_EQ(out[1].parent_rows, 11u);
}

}  // namespace
}  // namespace ql::analyzer
