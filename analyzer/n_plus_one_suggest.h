// Suggested fixes for N+1 findings, worked out from statement shapes alone:
// what the repeated statement looks up, and what the statement before the
// loop (the parent) loaded. Worded as suggestions ("consider ..."): the proxy
// sees SQL, not the application's code, so a name it derives may differ
// from the model's (a related_name, a custom db_table).
//
// Django conventions the wording relies on (Django 3.2 on MySQL/MariaDB):
//  - tables are "<app_label>_<model>" (lower case), foreign-key columns
//    "<field>_id", primary keys "id";
//  - a forward foreign key loaded lazily is QuerySet.get():
//      select ... from shop_category where shop_category.id = ? limit ?
//    after a parent on another table that selected shop_product.category_id
//    -> .select_related('category');
//  - the same primary-key lookup on the parent's own table reloads deferred
//    columns (refresh_from_db via .only()) -> .only() / .defer();
//  - a reverse foreign key is a filter on the child's "<x>_id" column:
//      select ... from shop_orderitem where shop_orderitem.order_id = ?
//    -> .prefetch_related('orderitem_set') (the default accessor);
//  - a many-to-many joins the auto-created "<table>_<field>" table:
//      ... inner join shop_product_tags on (...) where shop_product_tags.product_id = ?
//    -> .prefetch_related('tags') (from the other side: 'product_set');
//  - .count() on a related manager is select count(*) as __count ...
//    where c.<x>_id = ? -> .annotate(Count('<model>'));
//  - write loops -> bulk_create / bulk_update / QuerySet.update() /
//    filter(pk__in=...).delete().
// Each suggestion ends with the plain-SQL equivalent (a JOIN, one IN (...)
// query, one GROUP BY, one multi-row statement).
#pragma once

#include <string>
#include <string_view>

#include "analyzer/n_plus_one_finding.h"
#include "analyzer/n_plus_one_shape.h"

namespace ql::analyzer {

// The suggestion for a finding of `kind` whose repeated statement has shape
// `repeated`; `parent` is the parent's shape, or null when there is none.
// Cycles: call it per member and join them (AppendDistinctSuggestion). Too-many: a fixed
// text. Returns "" when nothing sensible can be said.
std::string SuggestFix(FindingKind kind, const StatementShape& repeated,
                       const StatementShape* parent);

// The field name a forward foreign key to `target_table` most likely has,
// from the parent's selected "<field>_id" columns: the one named after the
// target's model ("category_id" for shop_category), else the only one ending
// in "_<model>" ("shipping_address_id" for shop_address), else the only
// foreign-key column, else the target's model name.
std::string ForwardForeignKeyField(std::string_view target_table, const StatementShape* parent);

// Appends `suggestion` to *joined ("; " between), unless it is empty or
// already there (cycle members often share one fix).
void AppendDistinctSuggestion(std::string_view suggestion, std::string* joined);

}  // namespace ql::analyzer
