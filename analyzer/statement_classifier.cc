// StatementClassifier: collects the first significant tokens of each
// statement (the "head", which names the statement) while scanning every
// token for the constructs that tie a statement to the primary, then decides
// the class when the statement ends.
#include "analyzer/statement_classifier.h"

#include "analyzer/sql_names.h"

namespace ql::analyzer {
namespace {

bool SameNameIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

bool IsName(const Token& t) {
  return t.kind == TokenKind::kWord || t.kind == TokenKind::kQuotedIdentifier;
}

bool IsAnyWord(const Token& t, std::initializer_list<std::string_view> words) {
  if (t.kind != TokenKind::kWord) return false;
  for (std::string_view w : words) {
    if (EqualsLower(t.text, w)) return true;
  }
  return false;
}

// The text from the start of `a` to the end of `b` (both views into the
// same statement).
std::string_view Span(const Token& a, const Token& b) {
  return std::string_view(a.text.data(),
                          static_cast<size_t>(b.text.data() + b.text.size() - a.text.data()));
}

// The variable name of @@name / @@session.name, and whether it names the
// global (or persisted) value.
std::string_view SystemVariableName(std::string_view text, bool* global,
                                    bool* explicit_scope) {
  std::string_view name = text.substr(2);
  *global = false;
  *explicit_scope = false;
  const size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    const std::string_view scope = name.substr(0, dot);
    if (EqualsLower(scope, "global") || EqualsLower(scope, "persist") ||
        EqualsLower(scope, "persist_only")) {
      *global = true;
      *explicit_scope = true;
      name = name.substr(dot + 1);
    } else if (EqualsLower(scope, "session") || EqualsLower(scope, "local")) {
      *explicit_scope = true;
      name = name.substr(dot + 1);
    }
  }
  return name;
}

// Ranking used to combine the statements of a multi-statement text.
int Strength(StatementClass c) {
  switch (c) {
    case StatementClass::kRead: return 0;
    case StatementClass::kSessionState: return 1;
    case StatementClass::kTransactionControl: return 2;
    case StatementClass::kPrimaryOnly: return 3;
    case StatementClass::kLockingRead: return 4;  // a lock outranks any other reason
    case StatementClass::kWrite: return 5;
    case StatementClass::kDdl: return 6;
    case StatementClass::kUnknown: return 7;
  }
  return 7;
}

}  // namespace

Classification StatementClassifier::Classify(std::string_view sql, SqlDialect dialect) {
  Begin();
  SqlTokenizer tokenizer(sql, dialect);
  Token token;
  while (tokenizer.Next(&token)) Feed(token);
  return Finish();
}

void StatementClassifier::Begin() {
  result_ = Classification{};
  in_hint_ = false;
  StartStatement();
}

void StatementClassifier::StartStatement() {
  stmt_tokens_ = 0;
  depth_ = 0;
  head_count_ = 0;
  restarted_ = false;
  skip_format_ = 0;
  set_statement_ = false;
  compound_ = false;
  prev_count_ = 0;
  with_main_found_ = false;
  locking_ = into_ = assign_ = saw_lock_word_ = false;
  unknown_function_ = false;
  unknown_function_name_ = {};
  several_routines_ = false;
  in_user_variable_value_ = false;
  user_value_constant_ = true;
  reasons_.Clear();
  is_set_ = false;
  set_state_ = SetState::kItemStart;
  set_global_ = false;
  set_ddl_ = false;
  set_changes_.Clear();
  autocommit_ = -1;
}

Classification StatementClassifier::Finish() {
  FinishStatement();
  if (result_.statement_count == 0) {
    // Empty or comment-only text: the server answers with an error anyway.
    result_.statement_class = StatementClass::kUnknown;
    result_.primary_reasons.Add(PrimaryReason::kNotUnderstood);
  }
  return result_;
}

