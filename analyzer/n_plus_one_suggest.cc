// Wording of the suggested fixes; see n_plus_one_suggest.h for the shapes.
#include "analyzer/n_plus_one_suggest.h"

namespace ql::analyzer {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() > prefix.size() && s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  out.reserve(n);
  for (std::string_view p : parts) out.append(p);
  return out;
}

// The parent's main table, or "" when there is no usable parent.
std::string_view ParentTable(const StatementShape* parent) {
  return parent == nullptr ? std::string_view{} : parent->main_table();
}

// "on the queryset that loads shop_product" / "... whose rows trigger ...".
std::string OnQueryset(const StatementShape* parent) {
  const std::string_view table = ParentTable(parent);
  if (table.empty()) return "on the queryset whose rows trigger these queries";
  return Cat({"on the queryset that loads ", table});
}

std::string CountFix(const StatementShape& r, std::string_view fk, const StatementShape* parent) {
  const std::string_view model = ModelNameOf(r.main_table());
  return Cat({"consider .annotate(", model, "_count=Count('", model, "')) ", OnQueryset(parent),
              " instead of one COUNT per row (Django's default query name; use the related_name "
              "if the ForeignKey sets one) (plain SQL: one query with GROUP BY ",
              r.main_table(), ".", fk, ")"});
}

std::string DeferredFix(const StatementShape& r) {
  std::string columns;
  int listed = 0;
  for (size_t i = 0; i < r.column_count() && listed < 3; ++i) {
    const StatementShape::Column c = r.column(i);
    if (!r.OnMainTable(c) || c.name == "id") continue;
    if (!columns.empty()) columns += ", ";
    columns += Cat({"'", c.name, "'"});
    ++listed;
  }
  if (columns.empty()) columns = "the deferred column";
  return Cat({"the loop loads ", columns, " of ", r.main_table(),
              " one row at a time, as Django does for deferred fields: consider removing it "
              "from .defer() or adding it to .only() on the queryset that loads ",
              r.main_table(), " (plain SQL: select the column in the first query)"});
}

std::string ForwardFix(const StatementShape& r, const StatementShape* parent) {
  const std::string field = ForwardForeignKeyField(r.main_table(), parent);
  if (ParentTable(parent).empty()) {
    return Cat({"consider .select_related('", field, "') ", OnQueryset(parent),
                " (plain SQL: a JOIN to ", r.main_table(), ", or one IN (...) query on ",
                r.main_table(), ".id)"});
  }
  return Cat({"consider .select_related('", field, "') ", OnQueryset(parent),
              " (plain SQL: one query with a JOIN to ", r.main_table(), ")"});
}

std::string ManyToManyFix(const StatementShape& r, const StatementShape* parent) {
  const std::string_view join = r.join_table();
  const std::string_view parent_table = ParentTable(parent);
  const StatementShape::Column eq = r.value_equality();
  std::string relation;
  if (!parent_table.empty() && StartsWith(join, parent_table) && join[parent_table.size()] == '_') {
    relation = std::string(join.substr(parent_table.size() + 1));  // shop_product_tags -> tags
  } else if (StartsWith(join, r.main_table()) && join[r.main_table().size()] == '_') {
    relation = Cat({ModelNameOf(r.main_table()), "_set"});  // the other side's default accessor
  }
  const std::string plain = Cat({" (plain SQL: one IN (...) query on ", join, ".", eq.name,
                                 " for all rows, joined to ", r.main_table(), ")"});
  if (relation.empty()) {
    return Cat({"consider .prefetch_related() on the many-to-many relation to ", r.main_table(),
                " (through ", join, ") ", OnQueryset(parent), plain});
  }
  return Cat({"consider .prefetch_related('", relation, "') ", OnQueryset(parent), plain});
}

std::string ReverseFix(const StatementShape& r, std::string_view fk, const StatementShape* parent) {
  const std::string_view model = ModelNameOf(r.main_table());
  return Cat({"consider .prefetch_related('", model, "_set') ", OnQueryset(parent),
              " (Django's default accessor; use the related_name if the ForeignKey sets one)"
              " (plain SQL: one query with ",
              r.main_table(), ".", fk, " IN (...))"});
}

