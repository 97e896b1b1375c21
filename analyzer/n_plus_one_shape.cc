// Reads a StatementShape from a fingerprint in one pass over its tokens (the
// analyzer's own tokenizer: a fingerprint is SQL text with "?" for values).
// Clause keywords only switch clauses at the top level; inside parentheses
// the current clause goes on (Django wraps WHERE conditions in them).
#include "analyzer/n_plus_one_shape.h"

#include "analyzer/sql_tokenizer.h"

namespace ql::analyzer {
namespace {

bool IsName(const Token& t) {
  return t.kind == TokenKind::kWord || t.kind == TokenKind::kQuotedIdentifier;
}

std::string_view NameText(const Token& t) {
  if (t.kind == TokenKind::kQuotedIdentifier && t.text.size() >= 2) {
    return t.text.substr(1, t.text.size() - 2);
  }
  return t.text;
}

bool IsComparison(const Token& t) {
  return t.IsOperator('=') || t.IsOperator('<') || t.IsOperator('>') || t.IsOperator("<=") ||
         t.IsOperator(">=") || t.IsOperator("!=") || t.IsOperator("<>") || t.IsOperator("<=>") ||
         t.IsWord("in") || t.IsWord("is") || t.IsWord("like") || t.IsWord("between") ||
         t.IsWord("regexp") || t.IsWord("rlike");
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

// The parse state; writes into the shape as it goes.
class ShapeParser {
 public:
  explicit ShapeParser(StatementShape* shape) : s_(*shape) {}

  void Run(std::string_view fingerprint) {
    SqlTokenizer tokenizer(fingerprint);
    Token t;
    while (tokenizer.NextSignificant(&t)) {
      if (depth_ == 0 && t.IsOperator(';')) break;  // first statement only
      if (first_) {
        First(t);
        first_ = false;
        continue;
      }
      if (t.IsWord("select") && depth_ > 0) s_.has_subquery_ = true;
      if (depth_ == 0 && SwitchClause(t)) continue;
      switch (clause_) {
        case Clause::kSelectList: SelectList(t); break;
        case Clause::kFrom: From(t); break;
        case Clause::kWhere: Where(t); break;
        default: break;
      }
      if (t.IsOperator('(')) ++depth_;
      if (t.IsOperator(')') && depth_ > 0) --depth_;
    }
    if (clause_ == Clause::kSelectList) FinishItem();
  }

 private:
  using Clause = StatementShape::Clause;
  using Verb = StatementShape::Verb;
  using Span = StatementShape::Span;

  void First(const Token& t) {
    if (t.IsWord("select")) {
      s_.verb_ = Verb::kSelect;
      clause_ = Clause::kSelectList;
    } else if (t.IsWord("with")) {
      s_.verb_ = Verb::kSelect;  // the main SELECT comes after the CTEs
    } else if (t.IsWord("insert") || t.IsWord("replace")) {
      s_.verb_ = Verb::kInsert;
    } else if (t.IsWord("update")) {
      s_.verb_ = Verb::kUpdate;
      EnterFrom();
    } else if (t.IsWord("delete")) {
      s_.verb_ = Verb::kDelete;
    }
  }

  void EnterFrom() {
    clause_ = Clause::kFrom;
    expect_table_ = true;
    in_on_ = false;
  }

  // Top-level clause keywords; true when the token was one.
  bool SwitchClause(const Token& t) {
    if (t.IsWord("select") && s_.verb_ == Verb::kSelect && clause_ == Clause::kHead) {
      clause_ = Clause::kSelectList;
    } else if (t.IsWord("from") || t.IsWord("into")) {
      if (clause_ == Clause::kSelectList) FinishItem();
      if (t.IsWord("into") && s_.verb_ == Verb::kSelect) {  // SELECT ... INTO @v
        clause_ = Clause::kOther;
      } else {
        EnterFrom();
      }
    } else if (t.IsWord("where")) {
      clause_ = Clause::kWhere;
    } else if (t.IsWord("group")) {
      s_.has_group_by_ = true;
      clause_ = Clause::kOther;
    } else if (t.IsWord("order")) {
      s_.has_order_by_ = true;
      clause_ = Clause::kOther;
    } else if (t.IsWord("limit")) {
      s_.has_limit_ = true;
      clause_ = Clause::kOther;
    } else if (t.IsWord("having") || t.IsWord("union") || t.IsWord("set") || t.IsWord("values") ||
               t.IsWord("returning") || t.IsWord("for") || t.IsWord("lock") || t.IsWord("window")) {
      clause_ = Clause::kOther;
    } else {
      return false;
    }
    return true;
  }

  void SelectList(const Token& t) {
    if (depth_ == 0 && t.IsOperator(',')) {
      FinishItem();
      return;
    }
    if (item_tokens_ == 0 && s_.select_items_ == 0 && t.IsWord("distinct")) return;
    if (item_tokens_ < 4) item_[item_tokens_] = t;
    ++item_tokens_;
  }

  void FinishItem() {
    if (item_tokens_ == 0) return;
    ++s_.select_items_;
    const uint32_t n = item_tokens_;
    item_tokens_ = 0;
    const Token* it = item_;
    if (it[0].IsWord("count") && n >= 2 && it[1].IsOperator('(')) {
      s_.count_star_ = true;
      return;
    }
    const bool qualified = n >= 3 && IsName(it[0]) && it[1].IsOperator('.') && IsName(it[2]) &&
                           (n == 3 || (n >= 4 && it[3].IsWord("as")));
    const bool bare = IsName(it[0]) && (n == 1 || (n >= 2 && it[1].IsWord("as")));
    if (!qualified && !bare) return;
    if (s_.column_count_ >= StatementShape::kMaxColumns) return;
    StatementShape::ColumnSpan c;
    if (qualified) {
      // Select lists name the same table over and over: share its bytes.
      const std::string_view table = NameText(it[0]);
      c.table = (s_.column_count_ > 0 && s_.Get(s_.columns_[s_.column_count_ - 1].table) == table)
                    ? s_.columns_[s_.column_count_ - 1].table
                    : s_.Add(table);
      c.name = s_.Add(NameText(it[2]));
    } else {
      c.name = s_.Add(NameText(it[0]));
    }
    if (c.name.len != 0) s_.columns_[s_.column_count_++] = c;
  }

  void From(const Token& t) {
    if (depth_ > 0) return;  // ON conditions, derived tables, INSERT column lists
    if (t.IsOperator('(')) {
      if (expect_table_) s_.has_subquery_ = true;
      expect_table_ = false;
      return;
    }
    if (t.IsOperator('.') && after_table_) {
      qualified_ = true;  // schema.table: the next name is the table
      after_table_ = false;
      return;
    }
    if (qualified_) {
      qualified_ = false;
      if (IsName(t) && last_table_ != nullptr) {
        *last_table_ = s_.Add(NameText(t));
        if (last_was_join_) s_.join_ = *last_table_;
      }
      return;
    }
    after_table_ = false;
    if (t.IsOperator(',') && !in_on_) {
      expect_table_ = true;
      return;
    }
    if (t.IsWord("join") || t.IsWord("straight_join")) {
      expect_table_ = true;
      joining_ = true;
      in_on_ = false;
      return;
    }
    if (t.IsWord("on") || t.IsWord("using")) {
      in_on_ = true;
      return;
    }
    if (!IsName(t) || in_on_ || !expect_table_) return;  // aliases, conditions
    if (t.IsWord("inner") || t.IsWord("left") || t.IsWord("right") || t.IsWord("outer") ||
        t.IsWord("cross") || t.IsWord("natural") || t.IsWord("ignore") ||
        t.IsWord("low_priority") || t.IsWord("quick")) {
      return;
    }
    expect_table_ = false;
    after_table_ = true;
    last_table_ = nullptr;
    last_was_join_ = false;
    const Span name = s_.Add(NameText(t));
    if (s_.table_count_ < StatementShape::kMaxTables) {
      last_table_ = &s_.tables_[s_.table_count_++];
      *last_table_ = name;
    }
    if (joining_ && s_.join_.len == 0) {
      s_.join_ = name;
      last_was_join_ = true;
    }
    joining_ = false;
  }

  void Where(const Token& t) {
    if (waiting_ != Waiting::kNone) {
      if (waiting_ == Waiting::kInOpen && t.IsOperator('(')) {
        waiting_ = Waiting::kInValue;
        return;
      }
      if (t.kind == TokenKind::kPlaceholder && s_.eq_.name.len == 0) {
        s_.eq_ = candidate_;
        s_.eq_is_in_ = waiting_ == Waiting::kInValue;
      }
      waiting_ = Waiting::kNone;
    }
    if (IsComparison(t)) {
      ++s_.where_comparisons_;
      if (have_ref_ && (t.IsOperator('=') || t.IsWord("in"))) {
        candidate_ = ref_;
        waiting_ = t.IsWord("in") ? Waiting::kInOpen : Waiting::kValue;
      }
      have_ref_ = false;
      return;
    }
    if (t.IsWord("not") && have_ref_) return;  // "x not in (...)"
    if (t.IsOperator('.') && have_ref_) {
      after_dot_ = true;
      return;
    }
    if (IsName(t) && !t.IsWord("and") && !t.IsWord("or") && !t.IsWord("xor")) {
      if (after_dot_ && have_ref_) {
        ref_.table = ref_.name;
        ref_.name = s_.Add(NameText(t));
      } else {
        ref_.table = Span{};
        ref_.name = s_.Add(NameText(t));
      }
      have_ref_ = ref_.name.len != 0;
      after_dot_ = false;
      return;
    }
    have_ref_ = false;
    after_dot_ = false;
  }

  enum class Waiting : uint8_t { kNone, kValue, kInOpen, kInValue };

  StatementShape& s_;
  bool first_ = true;
  uint32_t depth_ = 0;
  Clause clause_ = Clause::kHead;
  // Select list.
  Token item_[4];
  uint32_t item_tokens_ = 0;
  // FROM / JOIN.
  bool expect_table_ = false;
  bool after_table_ = false;
  bool qualified_ = false;
  bool joining_ = false;
  bool last_was_join_ = false;
  bool in_on_ = false;
  Span* last_table_ = nullptr;
  // WHERE.
  bool have_ref_ = false;
  bool after_dot_ = false;
  StatementShape::ColumnSpan ref_;
  StatementShape::ColumnSpan candidate_;
  Waiting waiting_ = Waiting::kNone;
};

StatementShape::Span StatementShape::Add(std::string_view name) {
  if (name.empty() || name.size() > 0xffff || names_.size() + name.size() > kMaxNameBytes) {
    return Span{};
  }
  Span s{static_cast<uint16_t>(names_.size()), static_cast<uint16_t>(name.size())};
  names_.append(name);
  return s;
}

void StatementShape::Clear() {
  std::string keep = std::move(names_);
  keep.clear();
  *this = StatementShape{};
  names_ = std::move(keep);  // keeps its capacity for the next parse
}

void StatementShape::Parse(std::string_view fingerprint) {
  Clear();
  ShapeParser parser(this);
  parser.Run(fingerprint);
}

bool StatementShape::OnMainTable(const Column& column) const {
  return column.table.empty() || column.table == main_table();
}

bool StatementShape::IsPrimaryKeyLookup() const {
  if (verb_ != Verb::kSelect || main_table().empty() || join_.len != 0 || has_subquery_ ||
      where_comparisons_ != 1 || !has_value_equality() || eq_is_in_) {
    return false;
  }
  const Column eq = value_equality();
  return eq.name == "id" && OnMainTable(eq);
}

std::string_view StatementShape::ForeignKeyFilter() const {
  if (verb_ != Verb::kSelect || main_table().empty() || join_.len != 0 || has_subquery_ ||
      !has_value_equality()) {
    return {};
  }
  const Column eq = value_equality();
  if (eq.name.size() <= 3 || !EndsWith(eq.name, "_id") || !OnMainTable(eq)) return {};
  return eq.name;
}

std::string_view ModelNameOf(std::string_view table) {
  const size_t underscore = table.rfind('_');
  if (underscore == std::string_view::npos || underscore + 1 == table.size()) return table;
  return table.substr(underscore + 1);
}

}  // namespace ql::analyzer