void StatementClassifier::FinishStatement() {
  if (stmt_tokens_ > 0) {
    const Classification c = Decide();
    if (result_.statement_count == 0 ||
        Strength(c.statement_class) > Strength(result_.statement_class)) {
      result_.statement_class = c.statement_class;
    }
    if (c.transaction_op != TransactionOp::kNone) result_.transaction_op = c.transaction_op;
    result_.primary_reasons.AddAll(c.primary_reasons);
    result_.session_changes.AddAll(c.session_changes);
    if (c.autocommit >= 0) result_.autocommit = c.autocommit;
    if (!c.routine.empty()) {
      if (result_.routine.empty()) {
        result_.routine = c.routine;
      } else {
        result_.several_routines = true;  // one per statement: not compared by name
      }
    }
    if (c.several_routines) result_.several_routines = true;
    if (c.procedural) result_.procedural = true;
    if (!c.user_variables_constant) result_.user_variables_constant = false;
    ++result_.statement_count;
  }
  StartStatement();
}

bool StatementClassifier::HeadWord(int index, std::string_view lower) const {
  return index >= 0 && index < head_count_ && head_[index].IsWord(lower);
}

// The statement an EXPLAIN starting before head_[from] explains, past its
// options (EXTENDED, PARTITIONS, FORMAT = JSON), is a write. A WITH counts
// as one: its main statement is not known here, and the primary explains
// anything.
bool StatementClassifier::ExplainsWrite(int from) const {
  for (int k = from; k < head_count_; ++k) {
    const Token& t = head_[k];
    if (t.IsOperator('=') || t.IsOperator('(') ||
        IsAnyWord(t, {"extended", "partitions", "format", "json", "traditional", "tree"})) {
      continue;
    }
    return IsAnyWord(t, {"insert", "replace", "update", "delete", "with"});
  }
  return false;
}

void StatementClassifier::Feed(const Token& t) {
  switch (t.kind) {
    case TokenKind::kWhitespace:
    case TokenKind::kComment:
    case TokenKind::kExecutableBegin:  // its contents are ordinary SQL
    case TokenKind::kExecutableEnd:
      return;
    case TokenKind::kHintBegin:
      in_hint_ = true;
      return;
    case TokenKind::kHintEnd:
      in_hint_ = false;
      return;
    default:
      break;
  }
  if (in_hint_) return;  // hints steer the optimizer, never the routing
  if (t.IsOperator(';') && !compound_) {
    FinishStatement();
    return;
  }
  ++stmt_tokens_;
  if (t.IsOperator(')') && depth_ > 0) --depth_;
  ScanToken(t);
  if (t.IsOperator('(')) ++depth_;
  prev_[2] = prev_[1];
  prev_[1] = prev_[0];
  prev_[0] = t;
  if (prev_count_ < 3) ++prev_count_;
}

void StatementClassifier::AddHead(const Token& t) {
  if (skip_format_ == 1) {
    if (t.IsWord("format")) {
      skip_format_ = 2;
      return;
    }
    skip_format_ = 0;
  } else if (skip_format_ == 2) {
    skip_format_ = t.IsOperator('=') ? 3 : 0;
    if (skip_format_ == 3) return;
  } else if (skip_format_ == 3) {
    skip_format_ = 0;
    return;
  }
  if (head_count_ < kHead) head_[head_count_++] = t;
  if (restarted_ || head_count_ != 2) return;
  const Token& first = head_[0];
  const Token& second = head_[1];
  if (IsAnyWord(first, {"explain", "describe", "desc"}) && second.IsWord("analyze")) {
    // EXPLAIN ANALYZE runs the statement: classify what it runs.
    head_count_ = 0;
    restarted_ = true;
    skip_format_ = 1;
  } else if (first.IsWord("analyze") &&
             !IsAnyWord(second, {"table", "tables", "local", "no_write_to_binlog"})) {
    // MariaDB's ANALYZE [FORMAT=JSON] stmt also runs the statement.
    restarted_ = true;
    head_count_ = 0;
    if (second.IsWord("format")) {
      skip_format_ = 2;
    } else {
      head_[head_count_++] = second;
    }
  } else if (first.IsWord("set") && second.IsWord("statement")) {
    set_statement_ = true;  // SET STATEMENT var=v[, ...] FOR stmt
  } else if (first.IsWord("begin") && second.IsWord("not")) {
    compound_ = true;  // BEGIN NOT ATOMIC ... END
  }
}