std::string ReadFix(const StatementShape& r, const StatementShape* parent) {
  const std::string_view fk = r.ForeignKeyFilter();
  if (r.count_star() && !fk.empty()) return CountFix(r, fk, parent);
  if (r.IsPrimaryKeyLookup()) {
    if (ParentTable(parent) == r.main_table()) return DeferredFix(r);
    return ForwardFix(r, parent);
  }
  const StatementShape::Column eq = r.value_equality();
  if (!r.join_table().empty() && r.has_value_equality() && eq.table == r.join_table() &&
      EndsWith(eq.name, "_id")) {
    return ManyToManyFix(r, parent);
  }
  if (!fk.empty()) return ReverseFix(r, fk, parent);
  return "consider loading these rows for all parent rows at once (plain SQL: one IN (...) "
         "query, or a JOIN into the parent query)";
}

std::string WriteFix(const StatementShape& r) {
  const std::string_view table = r.main_table().empty() ? "the table" : r.main_table();
  switch (r.verb()) {
    case StatementShape::Verb::kInsert:
      return Cat({"consider bulk_create() for the ", table,
                  " rows instead of saving them one at a time (plain SQL: one multi-row INSERT)"});
    case StatementShape::Verb::kUpdate:
      return Cat({"consider QuerySet.update() or bulk_update() for the ", table,
                  " rows instead of saving them one at a time (plain SQL: one UPDATE ... WHERE id"
                  " IN (...), or one UPDATE with CASE)"});
    case StatementShape::Verb::kDelete:
      return Cat({"consider .filter(pk__in=[...]).delete() for the ", table,
                  " rows instead of deleting them one at a time (plain SQL: one DELETE ... WHERE"
                  " id IN (...))"});
    default: return "consider one multi-row statement instead of one per row";
  }
}

}  // namespace

std::string ForwardForeignKeyField(std::string_view target_table, const StatementShape* parent) {
  const std::string_view model = ModelNameOf(target_table);
  if (parent == nullptr) return std::string(model);
  std::string_view only;
  std::string_view suffixed;  // "shipping_address" for model "address"
  int fk_columns = 0;
  int suffix_matches = 0;
  for (size_t i = 0; i < parent->column_count(); ++i) {
    const StatementShape::Column c = parent->column(i);
    if (!parent->OnMainTable(c) || c.name.size() <= 3 || !EndsWith(c.name, "_id")) continue;
    const std::string_view field = c.name.substr(0, c.name.size() - 3);
    if (field == model) return std::string(field);
    if (field.size() > model.size() && EndsWith(field, model) &&
        field[field.size() - model.size() - 1] == '_') {
      suffixed = field;
      ++suffix_matches;
    }
    only = field;
    ++fk_columns;
  }
  if (suffix_matches == 1) return std::string(suffixed);
  if (fk_columns == 1) return std::string(only);
  return std::string(model);
}

std::string SuggestFix(FindingKind kind, const StatementShape& repeated,
                       const StatementShape* parent) {
  switch (kind) {
    case FindingKind::kNPlusOne:
    case FindingKind::kRepeatedCycle:
      if (repeated.verb() != StatementShape::Verb::kSelect) return WriteFix(repeated);
      return ReadFix(repeated, parent);
    case FindingKind::kWriteLoop: return WriteFix(repeated);
    case FindingKind::kDuplicate: {
      std::string fix =
          "the same query with the same values runs repeatedly in one unit of work: consider "
          "reusing the first result (keep the loaded object, or cache it for the request)";
      if (repeated.IsPrimaryKeyLookup() && !ParentTable(parent).empty() &&
          ParentTable(parent) != repeated.main_table()) {
        fix += Cat({", or .select_related('", ForwardForeignKeyField(repeated.main_table(), parent),
                    "') ", OnQueryset(parent)});
      }
      return fix;
    }
    case FindingKind::kTooManyStatements:
      return "consider batching: select_related()/prefetch_related() for per-row lookups, bulk "
             "operations for per-row writes, and reusing results of identical queries";
  }
  return {};
}

void AppendDistinctSuggestion(std::string_view suggestion, std::string* joined) {
  if (suggestion.empty() || joined->find(suggestion) != std::string::npos) return;
  if (!joined->empty()) joined->append("; ");
  joined->append(suggestion);
}

}  // namespace ql::analyzer
