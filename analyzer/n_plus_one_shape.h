// The shape of a statement, read from its fingerprint: which tables it
// reads or writes, which columns of the main table it selects, what its
// WHERE clause compares with a value, and a few flags. The N+1 detector uses
// it for the allow-list by table and to word a suggested fix (what kind of
// relation a repeated lookup walks: forward foreign key, reverse foreign
// key, many-to-many, a count, a deferred column).
//
// It is a heuristic reading of ORM-generated SQL, not a parser: it looks at
// the top-level SELECT list, FROM / JOIN, the comparisons of the WHERE
// clause (Django wraps several in parentheses), LIMIT, ORDER BY and GROUP
// BY, and at the target of INSERT / UPDATE / DELETE. Anything it does not
// recognize leaves fields empty. Names are copied into one bounded buffer,
// so a shape stays small whatever the statement.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ql::analyzer {

class StatementShape {
 public:
  enum class Verb : uint8_t { kOther, kSelect, kInsert, kUpdate, kDelete };
  struct Column {
    std::string_view table;  // "" when unqualified
    std::string_view name;
  };

  static constexpr size_t kMaxTables = 4;
  static constexpr size_t kMaxColumns = 24;
  static constexpr size_t kMaxNameBytes = 2048;  // all names together

  // Replaces the shape with that of `fingerprint` (masked, lower-case text
  // as produced by the Fingerprinter).
  void Parse(std::string_view fingerprint);
  void Clear();

  Verb verb() const { return verb_; }
  // The table after FROM (UPDATE, INSERT INTO, DELETE FROM); "" if none.
  std::string_view main_table() const { return Get(tables_[0]); }
  // The first JOINed table; "" if none.
  std::string_view join_table() const { return Get(join_); }
  size_t table_count() const { return table_count_; }
  std::string_view table(size_t i) const { return Get(tables_[i]); }

  // Top-level select-list items, and the plain column references among
  // them (the first kMaxColumns).
  uint32_t select_items() const { return select_items_; }
  size_t column_count() const { return column_count_; }
  Column column(size_t i) const { return {Get(columns_[i].table), Get(columns_[i].name)}; }
  bool count_star() const { return count_star_; }  // a COUNT(...) item

  // WHERE: the number of comparisons, and the first "column = ?" or
  // "column IN (?+)" among them.
  uint32_t where_comparisons() const { return where_comparisons_; }
  bool has_value_equality() const { return eq_.name.len != 0; }
  Column value_equality() const { return {Get(eq_.table), Get(eq_.name)}; }
  bool value_equality_is_in() const { return eq_is_in_; }

  bool has_limit() const { return has_limit_; }
  bool has_order_by() const { return has_order_by_; }
  bool has_group_by() const { return has_group_by_; }
  bool has_subquery() const { return has_subquery_; }

  // "select ... from T where T.id = ? [limit ?]": one row of T by primary
  // key (Django's get(), a forward foreign key or a deferred field load).
  bool IsPrimaryKeyLookup() const;
  // "select ... from C where C.<x>_id = ?": rows of C that point at one
  // object (a reverse foreign key). Returns "<x>_id", or "".
  std::string_view ForeignKeyFilter() const;
  // Whether `column` belongs to the main table (qualified with it, or not
  // qualified at all).
  bool OnMainTable(const Column& column) const;

  size_t MemoryBytes() const { return names_.capacity(); }

 private:
  struct Span {
    uint16_t off = 0;
    uint16_t len = 0;
  };
  struct ColumnSpan {
    Span table;
    Span name;
  };
  enum class Clause : uint8_t { kHead, kSelectList, kFrom, kWhere, kOther };

  friend class ShapeParser;
  std::string_view Get(Span s) const { return std::string_view(names_).substr(s.off, s.len); }
  Span Add(std::string_view name);

  std::string names_;
  Verb verb_ = Verb::kOther;
  std::array<Span, kMaxTables> tables_{};
  size_t table_count_ = 0;
  Span join_;
  std::array<ColumnSpan, kMaxColumns> columns_{};
  size_t column_count_ = 0;
  uint32_t select_items_ = 0;
  uint32_t where_comparisons_ = 0;
  ColumnSpan eq_;
  bool eq_is_in_ = false;
  bool count_star_ = false;
  bool has_limit_ = false;
  bool has_order_by_ = false;
  bool has_group_by_ = false;
  bool has_subquery_ = false;
};

// Django names a model's table "<app_label>_<model name, lower case>", and
// model names are CamelCase without underscores, so the model is the part
// after the last '_' ("shop_orderitem" -> "orderitem"; a table without '_'
// is its own model name).
std::string_view ModelNameOf(std::string_view table);

}  // namespace ql::analyzer