void StatementClassifier::ScanToken(const Token& t) {
  if (set_statement_ && !restarted_ && depth_ == 0 && t.IsWord("for")) {
    restarted_ = true;
    head_count_ = 0;
    return;
  }
  const bool was_empty = head_count_ == 0 && !restarted_;
  AddHead(t);
  if (was_empty && head_count_ == 1) {
    is_set_ = t.IsWord("set");
    if (IsAnyWord(t, {"if", "while", "repeat", "loop", "case", "for", "declare"})) {
      compound_ = true;  // MariaDB compound statement outside a stored program
    }
    return;  // the SET keyword itself is not an item
  }
  if (head_count_ > 0 && head_[0].IsWord("create") && depth_ == 0 && !restarted_ &&
      stmt_tokens_ <= 10 &&
      IsAnyWord(t, {"procedure", "function", "trigger", "event", "package"})) {
    compound_ = true;
  }
  if (is_set_ && !set_statement_) ScanSetItem(t);

  switch (t.kind) {
    case TokenKind::kSystemVariable: {
      bool global = false, explicit_scope = false;
      const std::string_view name = SystemVariableName(t.text, &global, &explicit_scope);
      for (std::string_view v : {"last_insert_id", "identity", "warning_count",
                                 "error_count", "last_gtid", "insert_id"}) {
        if (EqualsLower(name, v)) reasons_.Add(PrimaryReason::kLastStatementInfo);
      }
      // Connectors that check where they are (Connector/J's failover,
      // Django's health checks) must see the primary's answer: the proxy
      // stands in for it, and a replica says read_only = 1.
      for (std::string_view v : {"read_only", "innodb_read_only", "super_read_only"}) {
        if (EqualsLower(name, v)) reasons_.Add(PrimaryReason::kServerAdmin);
      }
      return;
    }
    case TokenKind::kOperator:
      if (t.IsOperator(":=")) assign_ = true;
      if (t.IsOperator('(')) OnOpenParen();
      return;
    case TokenKind::kWord:
      break;
    default:
      return;
  }
  const Token* p0 = prev_count_ > 0 ? &prev_[0] : nullptr;
  const Token* p1 = prev_count_ > 1 ? &prev_[1] : nullptr;
  if (t.IsWord("into")) into_ = true;
  if (t.IsWord("lock")) saw_lock_word_ = true;
  if (t.IsWord("sql_calc_found_rows")) reasons_.Add(PrimaryReason::kLastStatementInfo);
  if (p0 != nullptr && p0->IsWord("for") && IsAnyWord(t, {"update", "share"})) locking_ = true;
  if (p1 != nullptr && t.IsWord("share") && p0->IsWord("in") && p1->IsWord("lock")) locking_ = true;
  if (p1 != nullptr && t.IsWord("for") && p0->IsWord("value") &&
      IsAnyWord(*p1, {"next", "previous"})) {
    reasons_.Add(PrimaryReason::kSequence);
  }
  if (head_count_ > 0 && head_[0].IsWord("with") && !with_main_found_ && depth_ == 0 &&
      IsAnyWord(t, {"select", "update", "delete", "insert", "replace", "table", "values"})) {
    with_main_found_ = true;
    with_main_ = t;
  }
}

// A name followed by "(" is a function call in the statements that matter
// here; look the name up.
void StatementClassifier::OnOpenParen() {
  if (prev_count_ == 0 || !IsName(prev_[0])) return;
  if (head_count_ > 0 && head_[0].IsWord("with") && !with_main_found_ && depth_ == 0) {
    return;  // WITH cte (col, ...) AS: a column list, not a call
  }
  const Token& name = prev_[0];
  if (prev_count_ >= 2 && prev_[1].IsOperator('.')) {
    // db.func(...) is always a stored function; built-ins are never qualified.
    UnknownFunction((prev_count_ >= 3 && IsName(prev_[2])) ? Span(prev_[2], name) : name.text);
    return;
  }
  // `get_lock`(...) still calls the built-in (native functions are looked
  // up by name, quoted or not), but `now`() is a stored function: a quoted
  // name keeps what ties it to the primary and is otherwise unknown.
  const bool quoted = name.kind == TokenKind::kQuotedIdentifier;
  const std::string_view bare =
      quoted && name.text.size() >= 2 ? name.text.substr(1, name.text.size() - 2) : name.text;
  FunctionKind kind = ClassifyFunctionName(bare);
  if (quoted && kind == FunctionKind::kBuiltin) kind = FunctionKind::kUnknown;
  switch (kind) {
    case FunctionKind::kBuiltin:
      return;
    case FunctionKind::kUserLock:
      reasons_.Add(PrimaryReason::kUserLock);
      return;
    case FunctionKind::kLastStatementInfo:
      reasons_.Add(PrimaryReason::kLastStatementInfo);
      return;
    case FunctionKind::kSequence:
      reasons_.Add(PrimaryReason::kSequence);
      return;
    case FunctionKind::kUnknown:
      UnknownFunction(name.text);
      return;
  }
}

void StatementClassifier::UnknownFunction(std::string_view name) {
  if (!unknown_function_) {
    unknown_function_ = true;
    unknown_function_name_ = name;
  } else if (!SameNameIgnoringCase(name, unknown_function_name_)) {
    several_routines_ = true;
  }
}

// SET item := [GLOBAL | SESSION | LOCAL | PERSIST] name = value
//           | @@[scope.]name = value | @user = value | NAMES ... | CHARACTER SET ...
//           | [scope] TRANSACTION ... | PASSWORD ... | ROLE ... | DEFAULT ROLE ...
void StatementClassifier::ScanSetItem(const Token& t) {
  if (depth_ == 0 && t.IsOperator(',') && set_state_ != SetState::kTransaction) {
    set_state_ = SetState::kItemStart;
    set_global_ = false;
    return;
  }
  switch (set_state_) {
    case SetState::kItemStart:
    case SetState::kAfterScope:
      break;
    case SetState::kAutocommitEquals:
      set_state_ = (t.IsOperator('=') || t.IsOperator(":=")) ? SetState::kAutocommitValue
                                                             : SetState::kInValue;
      return;
    case SetState::kAutocommitValue:
      if (t.kind == TokenKind::kNumber && (t.text == "0" || t.text == "1")) {
        autocommit_ = t.text == "1" ? 1 : 0;
      } else if (IsAnyWord(t, {"on", "true"})) {
        autocommit_ = 1;
      } else if (IsAnyWord(t, {"off", "false"})) {
        autocommit_ = 0;
      }
      set_state_ = SetState::kInValue;
      return;
    case SetState::kInValue:
      if (in_user_variable_value_ && !ConstantValueToken(t)) user_value_constant_ = false;
      return;
    case SetState::kTransaction:
      return;
  }
  in_user_variable_value_ = false;
  const bool at_start = set_state_ == SetState::kItemStart;
  if (t.kind == TokenKind::kUserVariable) {
    set_changes_.Add(SessionChange::kSetUserVariable);
    set_state_ = SetState::kInValue;
    in_user_variable_value_ = true;
    return;
  }
  if (t.kind == TokenKind::kSystemVariable) {
    bool global = false, explicit_scope = false;
    const std::string_view name = SystemVariableName(t.text, &global, &explicit_scope);
    VariableAssigned(name, global || set_global_);
    return;
  }
  if (t.kind == TokenKind::kQuotedIdentifier) {
    VariableAssigned(t.text.substr(1, t.text.size() >= 2 ? t.text.size() - 2 : 0), set_global_);
    return;
  }
  if (t.kind != TokenKind::kWord) {
    set_state_ = SetState::kInValue;
    reasons_.Add(PrimaryReason::kNotUnderstood);
    return;
  }
  if (at_start && IsAnyWord(t, {"global", "persist", "persist_only"})) {
    set_global_ = true;
    set_state_ = SetState::kAfterScope;
  } else if (at_start && IsAnyWord(t, {"session", "local"})) {
    set_state_ = SetState::kAfterScope;
  } else if (t.IsWord("transaction")) {
    if (set_global_) {
      reasons_.Add(PrimaryReason::kServerAdmin);
    } else {
      set_changes_.Add(SessionChange::kSetTransaction);
    }
    set_state_ = SetState::kTransaction;  // its commas separate characteristics
  } else if (at_start && t.IsWord("names")) {
    set_changes_.Add(SessionChange::kSetNames);
    set_state_ = SetState::kInValue;
  } else if (at_start && IsAnyWord(t, {"character", "charset"})) {
    set_changes_.Add(SessionChange::kSetCharacterSet);
    set_state_ = SetState::kInValue;
  } else if (at_start && IsAnyWord(t, {"password", "default"})) {
    set_ddl_ = true;  // account management, replicated like DDL
    set_state_ = SetState::kInValue;
  } else if (at_start && t.IsWord("role")) {
    set_changes_.Add(SessionChange::kSetSessionVariable);
    set_state_ = SetState::kInValue;
  } else {
    VariableAssigned(t.text, set_global_);
  }
}

void StatementClassifier::VariableAssigned(std::string_view name, bool global) {
  if (global) {
    reasons_.Add(PrimaryReason::kServerAdmin);
    set_state_ = SetState::kInValue;
  } else if (EqualsLower(name, "autocommit")) {
    set_changes_.Add(SessionChange::kSetAutocommit);
    autocommit_ = -1;
    set_state_ = SetState::kAutocommitEquals;
  } else {
    set_changes_.Add(SessionChange::kSetSessionVariable);
    set_state_ = SetState::kInValue;
  }
}

// The tokens of `SET @v = <constant>`: the assignment, signs, numbers,
// strings (with their charset introducer, _utf8mb4'x') and NULL/TRUE/FALSE.
// Anything else (a function, another variable, a subquery, COLLATE) makes
// the value the server's own computation, which a replay might not repeat.
bool StatementClassifier::ConstantValueToken(const Token& t) {
  switch (t.kind) {
    case TokenKind::kNumber:
    case TokenKind::kHexNumber:
    case TokenKind::kBitNumber:
    case TokenKind::kString:
    case TokenKind::kWhitespace:
    case TokenKind::kComment:
      return true;
    case TokenKind::kOperator:
      return t.IsOperator('=') || t.IsOperator(":=") || t.IsOperator('-') || t.IsOperator('+');
    case TokenKind::kWord:
      return IsAnyWord(t, {"null", "true", "false"});
    default:
      return false;
  }
}

void StatementClassifier::DecideSet(Classification* c) const {
  c->session_changes = set_changes_;
  c->user_variables_constant = user_value_constant_;
  c->autocommit = autocommit_;
  if (set_ddl_) {
    c->statement_class = StatementClass::kDdl;
  } else if (reasons_.Has(PrimaryReason::kServerAdmin) ||
             reasons_.Has(PrimaryReason::kNotUnderstood)) {
    c->statement_class = StatementClass::kPrimaryOnly;
  } else {
    c->statement_class = StatementClass::kSessionState;
  }
}

Classification StatementClassifier::Decide() const {
  Classification c;
  c.statement_count = 1;
  c.primary_reasons = reasons_;
  int i = 0;
  while (i < head_count_ && head_[i].IsOperator('(')) ++i;  // (SELECT ...) UNION ...
  auto word = [&](int k, std::string_view w) { return HeadWord(i + k, w); };
  auto primary_only = [&](PrimaryReason r) {
    c.statement_class = StatementClass::kPrimaryOnly;
    c.primary_reasons.Add(r);
  };
  auto transaction = [&](TransactionOp op) {
    c.statement_class = StatementClass::kTransactionControl;
    c.transaction_op = op;
  };
  bool read_like = false;  // may go to a replica unless a reason says otherwise
  if (i >= head_count_) {
    primary_only(PrimaryReason::kNotUnderstood);
    c.statement_class = StatementClass::kUnknown;
    return c;
  }
  const Token& verb = head_[i];
  const bool with_read =
      verb.IsWord("with") && with_main_found_ && IsAnyWord(with_main_, {"select", "table", "values"});
  const bool with_write =
      verb.IsWord("with") && with_main_found_ && !with_read;

  if (IsAnyWord(verb, {"select", "table", "values"}) || with_read) {
    c.statement_class = locking_ ? StatementClass::kLockingRead : StatementClass::kRead;
    read_like = true;
  } else if (IsAnyWord(verb, {"do", "check", "checksum", "help"})) {
    c.statement_class = StatementClass::kRead;
    read_like = true;
  } else if (verb.IsWord("show")) {
    c.statement_class = StatementClass::kRead;
    for (int k = 1; k <= 2; ++k) {
      if (word(k, "warnings") || word(k, "errors") || word(k, "profile") ||
          word(k, "profiles") || (k == 1 && word(k, "count"))) {
        c.primary_reasons.Add(PrimaryReason::kLastStatementInfo);
      }
      for (std::string_view w : {"master", "binary", "binlog", "slave", "slaves", "replica",
                                 "replicas", "processlist", "relaylog"}) {
        if (word(k, w)) c.primary_reasons.Add(PrimaryReason::kServerAdmin);
      }
    }
  } else if (IsAnyWord(verb, {"explain", "describe", "desc"})) {
    // Plain EXPLAIN does not execute: nothing it mentions takes effect. But
    // a read-only replica refuses to explain a write or a locking read.
    c.statement_class = StatementClass::kRead;
    c.primary_reasons.Clear();
    if (locking_ || ExplainsWrite(i + 1)) primary_only(PrimaryReason::kExplainWrite);
  } else if (IsAnyWord(verb, {"insert", "replace", "update", "delete"}) || with_write) {
    c.statement_class = StatementClass::kWrite;
  } else if (verb.IsWord("load")) {
    if (word(1, "data") || word(1, "xml")) {
      c.statement_class = StatementClass::kWrite;
    } else {
      primary_only(PrimaryReason::kServerAdmin);  // LOAD INDEX INTO CACHE
    }
  } else if (verb.IsWord("create")) {
    if (word(1, "temporary") || (word(1, "or") && word(2, "replace") && word(3, "temporary"))) {
      primary_only(PrimaryReason::kTemporaryTable);
    } else {
      c.statement_class = StatementClass::kDdl;
    }
  } else if (verb.IsWord("drop")) {
    if (word(1, "temporary")) {
      primary_only(PrimaryReason::kTemporaryTable);
    } else if (word(1, "prepare")) {
      primary_only(PrimaryReason::kPreparedStatement);
    } else {
      c.statement_class = StatementClass::kDdl;
    }
  } else if (IsAnyWord(verb, {"alter", "rename", "truncate", "grant", "revoke", "analyze",
                              "optimize", "repair", "import"})) {
    c.statement_class = StatementClass::kDdl;
  } else if (verb.IsWord("begin")) {
    if (word(1, "not")) {
      primary_only(PrimaryReason::kStoredRoutine);
      c.procedural = true;
    } else {
      transaction(TransactionOp::kBegin);
    }
  } else if (verb.IsWord("start")) {
    if (word(1, "transaction")) {
      TransactionOp op = TransactionOp::kBegin;
      for (int k = 2; i + k + 1 < head_count_; ++k) {
        if (word(k, "read") && word(k + 1, "only")) op = TransactionOp::kBeginReadOnly;
        if (word(k, "read") && word(k + 1, "write")) op = TransactionOp::kBeginReadWrite;
      }
      transaction(op);
    } else {
      primary_only(PrimaryReason::kServerAdmin);  // START SLAVE / REPLICA / ...
    }
  } else if (verb.IsWord("commit")) {
    transaction(TransactionOp::kCommit);
  } else if (verb.IsWord("rollback")) {
    transaction(word(1, "to") || word(2, "to") ? TransactionOp::kRollbackToSavepoint
                                               : TransactionOp::kRollback);
  } else if (verb.IsWord("savepoint")) {
    transaction(TransactionOp::kSavepoint);
  } else if (verb.IsWord("release") && word(1, "savepoint")) {
    transaction(TransactionOp::kReleaseSavepoint);
  } else if (verb.IsWord("xa")) {
    transaction(TransactionOp::kXa);
  } else if (verb.IsWord("set") && !set_statement_) {
    DecideSet(&c);
  } else if (verb.IsWord("use")) {
    c.statement_class = StatementClass::kSessionState;
    c.session_changes.Add(SessionChange::kUseDatabase);
  } else if (verb.IsWord("lock") && (word(1, "tables") || word(1, "table") || word(1, "instance"))) {
    primary_only(PrimaryReason::kLockTables);
  } else if (IsAnyWord(verb, {"unlock", "backup"})) {
    primary_only(PrimaryReason::kLockTables);
  } else if (verb.IsWord("flush")) {
    primary_only(saw_lock_word_ ? PrimaryReason::kLockTables : PrimaryReason::kServerAdmin);
  } else if (verb.IsWord("call")) {
    primary_only(PrimaryReason::kStoredRoutine);
    c.procedural = true;
    c.several_routines = several_routines_;  // CALL p(f(x)): p( is the first "function"

    if (i + 1 < head_count_ && IsName(head_[i + 1])) {
      const bool qualified = i + 3 < head_count_ && head_[i + 2].IsOperator('.') && IsName(head_[i + 3]);
      c.routine = qualified ? Span(head_[i + 1], head_[i + 3]) : head_[i + 1].text;
    }
  } else if (IsAnyWord(verb, {"prepare", "execute", "deallocate"})) {
    primary_only(PrimaryReason::kPreparedStatement);
  } else if (verb.IsWord("handler")) {
    primary_only(PrimaryReason::kHandler);
  } else if (IsAnyWord(verb, {"kill", "shutdown", "restart", "install", "uninstall", "purge",
                              "reset", "change", "stop", "binlog", "cache", "clone"})) {
    primary_only(PrimaryReason::kServerAdmin);
  } else if (verb.IsWord("get") && (word(1, "diagnostics") || word(2, "diagnostics"))) {
    primary_only(PrimaryReason::kLastStatementInfo);
  } else if (IsAnyWord(verb, {"if", "while", "repeat", "loop", "case", "for", "declare"})) {
    primary_only(PrimaryReason::kStoredRoutine);
    c.procedural = true;
  } else {
    c.statement_class = StatementClass::kUnknown;
    c.primary_reasons.Add(PrimaryReason::kNotUnderstood);
  }

  if (c.statement_class == StatementClass::kDdl && compound_) {
    // CREATE PROCEDURE / FUNCTION / TRIGGER / EVENT only defines its body.
    c.primary_reasons.Clear();
    return c;
  }
  const bool executes = !IsAnyWord(verb, {"explain", "describe", "desc"});
  if (read_like) {
    if (into_) c.primary_reasons.Add(PrimaryReason::kSelectInto);
    if (unknown_function_) {
      c.primary_reasons.Add(PrimaryReason::kStoredRoutine);
      if (c.routine.empty()) {
        c.routine = unknown_function_name_;
        c.several_routines = several_routines_;
      } else {
        c.several_routines = true;  // CALL p(f(x))
      }
    }
  }
  // @v := x outside SET changes a user variable the proxy cannot replay.
  if (assign_ && executes && !(is_set_ && !set_statement_)) {
    c.primary_reasons.Add(PrimaryReason::kUserVariableAssignment);
  }
  // A locking read stays one whatever else it does: hints and rules may lift
  // a primary-only read to a replica, never a lock.
  if (c.statement_class == StatementClass::kRead && !c.primary_reasons.empty()) {
    c.statement_class = StatementClass::kPrimaryOnly;
  }
  return c;
}

}  // namespace ql::analyzer
